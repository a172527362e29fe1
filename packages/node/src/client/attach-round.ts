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
import { ATTACH_TIMEOUT_MS, ClientSession, QUICK_DIAL_TIMEOUT_MS, type AttachResult } from './client-session.js'
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
   * Cut the dials of this round short (QUICK_DIAL_TIMEOUT_MS): the round after a supernode went
   * silent, when others may be frozen with it. One round only, so a saturated machine's slow
   * handshakes are cut short at most once.
   */
  quickDials?: boolean
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
  const queue = attachOrder(candidates, deps.random)
  const tried = new Set<string>()
  /** Entries a supernode sent us to: the attach says so (no second balance redirect there). */
  const offeredIds = new Set<string>()
  /**
   * Supernodes that refused only to balance the load (they have room): tried once more, after the
   * ones they named, as `redirected`, so that a less loaded supernode that cannot take us either
   * (out of join tokens) does not cost a join-schedule wait.
   */
  const roomLeft = new Set<string>()
  let redirects = 0
  let lastError: unknown
  let unreachableOnly = true
  for (let entry = queue.shift(); entry !== undefined; entry = queue.shift()) {
    if (tried.has(entry.peerId) && !roomLeft.delete(entry.peerId)) continue
    tried.add(entry.peerId)
    try {
      const dialTimeoutMs = deps.quickDials === true ? QUICK_DIAL_TIMEOUT_MS : ATTACH_TIMEOUT_MS
      const result = await ClientSession.attach(deps.node, entry, ticket, deps.clusterKey, deps.onDeliver, deps.log, dialTimeoutMs, offeredIds.has(entry.peerId))
      return { ...result, entry }
    } catch (err) {
      lastError = err
      const code = (err as ReboundError).code ?? 'INTERNAL'
      deps.metrics.counters.attachFailures++
      deps.metrics.attaches.inc({ result: code })
      deps.log.info({ supernode: entry.peerId, code, err: describeError(err) }, 'attach failed')
      // A refused ticket will be refused everywhere: the caller gets a new one.
      if (TICKET_CODES.has(code)) throw err
      if (code === 'TIMEOUT') deps.onTimeout?.(entry.peerId)
      if ((err as ReboundError).meta?.balance === true && !offeredIds.has(entry.peerId)) {
        roomLeft.add(entry.peerId)
        offeredIds.add(entry.peerId)
        queue.push(entry)
      }
      // A full or overloaded supernode names less loaded ones: try those next (bounded).
      const offered = (err as ReboundError).meta?.redirect
      // Full and knowing no one with room: the list may be what is stale (a supernode elected
      // since is known to the registry, not to us), so it counts like an unreachable one.
      const fullWithoutRedirect = code === 'FULL' && (!Array.isArray(offered) || offered.length === 0)
      if (code !== 'UNAVAILABLE' && code !== 'TIMEOUT' && code !== 'CLOSED' && !fullWithoutRedirect) unreachableOnly = false
      if (Array.isArray(offered) && redirects < MAX_REDIRECTS_FOLLOWED) {
        redirects++
        const fresh = verifiedSupernodes(offered as SupernodeEntry[], deps.clusterKey, deps.now()).filter((e) => !tried.has(e.peerId))
        for (const e of fresh) offeredIds.add(e.peerId)
        queue.unshift(...attachOrder(fresh, deps.random))
      }
    }
  }
  const error = lastError instanceof ReboundError ? lastError : new ReboundError('UNAVAILABLE', 'no supernode accepted the session')
  error.meta.listStale = unreachableOnly
  throw error
}
