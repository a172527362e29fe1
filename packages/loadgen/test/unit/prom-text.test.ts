import { test } from 'node:test'
import assert from 'node:assert/strict'
import { findMetrics, parseSampleLine, sumMetrics } from '../../src/prom-text.js'

const PAGE = `# HELP rebound_login_offered_total login requests received
# TYPE rebound_login_offered_total counter
rebound_login_offered_total 12
rebound_login_accepted_total 9 1700000000000
rebound_login_rejected_total{reason="BAD_PASSWORD"} 2
rebound_login_rejected_total{reason="OVERLOADED",note="a } in a label"} 3.5
rebound_login_rejected_total_extra 100
rebound_login_failed_total NaN
process_cpu_seconds_total 1.5e2
garbage line
`

test('sums counters over label sets, ignoring comments, look-alikes and non-finite values', () => {
  const sums = sumMetrics(PAGE, ['rebound_login_offered_total', 'rebound_login_accepted_total', 'rebound_login_rejected_total', 'rebound_login_failed_total', 'absent_total'])
  assert.deepEqual(sums, {
    rebound_login_offered_total: 12,
    rebound_login_accepted_total: 9,
    rebound_login_rejected_total: 5.5,
    rebound_login_failed_total: 0,
    absent_total: 0
  })
})

test('parses one sample line', () => {
  assert.deepEqual(parseSampleLine('a_b{x="1"} 3'), { name: 'a_b', labels: 'x="1"', value: 3 })
  assert.deepEqual(parseSampleLine('  a 1e3 '), { name: 'a', labels: '', value: 1000 })
  assert.equal(parseSampleLine('# comment'), undefined)
  assert.equal(parseSampleLine('a{x="1" 3'), undefined)
  assert.equal(parseSampleLine('a'), undefined)
})

test('findMetrics: absent metrics are undefined, declared ones without samples are 0', () => {
  const page = `${PAGE}# HELP rebound_login_slots_issued_total slots\n# TYPE rebound_login_slots_issued_total counter\n`
  assert.deepEqual(findMetrics(page, ['rebound_login_offered_total', 'rebound_login_rejected_total', 'rebound_login_slots_issued_total', 'absent_total']), {
    rebound_login_offered_total: 12,
    rebound_login_rejected_total: 5.5,
    rebound_login_slots_issued_total: 0
  })
})
