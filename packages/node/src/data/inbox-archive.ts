/**
 * The device archives its own inbox in the server mailbox (docs/durability.md). The sender
 * archives what it delivered too, but a sender wiped (or killed for good) between the delivery and
 * its archive pass would leave the message in one failure domain only, the recipient's inbox. Run
 * with the outbox pass; after a store wipe (a new storeId) every message is put again. Puts are
 * idempotent by id, so the two archivers never make a duplicate.
 */
import { MAX_MAILBOX_PUT, errorCodeOf, type Logger } from '@rebound/protocol'
import type { Inbox } from '../client/inbox.js'
import type { DataApi } from './data-client.js'
import { MAX_ARCHIVES_PER_PASS, UNREACHABLE } from './outbox.js'

export class InboxArchive {
  constructor (private readonly deps: { inbox: Inbox, client: DataApi, log: Logger }) {}

  /** One pass, MAX_MAILBOX_PUT per request; true when more are left (run again soon). */
  async pass (): Promise<boolean> {
    const batch = this.deps.inbox.unarchived(MAX_ARCHIVES_PER_PASS)
    for (let i = 0; i < batch.length; i += MAX_MAILBOX_PUT) {
      const chunk = batch.slice(i, i + MAX_MAILBOX_PUT)
      try {
        const reply = await this.deps.client.mailboxPut(chunk)
        this.deps.inbox.markArchived(chunk.map((m) => m.id), reply.storeId)
      } catch (err) {
        // An unreachable store ends the pass (retried after a backoff); a refusal is logged and
        // the next chunk is tried, so one refused message cannot hold back every later one.
        if (UNREACHABLE.has(errorCodeOf(err))) throw err
        this.deps.log.warn({ code: errorCodeOf(err), ids: chunk.map((m) => m.id) }, 'archiving received messages refused')
      }
    }
    return batch.length === MAX_ARCHIVES_PER_PASS
  }
}
