/**
 * The swarm's one HTTP control port: GET /status (every started member's NodeStatus: SwarmStatus,
 * protocol swarm-api.ts), /metrics (aggregated), /healthz, POST /messages from a named member,
 * GET /inbox of a named member.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { Body, MessageId, ReboundError, UserName, type HttpRoutes, type SendResult } from '@rebound/protocol'
import { SEND_DEADLINE_MS } from '../control-api.js'
import type { Swarm } from './swarm.js'
import type { SwarmMetrics } from './swarm-metrics.js'

/** Like SendCommand (protocol http-api.ts) plus the sending member. */
export const SwarmSendCommand = z.strictObject({ from: UserName, to: UserName, body: Body, id: MessageId.optional() })
export type SwarmSendCommand = z.infer<typeof SwarmSendCommand>
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
    'GET /inbox': ({ query }) => {
      const user = query.get('user') ?? ''
      const limit = Number(query.get('limit') ?? '100')
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_INBOX_LIMIT) throw new ReboundError('BAD_REQUEST', `limit must be 1..${MAX_INBOX_LIMIT}`)
      return { status: 200, body: swarm.inbox(user, limit) }
    }
  }
}
