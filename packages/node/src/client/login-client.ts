/**
 * Talking to the login servers: log in (registering on first use), renew a still-valid ticket,
 * and come back with a waiting-room slot. One attempt in flight at a time; each request carries
 * its deadline; a login server that cannot be reached is skipped for the next one in the list.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  LOGIN_PROTOCOL, LoginResponse, ReboundError, RequestChannel, type LoginRequest, type Logger, type SupernodeEntry
} from '@rebound/protocol'
import type { PeerNode } from '../libp2p.js'

/** Deadline of one login request: covers a queue wait plus a ~50 ms scrypt hash. */
export const LOGIN_DEADLINE_MS = 10_000

export interface LoginGrant {
  ticket: string
  expiresAtMs: number
  supernodes: SupernodeEntry[]
}

export interface HeldSlot {
  token: string
  /** Multiaddr of the login server that issued it: a slot is only valid there. */
  server: string
}

export interface LoginClientInit {
  loginServers: string[]
  user: string
  password: string
  register: boolean
}

/** The peer id a login server's multiaddr ends with (/p2p/<id>, required by the config). */
function peerIdOf (server: Multiaddr): string {
  return server.getComponents().findLast((c) => c.name === 'p2p')?.value ?? ''
}

/** Codes that say "this server could not answer", as opposed to an answer about the account. */
function unreachable (err: unknown): boolean {
  const code = (err as ReboundError).code
  return code === 'UNAVAILABLE' || code === 'TIMEOUT' || code === 'CLOSED'
}

export class LoginClient {
  private readonly servers: Multiaddr[]
  /** One kept request stream per login server: a retry costs the server a frame, not a stream. */
  private readonly channels = new Map<string, RequestChannel>()
  private next: number
  /**
   * The account is known to exist (we registered it, or a server said USER_EXISTS): later attempts
   * log in straight away instead of registering again on every attempt of a first boot.
   */
  private accountExists = false

  constructor (private readonly node: PeerNode, private readonly init: LoginClientInit, random: () => number, private readonly log: Logger) {
    this.servers = init.loginServers.map((a) => multiaddr(a))
    // Start at a random server so that a crowd of clients spreads over all of them.
    this.next = Math.floor(random() * this.servers.length)
  }

  /**
   * Log in, registering first when allowed and the account is unknown. On a first boot (no saved
   * session) a registering client registers before its first login, so that a fresh account
   * costs no refused login; the registration's reply carries the ticket (one hash, not two), and
   * once the account is known to exist it is not registered again. With a slot, ask the server
   * that issued it first. Throws ReboundError; a refusal carrying a slot has `meta.slot` (a
   * HeldSlot) and `meta.slotDueAtMs`.
   */
  async login (onRegistered: () => void, firstBoot = false, slot?: HeldSlot): Promise<LoginGrant> {
    if (slot !== undefined) {
      try {
        return await this.loginAt(multiaddr(slot.server), onRegistered, firstBoot, slot.token)
      } catch (err) {
        if (!unreachable(err)) throw err
        this.log.debug({ server: slot.server }, 'slot server unreachable, trying the others')
      }
    }
    return await this.eachServer(async (server) => await this.loginAt(server, onRegistered, firstBoot, undefined))
  }

  /** A fresh ticket and supernode list for a still-valid ticket: no password, no scrypt. */
  async renew (ticket: string): Promise<LoginGrant> {
    return await this.eachServer(async (server) => {
      const req: LoginRequest = { type: 'renew', ticket, deadlineMs: LOGIN_DEADLINE_MS }
      return this.grantOf(await this.channel(server).request(req, LoginResponse, LOGIN_DEADLINE_MS), server)
    })
  }

  /**
   * Close the kept streams and the connections to the login servers. An attached client needs
   * no login stream until its ticket runs low or its supernode list goes stale, and an idle
   * connection costs a login server memory and its monitor's pings, times every client. A
   * connection that carries another protocol's open stream (the device's data channel, polled
   * every few seconds: docs/durability.md) is left to it: closing it would cut a request short and
   * cost a new handshake moments later.
   */
  async hangUp (): Promise<void> {
    for (const channel of this.channels.values()) channel.close()
    this.channels.clear()
    const servers = new Set(this.servers.map(peerIdOf))
    await Promise.all(this.node.getConnections().map(async (connection) => {
      if (!servers.has(connection.remotePeer.toString())) return
      if (connection.streams.some((s) => s.status === 'open' && s.protocol !== LOGIN_PROTOCOL)) return
      await connection.close().catch((err: unknown) => {
        this.log.debug({ server: connection.remotePeer.toString(), err: String(err) }, 'hang-up failed')
      })
    }))
  }

  private channel (server: Multiaddr): RequestChannel {
    const key = server.toString()
    let channel = this.channels.get(key)
    if (channel === undefined) {
      channel = new RequestChannel(this.node, server, LOGIN_PROTOCOL)
      this.channels.set(key, channel)
    }
    return channel
  }

  private async eachServer (fn: (server: Multiaddr) => Promise<LoginGrant>): Promise<LoginGrant> {
    let lastError: unknown
    for (let i = 0; i < this.servers.length; i++) {
      const index = (this.next + i) % this.servers.length
      const server = this.servers[index]
      if (server === undefined) continue
      try {
        const grant = await fn(server)
        this.next = index
        return grant
      } catch (err) {
        lastError = err
        // A refusal about the account, or overload with a slot, is this server's answer: stop.
        if (!unreachable(err)) throw err
        this.log.debug({ server: server.toString(), code: (err as ReboundError).code }, 'login server unreachable, trying next')
      }
    }
    this.next = (this.next + 1) % this.servers.length
    throw lastError instanceof ReboundError ? lastError : new ReboundError('UNAVAILABLE', 'no login server reachable')
  }

  private grantOf (reply: LoginResponse, server: Multiaddr): LoginGrant {
    if (reply.type !== 'error') return { ticket: reply.ticket, expiresAtMs: reply.expiresAtMs, supernodes: reply.supernodes }
    const meta: Record<string, unknown> = { retryAfterMs: reply.retryAfterMs }
    if (reply.slot !== undefined) meta.slot = { token: reply.slot, server: server.toString() } satisfies HeldSlot
    throw new ReboundError(reply.code, reply.message, meta)
  }

  private async loginAt (server: Multiaddr, onRegistered: () => void, firstBoot: boolean, slot: string | undefined): Promise<LoginGrant> {
    const attempt = async (): Promise<LoginGrant> => {
      const req: LoginRequest = { type: 'login', user: this.init.user, password: this.init.password, deadlineMs: LOGIN_DEADLINE_MS }
      if (slot !== undefined) req.slot = slot
      return this.grantOf(await this.channel(server).request(req, LoginResponse, LOGIN_DEADLINE_MS), server)
    }
    if (!(firstBoot && this.init.register) || this.accountExists) {
      try {
        return await attempt()
      } catch (err) {
        if (!(err instanceof ReboundError && err.code === 'UNKNOWN_USER' && this.init.register)) throw err
      }
    }
    const reg: LoginRequest = { type: 'register', user: this.init.user, password: this.init.password, deadlineMs: LOGIN_DEADLINE_MS }
    const reply = await this.channel(server).request(reg, LoginResponse, LOGIN_DEADLINE_MS)
    if (reply.type === 'error' && reply.code !== 'USER_EXISTS') return this.grantOf(reply, server)
    this.accountExists = true
    if (reply.type !== 'registered') return await attempt()
    onRegistered()
    this.log.info({ user: this.init.user }, 'registered')
    // The registration's own ticket: no second hash for a login.
    return this.grantOf(reply, server)
  }
}
