import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import { NodeCounters, type NodeStatus } from '@rebound/protocol'
import { Observer } from '../../src/observer.js'
import { Workload } from '../../src/workload.js'
import { createPrng } from '../../src/prng.js'
import { waitFor } from '../../src/wait.js'

const log = pino({ level: 'silent' })
const signal = new AbortController().signal
const WAIT_MS = 5000

/** Every counter of the schema at 0 (robust to counters added to the protocol). */
function zeroCounters (): NodeCounters {
  return Object.fromEntries(Object.keys(NodeCounters.shape).map((key) => [key, 0])) as NodeCounters
}

function status (over: Partial<NodeStatus>): NodeStatus {
  return {
    peerId: '12D3KooWtest', pid: 1, role: 'client', user: 'u001', state: 'attached', supernode: 'x', attachedAtMs: 1000,
    loggedInAtMs: 900, profile: 'defended', startedAtMs: 1, ticketExpiresAtMs: null, knownSupernodes: 1, supernodeClass: null, clients: null, capacity: null,
    counters: zeroCounters(),
    ...over
  }
}

interface Fake { url: string, server: Server, state: { status: unknown, metrics: string, send: unknown, sends: unknown[] } }

async function fakeProcess (): Promise<Fake> {
  const state: Fake['state'] = { status: status({}), metrics: '', send: { id: 'x', ok: true, latencyMs: 1 }, sends: [] }
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString() })
    req.on('end', () => {
      if (req.url === '/status') { res.end(JSON.stringify(state.status)); return }
      if (req.url === '/metrics') { res.setHeader('content-type', 'text/plain'); res.end(state.metrics); return }
      if (req.url === '/messages' && req.method === 'POST') { state.sends.push(JSON.parse(body)); res.end(JSON.stringify(state.send)); return }
      res.statusCode = 404
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, state }
}

test('observer: attach history, unreachable when not running, schema mismatches, login counters across a restart', async () => {
  const fake = await fakeProcess()
  let running = true
  const observer = new Observer({ log, isRunning: () => running })
  observer.addNode('n1', 'peer', fake.url)
  observer.addLoginServer('ls1', fake.url)
  fake.state.metrics = 'rebound_login_offered_total 5\nrebound_login_rejected_total{reason="BUSY"} 1\nrebound_login_rejected_total{reason="FULL"} 2\n'
  observer.start()
  try {
    await waitFor(() => observer.isAttached('n1') && observer.loginTotals().offered === 5, { what: 'first poll', timeoutMs: WAIT_MS, signal })
    assert.equal(observer.loginTotals().rejected, 3)
    fake.state.status = status({ attachedAtMs: 2000 })
    await waitFor(() => observer.node('n1')?.attachHistory.length === 2, { what: 'second attach', timeoutMs: WAIT_MS, signal })
    assert.deepEqual(observer.node('n1')?.attachHistory, [1000, 2000])
    // The server restarted: its counter starts again from 0; our total keeps going.
    fake.state.metrics = 'rebound_login_offered_total 2\n'
    await waitFor(() => observer.loginTotals().offered === 7, { what: 'restart carried over', timeoutMs: WAIT_MS, signal })
    fake.state.status = { state: 'attached' }
    await waitFor(() => observer.node('n1')?.reachable === false, { what: 'schema mismatch seen', timeoutMs: WAIT_MS, signal })
    assert.match(observer.node('n1')?.lastError ?? '', /peerId/)
    fake.state.status = status({ attachedAtMs: 2000 })
    await waitFor(() => observer.isAttached('n1'), { what: 'attached again', timeoutMs: WAIT_MS, signal })
    running = false
    assert.equal(observer.isAttached('n1'), false)
  } finally {
    await observer.stop()
    fake.server.close()
  }
})

test('workload: sends to attached contacts, classifies failures, respects the rate', async () => {
  const fake = await fakeProcess()
  const running = new Set(['a', 'b'])
  const workload = new Workload({
    ratePerS: 50,
    peers: [{ name: 'a', user: 'u001', url: fake.url }, { name: 'b', user: 'u002', url: 'http://127.0.0.1:1' }],
    contacts: new Map([['u001', ['u002']], ['u002', ['u001']]]),
    idPrefix: 't'
  }, {
    prng: createPrng(1),
    log,
    isAttached: (name) => running.has(name),
    isRunning: (name) => name === 'a',
    interventions: () => 1
  })
  const startedMs = Date.now()
  workload.start()
  await waitFor(() => workload.counters.sent >= 20, { what: '20 sends', timeoutMs: WAIT_MS, signal })
  fake.state.send = { id: 'x', ok: false, code: 'RECIPIENT_OFFLINE', latencyMs: 1 }
  await waitFor(() => (workload.counters.failedByCode.RECIPIENT_OFFLINE ?? 0) >= 3, { what: 'offline failures', timeoutMs: WAIT_MS, signal })
  await workload.stop()
  const elapsedS = (Date.now() - startedMs) / 1000
  const c = workload.counters
  assert.equal(c.sent, c.delivered + c.failed)
  assert.ok(c.sent <= 50 * elapsedS + 2, `rate kept: ${c.sent} in ${elapsedS} s`)
  // Sends from b (whose port answers nothing and which the driver says is not running) are the scenario's kills.
  assert.ok((c.failedByCode.SENDER_KILLED ?? 0) > 0)
  assert.equal(workload.countedSends(), c.sent - (c.failedByCode.SENDER_KILLED ?? 0) - (c.failedByCode.RECIPIENT_OFFLINE ?? 0))
  for (const send of fake.state.sends as Array<{ to: string, id: string, body: string }>) {
    assert.equal(send.to, 'u002')
    assert.match(send.id, /^t-\d+$/)
  }
  // Nobody attached: ticks are skipped, nothing is sent.
  running.clear()
  const idle = new Workload({ ratePerS: 100, peers: [{ name: 'a', user: 'u001', url: fake.url }], contacts: new Map(), idPrefix: 'i' },
    { prng: createPrng(1), log, isAttached: (name) => running.has(name), isRunning: () => true, interventions: () => 1 })
  idle.start()
  await waitFor(() => idle.counters.skipped >= 5, { what: 'skips', timeoutMs: WAIT_MS, signal })
  await idle.stop()
  assert.equal(idle.counters.sent, 0)
  fake.server.close()
})
