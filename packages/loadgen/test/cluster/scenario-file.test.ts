/**
 * Cluster test: a user's scenario file run end to end against the real programs (1 login server,
 * 2 supernodes, 8 peers), as `rebound run ./storm.json` with flags on top. The report must name
 * the file, judge exactly the objectives it lists (and no-lost-writes) with the limit it set, and
 * record the effective options: the flag over the file, the file over the defaults.
 * Needs packages/node and packages/bootstrap built; skipped, saying so, when they are not.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_BINS } from '../../src/driver/process-driver.js'
import type { Report } from '../../src/report.js'
import { runRebound } from './run-rebound.js'

/** Start-up (~20 s), warm-up 3 s, reboot window 3 s, recovery, settle (at most 60 s), check and stop: well under this. */
const RUN_TIMEOUT_MS = 210_000
/** A /8 of its own, so that concurrent runs of other tests cannot collide with this one. */
const NET = 44
const SEED = 4404
const T100_LIMIT_MS = 40_000

const STORM = {
  description: 'a short reboot wave on a small cluster, judged on two objectives',
  source: 'cluster test of docs/scenarios.md',
  // --peers 8 on the command line wins over this.
  cluster: { peers: 6, supernodes: 2, loginServers: 1 },
  workload: { messageRate: 4, contactRate: 1 },
  phases: {
    warmup: { durationMs: 3000 },
    trigger: { type: 'kill-peers', fraction: 0.25, rebootWindowMs: 3000 },
    observe: { maxMs: 30_000 },
    objectives: ['all-killed-reattached', { name: 't100-ms', limit: T100_LIMIT_MS }]
  }
}

const missing = Object.values(DEFAULT_BINS).filter((path) => !existsSync(path))

test('a user scenario file runs end to end: the report names the file and judges the objectives it lists', {
  timeout: RUN_TIMEOUT_MS + 10_000,
  skip: missing.length > 0 ? `not built: ${missing.join(', ')}` : false
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rebound-scenario-file-'))
  const file = join(dir, 'storm.json')
  const out = join(dir, 'run')
  await writeFile(file, JSON.stringify(STORM, null, 2))
  const { code, output } = await runRebound(['run', file, '--peers', '8', '--net', String(NET), '--seed', String(SEED), '--out', out], RUN_TIMEOUT_MS)
  try {
    assert.equal(code, 0, `rebound exited ${code}; output:\n${output}`)
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report
    assert.equal(report.scenario, 'storm')
    assert.deepEqual(report.scenarioFile, { name: 'storm', path: file, shipped: false })
    assert.deepEqual(report.objectives.map((o) => o.name), ['all-killed-reattached', 't100-ms', 'no-lost-writes'])
    assert.equal(report.objectives.find((o) => o.name === 't100-ms')?.limit, T100_LIMIT_MS)
    for (const objective of report.objectives) assert.ok(objective.ok, `objective ${objective.name}: ${JSON.stringify(objective)}`)
    // Flag over file, file over defaults.
    assert.equal(report.options.peers, 8)
    assert.deepEqual(report.cluster, { loginServers: 1, supernodes: 2, peers: 8 })
    assert.equal(report.options.killFraction, 0.25)
    assert.equal(report.options.warmupMs, 3000)
    assert.equal(report.recovery.killed, 2)
    // The replay names the same file and the seed.
    assert.ok(report.reproduce.startsWith(`rebound run ${file} --peers 8 --net ${NET}`), report.reproduce)
    assert.ok(report.reproduce.endsWith(`--seed ${SEED}`), report.reproduce)
    // Not a terminal: plain progress lines with every field.
    assert.match(output, /remaining up to .*peers \d+\/8 .*supernodes \d+\/2 .*logins\/s offered [\d.]+ accepted [\d.]+ shed [\d.]+ .*messages ok \d+ failed \d+/)
    await rm(dir, { recursive: true, force: true })
  } catch (err) {
    // Keep the run directory for a post-mortem; say where it is.
    throw new Error(`${(err as Error).message}\nrun directory kept: ${out}`, { cause: err })
  }
})
