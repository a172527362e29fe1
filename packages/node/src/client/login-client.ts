/**
 * Logging in (and registering on first use) against the login servers. One attempt in flight at a
 * time; each request carries its deadline; a login server that cannot be reached is skipped for
 * the next one in the list.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  LOGIN_PROTOCOL, LoginResponse, ReboundError, request, type LoginRequest, type Logger, type SupernodeEntry
} from '@rebound/protocol'
import type { PeerNode } from '../libp2p.js'

/** Deadline of one login request: covers a queue wait plus a ~50 ms scrypt hash. */
export const LOGIN_DEADLINE_MS = 10_000

export interface LoginGrant {
  ticket: string
  expiresAtMs: number
  supernodes: SupernodeEntry[]
}

export interface LoginClientInit {
  loginServers: string[]
  user: string
  password: string
  register: boolean
}

export class LoginClient {
  private readonly servers: Multiaddr[]
  private next: number

  constructor (private readonly node: PeerNode, private readonly init: LoginClientInit, random: () => number, private readonly log: Logger) {
    this.servers = init.loginServers.map((a) => multiaddr(a))
    // Start at a random server so that a crowd of clients spreads over all of them.
    this.next = Math.floor(random() * this.servers.length)
  }

  /**
   * Log in, registering first when allowed and the account is unknown. On a first boot (no saved
   * session) a registering client registers before its first login, so that a fresh account
   * costs no refused login. Throws ReboundError.
   */
  async login (onRegistered: () => void, firstBoot = false): Promise<LoginGrant> {
    let lastError: unknown
    for (let i = 0; i < this.servers.length; i++) {
      const server = this.servers[(this.next + i) % this.servers.length]
      if (server === undefined) continue
      try {
        const grant = await this.loginAt(server, onRegistered, firstBoot)
        this.next = (this.next + i) % this.servers.length
        return grant
      } catch (err) {
        lastError = err
        const code = (err as ReboundError).code
        // A refusal about the account is the same answer at every server: stop here.
        if (code !== 'UNAVAILABLE' && code !== 'TIMEOUT' && code !== 'CLOSED') throw err
        this.log.debug({ server: server.toString(), code }, 'login server unreachable, trying next')
      }
    }
    this.next = (this.next + 1) % this.servers.length
    throw lastError instanceof ReboundError ? lastError : new ReboundError('UNAVAILABLE', 'no login server reachable')
  }

  private async loginAt (server: Multiaddr, onRegistered: () => void, firstBoot: boolean): Promise<LoginGrant> {
    const attempt = async (): Promise<LoginGrant> => {
      const req: LoginRequest = { type: 'login', user: this.init.user, password: this.init.password, deadlineMs: LOGIN_DEADLINE_MS }
      const reply = await request(this.node, server, LOGIN_PROTOCOL, req, LoginResponse, LOGIN_DEADLINE_MS)
      if (reply.type === 'logged-in') return { ticket: reply.ticket, expiresAtMs: reply.expiresAtMs, supernodes: reply.supernodes }
      if (reply.type === 'error') throw new ReboundError(reply.code, reply.message, { retryAfterMs: reply.retryAfterMs })
      throw new ReboundError('BAD_REQUEST', `unexpected login reply ${reply.type}`)
    }
    if (!(firstBoot && this.init.register)) {
      try {
        return await attempt()
      } catch (err) {
        if (!(err instanceof ReboundError && err.code === 'UNKNOWN_USER' && this.init.register)) throw err
      }
    }
    const reg: LoginRequest = { type: 'register', user: this.init.user, password: this.init.password, deadlineMs: LOGIN_DEADLINE_MS }
    const reply = await request(this.node, server, LOGIN_PROTOCOL, reg, LoginResponse, LOGIN_DEADLINE_MS)
    if (reply.type === 'error' && reply.code !== 'USER_EXISTS') throw new ReboundError(reply.code, reply.message, { retryAfterMs: reply.retryAfterMs })
    if (reply.type === 'registered') {
      onRegistered()
      this.log.info({ user: this.init.user }, 'registered')
    }
    return await attempt()
  }
}
