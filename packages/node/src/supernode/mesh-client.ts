/**
 * Requests from one supernode to another over the mesh protocol.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  MESH_PROTOCOL, MeshResponse, ReboundError, request, type MeshCall, type MeshRequest, type SupernodeEntry
} from '@rebound/protocol'
import type { PeerNode } from '../libp2p.js'

/** A lookup or a publish must be quick; a route carries the message's own deadline. */
export const MESH_DEADLINE_MS = 3000

export function entryAddrs (entry: Pick<SupernodeEntry, 'peerId' | 'addrs'>): Multiaddr[] {
  return entry.addrs.map((a) => multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${entry.peerId}`))
}

export async function meshRequest (
  node: PeerNode, certificate: string, target: Multiaddr[], call: MeshCall, deadlineMs = MESH_DEADLINE_MS
): Promise<MeshResponse> {
  const req: MeshRequest = { certificate, call }
  const reply = await request(node, target, MESH_PROTOCOL, req, MeshResponse, deadlineMs)
  if (reply.type === 'error') throw new ReboundError(reply.code, reply.message)
  return reply
}
