/**
 * Requests to the login servers' shared store over /rebound/data (docs/durability.md): one request
 * and one reply per exchange on a kept stream per login server, each carrying the user's current
 * ticket (the server takes the user from it) and a deadline. A login server that cannot be reached
 * is skipped for the next one, as the login client does: they all share one store. Every reply's
 * storeId is handed to the owner first, so a wiped store is noticed at the first reply from it.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  DATA_PROTOCOL, DataReply, ReboundError, RequestChannel,
  type ChatMessage, type ContactRecord, type DataRequest, type Logger
} from '@rebound/protocol'
import type { PeerNode } from '../libp2p.js'

/** Deadline of one request to one login server: a commit of a few rows, or a page of reads. */
export const DATA_REQUEST_DEADLINE_MS = 5000

export type DataReplyOf<T extends DataReply['type']> = Extract<DataReply, { type: T }>
/** A request without what the client adds to every one. */
type RequestBody = DataRequest extends infer R ? R extends DataRequest ? Omit<R, 'ticket' | 'deadlineMs'> : never : never

/** What the services use of the client (tests give them an in-memory store instead). */
export type DataApi = Pick<DataClient, 'contactsGet' | 'contactsPut' | 'mailboxPut' | 'mailboxGet'>

export interface DataClientDeps {
  node: PeerNode
  /** The agent's current ticket, or null before the first login. */
  ticket: () => string | null
  /** Every reply's storeId, before the reply is returned. */
  onStoreId: (storeId: string) => void
  random: () => number
  log: Logger
}

/** Codes that say "this server could not answer", as opposed to its answer. */
function unreachable (err: unknown): boolean {
  const code = (err as ReboundError).code
  return code === 'UNAVAILABLE' || code === 'TIMEOUT' || code === 'CLOSED'
}

export class DataClient {
  private readonly servers: Multiaddr[]
  private readonly channels = new Map<string, RequestChannel>()
  private next: number

  constructor (loginServers: readonly string[], private readonly deps: DataClientDeps) {
    this.servers = loginServers.map((a) => multiaddr(a))
    // Start at a random server so that a crowd of devices spreads over all of them.
    this.next = Math.floor(deps.random() * this.servers.length)
  }

  async contactsGet (after: string | undefined, deadlineMs = DATA_REQUEST_DEADLINE_MS): Promise<DataReplyOf<'contacts'>> {
    return await this.request(after === undefined ? { type: 'contacts-get' } : { type: 'contacts-get', after }, 'contacts', deadlineMs)
  }

  async contactsPut (records: ContactRecord[], deadlineMs = DATA_REQUEST_DEADLINE_MS): Promise<DataReplyOf<'contacts-stored'>> {
    return await this.request({ type: 'contacts-put', records }, 'contacts-stored', deadlineMs)
  }

  async mailboxPut (messages: ChatMessage[], deadlineMs = DATA_REQUEST_DEADLINE_MS): Promise<DataReplyOf<'mailbox-stored'>> {
    return await this.request({ type: 'mailbox-put', messages }, 'mailbox-stored', deadlineMs)
  }

  async mailboxGet (afterSeq: number, limit: number, deadlineMs = DATA_REQUEST_DEADLINE_MS): Promise<DataReplyOf<'mailbox'>> {
    return await this.request({ type: 'mailbox-get', afterSeq, limit }, 'mailbox', deadlineMs)
  }

  close (): void {
    for (const channel of this.channels.values()) channel.close()
    this.channels.clear()
  }

  /**
   * One request, trying each login server at most once, within `totalMs` overall (each try gets
   * what is left, at most DATA_REQUEST_DEADLINE_MS). An error reply throws its code.
   */
  private async request<T extends DataReply['type']> (body: RequestBody, expect: T, totalMs: number): Promise<DataReplyOf<T>> {
    const ticket = this.deps.ticket()
    if (ticket === null) throw new ReboundError('UNAVAILABLE', 'no ticket yet: not logged in')
    const deadlineAtMs = Date.now() + totalMs
    let lastError: unknown = new ReboundError('TIMEOUT', `no time left for ${body.type}`)
    for (let i = 0; i < this.servers.length; i++) {
      const leftMs = Math.min(DATA_REQUEST_DEADLINE_MS, deadlineAtMs - Date.now())
      if (leftMs <= 0) break
      const index = (this.next + i) % this.servers.length
      const server = this.servers[index]
      if (server === undefined) continue
      try {
        const reply = await this.channel(server).request({ ...body, ticket, deadlineMs: leftMs }, DataReply, leftMs)
        if (reply.type === 'error') throw new ReboundError(reply.code, reply.message, { retryAfterMs: reply.retryAfterMs, server: server.toString() })
        if (reply.type !== expect) throw new ReboundError('INTERNAL', `expected a ${expect} reply to ${body.type}, got ${reply.type}`)
        this.next = index
        this.deps.onStoreId(reply.storeId)
        return reply as DataReplyOf<T>
      } catch (err) {
        lastError = err
        if (!unreachable(err)) throw err
        this.deps.log.debug({ server: server.toString(), code: (err as ReboundError).code, request: body.type }, 'login server unreachable for data, trying next')
      }
    }
    this.next = (this.next + 1) % this.servers.length
    throw lastError instanceof ReboundError ? lastError : new ReboundError('UNAVAILABLE', `no login server reachable for ${body.type}`)
  }

  private channel (server: Multiaddr): RequestChannel {
    const key = server.toString()
    let channel = this.channels.get(key)
    if (channel === undefined) {
      channel = new RequestChannel(this.deps.node, server, DATA_PROTOCOL)
      this.channels.set(key, channel)
    }
    return channel
  }
}
