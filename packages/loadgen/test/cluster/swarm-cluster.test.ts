/**
 * Cluster test with --peers-per-process: the real programs. Runs `rebound run patch-tuesday` on 1
 * login server, 2 supernodes and 12 peers in 3 rebound-swarm processes of 4 (kill fraction 0.34:
 * 2 swarms, 8 peers) as a child process and checks its report, the processes it ran, and that each
 * swarm member bound the address and kept the data directory the layout gave it. Needs
 * packages/node and packages/bootstrap built; skipped, saying so, when they are not.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_BINS } from '../../src/driver/process-driver.js'
import { layoutCluster } from '../../src/layout.js'
import type { Report } from '../../src/report.js'
import { runRebound } from './run-rebound.js'

/** Start-up (~15 s), warm-up 3 s, reboot window 3 s, recovery, settle (at most 60 s), check and stop: well under this. */
const RUN_TIMEOUT_MS = 150_000
/** A /8 of its own, apart from the other cluster test's (77) and a default run's (0). */
const NET = 61
const SEED = 4242
const SIZE = { loginServers: 1, supernodes: 2, peers: 12 }
const PER_PROCESS = 4

const missing = Object.values(DEFAULT_BINS).filter((path) => !existsSync(path))

test('patch-tuesday with 4 peers per process: whole swarms are killed, every killed peer re-attaches', {
  timeout: RUN_TIMEOUT_MS + 10_000,
  skip: missing.length > 0 ? `not built: ${missing.join(', ')}` : false
}, async () => {
  const out = await mkdtemp(join(tmpdir(), 'rebound-swarm-cluster-'))
  const { code, output } = await runRebound([
    'run', 'patch-tuesday', '--peers', String(SIZE.peers), '--peers-per-process', String(PER_PROCESS),
    '--supernodes', String(SIZE.supernodes), '--login-servers', String(SIZE.loginServers), '--kill-fraction', '0.34',
    '--warmup-ms', '3000', '--reboot-window-ms', '3000', '--observe-ms', '40000', '--net', String(NET), '--seed', String(SEED), '--out', out
  ], RUN_TIMEOUT_MS)
  try {
    assert.equal(code, 0, `rebound exited ${code}; output:\n${output}`)
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report
    assert.equal(report.peersPerProcess, PER_PROCESS)
    assert.equal(report.options.peersPerProcess, PER_PROCESS)
    for (const objective of report.objectives) assert.ok(objective.ok, `objective ${objective.name}: ${JSON.stringify(objective)}`)
    assert.ok(report.ok)

    // ceil(0.34 x 3 swarms) = 2 swarms went down, with all 4 of their peers each.
    const groups = report.recovery.processKills ?? []
    assert.equal(groups.length, 2)
    const members = layoutCluster(SIZE, NET, PER_PROCESS)
    for (const group of groups) {
      assert.match(group.process, /^sw0[1-3]$/)
      assert.deepEqual(group.peers, members.filter((m) => m.process === group.process).map((m) => m.name))
      assert.equal(group.reattached, PER_PROCESS)
      assert.notEqual(group.restartedAtMs, null)
    }
    assert.equal(report.recovery.killed, 8)
    assert.equal(report.recovery.reattached, 8)
    assert.notEqual(report.recovery.t100Ms, null)
    const killedPeers = groups.flatMap((g) => g.peers)
    assert.deepEqual(report.recovery.kills.map((k) => k.name), killedPeers)
    for (const kill of report.recovery.kills) {
      assert.ok(kill.reattachedAtMs !== null && kill.reattachedAtMs > kill.killTimeMs, `${kill.name} re-attached after the kill`)
      assert.equal(kill.process, members.find((m) => m.name === kill.name)?.process)
    }
    assert.ok(report.messages.sent > 0, 'the workload sent messages')
    assert.ok(report.messages.delivered > 0, 'through the swarms')

    // Processes: the servers and 3 swarms, no per-peer processes.
    const logs = (await readdir(join(out, 'logs'))).sort()
    assert.deepEqual(logs, ['ls1', 'sn1', 'sn2', 'sw01', 'sw02', 'sw03'].map((name) => `${name}.log`))
    // Each member bound the layout's address (its log lines carry user and addr) and kept its own data directory.
    for (const member of members.filter((m) => m.role === 'peer')) {
      const swarmLog = await readFile(join(out, 'logs', `${member.process}.log`), 'utf8')
      assert.ok(swarmLog.includes(`"user":"${member.user ?? ''}","addr":"${member.ip}"`), `${member.name} (${member.user ?? ''}) logged from ${member.ip}`)
      assert.ok(existsSync(join(out, 'data', member.process, member.user ?? '')), `data directory of ${member.name}`)
    }
    await rm(out, { recursive: true, force: true })
  } catch (err) {
    // Keep the run directory for a post-mortem; say where it is.
    throw new Error(`${(err as Error).message}\nrun directory kept: ${out}`, { cause: err })
  }
})
