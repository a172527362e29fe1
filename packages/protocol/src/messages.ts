/**
 * Every message of every rebound protocol, as zod schemas. Decoding is strict: unknown `type`,
 * missing fields, over-long strings or lists are refused before any handler runs.
 */
import { z } from 'zod'
import { ERROR_CODES } from './errors.js'
import {
  MAX_ADDRS, MAX_ADDR_LENGTH, MAX_BODY_BYTES, MAX_DEADLINE_MS, MAX_MESSAGE_ID_LENGTH,
  MAX_PASSWORD_LENGTH, MAX_PEER_ID_LENGTH, MAX_SUPERNODE_LIST, MAX_TOKEN_LENGTH,
  MIN_PASSWORD_LENGTH, USER_PATTERN
} from './limits.js'

export const UserName = z.string().regex(USER_PATTERN, 'user names are 1-32 of [a-z0-9_-], starting with a letter or digit')
export const Password = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH)
/** base58btc, as libp2p prints peer ids. */
export const PeerIdString = z.string().min(1).max(MAX_PEER_ID_LENGTH).regex(/^[1-9A-HJ-NP-Za-km-z]+$/, 'peer ids are base58btc')
export const MultiaddrString = z.string().min(1).max(MAX_ADDR_LENGTH).startsWith('/')
export const Addrs = z.array(MultiaddrString).min(1).max(MAX_ADDRS)
/** A signed token: base64url(payload) '.' base64url(signature). */
export const Token = z.string().max(MAX_TOKEN_LENGTH).regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'malformed token')
export const DeadlineMs = z.number().int().min(1).max(MAX_DEADLINE_MS)
export const MessageId = z.string().min(1).max(MAX_MESSAGE_ID_LENGTH).regex(/^[A-Za-z0-9_.:-]+$/)
export const SupernodeClass = z.enum(['elected', 'operator'])
/**
 * `defended`: every mitigation on. `naive`: the 2007 behaviour, to reproduce the collapse: fixed
 * retries without jitter or persisted backoff, no resumption, an unbounded FIFO at the server,
 * no waiting-room slots, no connection limits.
 */
export const Profile = z.enum(['defended', 'naive'])
export type Profile = z.infer<typeof Profile>
export type SupernodeClass = z.infer<typeof SupernodeClass>

export const Body = z.string().refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_BODY_BYTES, {
  message: `message bodies are at most ${MAX_BODY_BYTES} bytes`
})

export const ChatMessage = z.strictObject({
  id: MessageId,
  from: UserName,
  to: UserName,
  body: Body,
  sentAtMs: z.number().int().nonnegative()
})
export type ChatMessage = z.infer<typeof ChatMessage>

export const SupernodeEntry = z.strictObject({
  peerId: PeerIdString,
  addrs: Addrs,
  class: SupernodeClass,
  clients: z.number().int().nonnegative(),
  capacity: z.number().int().positive(),
  certificate: Token
})
export type SupernodeEntry = z.infer<typeof SupernodeEntry>
export const SupernodeList = z.array(SupernodeEntry).max(MAX_SUPERNODE_LIST)

export const ErrorReply = z.strictObject({
  type: z.literal('error'),
  code: z.enum(ERROR_CODES),
  message: z.string().max(512),
  /**
   * Do not come back sooner. A supernode refusing a join as OVERLOADED means more: its join
   * schedule's place for this client (come back then, plus a little jitter; node join-schedule.ts).
   */
  retryAfterMs: z.number().int().nonnegative().max(3600_000).optional(),
  /** A signed place in the login server's waiting room (see slot.ts). */
  slot: Token.optional(),
  redirect: SupernodeList.optional(),
  /**
   * A FULL that is only a balance redirect (node supernode/balance.ts): the supernode has room, and
   * takes the client if it comes back as `redirected` after the less loaded ones refused it.
   */
  balance: z.literal(true).optional()
})
export type ErrorReply = z.infer<typeof ErrorReply>

// ---- /rebound/login ----
export const LoginRequest = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('register'), user: UserName, password: Password, deadlineMs: DeadlineMs }),
  z.strictObject({ type: z.literal('login'), user: UserName, password: Password, deadlineMs: DeadlineMs, slot: Token.optional() }),
  /** A client holding a still-valid ticket gets a fresh one and a fresh list, without a password hash. */
  z.strictObject({ type: z.literal('renew'), ticket: Token, deadlineMs: DeadlineMs })
])
export type LoginRequest = z.infer<typeof LoginRequest>

export const LoginResponse = z.discriminatedUnion('type', [
  /**
   * A registration is a login too: the new account's ticket and supernode list come with it, so a
   * new user costs one password hash, not two (and one wait in admission, not two).
   */
  z.strictObject({ type: z.literal('registered'), user: UserName, ticket: Token, expiresAtMs: z.number().int(), supernodes: SupernodeList }),
  z.strictObject({ type: z.literal('logged-in'), ticket: Token, expiresAtMs: z.number().int(), supernodes: SupernodeList }),
  ErrorReply
])
export type LoginResponse = z.infer<typeof LoginResponse>

// ---- /rebound/registry ----
/** A candidate's reported uptime is bounded (a year) so that a score computed from it stays finite. */
export const MAX_CANDIDATE_UPTIME_MS = 365 * 24 * 3600_000
export const RegistryRequest = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('certify'),
    addrs: Addrs,
    class: SupernodeClass,
    operatorToken: z.string().max(256),
    capacity: z.number().int().positive().max(100_000)
  }),
  z.strictObject({
    type: z.literal('heartbeat'),
    certificate: Token,
    clients: z.number().int().nonnegative().max(100_000),
    capacity: z.number().int().positive().max(100_000)
  }),
  /**
   * An ordinary logged-in peer offering to serve as an elected supernode. `ticket` is its own
   * client ticket, checked against the peer id Noise authenticated (a ticket proves a logged-in
   * peer; someone else's ticket is TICKET_PEER_MISMATCH). `uptimeMs` is how long its process has
   * been up: the registry prefers long-lived peers (they are likely to stay up longer still).
   */
  z.strictObject({
    type: z.literal('candidate'),
    ticket: Token,
    addrs: Addrs,
    capacity: z.number().int().positive().max(100_000),
    uptimeMs: z.number().int().nonnegative().max(MAX_CANDIDATE_UPTIME_MS)
  })
])
export type RegistryRequest = z.infer<typeof RegistryRequest>

/**
 * In a heartbeat reply to an elected supernode: stop being one. Contract (the peer side is a later
 * slice): stop taking new clients at once, tell the attached ones to re-home after U(0,
 * orphanWindowMs), stop heartbeating, and carry on as an ordinary client (it may be a candidate
 * again later). The registry has already taken it off the list; until it stops, every heartbeat it
 * sends is answered with `demote` again and its certificate is no longer renewed.
 */
export const Demote = z.strictObject({ orphanWindowMs: z.number().int().nonnegative().max(600_000) })
export type Demote = z.infer<typeof Demote>

export const RegistryResponse = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('certified'), certificate: Token, expiresAtMs: z.number().int() }),
  z.strictObject({ type: z.literal('heartbeat-ok'), supernodes: SupernodeList, certificate: Token.optional(), demote: Demote.optional() }),
  /** A candidate is now an elected supernode: start serving, then heartbeat with this certificate. */
  z.strictObject({ type: z.literal('promoted'), certificate: Token, expiresAtMs: z.number().int() }),
  /** Stay a client and offer again no sooner than `retryAfterMs` (already jittered by the registry). */
  z.strictObject({ type: z.literal('not-now'), retryAfterMs: z.number().int().nonnegative().max(3600_000) }),
  ErrorReply
])
export type RegistryResponse = z.infer<typeof RegistryResponse>

// ---- /rebound/session ----
export const ClientFrame = z.discriminatedUnion('type', [
  /**
   * `redirected`: the client was sent here by another supernode's REDIRECT; it is admitted up to
   * the hard cap without a second balance redirect (supernode/balance.ts), so stale load figures
   * cannot bounce it between two supernodes.
   */
  z.strictObject({ type: z.literal('attach'), ticket: Token, redirected: z.boolean().optional() }),
  z.strictObject({ type: z.literal('send'), message: ChatMessage, deadlineMs: DeadlineMs }),
  z.strictObject({ type: z.literal('deliver-ack'), id: MessageId }),
  z.strictObject({ type: z.literal('ping') })
])
export type ClientFrame = z.infer<typeof ClientFrame>

export const ServerFrame = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('attached'),
    certificate: Token,
    orphanWindowMs: z.number().int().nonnegative().max(600_000),
    supernodes: SupernodeList
  }),
  z.strictObject({ type: z.literal('send-result'), id: MessageId, ok: z.boolean(), code: z.enum(ERROR_CODES).optional() }),
  z.strictObject({ type: z.literal('deliver'), message: ChatMessage }),
  // A pong carries the supernode's current orphan window (it grows and shrinks with its clients).
  z.strictObject({ type: z.literal('pong'), orphanWindowMs: z.number().int().nonnegative().max(600_000).optional() }),
  ErrorReply
])
export type ServerFrame = z.infer<typeof ServerFrame>

// ---- /rebound/mesh ----
export const MeshCall = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('publish'), ticket: Token, supernode: PeerIdString, addrs: Addrs, sinceMs: z.number().int() }),
  z.strictObject({ type: z.literal('unpublish'), user: UserName, supernode: PeerIdString }),
  z.strictObject({ type: z.literal('lookup'), user: UserName }),
  z.strictObject({ type: z.literal('route'), message: ChatMessage, deadlineMs: DeadlineMs }),
  /** Liveness probe between supernodes (a frozen one keeps its connections but stops answering). */
  z.strictObject({ type: z.literal('ping') })
])
export type MeshCall = z.infer<typeof MeshCall>

/**
 * Every mesh request carries the sender's supernode certificate, checked against the peer that
 * Noise authenticated: membership does not depend on how fresh the receiver's registry list is.
 */
export const MeshRequest = z.strictObject({ certificate: Token, call: MeshCall })
export type MeshRequest = z.infer<typeof MeshRequest>

/**
 * What a supernode publishes on the membership topic (gossipsub signs each message with the
 * publisher's key; the certificate must name that publisher). `announce`: its entry, each second,
 * so that the others learn it and its load without waiting for the registry. `leave`: it stops
 * serving (demoted, or shutting down). `suspect`: its probes of `supernode` went unanswered
 * (ring-monitor.ts). After either, the others treat that supernode as gone for a while.
 */
export const MembershipNotice = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('announce'), entry: SupernodeEntry }),
  z.strictObject({ type: z.literal('leave'), certificate: Token }),
  z.strictObject({ type: z.literal('suspect'), certificate: Token, supernode: PeerIdString })
])
export type MembershipNotice = z.infer<typeof MembershipNotice>

export const MeshResponse = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ok') }),
  z.strictObject({ type: z.literal('found'), user: UserName, supernode: PeerIdString, addrs: Addrs, sinceMs: z.number().int() }),
  z.strictObject({ type: z.literal('not-found'), user: UserName }),
  ErrorReply
])
export type MeshResponse = z.infer<typeof MeshResponse>
