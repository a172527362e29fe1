/**
 * The admission controller on an injected clock and a manual timer: priorities, bounded queues,
 * CoDel's switch to LIFO and shedding, deadline drops, AIMD in the loop, and the naive profile.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReboundError } from '@rebound/protocol'
import {
  AdmissionController, AimdLimit, CapacityEstimator, FixedLimit, admissionPolicy, refusalReasonOf,
  type AdmissionClass, type AdmissionPolicy, type ConcurrencyLimit, type Scheduler
} from '../src/index.js'

interface Harness {
  controller: AdmissionController
  setNow: (ms: number) => void
  /** Run the pending sweep timer, as setTimeout would. */
  fireTimers: () => void
  /** Order in which jobs started. */
  started: string[]
  /** Submit a job that runs until `finish(name)`; resolves with the name, or rejects with the refusal. */
  submit: (name: string, cls: AdmissionClass, deadlineMs?: number) => Promise<string>
  finish: (name: string) => Promise<void>
  outcome: (name: string) => Promise<string>
}

function harness (policy: AdmissionPolicy, limit: ConcurrencyLimit = new FixedLimit(1)): Harness {
  let nowMs = 0
  let timers: Array<() => void> = []
  const schedule: Scheduler = (fn) => {
    timers.push(fn)
    return () => { timers = timers.filter((t) => t !== fn) }
  }
  const controller = new AdmissionController({ policy, limit, capacity: new CapacityEstimator(50) }, { clock: () => nowMs, schedule })
  const started: string[] = []
  const releases = new Map<string, () => void>()
  const results = new Map<string, Promise<string>>()
  const submit = (name: string, cls: AdmissionClass, deadlineMs = 10_000): Promise<string> => {
    const result = controller.run(cls, deadlineMs, async () => {
      started.push(name)
      await new Promise<void>((resolve) => { releases.set(name, resolve) })
      return name
    })
    result.catch(() => {}) // observed through outcome()
    results.set(name, result)
    return result
  }
  const finish = async (name: string): Promise<void> => {
    const release = releases.get(name)
    assert.ok(release !== undefined, `${name} is not running`)
    release()
    await results.get(name)
    await settle()
  }
  const outcome = async (name: string): Promise<string> => {
    try {
      return await (results.get(name) ?? Promise.reject(new Error(`no job ${name}`)))
    } catch (err) {
      return refusalReasonOf(err) ?? (err instanceof ReboundError ? err.code : String(err))
    }
  }
  const fireTimers = (): void => {
    const due = timers
    timers = []
    for (const fn of due) fn()
  }
  return { controller, setNow: (ms) => { nowMs = ms }, fireTimers, started, submit, finish, outcome }
}

/** Let promise callbacks (job starts, refusals) run. */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => { setImmediate(resolve) })
}

function defended (over: Partial<Record<AdmissionClass, number>> = {}): AdmissionPolicy {
  const policy = admissionPolicy('defended')
  for (const [cls, capacity] of Object.entries(over) as Array<[AdmissionClass, number]>) policy.queues[cls] = { ...policy.queues[cls], capacity }
  return policy
}

test('a due-slot login overtakes queued plain logins, and registrations go last', async () => {
  const h = harness(defended())
  void h.submit('running', 'login')
  await settle()
  void h.submit('register', 'register')
  void h.submit('login-1', 'login')
  void h.submit('login-2', 'login')
  void h.submit('slot', 'slot')
  await settle()
  assert.deepEqual([h.controller.queueLength('slot'), h.controller.queueLength('login'), h.controller.queueLength('register')], [1, 2, 1])
  h.setNow(20) // well inside CoDel's interval: the login queue is still FIFO
  for (const name of ['running', 'slot', 'login-1', 'login-2']) await h.finish(name)
  await settle()
  assert.deepEqual(h.started, ['running', 'slot', 'login-1', 'login-2', 'register'])
  await h.finish('register')
  assert.equal(h.controller.inflight, 0)
})

test('a full queue refuses at once (QUEUE_FULL), before any work, and per class', async () => {
  const h = harness(defended({ login: 2, register: 1 }))
  void h.submit('running', 'login')
  await settle()
  void h.submit('a', 'login')
  void h.submit('b', 'login')
  void h.submit('c', 'login')
  void h.submit('r1', 'register')
  void h.submit('r2', 'register')
  await settle()
  assert.equal(await h.outcome('c'), 'QUEUE_FULL')
  assert.equal(await h.outcome('r2'), 'QUEUE_FULL')
  // The slot class has its own room: a full login queue does not refuse a slot holder.
  void h.submit('s', 'slot')
  await settle()
  assert.equal(h.controller.queueLength('slot'), 1)
  assert.deepEqual(h.started, ['running'])
})

test('CoDel: after an interval of standing queue it sheds stale waiters and serves the newest first', async () => {
  const h = harness(defended())
  void h.submit('running', 'login')
  await settle()
  h.setNow(0); void h.submit('old-1', 'login')
  h.setNow(50); void h.submit('old-2', 'login')
  h.setNow(95); void h.submit('recent', 'login')
  h.setNow(99); void h.submit('newest', 'login')
  await settle()
  assert.equal(h.controller.overloaded(), false, 'a queue younger than the interval is a burst, not overload')
  h.setNow(100)
  assert.equal(h.controller.overloaded(), true, 'non-empty for 100 ms: a standing queue')
  h.fireTimers()
  await settle()
  assert.equal(await h.outcome('old-1'), 'CODEL')
  assert.equal(await h.outcome('old-2'), 'CODEL')
  assert.equal(h.controller.queueLength('login'), 2, 'waiters younger than 2 x target (10 ms) stay')
  await h.finish('running')
  assert.deepEqual(h.started, ['running', 'newest'], 'LIFO while overloaded')
  h.setNow(103)
  await h.finish('newest')
  assert.deepEqual(h.started, ['running', 'newest', 'recent'])
})

test('CoDel: before the interval is up, a waiter may queue up to the interval (a burst drains FIFO)', async () => {
  const h = harness(defended())
  void h.submit('running', 'login')
  await settle()
  void h.submit('a', 'login')
  h.setNow(40); void h.submit('b', 'login')
  h.setNow(90)
  h.fireTimers()
  await h.finish('running')
  assert.deepEqual(h.started, ['running', 'a'], 'FIFO, nothing shed at 90 ms')
  await h.finish('a')
  assert.deepEqual(h.started, ['running', 'a', 'b'])
})

test('a slot holder may wait for a hash longer than CoDel allows, but not forever', async () => {
  const h = harness(defended())
  void h.submit('running', 'login')
  await settle()
  void h.submit('slot-1', 'slot')
  h.setNow(60) // longer than CoDel's 10 ms, shorter than the slot queue's bound
  h.fireTimers()
  await h.finish('running')
  assert.deepEqual(h.started, ['running', 'slot-1'])
  void h.submit('slot-2', 'slot')
  h.setNow(60 + 2001)
  h.fireTimers()
  await settle()
  assert.equal(await h.outcome('slot-2'), 'QUEUE_TIMEOUT')
})

test('work whose deadline passed while it waited is refused (DEADLINE) and never runs', async () => {
  const h = harness(defended())
  void h.submit('running', 'login')
  await settle()
  void h.submit('impatient', 'slot', 30)
  void h.submit('patient', 'slot', 5000)
  h.setNow(31)
  await h.finish('running')
  assert.equal(await h.outcome('impatient'), 'DEADLINE')
  assert.deepEqual(h.started, ['running', 'patient'])
  await h.finish('patient')
  const refusal = await h.controller.run('login', 1, async () => 'x').catch((err: unknown) => err)
  assert.equal(refusalReasonOf(refusal), undefined, 'a 1 ms budget on an idle server still runs at once')
})

test('AIMD in the loop: the limit grows while latency stays low and backs off when it doubles', async () => {
  let nowMs = 0
  const limit = new AimdLimit({ initial: 1, min: 1, max: 3 })
  const controller = new AdmissionController({ policy: defended(), limit, capacity: new CapacityEstimator(50) },
    { clock: () => nowMs, schedule: () => () => {} })
  const job = (ms: number) => async (): Promise<void> => { nowMs += ms }
  await controller.run('login', 10_000, job(50)) // inflight 1 >= 1/2: +1
  assert.equal(controller.concurrencyLimit, 2)
  await controller.run('login', 10_000, job(50)) // inflight 1 >= 2/2: +1
  assert.equal(controller.concurrencyLimit, 3)
  await controller.run('login', 10_000, job(50)) // at max
  assert.equal(controller.concurrencyLimit, 3)
  await controller.run('login', 10_000, job(140)) // > 2 x 50: x0.9 = 2.7
  assert.equal(controller.concurrencyLimit, 2)
  assert.equal(controller.capacityPerS(), 50, 'one job at a time never saturated the server: mu stays at its first estimate')
  await assert.rejects(controller.run('login', 10_000, async () => { nowMs += 1; throw new Error('boom') }), /boom/)
  assert.equal(controller.concurrencyLimit, 2, 'a failed job is not a latency sample')
  assert.equal(controller.inflight, 0)
})

test('naive profile: one FIFO for every class, no CoDel, no deadline drops, fixed concurrency', async () => {
  const h = harness(admissionPolicy('naive'), new FixedLimit(1))
  void h.submit('running', 'login')
  await settle()
  void h.submit('register', 'register', 5)
  void h.submit('login-1', 'login', 5)
  void h.submit('slot', 'slot', 5)
  h.setNow(60_000) // every deadline long gone, a minute of standing queue
  h.fireTimers()
  await settle()
  assert.equal(h.controller.overloaded(), false, 'no CoDel')
  assert.equal(h.controller.queueLength('login'), 3)
  for (const name of ['running', 'register', 'login-1']) await h.finish(name)
  assert.deepEqual(h.started, ['running', 'register', 'login-1', 'slot'], 'arrival order, expired or not: the wasted work of 2007')
  await h.finish('slot')
  assert.equal(admissionPolicy('naive').queues.login.capacity, 1_000_000)
  assert.equal(new FixedLimit(4).current, 4)
})

test('close refuses every waiter', async () => {
  const h = harness(defended())
  void h.submit('running', 'login')
  await settle()
  void h.submit('waiting', 'login')
  await settle()
  h.controller.close()
  assert.equal(await h.outcome('waiting'), 'UNAVAILABLE')
  await assert.rejects(h.controller.run('login', 1000, async () => 1), (err: unknown) => err instanceof ReboundError && err.code === 'UNAVAILABLE')
  await h.finish('running')
})
