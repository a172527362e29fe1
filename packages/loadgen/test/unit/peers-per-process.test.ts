/**
 * --peers-per-process: peers grouped into rebound-swarm processes. The layout's grouping, names,
 * users and addresses; the swarm's flags agreeing with the layout (one address arithmetic, across a
 * third-octet boundary); validation; the observer's fan-out of a swarm's /status to per-peer views;
 * the workload sending through a swarm with `from`; kill records grouped by process.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { NodeCounters, loopbackAddress, workloadPassword, type NodeStatus } from '@rebound/protocol'
import { Cluster } from '../../src/cluster.js'
import { createProcessDriver, DEFAULT_BINS } from '../../src/driver/process-driver.js'
import { layoutCluster, nodeIp, peerProcesses, swarmName, type Member, type PeerProcess } from '../../src/layout.js'
import { Observer } from '../../src/observer.js'
import { RunOptionsSchema } from '../../src/options.js'
import { createPrng } from '../../src/prng.js'
import { processKills } from '../../src/recovery.js'
import type { KillRecord } from '../../src/scenarios/scenario.js'
import { derivePassword } from '../../src/users.js'
import { waitFor } from '../../src/wait.js'
import { Workload } from '../../src/workload.js'

const log = pino({ level: 'silent' })
const signal = new AbortController().signal
const WAIT_MS = 5000
/** dist/test/unit/x.test.js -> dist/src/main.js */
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))

const peersOf = (members: readonly Member[]): Member[] => members.filter((m) => m.role === 'peer')

test('layout: K consecutive peers per swarm sw01.., the last one fewer; login servers and supernodes alone', () => {
  const members = layoutCluster({ loginServers: 1, supernodes: 2, peers: 12 }, 61, 5)
  const processes = peerProcesses(members)
  assert.deepEqual(processes.map((p) => [p.name, p.swarm, p.peers.length, p.firstPeer]), [['sw01', true, 5, 1], ['sw02', true, 5, 6], ['sw03', true, 2, 11]])
  assert.deepEqual(processes[1]?.peers.map((m) => m.name), ['p006', 'p007', 'p008', 'p009', 'p010'])
  assert.deepEqual(processes[1]?.peers.map((m) => m.user), ['u006', 'u007', 'u008', 'u009', 'u010'])
  // A swarm's own address (its control port) is its first peer's.
  assert.equal(processes[0]?.ip, '127.61.2.3')
  for (const m of members.filter((x) => x.role !== 'peer')) assert.equal(m.process, m.name)
  // Peer names, users and addresses do not depend on K.
  const alone = layoutCluster({ loginServers: 1, supernodes: 2, peers: 12 }, 61)
  assert.deepEqual(alone.map((m) => [m.name, m.ip, m.user]), members.map((m) => [m.name, m.ip, m.user]))
  assert.deepEqual(peerProcesses(alone).map((p) => [p.name, p.swarm, p.peers.length]), peersOf(alone).map((m) => [m.name, false, 1]))
  assert.equal(swarmName(0, 3), 'sw01')
  assert.equal(swarmName(99, 120), 'sw100')
  assert.equal(swarmName(4, 120), 'sw005')
  assert.deepEqual(peerProcesses(layoutCluster({ loginServers: 1, supernodes: 1, peers: 3 }, 0, 1000)).map((p) => p.peers.length), [3])
  assert.throws(() => layoutCluster({ loginServers: 1, supernodes: 1, peers: 3 }, 0, 0), RangeError)
  assert.throws(() => layoutCluster({ loginServers: 1, supernodes: 1, peers: 3 }, 0, 1001), RangeError)
})

test('swarm flags agree with the layout: addresses across a third octet, users, passwords, data dirs', () => {
  const outDir = '/tmp/rebound-layout-check'
  // 2 supernodes + 300 peers in swarms of 100: sw03 starts at node 202 and crosses from 127.61.2.x into 127.61.3.x.
  const members = layoutCluster({ loginServers: 1, supernodes: 2, peers: 300 }, 61, 100)
  const driver = createProcessDriver({ logsDir: '/tmp/rebound-never-used', bins: DEFAULT_BINS, baseEnv: {} }, log)
  const cluster = new Cluster({ size: { loginServers: 1, supernodes: 2, peers: 300 }, members, seed: 42, outDir, profile: 'defended', orphanWindowMs: 2000 },
    { driver, observer: new Observer({ log, isRunning: () => false }), log, signal, setPhase: () => {} })
  const processes = cluster.peerProcesses()
  assert.equal(processes.length, 3)
  for (const proc of processes) {
    const spec = cluster.peerProcessSpec(proc)
    assert.equal(spec.program, 'swarm')
    assert.equal(spec.name, proc.name)
    const flag = (name: string): string | undefined => spec.args[spec.args.indexOf(name) + 1]
    assert.equal(Number(flag('--count')), proc.peers.length)
    assert.equal(flag('--control-ip'), proc.ip)
    assert.equal(flag('--data-dir'), `${outDir}/data/${proc.name}`)
    proc.peers.forEach((member, i) => {
      // What the swarm binds for member i (its --first-ip and --ips-per-octet through the one arithmetic) ...
      assert.equal(loopbackAddress(flag('--first-ip') ?? '', i, Number(flag('--ips-per-octet'))), member.ip, `${member.name}`)
      // ... and calls it: <prefix><first-user + i> zero-padded to --user-digits, in <data-dir>/<user>.
      assert.equal(`${flag('--user-prefix') ?? ''}${String(Number(flag('--first-user')) + i).padStart(Number(flag('--user-digits')), '0')}`, member.user)
      assert.equal(cluster.memberDataDir(member), `${outDir}/data/${proc.name}/${member.user ?? ''}`)
    })
    assert.ok(spec.args.includes('--register'))
    assert.equal(spec.env.REBOUND_PROFILE, 'defended')
    // The swarm derives passwords from its seed exactly as the load generator does from the run seed.
    const user = proc.peers[0]?.user ?? ''
    assert.equal(workloadPassword(spec.env.REBOUND_SWARM_PASSWORD_SEED ?? '', user), derivePassword(42, user))
  }
  const crossing = processes[2]?.peers ?? []
  assert.equal(crossing[0]?.ip, nodeIp(61, 202))
  assert.equal(crossing[0]?.ip, '127.61.2.203')
  assert.equal(crossing.at(-1)?.ip, '127.61.3.52')
  // One peer per process: each peer is still its own rebound-node with its own data directory.
  const alone = layoutCluster({ loginServers: 1, supernodes: 1, peers: 2 }, 61)
  const single = new Cluster({ size: { loginServers: 1, supernodes: 1, peers: 2 }, members: alone, seed: 1, outDir, profile: 'naive', orphanWindowMs: 2000 },
    { driver, observer: new Observer({ log, isRunning: () => false }), log, signal, setPhase: () => {} })
  const [first] = single.peerProcesses()
  assert.equal(first === undefined ? undefined : single.peerProcessSpec(first).program, 'node')
  assert.equal(single.memberDataDir(peersOf(alone)[0] as Member), `${outDir}/data/p001`)
  assert.ok(!single.peerProcessSpec(first as PeerProcess).args.includes('--eligible'), 'no --eligible-fraction: nobody is a candidate')
  // --eligible-fraction: the first ceil(f x processes) peer processes are candidates, with a supernode's capacity.
  const some = new Cluster({ size: { loginServers: 1, supernodes: 2, peers: 300 }, members, seed: 42, outDir, profile: 'defended', orphanWindowMs: 2000, eligibleFraction: 0.5 },
    { driver, observer: new Observer({ log, isRunning: () => false }), log, signal, setPhase: () => {} })
  const flags = some.peerProcesses().map((proc) => some.peerProcessSpec(proc).args)
  assert.deepEqual(flags.map((args) => args.includes('--eligible')), [true, true, false])
  assert.equal(flags[0]?.[flags[0].indexOf('--capacity') + 1], String(some.supernodeCapacity()))
  assert.equal(RunOptionsSchema.parse({}).eligibleFraction, 0.1)
})

test('--peers-per-process: a whole number 1..1000, default 1; bad values exit 2 naming the flag', () => {
  assert.equal(RunOptionsSchema.parse({}).peersPerProcess, 1)
  assert.equal(RunOptionsSchema.parse({ peersPerProcess: '50' }).peersPerProcess, 50)
  for (const bad of ['0', '1001', '1.5', 'x', '-1']) assert.equal(RunOptionsSchema.safeParse({ peersPerProcess: bad }).success, false, bad)
  for (const command of ['run', 'compare']) {
    const result = spawnSync(process.execPath, [MAIN, command, 'patch-tuesday', '--peers-per-process', '0'], { encoding: 'utf8', timeout: 20_000 })
    assert.equal(result.status, 2, result.stderr)
    assert.match(result.stderr, /--peers-per-process/)
  }
  const help = spawnSync(process.execPath, [MAIN, 'compare', 'patch-tuesday', '--help'], { encoding: 'utf8', timeout: 20_000 })
  assert.match(help.stdout, /--peers-per-process/)
})

function zeroCounters (): NodeCounters {
  return Object.fromEntries(Object.keys(NodeCounters.shape).map((key) => [key, 0])) as NodeCounters
}

function memberStatus (user: string, attachedAtMs: number): NodeStatus {
  return {
    peerId: `12D3Koo${user}`, pid: 7, role: 'client', user, state: 'attached', supernode: 'x', attachedAtMs, loggedInAtMs: 1, profile: 'defended',
    startedAtMs: 1, ticketExpiresAtMs: null, knownSupernodes: 1, supernodeClass: null, clients: null, capacity: null, counters: zeroCounters()
  }
}

interface FakeSwarm { url: string, server: Server, members: NodeStatus[], sends: unknown[] }

/** Answers like a rebound-swarm's control port (GET /status, POST /messages). */
async function fakeSwarm (): Promise<FakeSwarm> {
  const fake: FakeSwarm = { url: '', server: createServer(), members: [], sends: [] }
  fake.server.on('request', (req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString() })
    req.on('end', () => {
      if (req.url === '/status') {
        res.end(JSON.stringify({ count: 3, started: fake.members.length, failed: 0, members: fake.members }))
        return
      }
      if (req.url === '/messages' && req.method === 'POST') {
        fake.sends.push(JSON.parse(body))
        res.end(JSON.stringify({ id: 'x', ok: true, latencyMs: 1 }))
        return
      }
      res.statusCode = 404
      res.end()
    })
  })
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve))
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`
  return fake
}

test('observer: one /status per swarm fanned out to its peers; a member not listed or a dead swarm is unreachable', async () => {
  const fake = await fakeSwarm()
  let running = true
  const observer = new Observer({ log, isRunning: (name) => name === 'sw01' && running })
  observer.addSwarm('sw01', fake.url, [{ name: 'p001', user: 'u001' }, { name: 'p002', user: 'u002' }, { name: 'p003', user: 'u003' }])
  fake.members = [memberStatus('u001', 1000), memberStatus('u003', 3000)]
  observer.start()
  try {
    await waitFor(() => observer.isAttached('p001') && observer.isAttached('p003'), { what: 'members attached', timeoutMs: WAIT_MS, signal })
    assert.equal(observer.isAttached('p002'), false)
    assert.match(observer.node('p002')?.lastError ?? '', /not started in sw01/)
    assert.equal(observer.node('p003')?.process, 'sw01')
    fake.members = [memberStatus('u001', 1000), memberStatus('u002', 2000), memberStatus('u003', 4000)]
    await waitFor(() => observer.isAttached('p002') && observer.node('p003')?.attachHistory.length === 2, { what: 're-attach', timeoutMs: WAIT_MS, signal })
    assert.deepEqual(observer.node('p003')?.attachHistory, [3000, 4000])
    // The swarm process is killed: every member goes with it.
    running = false
    assert.deepEqual(['p001', 'p002', 'p003'].map((n) => observer.isAttached(n)), [false, false, false])
  } finally {
    await observer.stop()
    fake.server.close()
  }
})

test('workload: a swarm peer sends through its swarm with `from`; failures are judged by the swarm process', async () => {
  const fake = await fakeSwarm()
  const workload = new Workload({
    ratePerS: 50,
    peers: [
      { name: 'p001', user: 'u001', url: fake.url, swarm: 'sw01' },
      { name: 'p002', user: 'u002', url: 'http://127.0.0.1:1', swarm: 'sw02' }
    ],
    contacts: new Map([['u001', ['u002']], ['u002', ['u001']]]),
    idPrefix: 's'
  }, { prng: createPrng(2), log, isAttached: () => true, isRunning: (name) => name === 'sw01', interventions: () => 1 })
  workload.start()
  await waitFor(() => fake.sends.length >= 5 && (workload.counters.failedByCode.SENDER_KILLED ?? 0) >= 1, { what: 'sends both ways', timeoutMs: WAIT_MS, signal })
  await workload.stop()
  for (const send of fake.sends as Array<{ from: string, to: string }>) assert.deepEqual([send.from, send.to], ['u001', 'u002'])
  assert.equal(workload.counters.failed, workload.counters.failedByCode.SENDER_KILLED)
  fake.server.close()
})

test('kill records grouped by the process that went down, peers in order', () => {
  const kill = (name: string, proc: string, reattachedAtMs: number | null): KillRecord => ({
    name, process: proc, killTimeMs: 100, restartDelayMs: proc === 'sw02' ? 50 : 10, restartedAtMs: 200, reattachedAtMs, recoveryMs: null, loginAttempts: 0
  })
  assert.deepEqual(processKills([kill('p004', 'sw02', 400), kill('p001', 'sw01', null), kill('p005', 'sw02', 500), kill('p002', 'sw01', 300)]), [
    { process: 'sw02', peers: ['p004', 'p005'], killTimeMs: 100, restartDelayMs: 50, restartedAtMs: 200, reattached: 2 },
    { process: 'sw01', peers: ['p001', 'p002'], killTimeMs: 100, restartDelayMs: 10, restartedAtMs: 200, reattached: 1 }
  ])
})
