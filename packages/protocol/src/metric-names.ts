/**
 * Prometheus naming conventions (https://prometheus.io/docs/practices/naming/), checked on the
 * text every process serves at /metrics: our metrics carry the `rebound_` prefix, counters end in
 * `_total`, nothing else does, and units are base units spelled out as a suffix (`_seconds`,
 * `_bytes`, `_ratio`), never `_ms`, `_percent` or `_kb`. Tests run it on each kind of process.
 */

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
/** Prefixes of the metrics prom-client's default collectors export (their names are theirs). */
const FOREIGN_PREFIXES = ['process_', 'nodejs_']
/** Non-base or unspelled units, as a name's last word(s). */
const BAD_UNITS = /_(ms|millis|milliseconds|us|microseconds|ns|minutes|hours|percent|pct|kb|mb|gb|kib|mib|gib|kilobytes|megabytes)(_total)?$/

/** One problem per offending metric family, in the order they appear; empty when all is well. */
export function metricNameProblems (exposition: string): string[] {
  const problems: string[] = []
  for (const line of exposition.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (match === null) continue
    const [, name = '', type = ''] = match
    if (FOREIGN_PREFIXES.some((prefix) => name.startsWith(prefix))) continue
    if (!NAME.test(name)) problems.push(`${name}: not a valid metric name`)
    if (!name.startsWith('rebound_')) problems.push(`${name}: our metrics are prefixed rebound_`)
    if (type === 'counter' && !name.endsWith('_total')) problems.push(`${name}: a counter's name ends in _total`)
    if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: only counters end in _total (this is a ${type})`)
    if (BAD_UNITS.test(name)) problems.push(`${name}: use base units spelled out (_seconds, _bytes, _ratio)`)
  }
  return problems
}
