/**
 * Integration: a real rebound-bootstrap process, an operator supernode in this process, and the
 * compiled rebound-swarm as child processes, on loopback addresses 127.98.x.y: twenty clients in
 * one process all log in and attach with distinct identities, talk to each other, and stop on
 * SIGTERM; a login load generator registers its accounts and measures a short run.
 */
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLogger, generateClusterKey, metricNameProblems, privateKeyToPem, publicKeyToBase64, type NodeStatus } from '@rebound/protocol'
import { NodeConfigSchema, Peer } from '../src/index.js'
import type { LoadResult } from '@rebound/protocol'

const NET = '127.98'
const BOOTSTRAP_BIN = fileURLToPath(new URL('../../../bootstrap/dist/src/main.js', import.meta.url))
const SWARM_BIN = fileURLToPath(new URL('../src/swarm/main.js', import.meta.url))
const OPERATOR_TOKEN = 'operator-secret-1'
const PASSWORD_SEED = 'swarm-test-seed'
const MEMBERS = 20
const SWARM_CONTROL = `http://${NET}.7.1:7480`
const LOAD_CONTROL = `http://${NET}.6.1:7480`
const WAIT_MS = 30_000
const key = generateClusterKey()
const log = createLogger({ service: 'test', level: 'silent' })
let dir: string
let loginServer: ChildProcess
let loginAddr: string
let supernode: Peer | undefined
const children: ChildProcess[] = []

async function waitFor<T> (what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await fn()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

async function getJson<T> (url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
    return res.ok ? await res.json() as T : undefined
  } catch { return undefined }
}

function spawnSwarm (args: string[]): ChildProcess {
  const child = spawn(process.execPath, [SWARM_BIN, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { PATH: process.env.PATH ?? '', REBOUND_SWARM_PASSWORD_SEED: PASSWORD_SEED, REBOUND_CLUSTER_PUBKEY: publicKeyToBase64(key.publicKey), REBOUND_LOGIN_SERVERS: loginAddr }
  })
  children.push(child)
  return child
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rebound-swarm-'))
  await mkdir(join(dir, 'ls1'))
  await writeFile(join(dir, 'cluster.pem'), privateKeyToPem(key.privateKey), { mode: 0o600 })
  loginServer = spawn(process.execPath, [BOOTSTRAP_BIN, '--listen', `${NET}.1.1`, '--data-dir', join(dir, 'ls1'), '--store', join(dir, 'store.sqlite'),
    '--cluster-key-file', join(dir, 'cluster.pem'), '--operator-token', OPERATOR_TOKEN, '--scrypt-n', '1024', '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] })
  const health = await waitFor('login server /healthz', async () => await getJson<{ peerId: string }>(`http://${NET}.1.1:7480/healthz`))
  loginAddr = `/ip4/${NET}.1.1/tcp/7401/p2p/${health.peerId}`
  const config = NodeConfigSchema.parse({
    listen: `${NET}.2.1`, dataDir: join(dir, 'sn1'), clusterPubkey: publicKeyToBase64(key.publicKey), loginServers: loginAddr,
    heartbeatMs: 500, supernode: true, operatorToken: OPERATOR_TOKEN, capacity: 50
  })
  supernode = new Peer(config, { log })
  await supernode.start()
  await waitFor('supernode certified', () => (supernode?.status().state === 'attached' ? true : undefined))
})

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
  await supernode?.stop()
  loginServer.kill('SIGTERM')
  await rm(dir, { recursive: true, force: true })
})

test('a swarm of 20 clients in one process: all attach with distinct identities, send, and stop on SIGTERM', async () => {
  const swarm = spawnSwarm(['--count', String(MEMBERS), '--first-ip', `${NET}.3.250`, '--control-ip', `${NET}.7.1`,
    '--data-dir', join(dir, 'swarm'), '--register', '--start-spread-ms', '500', '--log-level', 'warn'])
  const status = await waitFor(`${MEMBERS} members attached`, async () => {
    const s = await getJson<{ members: NodeStatus[] }>(`${SWARM_CONTROL}/status`)
    return s !== undefined && s.members.length === MEMBERS && s.members.every((m) => m.state === 'attached') ? s : undefined
  })
  assert.equal(new Set(status.members.map((m) => m.peerId)).size, MEMBERS)
  assert.deepEqual(status.members.map((m) => m.user), Array.from({ length: MEMBERS }, (_, i) => `u${String(i + 1).padStart(6, '0')}`))
  assert.ok(status.members.every((m) => m.loggedInAtMs !== null && m.pid === swarm.pid))

  const res = await fetch(`${SWARM_CONTROL}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: 'u000001', to: 'u000020', body: 'hi' }) })
  const sent = await res.json() as { id: string, ok: boolean, code?: string }
  assert.equal(sent.ok, true, `send failed: ${sent.code}`)
  const sentId = sent.id
  const inbox = await getJson<Array<{ from: string }>>(`${SWARM_CONTROL}/inbox?user=u000020`)
  assert.deepEqual(inbox?.map((m) => m.from), ['u000001'])

  // A member's user data, named like a single node's (docs/durability.md).
  const post = async (path: string, body: unknown): Promise<{ status: number, body: any }> => {
    const r = await fetch(`${SWARM_CONTROL}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: r.status, body: await r.json() }
  }
  const added = await waitFor('first contacts sync', async () => {
    const r = await post('/contacts', { from: 'u000001', op: 'add', contact: 'u000020', name: 'Twenty' })
    return r.status === 503 ? undefined : r
  })
  assert.deepEqual(added, { status: 200, body: { ok: true, rev: 1 } })
  assert.equal((await post('/contacts', { op: 'add', contact: 'u000020', name: 'no member named' })).status, 400)
  assert.deepEqual(await getJson(`${SWARM_CONTROL}/contacts?user=u000001`), [{ contact: 'u000020', name: 'Twenty', deleted: false, rev: 1 }])
  assert.deepEqual(await getJson(`${SWARM_CONTROL}/inbox?user=u000020&all=1`), { ids: [sentId] })
  const outbox = await getJson<{ entries: Array<{ id: string, to: string, state: string }> }>(`${SWARM_CONTROL}/outbox?user=u000001&all=1`)
  assert.deepEqual(outbox?.entries.map((e) => [e.id, e.to, e.state]), [[sentId, 'u000020', 'delivered']])

  const metrics = await (await fetch(`${SWARM_CONTROL}/metrics`)).text()
  assert.match(metrics, /rebound_swarm_members\{state="started"\} 20/)
  assert.match(metrics, /rebound_node_attached 20/)
  assert.deepEqual(metricNameProblems(metrics), [], 'Prometheus naming conventions (the members\' metrics summed, and the process\'s own)')

  swarm.kill('SIGTERM')
  const code = await new Promise<number | null>((resolve) => swarm.once('exit', (c) => resolve(c)))
  assert.equal(code, 0)
})

test('a login load generator registers its accounts and measures closed- and open-loop runs', async () => {
  spawnSwarm(['--login-load', '--count', '4', '--first-ip', `${NET}.5.1`, '--control-ip', `${NET}.6.1`, '--user-prefix', 'load', '--register', '--log-level', 'warn'])
  await waitFor('load ready', async () => ((await getJson<{ state: string }>(`${LOAD_CONTROL}/status`))?.state === 'ready' ? true : undefined))
  const run = async (plan: unknown): Promise<LoadResult> => {
    const res = await fetch(`${LOAD_CONTROL}/load`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(plan) })
    assert.equal(res.status, 202)
    const done = await waitFor('load run done', async () => {
      const s = await getJson<{ state: string, runs: number, result: LoadResult | null }>(`${LOAD_CONTROL}/load`)
      return s?.state === 'ready' && s.result !== null ? s.result : undefined
    })
    return done
  }
  const closed = await run({ mode: 'closed', concurrency: 4, durationMs: 1000 })
  assert.ok((closed.phases[0]?.ok ?? 0) > 0, JSON.stringify(closed.phases))
  assert.equal(closed.phases[0]?.failed, 0)
  const open = await run({ mode: 'open', phases: [{ ratePerS: 20, durationMs: 1000 }, { ratePerS: 10, durationMs: 500 }] })
  assert.deepEqual(open.phases.map((p) => p.sent + p.dropped + p.missed), [20, 5])
  assert.ok(open.phases.every((p) => p.ok === p.sent && p.p99Ms !== null), JSON.stringify(open.phases))
})
