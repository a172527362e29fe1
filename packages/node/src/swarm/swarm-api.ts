/**
 * The swarm's one HTTP control port: GET /status (every started member's NodeStatus: SwarmStatus,
 * protocol swarm-api.ts), /metrics (aggregated), /healthz, POST /messages from a named member,
 * GET /inbox of a named member, POST /lookups through a named member serving as a supernode, and
 * a member's user data like a single node's (POST /contacts with `from`; GET /contacts,
 * GET /inbox?all=1, GET /outbox?all=1 with `?user=`).
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import {
  Body, ContactCommand, LookupCommand, MessageId, ReboundError, UserName,
  type HttpRoutes, type InboxIds, type LookupResult, type OutboxList, type SendResult
} from '@rebound/protocol'
import { LOOKUP_DEADLINE_MS, SEND_DEADLINE_MS, contactOp, contactReply, parseContactCommand, parseLookup, wantsAll } from '../control-api.js'
import type { Swarm } from './swarm.js'
import type { SwarmMetrics } from './swarm-metrics.js'

/** Like SendCommand (protocol http-api.ts) plus the sending member. */
export const SwarmSendCommand = z.strictObject({ from: UserName, to: UserName, body: Body, id: MessageId.optional() })
export type SwarmSendCommand = z.infer<typeof SwarmSendCommand>
/** Like LookupCommand plus the member (an elected supernode) that looks up. */
export const SwarmLookupCommand = z.strictObject({ via: UserName, users: LookupCommand.shape.users })
/** Like ContactCommand plus the member whose contacts change. */
export const SwarmContactCommand = ContactCommand.extend({ from: UserName })
export const MAX_INBOX_LIMIT = 1000

export function swarmRoutes (swarm: Swarm, metrics: SwarmMetrics): HttpRoutes {
  return {
    'GET /status': () => ({ status: 200, body: swarm.status() }),
    'GET /healthz': () => ({ status: 200, body: { ok: true, ...swarm.stateCounts() } }),
    'GET /metrics': async () => ({ status: 200, body: await metrics.text(), contentType: metrics.contentType }),
    'POST /messages': async ({ body }) => {
      const parsed = SwarmSendCommand.safeParse(body)
      if (!parsed.success) throw new ReboundError('BAD_REQUEST', `bad send command: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
      const { from, to, id } = parsed.data
      const messageId = id ?? `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`
      const result: SendResult = await swarm.send(from, { id: messageId, to, body: parsed.data.body }, SEND_DEADLINE_MS)
      return { status: 200, body: result }
    },
    'POST /lookups': async ({ body }) => {
      const { via, users } = parseLookup(SwarmLookupCommand, body)
      return { status: 200, body: await swarm.lookup(via, users, LOOKUP_DEADLINE_MS) satisfies LookupResult }
    },
    'POST /contacts': async ({ body }) => {
      const command = parseContactCommand(SwarmContactCommand, body)
      return contactReply(await swarm.applyContact(command.from, contactOp(command)))
    },
    'GET /contacts': ({ query }) => ({ status: 200, body: swarm.contacts(query.get('user') ?? '') }),
    'GET /outbox': ({ query }) => {
      if (!wantsAll(query)) throw new ReboundError('BAD_REQUEST', 'GET /outbox needs all=1')
      return { status: 200, body: swarm.outbox(query.get('user') ?? '') satisfies OutboxList }
    },
    'GET /inbox': ({ query }) => {
      const user = query.get('user') ?? ''
      if (wantsAll(query)) return { status: 200, body: { ids: swarm.inboxIds(user) } satisfies InboxIds }
      const limit = Number(query.get('limit') ?? '100')
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INBOX_LIMIT) throw new ReboundError('BAD_REQUEST', `limit must be 1..${MAX_INBOX_LIMIT}`)
      return { status: 200, body: swarm.inbox(user, limit) }
    }
  }
}
