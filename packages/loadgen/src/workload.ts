/**
 * The message workload: at a fixed rate, a random attached peer sends to one of its attached
 * contacts through its HTTP control port (POST /messages, which waits for the end-to-end ack); a
 * peer hosted by a rebound-swarm sends through its swarm's control port, naming itself in `from`.
 * Sends in flight are bounded; a tick that finds the bound reached is skipped, not queued, so a
 * slow cluster is not buried under a backlog the load generator itself built up. Every send is
 * recorded in the run's history (docs/durability.md) before it is posted, with its outcome after.
 */
import { SendResult, type Logger } from '@rebound/protocol'
import { History } from './history/history.js'
import { postJson } from './http.js'
import { completeWith, sendVerdict } from './outcomes.js'
import type { Prng } from './prng.js'
import { runTicks } from './ticker.js'
import type { ContactGraph } from './users.js'

export const MAX_SENDS_IN_FLIGHT = 32
/** The node waits up to 10 s for the ack (docs/interfaces.md); allow it to answer after that. */
export const SEND_TIMEOUT_MS = 12_000
/** Codes a failed send can carry besides the node's own error codes. */
export const SENDER_KILLED = 'SENDER_KILLED'
export const SENDER_UNREACHABLE = 'SENDER_UNREACHABLE'
export const BAD_ANSWER = 'BAD_ANSWER'
/** Failures that say nothing about the overlay's delivery: excluded from the delivery ratio. */
export const EXCLUDED_CODES: ReadonlySet<string> = new Set(['RECIPIENT_OFFLINE', SENDER_KILLED])

export interface WorkloadPeer {
  name: string
  user: string
  /** The control port that sends for this peer: its own, or its swarm's. */
  url: string
  /** The rebound-swarm process hosting this peer; absent when the peer is its own process. */
  swarm?: string
}

export interface MessageCounters {
  sent: number
  delivered: number
  failed: number
  failedByCode: Record<string, number>
  /** Ticks that found no attached sender with an attached contact, or the in-flight bound. */
  skipped: number
}

export interface WorkloadInit {
  ratePerS: number
  peers: readonly WorkloadPeer[]
  contacts: ContactGraph
  /** Prefix of message ids, so that ids are unique across runs that share nothing else. */
  idPrefix: string
}

export interface WorkloadDeps {
  prng: Prng
  log: Logger
  isAttached: (name: string) => boolean
  /** Keyed by process name (a peer's own, or its swarm's). */
  isRunning: (name: string) => boolean
  /** The driver's intervention count of a process (see ClusterDriver.interventions). */
  interventions: (name: string) => number
  /** The run's history, shared with the contact workload; a history of its own when absent. */
  history?: History
}

function newCounters (): MessageCounters {
  return { sent: 0, delivered: 0, failed: 0, failedByCode: {}, skipped: 0 }
}

/** Of `counters`, the sends whose outcome counts for the delivery ratio. */
export function countedOf (counters: MessageCounters): number {
  let excluded = 0
  for (const [code, count] of Object.entries(counters.failedByCode)) if (EXCLUDED_CODES.has(code)) excluded += count
  return counters.sent - excluded
}

/** Every send of `counters` has its outcome. */
export function allSettled (counters: MessageCounters): boolean {
  return counters.delivered + counters.failed >= counters.sent
}

export class Workload {
  readonly counters: MessageCounters = newCounters()
  /** Every send, in invocation order, with its outcome. */
  readonly history: History
  /** Open windows (openWindow): each counts the sends issued while it is open. */
  private readonly windows = new Set<MessageCounters>()
  private readonly init: WorkloadInit
  private readonly deps: WorkloadDeps
  private readonly byUser: Map<string, WorkloadPeer>
  private readonly inFlight = new Set<Promise<void>>()
  private readonly controller = new AbortController()
  private loopDone: Promise<void> = Promise.resolve()
  private seq = 0

  constructor (init: WorkloadInit, deps: WorkloadDeps) {
    this.init = init
    this.deps = deps
    this.history = deps.history ?? new History()
    this.byUser = new Map(init.peers.map((peer) => [peer.user, peer]))
  }

  start (): void {
    this.loopDone = runTicks(this.init.ratePerS, this.controller.signal, () => { this.onTick() })
  }

  /** Stop issuing sends and wait (bounded by their own timeouts) for those in flight. */
  async stop (): Promise<void> {
    this.controller.abort()
    await this.loopDone
    await Promise.all([...this.inFlight])
  }

  /** Messages whose outcome counts for the delivery ratio. */
  countedSends (): number {
    return countedOf(this.counters)
  }

  /**
   * Start counting, apart, the sends issued from now until closeWindow (e.g. the minutes after a
   * recovery): their outcomes land in the returned counters whenever they complete.
   */
  openWindow (): MessageCounters {
    const window = newCounters()
    this.windows.add(window)
    return window
  }

  /** Sends issued from now on no longer count in `window`; those in flight still will. */
  closeWindow (window: MessageCounters): void {
    this.windows.delete(window)
  }

  private onTick (): void {
    if (this.inFlight.size >= MAX_SENDS_IN_FLIGHT) {
      this.counters.skipped++
      return
    }
    // In layout order, so that the same seed and the same attached set give the same choice.
    const senders = this.init.peers.filter((peer) => this.deps.isAttached(peer.name))
    if (senders.length === 0) {
      this.counters.skipped++
      return
    }
    if (!this.issue(this.deps.prng.pick(senders))) this.counters.skipped++
  }

  /**
   * Send one message from each of `senders` now, besides the steady rate (a scenario's writes in
   * flight at its trigger); bounded by the senders given. Returns how many were sent: a sender
   * without an attached contact sends nothing.
   */
  burst (senders: readonly WorkloadPeer[]): number {
    let issued = 0
    for (const sender of senders) if (this.issue(sender)) issued++
    return issued
  }

  private issue (sender: WorkloadPeer): boolean {
    const reachable = (this.init.contacts.get(sender.user) ?? [])
      .filter((user) => { const peer = this.byUser.get(user); return peer !== undefined && this.deps.isAttached(peer.name) })
    if (reachable.length === 0) return false
    const to = this.deps.prng.pick(reachable)
    const send = this.send(sender, to).finally(() => { this.inFlight.delete(send) })
    this.inFlight.add(send)
    return true
  }

  private async send (sender: WorkloadPeer, to: string): Promise<void> {
    this.seq++
    const id = `${this.init.idPrefix}-${this.seq}`
    const owner = sender.swarm ?? sender.name
    const interventions = this.deps.interventions(owner)
    const counting = [this.counters, ...this.windows]
    for (const c of counting) c.sent++
    const body = `hello ${to} #${this.seq}`
    const command = sender.swarm === undefined ? { to, body, id } : { from: sender.user, to, body, id }
    const handle = this.history.invoke({ kind: 'send', id, from: sender.user, to })
    const outcome = await postJson(`${sender.url}/messages`, command, SendResult, SEND_TIMEOUT_MS)
    if (outcome.ok && outcome.value.ok) {
      handle.ok()
      for (const c of counting) c.delivered++
      return
    }
    // The scenario killed or restarted the sender's process under this request: not the overlay's
    // failure. (A restarted swarm answers 503 for a member that is not started yet.)
    const killed = !outcome.ok && (!this.deps.isRunning(owner) || this.deps.interventions(owner) !== interventions)
    let code: string
    if (outcome.ok) {
      code = outcome.value.code ?? 'INTERNAL'
    } else if (killed) {
      code = SENDER_KILLED
    } else if (outcome.kind === 'unreachable' || outcome.kind === 'timeout') {
      code = outcome.kind === 'timeout' ? 'TIMEOUT' : SENDER_UNREACHABLE
    } else {
      code = BAD_ANSWER
    }
    completeWith(handle, sendVerdict(outcome), code)
    for (const c of counting) {
      c.failed++
      c.failedByCode[code] = (c.failedByCode[code] ?? 0) + 1
    }
    const detail = outcome.ok ? outcome.value.message : outcome.message
    // A bad answer is an interface mismatch worth seeing; the others are the workload's normal weather.
    if (code === BAD_ANSWER) this.deps.log.warn({ id, from: sender.user, to, detail }, 'unexpected answer to POST /messages')
    else this.deps.log.debug({ id, from: sender.user, to, code, detail, pending: outcome.ok && outcome.value.pending === true }, 'send failed')
  }
}

