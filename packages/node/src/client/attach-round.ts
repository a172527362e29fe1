/**
 * One round of attaching: try the known supernodes in two-choice order, follow REDIRECT lists from
 * full or overloaded ones (bounded), and trust no entry whose certificate does not verify.
 */
import type { KeyObject } from 'node:crypto'
import {
  ReboundError, describeError, verifyCertificate, type ChatMessage, type Logger, type SupernodeEntry
} from '@rebound/protocol'
import type { PeerNode } from '../libp2p.js'
import type { NodeMetrics } from '../metrics.js'
import { ATTACH_TIMEOUT_MS, ClientSession, type AttachInit, type AttachResult } from './client-session.js'
import { hedgedDial } from './hedged-dial.js'
import { attachOrder } from './supernode-choice.js'

/** REDIRECT lists followed in one attach round (each names at most 5 supernodes). */
export const MAX_REDIRECTS_FOLLOWED = 3
export const TICKET_CODES = new Set(['TICKET_INVALID', 'TICKET_EXPIRED', 'TICKET_PEER_MISMATCH'])

export interface AttachRoundDeps {
  node: PeerNode
  clusterKey: KeyObject
  metrics: NodeMetrics
  log: Logger
  random: () => number
  now: () => number
  onDeliver: (message: ChatMessage) => void
  /**
   * Hedge the dials of this round (hedged-dial.ts): the round after a supernode went silent, when
   * others may be frozen with it. One round only: hedging spends extra handshakes.
   */
  hedgeDials?: boolean
  /** A dial or attach timed out: the supernode is frozen or swamped (the caller avoids it for a while). */
  onTimeout?: (peerId: string) => void
}

export interface Attached extends AttachResult {
  entry: SupernodeEntry
}

/** Entries whose certificate verifies: a redirect or a cached list is never trusted blindly. */
export function verifiedSupernodes (entries: SupernodeEntry[], clusterKey: KeyObject, nowMs: number): SupernodeEntry[] {
  return entries.filter((entry) => {
    try {
      verifyCertificate(entry.certificate, clusterKey, { peerId: entry.peerId, nowMs })
      return true
    } catch {
      return false
    }
  })
}

/**
 * Attach to one of `candidates`. Throws the last refusal; its `meta.listStale` is true when every
 * supernode tried was unreachable or full with nowhere to redirect (the list is stale: ask a login
 * server), false when they were merely busy (the list is fine: back off).
 */
export async function attachRound (ticket: string, candidates: SupernodeEntry[], deps: AttachRoundDeps): Promise<Attached> {
  if (candidates.length === 0) throw new ReboundError('UNAVAILABLE', 'no supernode known', { listStale: true })
  const round = new RoundState(attachOrder(candidates, deps.random))
  const attachInit = (entry: SupernodeEntry): AttachInit => ({
    ticket, clusterKey: deps.clusterKey, onDeliver: deps.onDeliver, log: deps.log, redirected: round.offeredIds.has(entry.peerId), timeoutMs: ATTACH_TIMEOUT_MS
  })
  for (;;) {
    let entry: SupernodeEntry | undefined
    try {
      if (deps.hedgeDials === true) {
        const dialled = await hedgedDial(() => round.next(), async (e, signal) => await ClientSession.dial(deps.node, e, signal), { timeoutMs: ATTACH_TIMEOUT_MS })
        for (const { entry: e, error } of dialled.failed) round.failed(e, error, deps)
        if (dialled.winner === undefined) break
        entry = dialled.winner.entry
        return { ...await ClientSession.attachOn(dialled.winner.framed, entry, attachInit(entry)), entry }
      }
      entry = round.next()
      if (entry === undefined) break
      return { ...await ClientSession.attach(deps.node, entry, attachInit(entry)), entry }
    } catch (err) {
      if (entry === undefined) throw err
      // A refused ticket will be refused everywhere: the caller gets a new one.
      round.failed(entry, err, deps)
      if (TICKET_CODES.has((err as ReboundError).code ?? '')) throw err
    }
  }
  const error = round.lastError instanceof ReboundError ? round.lastError : new ReboundError('UNAVAILABLE', 'no supernode accepted the session')
  error.meta.listStale = round.unreachableOnly
  throw error
}

/** What one attach round has tried and learned: the order left, redirects taken, refusals seen. */
class RoundState {
  private readonly tried = new Set<string>()
  /** Entries a supernode sent us to: the attach says so (no second balance redirect there). */
  readonly offeredIds = new Set<string>()
  /**
   * Supernodes that refused only to balance the load (they have room): tried once more, after the
   * ones they named, as `redirected`, so that a less loaded supernode that cannot take us either
   * (out of join tokens) does not cost a join-schedule wait.
   */
  private readonly roomLeft = new Set<string>()
  private redirects = 0
  lastError: unknown
  unreachableOnly = true

  constructor (private readonly queue: SupernodeEntry[]) {}

  /** The next supernode to try, or undefined when the round is over. */
  next (): SupernodeEntry | undefined {
    for (let entry = this.queue.shift(); entry !== undefined; entry = this.queue.shift()) {
      if (this.tried.has(entry.peerId) && !this.roomLeft.delete(entry.peerId)) continue
      this.tried.add(entry.peerId)
      return entry
    }
    return undefined
  }

  /** An attach to `entry` failed with `err`: count it, follow its redirect (bounded). */
  failed (entry: SupernodeEntry, err: unknown, deps: AttachRoundDeps): void {
    this.lastError = err
    const code = (err as ReboundError).code ?? 'INTERNAL'
    deps.metrics.counters.attachFailures++
    deps.metrics.attaches.inc({ result: code })
    deps.log.info({ supernode: entry.peerId, code, err: describeError(err) }, 'attach failed')
    if (TICKET_CODES.has(code)) return
    if (code === 'TIMEOUT') deps.onTimeout?.(entry.peerId)
    const meta = (err as ReboundError).meta ?? {}
    if (meta.balance === true && !this.offeredIds.has(entry.peerId)) {
      this.roomLeft.add(entry.peerId)
      this.offeredIds.add(entry.peerId)
      this.queue.push(entry)
    }
    // A full or overloaded supernode names less loaded ones: try those next (bounded).
    const offered = meta.redirect
    // Full and knowing no one with room: the list may be what is stale (a supernode elected
    // since is known to the registry, not to us), so it counts like an unreachable one.
    const fullWithoutRedirect = code === 'FULL' && (!Array.isArray(offered) || offered.length === 0)
    if (code !== 'UNAVAILABLE' && code !== 'TIMEOUT' && code !== 'CLOSED' && !fullWithoutRedirect) this.unreachableOnly = false
    if (Array.isArray(offered) && this.redirects < MAX_REDIRECTS_FOLLOWED) {
      this.redirects++
      const fresh = verifiedSupernodes(offered as SupernodeEntry[], deps.clusterKey, deps.now()).filter((e) => !this.tried.has(e.peerId))
      for (const e of fresh) this.offeredIds.add(e.peerId)
      this.queue.unshift(...attachOrder(fresh, deps.random))
    }
  }
}
