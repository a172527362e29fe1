/**
 * Issue 4's directory check: once the layer has settled, every online user (attached in its last
 * status) is looked up through the live supernodes, users dealt round-robin over them as routing
 * from anywhere in the overlay would ask. A lookup is right when it names the supernode the user's
 * own status says it is attached to; a wrong answer (a stale record) routes a message to nowhere,
 * so it counts as a miss. The first few misses are kept for the report.
 */
import { LookupResult, MAX_LOOKUP_USERS } from '@rebound/protocol'
import { postJson } from '../http.js'
import type { Observer } from '../observer.js'
import { roundRatio } from '../supernode-stats.js'

/** Room for the supernode's own deadline (control-api LOOKUP_DEADLINE_MS) and the HTTP round trip. */
export const LOOKUP_REQUEST_TIMEOUT_MS = 12_000
/** Misses named in the report; the rest are only counted. */
export const MAX_MISS_EXAMPLES = 10

export interface LookupMiss {
  user: string
  /** The supernode (peer id) the user's status names. */
  expected: string
  /** What the directory said: another peer id, or null (not found, or the request failed). */
  got: string | null
  via: string
}

export interface LookupSweepReport {
  atMs: number
  /** Attached users when the sweep began. */
  online: number
  /** Supernodes asked. */
  via: number
  correct: number
  wrong: number
  notFound: number
  /** Users whose lookup request got no answer at all (the supernode asked did not reply). */
  unanswered: number
  /** correct / online; null when nobody was online. */
  ratio: number | null
  misses: LookupMiss[]
}

interface OnlineUser {
  user: string
  supernode: string
}

/** Look every attached peer up through the live supernodes named in `supernodes`. */
export async function lookupSweep (observer: Observer, peers: readonly string[], supernodes: readonly string[]): Promise<LookupSweepReport> {
  const atMs = Date.now()
  const online: OnlineUser[] = []
  for (const name of peers) {
    const status = observer.node(name)?.status
    if (observer.isAttached(name) && status?.user != null && status.supernode !== null) online.push({ user: status.user, supernode: status.supernode })
  }
  const report: LookupSweepReport = { atMs, online: online.length, via: supernodes.length, correct: 0, wrong: 0, notFound: 0, unanswered: 0, ratio: null, misses: [] }
  if (online.length === 0) return report
  const shares = supernodes.map((): OnlineUser[] => [])
  online.forEach((u, i) => shares[i % Math.max(1, shares.length)]?.push(u))
  if (shares.length === 0) report.unanswered = online.length
  await Promise.all(supernodes.map(async (via, i) => {
    const share = shares[i] ?? []
    // One request at a time per supernode: the sweep must not become a load test of its own.
    for (let from = 0; from < share.length; from += MAX_LOOKUP_USERS) {
      const chunk = share.slice(from, from + MAX_LOOKUP_USERS)
      const answers = await askSupernode(observer, via, chunk.map((u) => u.user))
      chunk.forEach((u, k) => { judge(report, u, answers === null ? undefined : answers[k], via) })
    }
  }))
  report.ratio = roundRatio(report.correct / online.length)
  return report
}

/** The supernode's answer per user in order, or null when it gave none. */
async function askSupernode (observer: Observer, via: string, users: string[]): Promise<Array<string | null> | null> {
  const view = observer.node(via)
  if (view === undefined) return null
  // A swarm member answers through its swarm's port, named by its user.
  const body = view.process === view.name ? { users } : { via: view.status?.user ?? '', users }
  const outcome = await postJson(`${view.url}/lookups`, body, LookupResult, LOOKUP_REQUEST_TIMEOUT_MS)
  if (!outcome.ok || outcome.value.results.length !== users.length) return null
  return outcome.value.results.map((r) => r.supernode)
}

/** `got`: a peer id, null (not found), or undefined (no answer). */
function judge (report: LookupSweepReport, u: OnlineUser, got: string | null | undefined, via: string): void {
  if (got === u.supernode) {
    report.correct++
    return
  }
  if (got === undefined) report.unanswered++
  else if (got === null) report.notFound++
  else report.wrong++
  if (report.misses.length < MAX_MISS_EXAMPLES) report.misses.push({ user: u.user, expected: u.supernode, got: got ?? null, via })
}
