/**
 * Sending with an outbox (docs/durability.md). A message is stored `pending` in the device store
 * before it is sent; then it is routed to the recipient and put in the server mailbox at once, and
 * acknowledged when the store holds it (two failure domains: this device and the store): routed
 * too (`delivered`), or not (`mailboxed`: the recipient fetches it). Anything else leaves it
 * pending, and the background pass sends it again (same id: everyone keeps one copy) until the
 * store has it. The pass also archives delivered messages the store lacks (a put that failed while
 * routing worked; every message again after a store wipe).
 */
import { MAX_MAILBOX_PUT, errorCodeOf, type ChatMessage, type ErrorCode, type Logger } from '@rebound/protocol'
import type { SendOutcome } from '../client/client-session.js'
import type { DataApi } from './data-client.js'
import type { DeviceStore } from './device-store.js'
import type { OutboxEntry } from './outbox-table.js'

export const OUTBOX_PASS_INTERVAL_MS = 5000
/** Pending messages sent again in one pass. */
export const MAX_RESENDS_PER_PASS = 50
/** Delivered messages archived in one pass (MAX_MAILBOX_PUT per request). */
export const MAX_ARCHIVES_PER_PASS = 100
/** Resends of one pass in flight at once. */
export const RESEND_CONCURRENCY = 8
/**
 * Sends in flight at once (callers and the pass); beyond it a send is refused with BUSY before it
 * is stored. Above the session's own MAX_PENDING_SENDS, so that bound is met first in practice.
 */
export const MAX_SENDS_IN_FLIGHT = 1024
/** Deadline of one background resend, routing and mailbox put together. */
export const RESEND_DEADLINE_MS = 5000

/** Codes that say the store could not be reached (as opposed to a refusal): the pass stops. */
export const UNREACHABLE = new Set<ErrorCode>(['UNAVAILABLE', 'TIMEOUT', 'CLOSED', 'OVERLOADED'])

/** Route through the current session to the recipient's inbox (ClientAgent.send). */
export type Router = (message: ChatMessage, deadlineMs: number) => Promise<SendOutcome>

/** `pending`: stored in the outbox, outcome not known yet (it will be retried). */
export interface SubmitOutcome {
  ok: boolean
  code?: ErrorCode
  pending?: boolean
}

export interface OutboxDeps {
  store: DeviceStore
  client: DataApi
  route: Router
  /** A session is open: resending now has a chance. */
  attached: () => boolean
  now: () => number
  log: Logger
}

export class Outbox {
  /** Ids being sent right now (by a caller or the pass): the pass leaves them alone. */
  private readonly inFlight = new Set<string>()

  constructor (private readonly deps: OutboxDeps) {}

  /**
   * Store, then deliver. A refusal before storing (too many in flight, full outbox, an id reused
   * for another message) is definite; after storing, a failure is `pending`. The same message again returns
   * its stored outcome, or is sent again while still pending.
   */
  async submit (message: ChatMessage, deadlineMs: number): Promise<SubmitOutcome> {
    const deadlineAtMs = this.deps.now() + deadlineMs
    if (this.inFlight.size >= MAX_SENDS_IN_FLIGHT) return { ok: false, code: 'BUSY' }
    let entry: OutboxEntry
    try {
      entry = this.deps.store.outbox.add(message)
    } catch (err) {
      return { ok: false, code: errorCodeOf(err) }
    }
    if (entry.state !== 'pending') return { ok: true }
    // The same id is being sent right now (the pass, or an earlier call): its outcome is not known.
    if (this.inFlight.has(message.id)) return { ok: false, code: 'BUSY', pending: true }
    return await this.deliver(entry.message, deadlineAtMs)
  }

  /** The current store is `storeId`: messages archived only in another one are put again. */
  noticeStoreId (storeId: string): number {
    const forgotten = this.deps.store.outbox.forgetArchivesOutside(storeId)
    if (forgotten > 0) this.deps.log.warn({ storeId, messages: forgotten }, 'server store has a new storeId: archiving sent messages again')
    return forgotten
  }

  /** One background pass: resend pending messages, archive delivered ones. True when more is left. */
  async pass (): Promise<boolean> {
    const resent = this.deps.attached() ? await this.resendPending() : 0
    const archived = await this.archiveDelivered()
    return resent >= MAX_RESENDS_PER_PASS || archived >= MAX_ARCHIVES_PER_PASS
  }

  /**
   * Route to the recipient and put in the server mailbox at once; acknowledged once the store
   * holds it. The outbox is one failure domain (devices) and the store the other: the recipient's
   * inbox is a device too, and a wave that wipes devices can take sender and recipient together
   * (measured: `wipe --target device` lost messages delivered to a wiped recipient by a wiped
   * sender before either archived them). Routing still gives live delivery; the mailbox fetch
   * brings what routing missed.
   */
  private async deliver (message: ChatMessage, deadlineAtMs: number): Promise<SubmitOutcome> {
    const { store, client, route, now } = this.deps
    this.inFlight.add(message.id)
    try {
      const leftMs = Math.max(1, deadlineAtMs - now())
      const [routed, stored] = await Promise.all([
        route(message, leftMs),
        client.mailboxPut([message], leftMs).then((reply) => ({ ok: true as const, storeId: reply.storeId }), (err: unknown) => ({ ok: false as const, code: errorCodeOf(err) }))
      ])
      if (routed.ok) store.outbox.markDelivered(message.id)
      if (!stored.ok) return { ok: false, code: stored.code, pending: true }
      // Delivered and stored: archived already. Stored only: the recipient fetches it from there.
      if (routed.ok) store.outbox.markArchived([message.id], stored.storeId)
      else store.outbox.markMailboxed(message.id, stored.storeId)
      return { ok: true }
    } finally {
      this.inFlight.delete(message.id)
    }
  }

  private async resendPending (): Promise<number> {
    const batch = this.deps.store.outbox.pending(MAX_RESENDS_PER_PASS, this.inFlight)
    let next = 0
    let delivered = 0
    const worker = async (): Promise<void> => {
      for (let entry = batch[next++]; entry !== undefined; entry = batch[next++]) {
        const outcome = await this.deliver(entry.message, this.deps.now() + RESEND_DEADLINE_MS)
        if (outcome.ok) delivered++
      }
    }
    await Promise.all(Array.from({ length: Math.min(RESEND_CONCURRENCY, batch.length) }, worker))
    if (batch.length > 0) this.deps.log.debug({ tried: batch.length, delivered }, 'outbox resend pass')
    return batch.length
  }

  /**
   * Put delivered messages in the recipients' mailboxes, MAX_MAILBOX_PUT per request. An
   * unreachable store ends the pass (retried after a backoff); a refusal of one request is logged
   * and the next is tried, so one refused message cannot hold back every later one.
   */
  private async archiveDelivered (): Promise<number> {
    const batch = this.deps.store.outbox.unarchived(MAX_ARCHIVES_PER_PASS)
    for (let i = 0; i < batch.length; i += MAX_MAILBOX_PUT) {
      const chunk = batch.slice(i, i + MAX_MAILBOX_PUT)
      try {
        const reply = await this.deps.client.mailboxPut(chunk.map((e) => e.message))
        this.deps.store.outbox.markArchived(chunk.map((e) => e.message.id), reply.storeId)
      } catch (err) {
        if (UNREACHABLE.has(errorCodeOf(err))) throw err
        this.deps.log.warn({ code: errorCodeOf(err), ids: chunk.map((e) => e.message.id) }, 'archiving sent messages refused')
      }
    }
    return batch.length
  }
}
