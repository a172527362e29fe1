/**
 * Live progress (progress.ts): the block and the line carry the same facts, the time left follows
 * the plan's stages, and the display redraws in place on a terminal, prints lines elsewhere, and
 * always gives the cursor back.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import {
  ProgressDisplay, RemainingTime, fitLines, formatDuration, loginRates, progressBlock, progressLine, stageOf, type ProgressFacts, type RunPlan
} from '../../src/progress.js'
import type { TimelineSample } from '../../src/timeline.js'

const FACTS: ProgressFacts = {
  scenario: 'patch-tuesday',
  phase: 'recover',
  elapsedMs: 72_000,
  remainingMs: 155_000,
  startingUp: false,
  peers: 40,
  peersOnline: 38,
  supernodes: 4,
  supernodesOnline: 3,
  logins: { offered: 3.25, accepted: 3, shed: 0.25 },
  messagesDelivered: 155,
  messagesFailed: 1
}

const ESC = '\x1b'
/** Bounds the waits for timer-driven output. */
const WAIT_MS = 2000

test('the block shows phase, elapsed, remaining "up to", peers, supernodes, login rates and messages', () => {
  const block = progressBlock(FACTS).join('\n')
  for (const expected of ['rebound patch-tuesday: recover', 'elapsed 1m12s', 'remaining up to 2m35s', 'peers       38/40 online', 'supernodes 3/4 online',
    'offered 3.3', 'accepted 3.0', 'shed 0.3', 'ok 155', 'failed 1']) {
    assert.ok(block.includes(expected), `${expected} in\n${block}`)
  }
  for (const line of progressBlock({ ...FACTS, elapsedMs: 36_000_000, remainingMs: 86_400_000, startingUp: true })) assert.ok(line.length < 80, line)
})

test('the plain line carries the same facts, without escape codes', () => {
  const line = progressLine(FACTS)
  for (const expected of ['[  72s]', 'recover', 'remaining up to 2m35s', 'peers 38/40', 'supernodes 3/4', 'logins/s offered 3.3 accepted 3.0 shed 0.3', 'messages ok 155 failed 1']) {
    assert.ok(line.includes(expected), `${expected} in ${line}`)
  }
  assert.ok(!line.includes(ESC))
  assert.match(progressLine({ ...FACTS, remainingMs: null }), /remaining finishing/)
  assert.match(progressLine({ ...FACTS, startingUp: true }), /remaining up to 2m35s once the cluster is up/)
})

test('login rates: the mean of the last samples\' per-second changes; shed = rejected', () => {
  const sample = (offered: number, accepted: number, rejected: number): TimelineSample => ({
    t: 0, peersOnline: 0, supernodes: 0, loginsOffered: offered, loginsAccepted: accepted, loginsRejected: rejected, loginsFailed: 0,
    messagesSent: 0, messagesDelivered: 0, messagesFailed: 0, killed: 0, restarted: 0, processesRunning: 0
  })
  const samples = [sample(100, 100, 0), sample(10, 6, 4), sample(20, 10, 10)]
  assert.deepEqual(loginRates(samples, 2), { offered: 15, accepted: 8, shed: 7 })
  assert.deepEqual(loginRates([], 5), { offered: 0, accepted: 0, shed: 0 })
})

test('durations and terminal widths', () => {
  assert.equal(formatDuration(0), '0s')
  assert.equal(formatDuration(59_400), '59s')
  assert.equal(formatDuration(125_000), '2m05s')
  assert.equal(formatDuration(3_720_000), '1h02m')
  assert.deepEqual(fitLines(['abcdef', 'ab'], 5), ['abcd', 'ab'])
  assert.deepEqual(fitLines(['abcdef'], undefined), ['abcdef'])
})

test('the time left: the whole plan until the cluster is up, then counted down per stage, none while finishing', () => {
  const plan: RunPlan = { warmupMs: 15_000, observeMs: 90_000, tailMs: 0, settleMs: 60_000 }
  const clock = new RemainingTime(plan, 0)
  assert.deepEqual(clock.at(30_000), { remainingMs: 165_000, startingUp: true })
  clock.phase('peers', 30_000)
  clock.phase('warmup', 40_000)
  assert.deepEqual(clock.at(50_000), { remainingMs: 155_000, startingUp: false })
  clock.phase('kill', 55_000)
  clock.phase('recover', 56_000)
  // From the kill (the observation's start), not from the later phase of the same stage.
  assert.deepEqual(clock.at(65_000), { remainingMs: 140_000, startingUp: false })
  // Recovery was fast: the settle's own bound from its start.
  clock.phase('settle', 70_000)
  assert.deepEqual(clock.at(80_000), { remainingMs: 50_000, startingUp: false })
  assert.deepEqual(clock.at(500_000), { remainingMs: 0, startingUp: false })
  clock.phase('check', 90_000)
  assert.deepEqual(clock.at(91_000), { remainingMs: null, startingUp: false })
  assert.equal(stageOf('after-recovery'), 'observe')
  assert.equal(stageOf('login-servers'), 'start-up')
  // A supernode scenario's after-recovery window counts too.
  const tail = new RemainingTime({ ...plan, tailMs: 82_000 }, 0)
  tail.phase('decapitate', 0)
  assert.equal(tail.at(0).remainingMs, 232_000)
})

/** A display writing into an array, with its own signal emitter. */
function display (tty: boolean, periodMs: number, maxMs?: number): { progress: ProgressDisplay, out: string[], signals: EventEmitter } {
  const out: string[] = []
  const signals = new EventEmitter()
  const progress = new ProgressDisplay({ tty, periodMs, ...(maxMs === undefined ? {} : { maxMs }) }, {
    facts: () => FACTS, print: (text) => { out.push(text) }, signals, columns: () => 100
  })
  return { progress, out, signals }
}

async function until (what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await delay(5)
  }
}

test('on a terminal: drawn at once with the cursor hidden, redrawn in place, lines of the run above it, cursor back at stop', async () => {
  const { progress, out } = display(true, 10)
  progress.start()
  assert.equal(out.length, 1)
  assert.ok(out[0]?.startsWith(`${ESC}[?25l`), JSON.stringify(out[0]))
  assert.ok(out[0]?.includes('rebound patch-tuesday: recover'))
  await until('a redraw', () => out.length >= 3)
  // Five lines up, then erase to the end of the screen, then the block again.
  assert.ok(out[1]?.startsWith(`\r${ESC}[5A${ESC}[J`), JSON.stringify(out[1]))
  progress.print('interrupted: stopping the cluster')
  const printed = out.findIndex((text) => text.includes('interrupted'))
  assert.ok(out[printed]?.startsWith(`\r${ESC}[5A${ESC}[J`), 'the block is erased before the line')
  assert.ok(out[printed + 1]?.includes('rebound patch-tuesday'), 'and drawn again below it')
  progress.stop()
  assert.ok(out.at(-1)?.endsWith(`${ESC}[?25h`), 'the cursor is shown again')
  assert.ok(out.at(-1)?.includes('messages'), 'the last block stays')
  const count = out.length
  await delay(50)
  progress.stop()
  assert.equal(out.length, count, 'nothing after stop; stop is idempotent')
  assert.equal(progress.live, false)
})

test('not a terminal: a plain line per period and per phase change, never an escape code', async () => {
  const { progress, out } = display(false, 20)
  progress.start()
  assert.equal(out.length, 0, 'nothing until the first period or phase')
  progress.phaseChanged()
  assert.equal(out.length, 1)
  await until('a periodic line', () => out.length >= 2)
  progress.print('a warning')
  progress.stop()
  assert.ok(out.every((text) => !text.includes(ESC)), JSON.stringify(out))
  assert.ok(out.includes('a warning'))
  assert.ok(out.filter((text) => text.startsWith('[')).every((text) => text.includes('logins/s offered')))
})

test('Ctrl-C stops the redraw and gives the cursor back; exit does too; the display stops itself at its bound', async () => {
  const interrupted = display(true, 1000)
  interrupted.progress.start()
  interrupted.signals.emit('SIGINT')
  assert.equal(interrupted.progress.live, false)
  assert.ok(interrupted.out.at(-1)?.endsWith(`${ESC}[?25h`))
  assert.equal(interrupted.signals.listenerCount('SIGINT'), 0, 'its listeners are gone')
  interrupted.progress.print('interrupted: stopping the cluster')
  assert.equal(interrupted.out.at(-1), 'interrupted: stopping the cluster', 'later lines are plain')

  const exiting = display(true, 1000)
  exiting.progress.start()
  exiting.signals.emit('exit')
  assert.equal(exiting.out.at(-1), `${ESC}[?25h`)
  exiting.progress.stop()

  const bounded = display(true, 5, 30)
  bounded.progress.start()
  await until('the display to stop itself', () => !bounded.progress.live)
  assert.ok(bounded.out.at(-1)?.endsWith(`${ESC}[?25h`))
})
