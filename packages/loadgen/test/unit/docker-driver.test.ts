import { test, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReboundError } from '@rebound/protocol'
import type { DockerDriver } from '../../src/driver/docker-driver.js'
import { createEngineApi } from '../../src/driver/engine-api.js'
import { waitFor } from '../../src/wait.js'
import { attachFake, composeLabels } from '../helpers/docker-fixture.js'
import { FakeEngine } from '../helpers/fake-engine.js'

const signal = new AbortController().signal
const PEERS = 10
const WAIT_MS = 5000

let engine: FakeEngine
let driver: DockerDriver | undefined
let logsDir: string

const labels = composeLabels

beforeEach(async () => {
  engine = new FakeEngine()
  engine.add({ id: 'c-login-1', name: '/rebound_login-1_1', labels: labels('login-1', 'login-server') })
  engine.add({ id: 'c-sn-1', name: '/rebound_supernode-1_1', labels: labels('supernode-1', 'supernode') })
  for (let n = PEERS; n >= 1; n--) engine.add({ id: `c-peer-${n}`, hostname: `host${n}`, labels: labels('peer', 'peer', n) })
  // Not members: the one-shot keys job (no role label) and another project's peer.
  engine.add({ id: 'c-keys', labels: labels('keys', undefined), running: false })
  engine.add({ id: 'c-other', labels: labels('peer', 'peer', 1, 'other') })
  await engine.start()
  logsDir = await mkdtemp(join(tmpdir(), 'rebound-docker-logs-'))
})

afterEach(async () => {
  await driver?.stopAll()
  driver = undefined
  await engine.stop()
  await rm(logsDir, { recursive: true, force: true })
})

async function attach (): Promise<DockerDriver> {
  driver = await attachFake(engine, { logsDir })
  return driver
}

const peerNames = Array.from({ length: PEERS }, (_, i) => `peer-${i + 1}`)

test('attach: the project\'s labelled containers, named by service (and number for replicas), in role order', async () => {
  const d = await attach()
  const members = d.members()
  assert.deepEqual(members.map((m) => m.name), ['login-1', 'supernode-1', ...peerNames])
  assert.deepEqual(members.map((m) => m.role).slice(0, 3), ['login-server', 'supernode', 'peer'])
  const peer = members.find((m) => m.name === 'peer-3')
  assert.equal(peer?.hostname, 'host3')
  assert.equal(peer?.containerName, 'c-peer-3')
  assert.equal(peer?.ip, engine.get('c-peer-3').ip)
  assert.equal(d.runningCount(), PEERS + 2)
  assert.equal(d.generation('peer-3'), 1)
  assert.equal(d.isRunning('keys'), false)
  await assert.rejects(d.kill('keys', 'SIGKILL'), (err: unknown) => err instanceof ReboundError && err.code === 'BAD_REQUEST')
})

test('en masse: half the peers SIGKILLed at once, then all restarted at once, with new addresses', async () => {
  const d = await attach()
  const victims = peerNames.slice(0, PEERS / 2)
  const before = new Map(victims.map((name) => [name, d.members().find((m) => m.name === name)?.ip]))
  const killStartMs = Date.now()
  await Promise.all(victims.map(async (name) => { await d.kill(name, 'SIGKILL') }))
  const killMs = Date.now() - killStartMs
  // Sent together: the engine saw them overlap, and they took about one action, not five.
  assert.ok(engine.maxInFlight >= victims.length, `max in flight ${engine.maxInFlight}`)
  assert.ok(killMs < engine.actionDelayMs * victims.length, `kill took ${killMs} ms`)
  for (const name of victims) assert.equal(d.isRunning(name), false, name)
  assert.equal(d.runningCount(), PEERS + 2 - victims.length)
  assert.deepEqual(d.exits().map((e) => [e.name, e.signal, e.expected]).sort(), victims.map((name) => [name, 'SIGKILL', true]).sort())
  assert.deepEqual(d.unexpectedExits(), [])

  await Promise.all(victims.map(async (name) => { await d.restart(name) }))
  for (const name of victims) {
    assert.equal(d.isRunning(name), true, name)
    assert.equal(d.generation(name), 2, name)
    assert.equal(d.interventions(name), 2, name)
    const member = d.members().find((m) => m.name === name)
    assert.notEqual(member?.ip, before.get(name), `${name} keeps its old address`)
    assert.equal(member?.ip, engine.get(`c-${name}`).ip)
  }
  assert.equal(d.generation('peer-10'), 1)
})

test('restart of a running container kills it first; start of a running one is refused', async () => {
  const d = await attach()
  await d.restart('supernode-1')
  assert.equal(d.generation('supernode-1'), 2)
  assert.equal(d.exits().length, 1)
  await assert.rejects(d.start({ name: 'supernode-1', role: 'supernode', program: 'node', ip: '', args: [], env: {} }),
    (err: unknown) => err instanceof ReboundError && err.code === 'BAD_REQUEST')
})

test('SIGSTOP and SIGCONT pause and unpause; a paused container still counts as running', async () => {
  const d = await attach()
  await d.kill('supernode-1', 'SIGSTOP')
  assert.equal(engine.get('c-sn-1').paused, true)
  assert.equal(d.isRunning('supernode-1'), true)
  await d.kill('supernode-1', 'SIGCONT')
  assert.equal(engine.get('c-sn-1').paused, false)
  assert.ok(engine.calls.includes('POST /containers/c-sn-1/pause'))
  assert.ok(engine.calls.includes('POST /containers/c-sn-1/unpause'))
  assert.deepEqual(d.exits(), [])
})

test('an exit the driver did not cause is seen from the event stream and is unexpected; a stale event is not', async () => {
  const d = await attach()
  // A die event for a container that is in fact running (late news of an earlier generation).
  engine.emit(engine.get('c-peer-2'), 'die', { exitCode: '137' })
  engine.crash('c-peer-4', 3)
  await waitFor(() => !d.isRunning('peer-4'), { what: 'peer-4 seen exited', timeoutMs: WAIT_MS, signal })
  assert.deepEqual(d.unexpectedExits().map((e) => [e.name, e.code, e.signal]), [['peer-4', 3, null]])
  assert.equal(d.isRunning('peer-2'), true)
  // Started by someone else (compose): followed too.
  engine.get('c-peer-4').running = true
  engine.emit(engine.get('c-peer-4'), 'start')
  await waitFor(() => d.isRunning('peer-4'), { what: 'peer-4 seen started', timeoutMs: WAIT_MS, signal })
  assert.equal(d.generation('peer-4'), 2)
})

test('stopAll leaves the project as found: what was killed is started, what was paused is thawed', async () => {
  const d = await attach()
  await d.kill('peer-1', 'SIGKILL')
  await d.kill('peer-2', 'SIGSTOP')
  engine.crash('c-peer-3', 1)
  await waitFor(() => !d.isRunning('peer-3'), { what: 'peer-3 seen exited', timeoutMs: WAIT_MS, signal })
  await d.stopAll()
  assert.equal(engine.get('c-peer-1').running, true)
  assert.equal(engine.get('c-peer-2').paused, false)
  // A crash is evidence, not ours to hide.
  assert.equal(engine.get('c-peer-3').running, false)
  await d.stopAll()
  await assert.rejects(d.restart('peer-4'), (err: unknown) => err instanceof ReboundError && err.code === 'CLOSED')
  driver = undefined
})

test('stopAll copies each member\'s log to logPath: stdout and stderr demultiplexed, a TTY container\'s raw', async () => {
  const d = await attach()
  // Frames of odd sizes, stderr between stdout, and one payload larger than any read chunk.
  const big = 'x'.repeat(200_000) + '\n'
  engine.get('c-peer-1').output = [{ stream: 'stdout', text: 'one\n' }, { stream: 'stderr', text: 'two\n' }, { stream: 'stdout', text: big }, { stream: 'stdout', text: 'end\n' }]
  const tty = engine.get('c-login-1')
  tty.tty = true
  tty.output = [{ stream: 'stdout', text: 'raw \u0001\u0000 bytes\n' }]
  assert.equal(d.logPath('peer-1'), join(logsDir, 'peer-1.log'))
  await d.stopAll()
  driver = undefined
  assert.equal(await readFile(join(logsDir, 'peer-1.log'), 'utf8'), `one\ntwo\n${big}end\n`)
  assert.equal(await readFile(join(logsDir, 'login-1.log'), 'utf8'), 'raw \u0001\u0000 bytes\n')
  // Every member has its file (empty when it wrote nothing); non-members have none.
  assert.equal(await readFile(join(logsDir, 'peer-10.log'), 'utf8'), '')
  await assert.rejects(readFile(join(logsDir, 'keys.log'), 'utf8'))
})

test('an engine that is not there fails with UNAVAILABLE', async () => {
  const api = createEngineApi({ socketPath: `${engine.socketPath}.missing` })
  await assert.rejects(api.list([]), (err: unknown) => err instanceof ReboundError && err.code === 'UNAVAILABLE')
  api.close()
})
