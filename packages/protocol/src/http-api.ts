/**
 * The HTTP control and observation API of every process (bound to the process's own loopback
 * address): schemas shared by the servers that answer and the load generator that asks.
 */
import { z } from 'zod'
import { ERROR_CODES } from './errors.js'
import { Body, MessageId, UserName } from './messages.js'

export const NodeState = z.enum(['starting', 'logging-in', 'attaching', 'attached', 'backoff', 'stopping'])
export type NodeState = z.infer<typeof NodeState>

export const NodeCounters = z.object({
  logins: z.number(),
  loginFailures: z.number(),
  registrations: z.number(),
  resumes: z.number(),
  renewals: z.number(),
  sendRetries: z.number(),
  attaches: z.number(),
  attachFailures: z.number(),
  messagesSent: z.number(),
  messagesDelivered: z.number(),
  messagesFailed: z.number(),
  messagesReceived: z.number()
})
export type NodeCounters = z.infer<typeof NodeCounters>

/**
 * A client's user data against the server store (docs/durability.md): which store its replies
 * last named, and whether everything the device holds is in that store. A device is restored into
 * store S when `storeId`, `contactsStoreId` and `mailboxStoreId` are all S and no contact and no
 * inbox message is missing from S; the outbox's own state is in GET /outbox (`archived`).
 */
export const DeviceDataStatus = z.object({
  /** The storeId of the last reply from the server store, in this process; null before the first. */
  storeId: z.string().nullable(),
  /** The store the contact table's synced flags refer to. */
  contactsStoreId: z.string().nullable(),
  /** Contact records the server store does not hold yet. */
  contactsUnsynced: z.number(),
  /** The first contacts sync has finished (POST /contacts is accepted). */
  contactsReady: z.boolean(),
  /** The store the mailbox cursor belongs to (the inbox is fetched from it). */
  mailboxStoreId: z.string().nullable(),
  /** Inbox messages without a copy in the current store's mailbox yet (the device archives them). */
  inboxUnarchived: z.number()
})
export type DeviceDataStatus = z.infer<typeof DeviceDataStatus>

export const NodeStatus = z.object({
  peerId: z.string(),
  pid: z.number(),
  role: z.enum(['client', 'supernode']),
  user: z.string().nullable(),
  state: NodeState,
  supernode: z.string().nullable(),
  attachedAtMs: z.number().nullable(),
  /** When this process last obtained a ticket from a login server (not set by resumption). */
  loggedInAtMs: z.number().nullable(),
  profile: z.enum(['defended', 'naive']),
  startedAtMs: z.number(),
  ticketExpiresAtMs: z.number().nullable(),
  knownSupernodes: z.number(),
  /** Supernode role only: its certificate class and current client count. */
  supernodeClass: z.enum(['elected', 'operator']).nullable(),
  clients: z.number().nullable(),
  capacity: z.number().nullable(),
  counters: NodeCounters,
  /** Clients only (null on a supernode process); optional for nodes older than it. */
  data: DeviceDataStatus.nullable().optional()
})
export type NodeStatus = z.infer<typeof NodeStatus>

export const SendCommand = z.strictObject({ to: UserName, body: Body, id: MessageId.optional() })
export type SendCommand = z.infer<typeof SendCommand>

export const SendResult = z.object({
  id: z.string(),
  ok: z.boolean(),
  code: z.enum(ERROR_CODES).optional(),
  message: z.string().optional(),
  latencyMs: z.number(),
  /** Stored in the sender's outbox but not acknowledged yet: the outcome is unknown, and retried. */
  pending: z.boolean().optional()
})
export type SendResult = z.infer<typeof SendResult>

// ---- user data (docs/durability.md) ----

/**
 * POST /contacts. Only the shape is checked here (a misshapen body is a 400); the change itself
 * (a user name, a name for add and rename, its length, MAX_CONTACTS) is checked by the node and
 * refused as `{ ok: false, code: 'BAD_REQUEST' }` with nothing stored.
 */
export const ContactCommand = z.strictObject({
  op: z.enum(['add', 'rename', 'remove']),
  contact: z.string().max(256),
  name: z.string().max(1024).optional()
})
export type ContactCommand = z.infer<typeof ContactCommand>

/** The reply to POST /contacts (200 whether ok or not). `pending`: stored on the device, not yet known to the server store. */
export const ContactResult = z.object({
  ok: z.boolean(),
  rev: z.number().optional(),
  code: z.enum(ERROR_CODES).optional(),
  pending: z.boolean().optional(),
  message: z.string().optional()
})
export type ContactResult = z.infer<typeof ContactResult>

/** GET /inbox?all=1: every message id in the device's inbox. */
export const InboxIds = z.object({ ids: z.array(z.string()) })
export type InboxIds = z.infer<typeof InboxIds>

/** GET /outbox?all=1: every message the device sent, in send order. */
export const OutboxList = z.object({
  entries: z.array(z.object({
    id: z.string(),
    to: z.string(),
    state: z.enum(['pending', 'delivered', 'mailboxed']),
    /** A copy is in the current server store's mailbox (delivered ones are archived in the background). */
    archived: z.boolean()
  }))
})
export type OutboxList = z.infer<typeof OutboxList>

/** Users one POST /lookups may name: a sweep of a large cluster is split into requests of this size. */
export const MAX_LOOKUP_USERS = 500

/** Ask a supernode to look users up in the presence directory, as it would to route to them. */
export const LookupCommand = z.strictObject({ users: z.array(UserName).min(1).max(MAX_LOOKUP_USERS) })
export type LookupCommand = z.infer<typeof LookupCommand>

/** Per user, in the order asked: the supernode (peer id) the directory names, or null when not found. */
export const LookupResult = z.object({
  results: z.array(z.object({ user: z.string(), supernode: z.string().nullable() })),
  elapsedMs: z.number()
})
export type LookupResult = z.infer<typeof LookupResult>

export const LoginServerHealth = z.object({
  ok: z.boolean(),
  peerId: z.string(),
  addrs: z.array(z.string()),
  pid: z.number(),
  startedAtMs: z.number(),
  supernodes: z.number(),
  profile: z.enum(['defended', 'naive']).optional(),
  /** The shared store's storeId (a wiped and re-created store has a new one); optional for older servers. */
  storeId: z.string().optional()
})
export type LoginServerHealth = z.infer<typeof LoginServerHealth>

export const InboxEntry = z.object({ id: z.string(), from: z.string(), to: z.string(), body: z.string(), sentAtMs: z.number(), receivedAtMs: z.number() })
export type InboxEntry = z.infer<typeof InboxEntry>
