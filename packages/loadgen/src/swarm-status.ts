/**
 * GET /status of a rebound-swarm process (docs/interfaces.md): every started member's NodeStatus,
 * in member order. The schema is the load generator's (the protocol package defines NodeStatus).
 */
import { z } from 'zod'
import { NodeStatus } from '@rebound/protocol'

export const SwarmStatus = z.object({
  count: z.number(),
  started: z.number(),
  failed: z.number(),
  members: z.array(NodeStatus)
})
export type SwarmStatus = z.infer<typeof SwarmStatus>
