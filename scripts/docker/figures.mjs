/**
 * One line of a run's figures from its report.json, for the CI stage's summary.txt:
 *   <scenario>: PASS|FAIL; killed K, re-attached R, T100 X s; restored A of B, T100 Y s; lost L; failed objectives
 * killed/re-attached are the peers the trigger hit (for freeze: the frozen supernodes' orphans);
 * restored only for wipe; lost = acknowledged writes missing somewhere (history check).
 * Usage: figures.mjs DIR/report.json   (exit 0; 1 when the report cannot be read)
 */
import { readFileSync } from 'node:fs'

const path = process.argv[2]
let report
try {
  report = JSON.parse(readFileSync(path ?? '', 'utf8'))
} catch (err) {
  process.stdout.write(`figures: no readable report at ${path}: ${err.message}\n`)
  process.exit(1)
}
const seconds = (ms) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(2)} s` : '-')
const r = report.recovery ?? {}
const parts = [`killed ${r.killed ?? '-'}, re-attached ${r.reattached ?? '-'}, T100 ${seconds(r.t100Ms)}`]
const restore = report.wipe?.restore
if (restore !== undefined) parts.push(`restored ${restore.reattached} of ${restore.killed}, T100 ${seconds(restore.t100Ms)}`)
parts.push(`lost ${report.history?.lost ?? '-'}`)
const failed = (report.objectives ?? []).filter((o) => !o.ok).map((o) => `${o.name}=${o.value}`)
if (failed.length > 0) parts.push(`failed: ${failed.join(' ')}`)
if (report.error) parts.push(`error: ${report.error}`)
process.stdout.write(`${report.scenario}: ${report.ok ? 'PASS' : 'FAIL'}; ${parts.join('; ')}\n`)
