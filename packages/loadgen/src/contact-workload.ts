/**
 * The contact workload (issue 5): at a fixed rate, a random attached user with no contact change
 * in flight adds, renames or removes one of its contacts through its control port (POST /contacts;
 * a swarm's peer names itself in `from`). One change in flight per user, so the order in which the
 * history records a user's changes is the order its device numbers them (rev): the checker's
 * last-writer-wins register relies on it. Every change is recorded in the run's history before it
 * is posted, with its outcome after. Changes in flight are bounded; a tick past the bound is skipped.
 */
import { ContactResult, MAX_CONTACTS, type Logger } from '@rebound/protocol'
import type { ContactOp, History } from './history/history.js'
import { postJson } from './http.js'
import { completeWith, contactVerdict } from './outcomes.js'
import type { Prng } from './prng.js'
import { runTicks } from './ticker.js'
import { BAD_ANSWER, SENDER_KILLED, SENDER_UNREACHABLE, type WorkloadPeer } from './workload.js'

export const MAX_CONTACT_OPS_IN_FLIGHT = 16
/** The node pushes the change to the store (5 s per login server tried) before it answers. */
export const CONTACT_TIMEOUT_MS = 15_000
/**
 * Distinct contacts one user's workload ever touches: tombstones count towards the node's
 * MAX_CONTACTS, so a user that touched every other user of a large cluster would be refused.
 */
export const MAX_CONTACTS_TOUCHED = Math.min(50, MAX_CONTACTS)
/** Shares of add and rename among the choices (remove is the rest) when all three are possible. */
export const ADD_SHARE = 0.5
export const RENAME_SHARE = 0.3
/** Display names are one of these and the change's sequence number: every write a distinct value. */
export const DISPLAY_NAMES: readonly string[] = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Leslie', 'Radia']

/** What the workload believes a user's contact list holds: changes not refused count as made. */
export interface ContactModel {
  /** Contacts it added (or renamed) and did not remove since, with their display names. */
  named: Map<string, string>
  /** Every contact it ever changed (at most MAX_CONTACTS_TOUCHED). */
  touched: Set<string>
}

export type ContactChoice = { op: 'add' | 'rename', contact: string, name: string } | { op: 'remove', contact: string }

export function newContactModel (): ContactModel {
  return { named: new Map(), touched: new Set() }
}

/**
 * The next change of `user`: add a user of `users` it has not named (within its touch budget),
 * rename or remove one it named. `seq` makes the display name unique. null: nothing to change.
 */
export function chooseContactOp (prng: Prng, user: string, users: readonly string[], model: ContactModel, seq: number): ContactChoice | null {
  const roomToTouch = model.touched.size < MAX_CONTACTS_TOUCHED
  const addable = users.filter((u) => u !== user && !model.named.has(u) && (roomToTouch || model.touched.has(u)))
  // Sorted: the model's insertion order depends on which changes were refused.
  const named = [...model.named.keys()].sort()
  const roll = prng.next()
  const name = `${prng.pick(DISPLAY_NAMES)} ${seq}`
  if (named.length === 0 || (addable.length > 0 && roll < ADD_SHARE)) {
    return addable.length === 0 ? null : { op: 'add', contact: prng.pick(addable), name }
  }
  const contact = prng.pick(named)
  // Without anything to add, the add share goes to rename and remove in proportion.
  const renameBelow = addable.length > 0 ? ADD_SHARE + RENAME_SHARE : RENAME_SHARE / (1 - ADD_SHARE)
  return roll < renameBelow ? { op: 'rename', contact, name } : { op: 'remove', contact }
}

/** The model after `choice` was made (acknowledged, or maybe made: its outcome unknown). */
export function applyChoice (model: ContactModel, choice: ContactChoice): void {
  model.touched.add(choice.contact)
  if (choice.op === 'remove') model.named.delete(choice.contact)
  else model.named.set(choice.contact, choice.name)
}

export interface ContactCounters {
  issued: number
  ok: number
  failed: number
  unknown: number
  /** Why changes failed or are unknown, by code. */
  byCode: Record<string, number>
  /** Ticks without a change to make (nobody attached and idle, or the in-flight bound). */
  skipped: number
}

export interface ContactWorkloadInit {
  ratePerS: number
  peers: readonly WorkloadPeer[]
  /** Users a contact is drawn from (the cluster's users). */
  users: readonly string[]
}

export interface ContactWorkloadDeps {
  prng: Prng
  log: Logger
  history: History
  isAttached: (name: string) => boolean
  /** Keyed by process name (a peer's own, or its swarm's). */
  isRunning: (name: string) => boolean
  interventions: (name: string) => number
}

export class ContactWorkload {
  readonly counters: ContactCounters = { issued: 0, ok: 0, failed: 0, unknown: 0, byCode: {}, skipped: 0 }
  private readonly init: ContactWorkloadInit
  private readonly deps: ContactWorkloadDeps
  private readonly models = new Map<string, ContactModel>()
  /** Users with a change in flight. */
  private readonly busy = new Set<string>()
  private readonly inFlight = new Set<Promise<void>>()
  private readonly controller = new AbortController()
  private loopDone: Promise<void> = Promise.resolve()
  private seq = 0

  constructor (init: ContactWorkloadInit, deps: ContactWorkloadDeps) {
    this.init = init
    this.deps = deps
  }

  start (): void {
    this.loopDone = runTicks(this.init.ratePerS, this.controller.signal, () => { this.onTick() })
  }

  /** Stop issuing changes and wait (bounded by their own timeouts) for those in flight. */
  async stop (): Promise<void> {
    this.controller.abort()
    await this.loopDone
    await Promise.all([...this.inFlight])
  }

  private onTick (): void {
    if (this.inFlight.size >= MAX_CONTACT_OPS_IN_FLIGHT) {
      this.counters.skipped++
      return
    }
    // In layout order, so that the same seed and the same attached set give the same choice.
    const idle = this.init.peers.filter((peer) => !this.busy.has(peer.user) && this.deps.isAttached(peer.name))
    if (idle.length === 0) {
      this.counters.skipped++
      return
    }
    if (!this.issue(this.deps.prng.pick(idle))) this.counters.skipped++
  }

  /**
   * One change for each of `peers` without one in flight, now, besides the steady rate (a
   * scenario's writes in flight at its trigger); bounded by the peers given. Returns how many.
   */
  burst (peers: readonly WorkloadPeer[]): number {
    let issued = 0
    for (const peer of peers) if (!this.busy.has(peer.user) && this.issue(peer)) issued++
    return issued
  }

  private issue (peer: WorkloadPeer): boolean {
    const model = this.modelOf(peer.user)
    const choice = chooseContactOp(this.deps.prng, peer.user, this.init.users, model, this.seq + 1)
    if (choice === null) return false
    this.seq++
    this.busy.add(peer.user)
    const change = this.change(peer, choice, model).finally(() => {
      this.busy.delete(peer.user)
      this.inFlight.delete(change)
    })
    this.inFlight.add(change)
    return true
  }

  private modelOf (user: string): ContactModel {
    let model = this.models.get(user)
    if (model === undefined) {
      model = newContactModel()
      this.models.set(user, model)
    }
    return model
  }

  private async change (peer: WorkloadPeer, choice: ContactChoice, model: ContactModel): Promise<void> {
    const owner = peer.swarm ?? peer.name
    const interventions = this.deps.interventions(owner)
    const op: ContactOp = choice.op === 'remove'
      ? { kind: 'contact', user: peer.user, op: 'remove', contact: choice.contact }
      : { kind: 'contact', user: peer.user, op: choice.op, contact: choice.contact, name: choice.name }
    const command = { ...(peer.swarm === undefined ? {} : { from: peer.user }), ...choice }
    this.counters.issued++
    const handle = this.deps.history.invoke(op)
    const outcome = await postJson(`${peer.url}/contacts`, command, ContactResult, CONTACT_TIMEOUT_MS)
    const verdict = contactVerdict(outcome)
    if (verdict !== 'failed') applyChoice(model, choice)
    if (verdict === 'ok') {
      handle.ok()
      this.counters.ok++
      return
    }
    const killed = !outcome.ok && (!this.deps.isRunning(owner) || this.deps.interventions(owner) !== interventions)
    let code: string
    if (outcome.ok) code = outcome.value.code ?? 'INTERNAL'
    else if (outcome.kind === 'status') code = outcome.status === undefined ? BAD_ANSWER : `HTTP_${outcome.status}`
    else if (killed) code = SENDER_KILLED
    else if (outcome.kind === 'timeout') code = 'TIMEOUT'
    else code = outcome.kind === 'unreachable' ? SENDER_UNREACHABLE : BAD_ANSWER
    completeWith(handle, verdict, code)
    this.counters[verdict]++
    this.counters.byCode[code] = (this.counters.byCode[code] ?? 0) + 1
    const detail = outcome.ok ? outcome.value.message : outcome.message
    if (code === BAD_ANSWER) this.deps.log.warn({ user: peer.user, choice, detail }, 'unexpected answer to POST /contacts')
    else this.deps.log.debug({ user: peer.user, choice, verdict, code, detail }, 'contact change not acknowledged')
  }
}
