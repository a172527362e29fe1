/**
 * Live progress while a run goes (issue 6). On a terminal: a block of five lines redrawn in place
 * about once a second (ANSI cursor-up and erase, no dependency), with the summary printed below it
 * at the end. Elsewhere (CI, a pipe, a log file): one plain line every 5 s and at each phase
 * change, with the same fields, so that a log reads top to bottom without escape codes.
 */
import { MAX_DURATION_MS } from './options.js'
import type { TimelineSample } from './timeline.js'

export const TTY_REDRAW_MS = 1000
export const PLAIN_PERIOD_MS = 5000
/** Seconds of the timeline averaged for the per-second rates. */
export const PROGRESS_RATE_WINDOW_S = 5
/**
 * Longer than any run can be (warm-up and observation at most a day each, plus start-up and
 * settle): a display never stopped by its run stops itself then.
 */
export const MAX_PROGRESS_MS = 3 * MAX_DURATION_MS

const CURSOR_UP = (lines: number): string => `\r\x1b[${lines}A`
const ERASE_DOWN = '\x1b[J'
const HIDE_CURSOR = '\x1b[?25l'
const SHOW_CURSOR = '\x1b[?25h'

export interface LoginRates {
  offered: number
  accepted: number
  /** Refused by admission control (the timeline's loginsRejected). */
  shed: number
}

export interface ProgressFacts {
  scenario: string
  phase: string
  elapsedMs: number
  /** The plan's bound on the time left; null once the run is finishing (final check, stop). */
  remainingMs: number | null
  /** The cluster is still starting: remainingMs counts from when it is up, not from now. */
  startingUp: boolean
  peers: number
  peersOnline: number
  supernodes: number
  supernodesOnline: number
  /** Per second, over the last PROGRESS_RATE_WINDOW_S timeline samples. */
  logins: LoginRates
  messagesDelivered: number
  messagesFailed: number
}

/** The plan's bounds, from which the time left is counted. */
export interface RunPlan {
  warmupMs: number
  /** The observation bound: the scenario stops waiting for recovery then. */
  observeMs: number
  /** How long the scenario may go on after the observation bound (FileScenario.tailMs). */
  tailMs: number
  /** The settle bound before the history check (settle.ts SETTLE_TIMEOUT_MS). */
  settleMs: number
}

/** Where a run is, as its phases say (cluster.ts, run.ts, the scenarios, history-run.ts). */
export type RunStage = 'start-up' | 'warmup' | 'observe' | 'settle' | 'finish'

const START_UP_PHASES: readonly string[] = ['starting', 'login-servers', 'supernodes', 'peers']
const FINISH_PHASES: readonly string[] = ['check', 'stopping']

export function stageOf (phase: string): RunStage {
  if (START_UP_PHASES.includes(phase)) return 'start-up'
  if (phase === 'warmup') return 'warmup'
  if (phase === 'settle') return 'settle'
  if (FINISH_PHASES.includes(phase)) return 'finish'
  // Every scenario names its own phases (kill, recover, decapitate, after-recovery, wipe, ...).
  return 'observe'
}

/** The most a run has left from the start of `stage` to the end of its settle; null when finishing. */
export function stageBoundMs (stage: RunStage, plan: RunPlan): number | null {
  switch (stage) {
    case 'start-up':
    case 'warmup': return plan.warmupMs + plan.observeMs + plan.tailMs + plan.settleMs
    case 'observe': return plan.observeMs + plan.tailMs + plan.settleMs
    case 'settle': return plan.settleMs
    case 'finish': return null
  }
}

/**
 * The time left by the plan, counted down from the start of each stage: observation and settle
 * usually end early, and the count then drops to the next stage's bound.
 */
export class RemainingTime {
  private readonly plan: RunPlan
  private stage: RunStage = 'start-up'
  private stageStartMs: number

  constructor (plan: RunPlan, nowMs: number) {
    this.plan = plan
    this.stageStartMs = nowMs
  }

  phase (phase: string, nowMs: number): void {
    const stage = stageOf(phase)
    if (stage === this.stage) return
    this.stage = stage
    this.stageStartMs = nowMs
  }

  /** How long start-up takes is not planned: until the cluster is up the whole bound is shown, not counting down. */
  at (nowMs: number): { remainingMs: number | null, startingUp: boolean } {
    const boundMs = stageBoundMs(this.stage, this.plan)
    if (boundMs === null) return { remainingMs: null, startingUp: false }
    if (this.stage === 'start-up') return { remainingMs: boundMs, startingUp: true }
    return { remainingMs: Math.max(0, this.stageStartMs + boundMs - nowMs), startingUp: false }
  }
}

/** Mean login counts per second over the last `seconds` samples (each sample is one second's change). */
export function loginRates (samples: readonly TimelineSample[], seconds: number): LoginRates {
  const recent = samples.slice(-seconds)
  const mean = (field: 'loginsOffered' | 'loginsAccepted' | 'loginsRejected'): number =>
    recent.length === 0 ? 0 : recent.reduce((sum, s) => sum + s[field], 0) / recent.length
  return { offered: mean('loginsOffered'), accepted: mean('loginsAccepted'), shed: mean('loginsRejected') }
}

/** 45s, 2m05s, 1h02m: short enough for a status line. */
export function formatDuration (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
}

/** "Up to": observation ends as soon as the trigger's recovery is complete, so the bound is rarely used up. */
export function remainingText (f: ProgressFacts): string {
  if (f.remainingMs === null) return 'finishing (final check, stopping)'
  if (f.startingUp) return `up to ${formatDuration(f.remainingMs)} once the cluster is up`
  return `up to ${formatDuration(f.remainingMs)}`
}

function loginsText (r: LoginRates, gap: string): string {
  return [`offered ${r.offered.toFixed(1)}`, `accepted ${r.accepted.toFixed(1)}`, `shed ${r.shed.toFixed(1)}`].join(gap)
}

/** The terminal block: one line per group of facts, each under 80 columns. */
export function progressBlock (f: ProgressFacts): string[] {
  return [
    `rebound ${f.scenario}: ${f.phase}`,
    `  time        elapsed ${formatDuration(f.elapsedMs)}, remaining ${remainingText(f)}`,
    `  peers       ${f.peersOnline}/${f.peers} online   supernodes ${f.supernodesOnline}/${f.supernodes} online`,
    `  logins/s    ${loginsText(f.logins, '   ')}`,
    `  messages    ok ${f.messagesDelivered}   failed ${f.messagesFailed}`
  ]
}

/**
 * Cut to the terminal's width: a line that wrapped would take two rows, and the cursor-up of the
 * next redraw would leave its first row behind.
 */
export function fitLines (lines: readonly string[], columns: number | undefined): string[] {
  if (columns === undefined || columns < 2) return [...lines]
  return lines.map((line) => line.length < columns ? line : line.slice(0, columns - 1))
}

/** The same facts on one line, for logs and CI. */
export function progressLine (f: ProgressFacts): string {
  const elapsed = `${Math.round(f.elapsedMs / 1000)}s`.padStart(5)
  return [
    `[${elapsed}]`,
    f.phase.padEnd(13),
    `remaining ${remainingText(f)}`,
    `peers ${f.peersOnline}/${f.peers}`,
    `supernodes ${f.supernodesOnline}/${f.supernodes}`,
    `logins/s ${loginsText(f.logins, ' ')}`,
    `messages ok ${f.messagesDelivered} failed ${f.messagesFailed}`
  ].join('  ')
}

export interface ProgressInit {
  /** Redraw in place (a terminal) or print lines. */
  tty: boolean
  /** Default TTY_REDRAW_MS on a terminal, PLAIN_PERIOD_MS otherwise. */
  periodMs?: number
  /** The display stops itself after this long (default MAX_PROGRESS_MS). */
  maxMs?: number
}

export interface ProgressDeps {
  facts: () => ProgressFacts
  /** Prints text and a newline (the run's `print`). */
  print: (text: string) => void
  /** Where SIGINT, SIGTERM and exit are heard (process): the cursor is given back on each. */
  signals?: NodeJS.EventEmitter
  /** The terminal's width now (process.stdout.columns); undefined: unknown, lines are not cut. */
  columns?: () => number | undefined
}

/**
 * Owns the redraw timer. On a terminal it hides the cursor while it redraws and shows it again
 * when stopped: at the end of the run, on Ctrl-C (the rest of the run then prints plain lines
 * below the last block), or at exit (a second Ctrl-C exits at once).
 */
export class ProgressDisplay {
  private readonly tty: boolean
  private readonly periodMs: number
  private readonly maxMs: number
  private readonly deps: ProgressDeps
  private readonly signals: NodeJS.EventEmitter
  private timer: NodeJS.Timeout | undefined
  private startedAtMs = 0
  /** Lines of the block now on screen (0: none drawn). */
  private drawn = 0
  private running = false

  constructor (init: ProgressInit, deps: ProgressDeps) {
    this.tty = init.tty
    this.periodMs = init.periodMs ?? (init.tty ? TTY_REDRAW_MS : PLAIN_PERIOD_MS)
    this.maxMs = init.maxMs ?? MAX_PROGRESS_MS
    this.deps = deps
    this.signals = deps.signals ?? process
  }

  get live (): boolean {
    return this.running
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.startedAtMs = Date.now()
    this.signals.on('SIGINT', this.onInterrupt)
    this.signals.on('SIGTERM', this.onInterrupt)
    this.signals.on('exit', this.onExit)
    this.timer = setInterval(this.tick, this.periodMs)
    // Never the reason the process stays up.
    this.timer.unref()
    if (this.tty) this.redraw()
  }

  /** A new phase: shown at once, not at the next tick. */
  phaseChanged (): void {
    if (!this.running) return
    if (this.tty) this.redraw()
    else this.deps.print(progressLine(this.deps.facts()))
  }

  /** A line of the run's own (a warning, "interrupted"): above the block, which is drawn again below it. */
  print (text: string): void {
    if (!this.running || !this.tty || this.drawn === 0) {
      this.deps.print(text)
      return
    }
    this.deps.print(CURSOR_UP(this.drawn) + ERASE_DOWN + text)
    this.drawn = 0
    this.redraw()
  }

  /** Idempotent: the last block stays on screen (a terminal) and the cursor is shown again. */
  stop (): void {
    if (!this.running) return
    if (this.tty) this.redraw(SHOW_CURSOR)
    this.running = false
    clearInterval(this.timer)
    this.signals.off('SIGINT', this.onInterrupt)
    this.signals.off('SIGTERM', this.onInterrupt)
    this.signals.off('exit', this.onExit)
  }

  private readonly tick = (): void => {
    if (Date.now() - this.startedAtMs > this.maxMs) {
      this.stop()
      return
    }
    if (this.tty) this.redraw()
    else this.deps.print(progressLine(this.deps.facts()))
  }

  private readonly onInterrupt = (): void => { this.stop() }

  // At exit only synchronous writes happen: print is one.
  private readonly onExit = (): void => {
    if (this.running && this.tty) this.deps.print(SHOW_CURSOR)
  }

  private redraw (suffix = ''): void {
    const lines = fitLines(progressBlock(this.deps.facts()), this.deps.columns?.())
    const prefix = this.drawn === 0 ? HIDE_CURSOR : CURSOR_UP(this.drawn)
    // Erase below first: a shorter line or block leaves nothing of the previous one behind.
    this.deps.print(prefix + ERASE_DOWN + lines.join('\n') + suffix)
    this.drawn = lines.length
  }
}
