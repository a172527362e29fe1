/**
 * The HTTP control port: /status and /metrics for observers, POST /messages and GET /inbox for the
 * load generator's workload, POST /lookups (supernodes) for its directory check.
 */
import { randomBytes } from 'node:crypto'
import type { z } from 'zod'
import { LookupCommand, ReboundError, SendCommand, type HttpRoutes, type LookupResult, type NodeStatus, type SendResult } from '@rebound/protocol'
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
    'GET /inbox': ({ query }) => {
      const limit = Number(query.get('limit') ?? '100')
      if (!Number.isInteger(limit) || limit < 1) throw new ReboundError('BAD_REQUEST', 'limit must be a positive integer')
      return { status: 200, body: peer.inbox?.latest(limit) ?? [] }
    }
  }
}
