/**
 * Cluster test: the real programs. Runs `rebound run patch-tuesday` on a small cluster (2 login
 * servers, 2 supernodes, 10 peers; 5 killed) as a child process and checks its report. Needs
 * packages/node and packages/bootstrap built; skipped, saying so, when they are not.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_BINS } from '../../src/driver/process-driver.js'
import type { Report } from '../../src/report.js'

/** dist/test/cluster/cluster.test.js -> dist/src/main.js */
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))
/** Start-up (~20 s), warm-up 5 s, reboot window 5 s, recovery and stop: well under this. */
const RUN_TIMEOUT_MS = 150_000
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
    MAIN, 'run', 'patch-tuesday', '--peers', '10', '--supernodes', '2', '--login-servers', '2',
    '--warmup-ms', '5000', '--reboot-window-ms', '5000', '--net', String(NET), '--seed', String(SEED), '--out', out
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const timer = setTimeout(() => child.kill('SIGINT'), RUN_TIMEOUT_MS)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  clearTimeout(timer)
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
