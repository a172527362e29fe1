/**
 * The HTTP control port: /status and /metrics for observers, POST /messages and GET /inbox for the
 * load generator's workload, POST /lookups (supernodes) for its directory check, and the user's
 * data (docs/durability.md): POST/GET /contacts, GET /inbox?all=1, GET /outbox?all=1.
 */
import { randomBytes } from 'node:crypto'
import type { z } from 'zod'
import {
  ContactCommand, LookupCommand, ReboundError, SendCommand,
  type ContactResult, type HttpReply, type HttpRoutes, type InboxIds, type LookupResult, type NodeStatus, type OutboxList, type SendResult
} from '@rebound/protocol'
import type { ContactOp } from './data/contacts.js'
import type { Peer } from './peer.js'

/** How long POST /messages waits for the end-to-end acknowledgement. */
export const SEND_DEADLINE_MS = 10_000
/** How long POST /lookups may take for all the users it names. */
export const LOOKUP_DEADLINE_MS = 10_000

/** The body of POST /lookups, or BAD_REQUEST. */
export function parseLookup<T extends z.ZodType> (schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body)
  if (!parsed.success) throw new ReboundError('BAD_REQUEST', `bad lookup command: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
  return parsed.data
}

/** The body of POST /contacts, or BAD_REQUEST (400). */
export function parseContactCommand<T extends z.ZodType> (schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body)
  if (!parsed.success) throw new ReboundError('BAD_REQUEST', `bad contact command: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
  return parsed.data
}

/**
 * A contact change's reply: 200 whether ok or not, but 503 before the first sync (the device may
 * not hold the server's records yet, and must not number changes below them).
 */
export function contactReply (result: ContactResult): HttpReply {
  return { status: result.ok || result.code !== 'UNAVAILABLE' || result.pending === true ? 200 : 503, body: result }
}

/** `?all=1`, or nothing. */
export function wantsAll (query: URLSearchParams): boolean {
  const all = query.get('all')
  if (all !== null && all !== '1') throw new ReboundError('BAD_REQUEST', 'all must be 1')
  return all === '1'
}

export function contactOp (command: ContactCommand): ContactOp {
  return { op: command.op, contact: command.contact, name: command.name }
}

export function controlRoutes (peer: Peer): HttpRoutes {
  return {
    'GET /status': () => ({ status: 200, body: peer.status() satisfies NodeStatus }),
    'GET /healthz': () => ({ status: 200, body: { ok: true } }),
    'GET /metrics': async () => ({ status: 200, body: await peer.metrics.registry.metrics(), contentType: 'text/plain; version=0.0.4' }),
    'POST /messages': async ({ body }) => {
      const parsed = SendCommand.safeParse(body)
      if (!parsed.success) throw new ReboundError('BAD_REQUEST', `bad send command: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
      const id = parsed.data.id ?? `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`
      const result: SendResult = await peer.send({ id, to: parsed.data.to, body: parsed.data.body }, SEND_DEADLINE_MS)
      return { status: 200, body: result }
    },
    'POST /lookups': async ({ body }) => {
      const { users } = parseLookup(LookupCommand, body)
      return { status: 200, body: await peer.lookup(users, LOOKUP_DEADLINE_MS) satisfies LookupResult }
    },
    'POST /contacts': async ({ body }) => contactReply(await peer.applyContact(contactOp(parseContactCommand(ContactCommand, body)))),
    'GET /contacts': () => ({ status: 200, body: peer.contacts() }),
    'GET /outbox': ({ query }) => {
      if (!wantsAll(query)) throw new ReboundError('BAD_REQUEST', 'GET /outbox needs all=1')
      return { status: 200, body: peer.outbox() satisfies OutboxList }
    },
    'GET /inbox': ({ query }) => {
      if (wantsAll(query)) return { status: 200, body: { ids: peer.inbox?.ids() ?? [] } satisfies InboxIds }
      const limit = Number(query.get('limit') ?? '100')
      if (!Number.isInteger(limit) || limit < 1) throw new ReboundError('BAD_REQUEST', 'limit must be a positive integer')
      return { status: 200, body: peer.inbox?.latest(limit) ?? [] }
    }
  }
}
