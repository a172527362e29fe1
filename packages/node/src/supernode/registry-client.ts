/**
 * A supernode's link to the registry on the login servers: get certified, then heartbeat its load
 * and receive the live supernode list (and a renewed certificate before the old one expires).
 * A login-server outage does not stop a supernode: it keeps serving with its last list.
 */
import { multiaddr } from '@multiformats/multiaddr'
import {
  REGISTRY_PROTOCOL, RegistryResponse, ReboundError, RequestChannel,
  type Demote, type RegistryRequest, type SupernodeClass, type SupernodeEntry
} from '@rebound/protocol'
import type { PeerNode } from '../libp2p.js'

export const REGISTRY_DEADLINE_MS = 5000

export interface Heartbeat {
  supernodes: SupernodeEntry[]
  certificate?: string
  /** An elected supernode is told to step down (protocol Demote). */
  demote?: Demote
}

export type CandidateAnswer =
  | { promoted: true, certificate: string }
  | { promoted: false, retryAfterMs: number }

export interface CandidateOffer {
  ticket: string
  addrs: string[]
  capacity: number
  uptimeMs: number
}

export class RegistryClient {
  /** One kept request stream per login server: a heartbeat costs a frame, not a new stream. */
  private readonly servers: RequestChannel[]
  private next = 0

  constructor (node: PeerNode, loginServers: string[], random: () => number) {
    this.servers = loginServers.map((a) => new RequestChannel(node, multiaddr(a), REGISTRY_PROTOCOL))
    this.next = Math.floor(random() * this.servers.length)
  }

  async certify (init: { addrs: string[], class: SupernodeClass, operatorToken: string, capacity: number }): Promise<string> {
    const req: RegistryRequest = { type: 'certify', ...init }
    const reply = await this.ask(req)
    if (reply.type !== 'certified') throw new ReboundError('BAD_REQUEST', `unexpected registry reply ${reply.type}`)
    return reply.certificate
  }

  async heartbeat (certificate: string, clients: number, capacity: number): Promise<Heartbeat> {
    const reply = await this.ask({ type: 'heartbeat', certificate, clients, capacity })
    if (reply.type !== 'heartbeat-ok') throw new ReboundError('BAD_REQUEST', `unexpected registry reply ${reply.type}`)
    const beat: Heartbeat = { supernodes: reply.supernodes }
    if (reply.certificate !== undefined) beat.certificate = reply.certificate
    if (reply.demote !== undefined) beat.demote = reply.demote
    return beat
  }

  /** Offer to serve as an elected supernode: promoted (with a certificate), or when to ask again. */
  async candidate (offer: CandidateOffer): Promise<CandidateAnswer> {
    const reply = await this.ask({ type: 'candidate', ...offer })
    if (reply.type === 'promoted') return { promoted: true, certificate: reply.certificate }
    if (reply.type === 'not-now') return { promoted: false, retryAfterMs: reply.retryAfterMs }
    throw new ReboundError('BAD_REQUEST', `unexpected registry reply ${reply.type}`)
  }

  /** Drop the kept streams: a client asks rarely, and keeps no login-server connection between asks. */
  close (): void {
    for (const server of this.servers) server.close()
  }

  /** Try each login server once, starting with the last one that answered. */
  private async ask (req: RegistryRequest): Promise<RegistryResponse> {
    let lastError: unknown
    for (let i = 0; i < this.servers.length; i++) {
      const index = (this.next + i) % this.servers.length
      const server = this.servers[index]
      if (server === undefined) continue
      try {
        const reply = await server.request(req, RegistryResponse, REGISTRY_DEADLINE_MS)
        if (reply.type === 'error') throw new ReboundError(reply.code, reply.message, { retryAfterMs: reply.retryAfterMs })
        this.next = index
        return reply
      } catch (err) {
        lastError = err
        const code = (err as ReboundError).code
        if (code !== 'UNAVAILABLE' && code !== 'TIMEOUT' && code !== 'CLOSED') throw err
      }
    }
    throw lastError ?? new ReboundError('UNAVAILABLE', 'no login server reachable')
  }
}
