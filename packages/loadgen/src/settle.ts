/**
 * The settle period before the checker reads (docs/durability.md): the workloads have stopped, and
 * every device finishes what it still owes. An outbox entry still `pending` is being retried; a
 * delivered one not yet `archived` has no copy in the store's mailbox yet; a `mailboxed` one is in
 * the store but reaches its recipient's inbox only at the recipient's next mailbox fetch (every
 * 30 s). After a store wipe, a device owes the new store everything until it has noticed the new
 * storeId (at its next reply from the store: within a mailbox fetch interval) and pushed its
 * contacts again. Reading before all of it is done would count as lost what is merely late, so
 * the run polls every running peer until nothing is owed, at most SETTLE_TIMEOUT_MS; then the
 * checker reads whatever is there, and the report says the outboxes were not drained.
 */
import { InboxIds, LoginServerHealth, OutboxList, mapBounded, sleep, type DeviceDataStatus, type Logger } from '@rebound/protocol'
import { FINAL_READ_CONCURRENCY, FINAL_READ_TIMEOUT_MS, ownerOf, peerUrl } from './final-reads.js'
import { getJson } from './http.js'
import type { WorkloadPeer } from './workload.js'

/** Longest settle: a few outbox passes (5 s) and a full mailbox fetch interval (30 s), with room. */
export const SETTLE_TIMEOUT_MS = 60_000
export const SETTLE_POLL_MS = 1000

/** What was still owed at the last look (all 0 once drained). */
export interface SettleLeft {
  /** Outbox entries still `pending`. */
  pending: number
  /** Delivered entries without a copy in the store's mailbox. */
  unarchived: number
  /** Mailboxed entries not in their (running, answering) recipient's inbox yet. */
  unfetched: number
  /** Running peers whose outbox or inbox did not answer. */
  unanswered: number
  /**
   * Running peers not restored into the current store (deviceRestoredInto): they have not noticed
   * its storeId yet, or still hold contacts it lacks. 0 when no login server said its storeId.
   */
  unsynced: number
}

export interface SettleResult {
  settledMs: number
  drained: boolean
  left: SettleLeft
}

export interface SettleInit {
  peers: readonly WorkloadPeer[]
  /** Base URLs of the login servers' HTTP ports: GET /healthz names the current storeId. */
  loginServers?: readonly string[]
  timeoutMs?: number
  pollMs?: number
  concurrency?: number
  requestTimeoutMs?: number
}

export interface SettleDeps {
  /** Keyed by process name. */
  isRunning: (name: string) => boolean
  /** The peer's user-data status as last observed (GET /status `data`), keyed by peer name. */
  deviceData?: (name: string) => DeviceDataStatus | null | undefined
  signal: AbortSignal
  log: Logger
}

export async function settle (init: SettleInit, deps: SettleDeps): Promise<SettleResult> {
  const startMs = Date.now()
  const deadlineMs = startMs + (init.timeoutMs ?? SETTLE_TIMEOUT_MS)
  let rounds = 0
  // Bounded by the deadline (and the run's abort signal).
  for (;;) {
    rounds++
    const left = await survey(init, deps)
    const drained = left.pending + left.unarchived + left.unfetched + left.unanswered + left.unsynced === 0
    if (drained || Date.now() >= deadlineMs || deps.signal.aborted) {
      const result = { settledMs: Date.now() - startMs, drained, left }
      deps.log.info({ ...result, rounds }, drained ? 'outboxes drained' : 'outboxes not drained: reading anyway')
      return result
    }
    deps.log.debug({ left, rounds }, 'settling')
    await sleep(Math.min(init.pollMs ?? SETTLE_POLL_MS, Math.max(0, deadlineMs - Date.now())), deps.signal)
  }
}

export interface PeerLook {
  peer: WorkloadPeer
  outbox: OutboxList | null
  inbox: ReadonlySet<string> | null
  /** As last observed; undefined when not known (then not judged). */
  data?: DeviceDataStatus | null | undefined
}

/**
 * A device holds nothing the store `storeId` lacks (besides its outbox, judged apart): it has seen
 * that store's replies, pushed every contact and archived every inbox message to it, and fetches
 * its mailbox from it.
 */
export function deviceRestoredInto (data: DeviceDataStatus, storeId: string): boolean {
  return data.storeId === storeId && data.contactsStoreId === storeId && data.contactsUnsynced === 0 && data.mailboxStoreId === storeId &&
    data.inboxUnarchived === 0
}

/** The shared store's storeId from the first login server that says it; null when none does. */
export async function currentStoreId (loginServers: readonly string[], timeoutMs: number): Promise<string | null> {
  // Bounded by the number of login servers.
  for (const server of loginServers) {
    const health = await getJson(`${server}/healthz`, LoginServerHealth, timeoutMs)
    if (health.ok && health.value.storeId !== undefined) return health.value.storeId
  }
  return null
}

/** One look at every running peer's outbox and inbox, and at the store's id. */
async function survey (init: SettleInit, deps: SettleDeps): Promise<SettleLeft> {
  const timeoutMs = init.requestTimeoutMs ?? FINAL_READ_TIMEOUT_MS
  const running = init.peers.filter((peer) => deps.isRunning(ownerOf(peer)))
  const storeId = await currentStoreId(init.loginServers ?? [], timeoutMs)
  const looks = await mapBounded(running, init.concurrency ?? FINAL_READ_CONCURRENCY, async (peer): Promise<PeerLook> => {
    const [outbox, inbox] = await Promise.all([
      getJson(peerUrl(peer, '/outbox', { all: '1' }), OutboxList, timeoutMs),
      getJson(peerUrl(peer, '/inbox', { all: '1' }), InboxIds, timeoutMs)
    ])
    return { peer, outbox: outbox.ok ? outbox.value : null, inbox: inbox.ok ? new Set(inbox.value.ids) : null, data: deps.deviceData?.(peer.name) }
  })
  return owed(looks, storeId)
}

/** What the looks say is still owed, against the store `storeId` (null: not known). Exported for tests. */
export function owed (looks: readonly PeerLook[], storeId: string | null = null): SettleLeft {
  const left: SettleLeft = { pending: 0, unarchived: 0, unfetched: 0, unanswered: 0, unsynced: 0 }
  const inboxes = new Map<string, ReadonlySet<string>>()
  for (const look of looks) {
    if (look.outbox === null || look.inbox === null) left.unanswered++
    // A status not seen yet says nothing; a client without data status (an older node) neither.
    if (storeId !== null && look.data != null && !deviceRestoredInto(look.data, storeId)) left.unsynced++
    if (look.inbox !== null) inboxes.set(look.peer.user, look.inbox)
  }
  for (const look of looks) {
    for (const entry of look.outbox?.entries ?? []) {
      if (entry.state === 'pending') left.pending++
      else if (!entry.archived) left.unarchived++
      // A recipient not running or not answering cannot be waited for here (it is unanswered, or
      // will be unreadable to the checker).
      if (entry.state === 'mailboxed' && inboxes.get(entry.to)?.has(entry.id) === false) left.unfetched++
    }
  }
  return left
}
