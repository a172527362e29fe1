/**
 * The workloads' side of the history (docs/durability.md): what each answer of the node means
 * (acknowledged, refused with nothing stored, or unknown), that every send and contact change is
 * recorded, and the contact workload's seeded choices and one-change-per-user rule.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import type { ContactResult, SendResult } from '@rebound/protocol'
import {
  ContactWorkload, MAX_CONTACTS_TOUCHED, applyChoice, chooseContactOp, newContactModel, type ContactChoice
} from '../../src/contact-workload.js'
import { History, type ContactOp, type SendOp } from '../../src/history/history.js'
import type { FetchOutcome } from '../../src/http.js'
import { contactVerdict, sendVerdict } from '../../src/outcomes.js'
import { createPrng } from '../../src/prng.js'
import { waitFor } from '../../src/wait.js'
import { SENDER_KILLED, Workload } from '../../src/workload.js'

const log = pino({ level: 'silent' })
const signal = new AbortController().signal
const WAIT_MS = 5000

function answer<T> (value: T): FetchOutcome<T> {
  return { ok: true, value }
}

function sendAnswer (over: Partial<SendResult>): FetchOutcome<SendResult> {
  return answer({ id: 'm1', ok: false, latencyMs: 1, ...over })
}

function status (code: number): FetchOutcome<never> {
  return { ok: false, kind: 'status', status: code, message: `HTTP ${code}` }
}

const NO_ANSWERS: Array<[string, FetchOutcome<never>]> = [
  ['timeout', { ok: false, kind: 'timeout', message: 'timed out' }],
  ['unreachable', { ok: false, kind: 'unreachable', message: 'ECONNREFUSED' }],
  ['schema', { ok: false, kind: 'schema', message: 'ok: expected boolean' }],
  ['503', status(503)],
  ['429', status(429)],
  ['500', status(500)]
]

test('sendVerdict: only a refusal before the outbox stored anything is failed', () => {
  assert.equal(sendVerdict(sendAnswer({ ok: true })), 'ok')
  // Refused before storing (outbox.ts submit): a reused id, too many in flight, a full outbox.
  assert.equal(sendVerdict(sendAnswer({ code: 'BAD_REQUEST' })), 'failed')
  assert.equal(sendVerdict(sendAnswer({ code: 'BUSY' })), 'failed')
  assert.equal(sendVerdict(status(400)), 'failed')
  // Stored, outcome not known: pending, whatever the code (BUSY + pending = the id is being sent).
  assert.equal(sendVerdict(sendAnswer({ code: 'BUSY', pending: true })), 'unknown')
  assert.equal(sendVerdict(sendAnswer({ code: 'BAD_REQUEST', pending: true })), 'unknown')
  assert.equal(sendVerdict(sendAnswer({ code: 'TIMEOUT', pending: true })), 'unknown')
  assert.equal(sendVerdict(sendAnswer({ code: 'RECIPIENT_OFFLINE', pending: true })), 'unknown')
  // A code the outbox does not refuse with is not a definite refusal, even without pending.
  assert.equal(sendVerdict(sendAnswer({ code: 'UNAVAILABLE' })), 'unknown')
  assert.equal(sendVerdict(sendAnswer({ code: 'INTERNAL' })), 'unknown')
  assert.equal(sendVerdict(sendAnswer({})), 'unknown')
  for (const [what, outcome] of NO_ANSWERS) assert.equal(sendVerdict(outcome), 'unknown', what)
})

test('contactVerdict: BAD_REQUEST without pending and HTTP 400 are failed, the rest unknown', () => {
  const result = (over: Partial<ContactResult>): FetchOutcome<ContactResult> => answer({ ok: false, ...over })
  assert.equal(contactVerdict(result({ ok: true, rev: 3 })), 'ok')
  assert.equal(contactVerdict(result({ code: 'BAD_REQUEST', message: 'at most 500 contacts' })), 'failed')
  assert.equal(contactVerdict(status(400)), 'failed')
  // Stored on the device, the store's commit not known.
  assert.equal(contactVerdict(result({ code: 'UNAVAILABLE', pending: true, rev: 4 })), 'unknown')
  assert.equal(contactVerdict(result({ code: 'TIMEOUT', pending: true, rev: 4 })), 'unknown')
  // BUSY is a send's refusal, not a contact change's.
  assert.equal(contactVerdict(result({ code: 'BUSY' })), 'unknown')
  assert.equal(contactVerdict(result({ code: 'BAD_REQUEST', pending: true })), 'unknown')
  for (const [what, outcome] of NO_ANSWERS) assert.equal(contactVerdict(outcome), 'unknown', what)
})

type Handler = (body: Record<string, unknown>, res: ServerResponse) => void

async function fakeServer (path: string, handle: Handler): Promise<{ url: string, server: Server, bodies: Array<Record<string, unknown>> }> {
  const bodies: Array<Record<string, unknown>> = []
  const server = createServer((req: IncomingMessage, res) => {
    let text = ''
    req.on('data', (chunk: Buffer) => { text += chunk.toString() })
    req.on('end', () => {
      if (req.url !== path || req.method !== 'POST') {
        res.statusCode = 404
        res.end()
        return
      }
      const body = JSON.parse(text) as Record<string, unknown>
      bodies.push(body)
      handle(body, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, bodies }
}

test('workload: every send is in the history with the outcome its answer means; counters unchanged', async () => {
  // Answers in turn: delivered, refused (BUSY, nothing stored), pending, 400.
  let n = 0
  const fake = await fakeServer('/messages', (body, res) => {
    const turn = n++ % 4
    if (turn === 3) {
      res.statusCode = 400
      res.end(JSON.stringify({ code: 'BAD_REQUEST', message: 'bad send command' }))
      return
    }
    const result = [{ ok: true }, { ok: false, code: 'BUSY' }, { ok: false, code: 'TIMEOUT', pending: true }][turn]
    res.end(JSON.stringify({ id: body.id, latencyMs: 1, ...result }))
  })
  const history = new History()
  const workload = new Workload({
    ratePerS: 100,
    // b's port answers nothing and the driver says it is not running: killed under its sends.
    peers: [{ name: 'a', user: 'u001', url: fake.url }, { name: 'b', user: 'u002', url: 'http://127.0.0.1:1' }],
    contacts: new Map([['u001', ['u002']], ['u002', ['u001']]]),
    idPrefix: 'h'
  }, { prng: createPrng(3), log, isAttached: () => true, isRunning: (name) => name === 'a', interventions: () => 1, history })
  assert.equal(workload.history, history)
  workload.start()
  await waitFor(() => fake.bodies.length >= 12 && (workload.counters.failedByCode[SENDER_KILLED] ?? 0) >= 2, { what: 'sends both ways', timeoutMs: WAIT_MS, signal })
  await workload.stop()
  fake.server.close()

  const records = history.operations()
  const c = workload.counters
  assert.equal(records.length, c.sent)
  assert.ok(records.every((r) => r.outcome !== null && r.completedAtMs !== null && r.completedAtMs >= r.invokedAtMs), 'every send completed')
  const from = (user: string): typeof records => records.filter((r) => (r.op as SendOp).from === user)
  const fromA = from('u001')
  // a's sends got the answers in turn, in the order they were posted (one connection each, sequential ids).
  const outcomeOf = new Map(fromA.map((r) => [(r.op as SendOp).id, r]))
  fake.bodies.forEach((body, i) => {
    const r = outcomeOf.get(String(body.id))
    assert.ok(r !== undefined, `posted ${String(body.id)} is recorded`)
    assert.deepEqual(r.op, { kind: 'send', id: body.id, from: 'u001', to: 'u002' })
    const expected = [['ok', null], ['failed', 'BUSY'], ['unknown', 'TIMEOUT'], ['failed', 'BAD_ANSWER']][i % 4]
    assert.deepEqual([r.outcome, r.code], expected, `send ${i}`)
  })
  // A killed sender's sends are unknown, never failed.
  assert.ok(from('u002').length >= 2)
  assert.ok(from('u002').every((r) => r.outcome === 'unknown' && r.code === SENDER_KILLED))
  // The counters keep their meaning: every send not delivered is failed there, with its code.
  assert.equal(c.delivered, records.filter((r) => r.outcome === 'ok').length)
  assert.equal(c.failed, c.sent - c.delivered)
  assert.equal(c.failedByCode.BUSY, records.filter((r) => r.code === 'BUSY').length)
})

test('chooseContactOp: seeded, never the user itself, rename and remove only what it named, within the touch budget', () => {
  const users = Array.from({ length: 200 }, (_, i) => `u${String(i + 1).padStart(3, '0')}`)
  const run = (seed: number, ops: number): ContactChoice[] => {
    const prng = createPrng(seed)
    const model = newContactModel()
    const choices: ContactChoice[] = []
    for (let seq = 1; seq <= ops; seq++) {
      const choice = chooseContactOp(prng, 'u001', users, model, seq)
      assert.ok(choice !== null)
      assert.notEqual(choice.contact, 'u001')
      if (choice.op === 'add') assert.ok(!model.named.has(choice.contact), `add of ${choice.contact}, already named`)
      else assert.ok(model.named.has(choice.contact), `${choice.op} of ${choice.contact}, never named`)
      if (choice.op !== 'remove') assert.match(choice.name, new RegExp(`^[A-Z][a-z]+ ${seq}$`))
      applyChoice(model, choice)
      assert.ok(model.touched.size <= MAX_CONTACTS_TOUCHED, `touched ${model.touched.size}`)
      choices.push(choice)
    }
    return choices
  }
  const choices = run(9, 2000)
  assert.deepEqual(run(9, 2000), choices, 'same seed, same choices')
  assert.notDeepEqual(run(10, 2000), choices, 'another seed, other choices')
  const share = (op: string): number => choices.filter((c) => c.op === op).length / choices.length
  // 50/30/20 while something is addable; once every contact of the budget is named, 60/40 rename
  // and remove: about 29/43/29 over a long run.
  for (const op of ['add', 'rename', 'remove']) assert.ok(share(op) > 0.2 && share(op) < 0.55, `${op} share ${share(op)}`)
  // Early on (many users to add, few named) adds lead.
  const early = choices.slice(0, 60)
  assert.ok(early.filter((c) => c.op === 'add').length > early.filter((c) => c.op === 'remove').length)
  assert.equal(new Set(choices.map((c) => c.contact)).size, MAX_CONTACTS_TOUCHED, 'the budget is reached, not passed')
})

test('chooseContactOp: nothing to add leaves rename and remove; nobody else leaves nothing', () => {
  const prng = createPrng(4)
  const model = newContactModel()
  assert.equal(chooseContactOp(prng, 'u001', ['u001'], model, 1), null)
  applyChoice(model, { op: 'add', contact: 'u002', name: 'Ada 1' })
  const ops = new Set<string>()
  for (let seq = 2; seq < 200; seq++) {
    const choice = chooseContactOp(prng, 'u001', ['u001', 'u002'], model, seq)
    assert.ok(choice !== null && choice.contact === 'u002')
    ops.add(choice.op)
    // Keep it named: only rename and remove are possible while it is.
    if (choice.op === 'remove') continue
    assert.equal(choice.op, 'rename')
  }
  assert.deepEqual([...ops].sort(), ['remove', 'rename'])
  // Once removed it can only be added again.
  applyChoice(model, { op: 'remove', contact: 'u002' })
  assert.equal(chooseContactOp(prng, 'u001', ['u001', 'u002'], model, 300)?.op, 'add')
})

test('contact workload: one change in flight per user, every change recorded with its verdict', async () => {
  const inFlight = new Map<string, number>()
  let maxPerUser = 0
  let maxTotal = 0
  let n = 0
  // Answers in turn: ok, refused (BAD_REQUEST), pending, 503; each after a short delay.
  const fake = await fakeServer('/contacts', (body, res) => {
    const user = String(body.from)
    const now = (inFlight.get(user) ?? 0) + 1
    inFlight.set(user, now)
    maxPerUser = Math.max(maxPerUser, now)
    maxTotal = Math.max(maxTotal, [...inFlight.values()].reduce((a, b) => a + b, 0))
    const turn = n++ % 4
    setTimeout(() => {
      inFlight.set(user, (inFlight.get(user) ?? 1) - 1)
      if (turn === 3) {
        res.statusCode = 503
        res.end(JSON.stringify({ ok: false, code: 'UNAVAILABLE' }))
        return
      }
      res.end(JSON.stringify([{ ok: true, rev: 1 }, { ok: false, code: 'BAD_REQUEST', message: 'no' }, { ok: false, code: 'UNAVAILABLE', pending: true, rev: 2 }][turn]))
    }, 20)
  })
  const history = new History()
  const users = ['u001', 'u002', 'u003']
  const contacts = new ContactWorkload({
    ratePerS: 300,
    peers: users.map((user, i) => ({ name: `p00${i + 1}`, user, url: fake.url, swarm: 'sw01' })),
    users
  }, { prng: createPrng(5), log, history, isAttached: (name) => name !== 'p003', isRunning: () => true, interventions: () => 1 })
  contacts.start()
  await waitFor(() => history.operations().length >= 20, { what: '20 contact changes', timeoutMs: WAIT_MS, signal })
  await contacts.stop()
  fake.server.close()

  assert.equal(maxPerUser, 1, 'never two changes of one user in flight')
  assert.ok(maxTotal <= 2, `only attached users change contacts (${maxTotal} at once)`)
  const records = history.operations()
  assert.equal(records.length, fake.bodies.length)
  assert.equal(contacts.counters.issued, records.length)
  // The server answered in arrival order (turn = arrival % 4); per user, arrival order is invocation
  // order, because a user never has two changes in flight.
  const expected = [['ok', null], ['failed', 'BAD_REQUEST'], ['unknown', 'UNAVAILABLE'], ['unknown', 'HTTP_503']]
  for (const user of ['u001', 'u002']) {
    const posted = fake.bodies.map((body, turn) => ({ body, turn })).filter((p) => p.body.from === user)
    const recorded = records.filter((r) => (r.op as ContactOp).user === user)
    assert.ok(recorded.length >= 3, `${user} changed contacts`)
    assert.equal(posted.length, recorded.length)
    recorded.forEach((r, i) => {
      const op = r.op as ContactOp
      const { body, turn } = posted[i] ?? { body: {}, turn: -1 }
      assert.deepEqual([body.op, body.contact, body.name], [op.op, op.contact, op.op === 'remove' ? undefined : op.name], `${user} change ${i}`)
      assert.notEqual(op.contact, user)
      assert.deepEqual([r.outcome, r.code], expected[turn % 4], `${user} change ${i} (turn ${turn})`)
    })
  }
  // p003 is not attached: none of its changes.
  assert.ok(records.every((r) => (r.op as ContactOp).user !== 'u003'))
  assert.equal(contacts.counters.ok + contacts.counters.failed + contacts.counters.unknown, records.length)
})
