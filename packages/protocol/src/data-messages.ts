/**
 * /rebound/data: a user's contacts and mailbox in the login servers' shared store (the server's
 * failure domain; docs/durability.md). Every request carries the user's ticket: the server takes
 * the user from it (bound to the connection's Noise peer), so no request names another user.
 */
import { z } from 'zod'
import {
  MAX_CONTACTS_PER_FRAME, MAX_CONTACT_NAME_BYTES, MAX_MAILBOX_GET, MAX_MAILBOX_PUT
} from './limits.js'
import { ChatMessage, DeadlineMs, ErrorReply, Token, UserName } from './messages.js'

export const ContactName = z.string().refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_CONTACT_NAME_BYTES, {
  message: `contact names are at most ${MAX_CONTACT_NAME_BYTES} bytes`
})

/**
 * One contact as a last-writer-wins register: the device numbers its changes (rev 1, 2, ...) and
 * every copy keeps, per contact, the record with the highest rev. A removal is a tombstone.
 */
export const ContactRecord = z.strictObject({
  contact: UserName,
  name: ContactName,
  deleted: z.boolean(),
  rev: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)
})
export type ContactRecord = z.infer<typeof ContactRecord>

/** A random id made when a store file is created: a new one means the old store is gone. */
export const StoreId = z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/)

export const MailboxEntry = z.strictObject({ seq: z.number().int().min(1), message: ChatMessage })
export type MailboxEntry = z.infer<typeof MailboxEntry>

export const DataRequest = z.discriminatedUnion('type', [
  /** Records in contact order after `after` (exclusive; omitted = from the start). */
  z.strictObject({ type: z.literal('contacts-get'), ticket: Token, deadlineMs: DeadlineMs, after: UserName.optional() }),
  z.strictObject({ type: z.literal('contacts-put'), ticket: Token, deadlineMs: DeadlineMs, records: z.array(ContactRecord).min(1).max(MAX_CONTACTS_PER_FRAME) }),
  /** Every message's `from` must be the ticket's user. */
  z.strictObject({ type: z.literal('mailbox-put'), ticket: Token, deadlineMs: DeadlineMs, messages: z.array(ChatMessage).min(1).max(MAX_MAILBOX_PUT) }),
  z.strictObject({ type: z.literal('mailbox-get'), ticket: Token, deadlineMs: DeadlineMs, afterSeq: z.number().int().min(0), limit: z.number().int().min(1).max(MAX_MAILBOX_GET) })
])
export type DataRequest = z.infer<typeof DataRequest>

export const DataReply = z.discriminatedUnion('type', [
  /** `more`: ask again with `after` = the last record's contact. */
  z.strictObject({ type: z.literal('contacts'), storeId: StoreId, records: z.array(ContactRecord).max(MAX_CONTACTS_PER_FRAME), more: z.boolean() }),
  /** applied: newer than the server's copy and stored; stale: the server's was as new or newer. */
  z.strictObject({ type: z.literal('contacts-stored'), storeId: StoreId, applied: z.number().int().min(0), stale: z.number().int().min(0) }),
  z.strictObject({ type: z.literal('mailbox-stored'), storeId: StoreId, stored: z.number().int().min(0), duplicates: z.number().int().min(0) }),
  /** Entries in seq order after afterSeq; `more`: ask again from the last seq. */
  z.strictObject({ type: z.literal('mailbox'), storeId: StoreId, entries: z.array(MailboxEntry).max(MAX_MAILBOX_GET), more: z.boolean() }),
  ErrorReply
])
export type DataReply = z.infer<typeof DataReply>

/** Login server GET /data?user=U (operator token): the store's copy of a user's data, for checkers. */
export const StoreUserData = z.object({
  storeId: StoreId,
  contacts: z.array(ContactRecord),
  /** Message ids in the user's mailbox, in seq order. */
  mailbox: z.array(z.string())
})
export type StoreUserData = z.infer<typeof StoreUserData>
