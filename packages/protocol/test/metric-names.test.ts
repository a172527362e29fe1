/** The Prometheus naming-convention check that every process's /metrics is tested with. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { metricNameProblems } from '../src/index.js'

test('metricNameProblems: counters end in _total, nothing else does, base units, our prefix', () => {
  const good = [
    '# HELP rebound_login_duration_seconds x', '# TYPE rebound_login_duration_seconds histogram',
    '# TYPE rebound_login_offered_total counter', '# TYPE rebound_registry_supernode_utilisation_ratio gauge',
    '# TYPE process_cpu_seconds_total counter', '# TYPE nodejs_heap_size_total_bytes gauge'
  ].join('\n')
  assert.deepEqual(metricNameProblems(good), [])
  const bad = [
    '# TYPE rebound_logins counter', '# TYPE rebound_queue_total gauge', '# TYPE rebound_delay_ms histogram',
    '# TYPE login_offered_total counter', '# TYPE rebound_cpu_percent gauge'
  ].join('\n')
  assert.deepEqual(metricNameProblems(bad), [
    "rebound_logins: a counter's name ends in _total",
    'rebound_queue_total: only counters end in _total (this is a gauge)',
    'rebound_delay_ms: use base units spelled out (_seconds, _bytes, _ratio)',
    'login_offered_total: our metrics are prefixed rebound_',
    'rebound_cpu_percent: use base units spelled out (_seconds, _bytes, _ratio)'
  ])
})
