/**
 * The client's life: resume with a cached ticket (or log in), attach to a supernode chosen by two
 * random choices, hold the session, and when it ends wait U(0, W) before re-homing. Failures back
 * off with full jitter. A ticket is only refreshed at a login server when it is missing, about to
 * expire, or when every cached supernode has failed.
 */
import type { KeyObject } from 'node:crypto'
import {
  ReboundError, describeError, peekTicket, sleep, verifyCertificate,
  type ChatMessage, type Logger, type NodeState, type SupernodeEntry
} from '@rebound/protocol'
import { Backoff } from '../backoff.js'
import type { PeerNode } from '../libp2p.js'
import type { NodeMetrics } from '../metrics.js'
import { ClientSession, type SendOutcome } from './client-session.js'
import { ClientStateFile, type ClientState } from './client-state.js'
import type { Inbox } from './inbox.js'
import { LoginClient } from './login-client.js'
import { attachOrder } from './supernode-choice.js'

/** Log in again when the ticket has less than this left, rather than be refused mid-storm. */
export const TICKET_REFRESH_MARGIN_MS = 5 * 60_000

export interface ClientAgentDeps {
  node: PeerNode
  clusterKey: KeyObject
  stateFile: ClientStateFile
  inbox: Inbox
  metrics: NodeMetrics
  log: Logger
  random: () => number
  now: () => number
}

export interface ClientAgentInit {
  user: string
  password: string
  register: boolean
  loginServers: string[]
}

export class ClientAgent {
  state: NodeState = 'starting'
  attachedAtMs: number | null = null
  private session: ClientSession | undefined
  private saved!: ClientState
  private readonly login: LoginClient
  private readonly backoff: Backoff
  private readonly stopController = new AbortController()
  private loop: Promise<void> | undefined
  /** Set when every cached supernode failed: the list is stale, ask a login server. */
  private forceLogin = false

  constructor (private readonly init: ClientAgentInit, private readonly deps: ClientAgentDeps) {
    this.login = new LoginClient(deps.node, init, deps.random, deps.log)
    this.backoff = new Backoff(deps.random)
  }

  get supernode (): string | null {
    return this.session?.isOpen === true ? this.session.supernode : null
  }

  get ticketExpiresAtMs (): number | null {
    return this.saved?.ticketExpiresAtMs ?? null
  }

  get knownSupernodes (): number {
    return this.saved?.supernodes.length ?? 0
  }

  async start (): Promise<void> {
    this.saved = await this.deps.stateFile.load(this.init.user)
    this.loop = this.run(this.stopController.signal)
  }

  async stop (): Promise<void> {
    this.state = 'stopping'
    this.stopController.abort()
    this.session?.close()
    await this.loop
  }

  /** Send through the current session; the outcome says whether the recipient stored it. */
  async send (message: ChatMessage, deadlineMs: number): Promise<SendOutcome> {
    const session = this.session
    if (session === undefined || !session.isOpen) return { ok: false, code: 'UNAVAILABLE' }
    return await session.send(message, deadlineMs)
  }

  private async run (signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let waitMs: number
      try {
        const session = await this.connect()
        this.backoff.reset()
        await session.closed
        this.deps.metrics.attached.set(0)
        this.attachedAtMs = null
        if (signal.aborted) break
        // Orphaned: spread the re-homing of all this supernode's clients over U(0, W).
        waitMs = Math.floor(this.deps.random() * this.orphanWindowMs)
        this.state = 'attaching'
      } catch (err) {
        const retryAfterMs = (err as ReboundError).meta?.retryAfterMs
        waitMs = this.backoff.fail(typeof retryAfterMs === 'number' ? retryAfterMs : undefined)
        this.state = 'backoff'
        this.deps.log.warn({ code: (err as ReboundError).code ?? 'INTERNAL', err: describeError(err), waitMs, attempt: this.backoff.attempts }, 'connect failed, backing off')
      }
      await sleep(waitMs, signal)
    }
  }

  private orphanWindowMs = 0

  private async connect (): Promise<ClientSession> {
    const now = this.deps.now()
    const ticketOk = this.saved.ticket !== null && (this.saved.ticketExpiresAtMs ?? 0) - now > TICKET_REFRESH_MARGIN_MS
    const candidates = this.validSupernodes(now)
    let loggedIn = false
    if (!ticketOk || candidates.length === 0 || this.forceLogin) {
      await this.doLogin()
      loggedIn = true
    }
    const ticket = this.saved.ticket
    if (ticket === null) throw new ReboundError('INTERNAL', 'no ticket after login')
    const session = await this.attachAny(ticket, this.validSupernodes(this.deps.now()))
    if (!loggedIn) {
      this.deps.metrics.counters.resumes++
      this.deps.log.info({ supernode: session.supernode }, 'resumed session with cached ticket')
    }
    return session
  }

  private async doLogin (): Promise<void> {
    this.state = 'logging-in'
    try {
      const firstBoot = this.saved.savedAtMs === 0
      const grant = await this.login.login(() => { this.deps.metrics.counters.registrations++ }, firstBoot)
      const payload = peekTicket(grant.ticket)
      this.saved = { ...this.saved, ticket: grant.ticket, ticketExpiresAtMs: payload?.expiresAtMs ?? grant.expiresAtMs, supernodes: grant.supernodes, savedAtMs: this.deps.now() }
      await this.deps.stateFile.save(this.saved)
      this.forceLogin = false
      this.deps.metrics.counters.logins++
      this.deps.metrics.logins.inc({ result: 'ok' })
      this.deps.log.info({ supernodes: grant.supernodes.length }, 'logged in')
    } catch (err) {
      this.deps.metrics.counters.loginFailures++
      this.deps.metrics.logins.inc({ result: (err as ReboundError).code ?? 'INTERNAL' })
      throw err
    }
  }

  private validSupernodes (now: number): SupernodeEntry[] {
    return this.saved.supernodes.filter((entry) => {
      try {
        verifyCertificate(entry.certificate, this.deps.clusterKey, { peerId: entry.peerId, nowMs: now })
        return true
      } catch {
        return false
      }
    })
  }

  private async attachAny (ticket: string, candidates: SupernodeEntry[]): Promise<ClientSession> {
    this.state = 'attaching'
    if (candidates.length === 0) {
      this.forceLogin = true
      throw new ReboundError('UNAVAILABLE', 'no supernode known')
    }
    let lastError: unknown
    for (const entry of attachOrder(candidates, this.deps.random)) {
      try {
        const result = await ClientSession.attach(this.deps.node, entry, ticket, this.deps.clusterKey, (m) => { this.onDeliver(m) }, this.deps.log)
        this.session = result.session
        this.orphanWindowMs = result.orphanWindowMs
        this.attachedAtMs = this.deps.now()
        this.state = 'attached'
        this.deps.metrics.counters.attaches++
        this.deps.metrics.attaches.inc({ result: 'ok' })
        this.deps.metrics.attached.set(1)
        if (result.supernodes.length > 0) {
          this.saved = { ...this.saved, supernodes: result.supernodes, savedAtMs: this.deps.now() }
          await this.deps.stateFile.save(this.saved)
        }
        this.deps.log.info({ supernode: entry.peerId }, 'attached')
        return result.session
      } catch (err) {
        lastError = err
        const code = (err as ReboundError).code ?? 'INTERNAL'
        this.deps.metrics.counters.attachFailures++
        this.deps.metrics.attaches.inc({ result: code })
        this.deps.log.info({ supernode: entry.peerId, code, err: describeError(err) }, 'attach failed')
        // A refused ticket will be refused everywhere: get a new one.
        if (code === 'TICKET_INVALID' || code === 'TICKET_EXPIRED' || code === 'TICKET_PEER_MISMATCH') {
          this.saved = { ...this.saved, ticket: null, ticketExpiresAtMs: null }
          throw err
        }
      }
    }
    this.forceLogin = true
    throw lastError ?? new ReboundError('UNAVAILABLE', 'no supernode accepted the session')
  }

  private onDeliver (message: ChatMessage): void {
    if (this.deps.inbox.put(message, this.deps.now())) {
      this.deps.metrics.counters.messagesReceived++
      this.deps.metrics.received.inc()
    }
  }
}
