/**
 * Cluster test: the real programs. Runs `rebound run patch-tuesday` on a small cluster (2 login
 * servers, 2 supernodes, 10 peers; 5 killed) as a child process and checks its report. Needs
 * packages/node and packages/bootstrap built; skipped, saying so, when they are not.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_BINS } from '../../src/driver/process-driver.js'
import type { Report } from '../../src/report.js'
import { runRebound } from './run-rebound.js'

/** Start-up (~20 s), warm-up 5 s, reboot window 5 s, recovery, settle (at most 60 s), check and stop: well under this. */
const RUN_TIMEOUT_MS = 210_000
/** A /8 of its own, so that a concurrent default run (net 0) cannot collide with this one. */
const NET = 77
const SEED = 42

const missing = Object.values(DEFAULT_BINS).filter((path) => !existsSync(path))

test('patch-tuesday on a real 2+2+10 cluster recovers and meets every objective', {
  timeout: RUN_TIMEOUT_MS + 10_000,
  skip: missing.length > 0 ? `not built: ${missing.join(', ')}` : false
}, async () => {
  const out = await mkdtemp(join(tmpdir(), 'rebound-cluster-'))
  const args = [
    'run', 'patch-tuesday', '--peers', '10', '--supernodes', '2', '--login-servers', '2',
    '--warmup-ms', '5000', '--reboot-window-ms', '5000', '--net', String(NET), '--seed', String(SEED), '--out', out
  ]
  const { code, output } = await runRebound(args, RUN_TIMEOUT_MS)
  try {
    assert.equal(code, 0, `rebound exited ${code}; output:\n${output}`)
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report
    assert.equal(report.seed, SEED)
    assert.equal(report.recovery.killed, 5)
    assert.notEqual(report.recovery.t100Ms, null)
    for (const objective of report.objectives) assert.ok(objective.ok, `objective ${objective.name}: ${JSON.stringify(objective)}`)
    assert.ok(report.ok)
    assert.ok(report.timeline.length > 0)
    assert.ok(report.messages.sent > 0, 'the workload sent messages')
    // Issue 5: every acknowledged send and contact change is on the devices and in the store.
    const history = report.history
    assert.ok(history !== undefined, 'report.history')
    assert.equal(history.lost, 0, `lost: ${JSON.stringify(history.examples)}`)
    assert.equal(history.duplicated + history.unexpected + history.unreadable, 0, JSON.stringify(history.examples))
    assert.ok(history.perKind.send.ok > 0, 'acknowledged sends were checked')
    assert.ok(history.perKind.contact.ok > 0, 'acknowledged contact changes were checked')
    const noLostWrites = report.objectives.find((o) => o.name === 'no-lost-writes')
    assert.deepEqual(noLostWrites, { name: 'no-lost-writes', ok: true, value: 0, limit: 0 })
    const logs = (await readdir(join(out, 'logs'))).sort()
    const expected = ['ls1', 'ls2', 'sn1', 'sn2', ...Array.from({ length: 10 }, (_, i) => `p${String(i + 1).padStart(3, '0')}`)]
      .map((name) => `${name}.log`).sort()
    assert.deepEqual(logs, expected)
    await rm(out, { recursive: true, force: true })
  } catch (err) {
    // Keep the run directory for a post-mortem; say where it is.
    throw new Error(`${(err as Error).message}\nrun directory kept: ${out}`, { cause: err })
  }
})
