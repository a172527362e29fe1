/**
 * The client's life: resume with a saved ticket (or log in), attach to a supernode chosen by two
 * random choices, hold the session, and when it ends wait U(0, W) before re-homing. Failures wait
 * as the retry policy says (full jitter, server hints, slots), and in the defended profile that
 * wait is written to disk first, so a crash loop cannot reset it. A login server is only asked
 * when the ticket is missing or expiring (log in), or when every cached supernode failed (renew:
 * a fresh list without a password hash).
 *
 * The naive profile is the 2007 client: a full login before every attach, retries every second in
 * lockstep, immediate re-homing, nothing remembered across restarts.
 */
import type { KeyObject } from 'node:crypto'
import {
  ReboundError, SESSION_PING_INTERVAL_MS, describeError, peekSlot, peekTicket, setNewest, sleep,
  type ChatMessage, type Logger, type NodeState, type Profile, type SupernodeEntry
} from '@rebound/protocol'
import type { PeerNode } from '../libp2p.js'
import type { NodeMetrics } from '../metrics.js'
import { ClientSession, type SendOutcome } from './client-session.js'
import { ClientStateFile, type ClientState } from './client-state.js'
import type { Inbox } from './inbox.js'
import { LoginClient, type HeldSlot, type LoginGrant } from './login-client.js'
import { RetryBudget } from './retry-budget.js'
import { createRetryPolicy, type FailureHints, type RetryPolicy } from './retry-policy.js'
import { TICKET_CODES, attachRound, verifiedSupernodes, type Attached } from './attach-round.js'
import { orphanWaitMs } from '../supernode/orphan-window.js'

/** Log in again when the ticket has less than this left, rather than be refused mid-storm. */
export const TICKET_REFRESH_MARGIN_MS = 5 * 60_000
/**
 * A supernode that fell silent under us is left out of our choices this long: it is likely frozen,
 * and an attach to it would only time out (5 s) while the registry still lists it (up to 6 s).
 */
export const AVOID_SILENT_MS = 30_000
/**
 * A supernode an attach to which timed out is left out this long: a frozen one accepts TCP but
 * never finishes the handshake, and the registry's list (what a renewal returns) still names it
 * for up to 6 s; without this, an orphan of a freeze could draw another frozen supernode twice
 * (measured: a dial to it, renewal, a 5 s dial to the same one: re-homed after 6.9 s).
 */
export const AVOID_UNREACHABLE_MS = 10_000
/** Avoided supernodes remembered at most (each expires anyway). */
export const MAX_AVOIDED = 64
/** Attempts of one send, counting the first (later ones only while the retry budget allows). */
export const MAX_SEND_ATTEMPTS = 3
const RETRYABLE_SEND_CODES = new Set(['CLOSED', 'UNAVAILABLE', 'BUSY'])

export interface ClientAgentDeps {
  node: PeerNode
  clusterKey: KeyObject
  stateFile: ClientStateFile
  inbox: Inbox
  metrics: NodeMetrics
  log: Logger
  random: () => number
  now: () => number
  /** The session ended or no supernode would take us: capacity may have gone (candidacy.nudge). */
  onOrphaned?: () => void
  /** A login server granted a ticket (login or renewal): data requests can carry it. */
  onTicket?: () => void
  /** A session is open: the user is online. */
  onAttached?: () => void
}

interface Candidates { valid: SupernodeEntry[], preferred: SupernodeEntry[] }

export interface ClientAgentInit {
  user: string
  password: string
  register: boolean
  loginServers: string[]
  profile: Profile
}

export class ClientAgent {
  state: NodeState = 'starting'
  attachedAtMs: number | null = null
  loggedInAtMs: number | null = null
  private session: ClientSession | undefined
  private saved!: ClientState
  private readonly login: LoginClient
  private readonly retry: RetryPolicy
  private readonly budget = new RetryBudget()
  private readonly stopController = new AbortController()
  private loop: Promise<void> | undefined
  /** Set when every cached supernode failed: the list is stale, ask a login server. */
  private staleList = false
  /** Supernodes that went silent under us or timed out, until when to leave them out. */
  private readonly avoided = new Map<string, number>()
  /** The last session ended in silence: the next attach round hedges its dials (hedged-dial.ts). */
  private afterSilence = false

  constructor (private readonly init: ClientAgentInit, private readonly deps: ClientAgentDeps) {
    this.login = new LoginClient(deps.node, init, deps.random, deps.log)
    this.retry = createRetryPolicy(init.profile, deps.random)
  }

  private get defended (): boolean {
    return this.init.profile === 'defended'
  }

  get supernode (): string | null {
    return this.session?.isOpen === true ? this.session.supernode : null
  }

  /** The current ticket, if any (an eligible peer shows it when offering to serve). */
  get ticket (): string | null {
    return this.saved?.ticket ?? null
  }

  get ticketExpiresAtMs (): number | null {
    return this.saved?.ticketExpiresAtMs ?? null
  }

  get knownSupernodes (): number {
    return this.saved?.supernodes.length ?? 0
  }

  async start (): Promise<void> {
    this.saved = await this.deps.stateFile.load(this.init.user)
    if (this.defended) this.retry.restore(this.saved.failures)
    this.loop = this.run(this.stopController.signal)
  }

  async stop (): Promise<void> {
    this.state = 'stopping'
    this.stopController.abort()
    this.session?.close()
    await this.loop
  }

  /**
   * Send through the current session; ok once the recipient stored it. A send that failed because
   * the session went away is retried (same id: the recipient keeps one copy) after re-attaching,
   * while the retry budget allows and the deadline lasts.
   */
  async send (message: ChatMessage, deadlineMs: number): Promise<SendOutcome> {
    const deadlineAtMs = this.deps.now() + deadlineMs
    for (let attempt = 1; ; attempt++) {
      const session = this.session
      const leftMs = deadlineAtMs - this.deps.now()
      const outcome: SendOutcome = session?.isOpen === true && leftMs > 0
        ? await session.send(message, leftMs)
        : { ok: false, code: leftMs > 0 ? 'UNAVAILABLE' : 'TIMEOUT' }
      if (outcome.ok) {
        this.budget.onSuccess()
        return outcome
      }
      this.budget.onFailure()
      const retryable = RETRYABLE_SEND_CODES.has(outcome.code ?? '') && this.defended
      if (!retryable || attempt >= MAX_SEND_ATTEMPTS || !this.budget.canRetry()) return outcome
      if (!await this.waitAttached(deadlineAtMs)) return outcome
      this.deps.metrics.counters.sendRetries++
    }
  }

  private async waitAttached (deadlineAtMs: number): Promise<boolean> {
    while (this.deps.now() < deadlineAtMs && !this.stopController.signal.aborted) {
      if (this.session?.isOpen === true) return true
      await sleep(50, this.stopController.signal)
    }
    return false
  }

  private async run (signal: AbortSignal): Promise<void> {
    // A previous life may have been told to wait (backoff, slot): a restart does not skip that.
    const savedWaitMs = this.defended ? (this.saved.nextAttemptAtMs ?? 0) - this.deps.now() : 0
    if (savedWaitMs > 0) {
      this.state = 'backoff'
      this.deps.log.info({ waitMs: savedWaitMs, failures: this.saved.failures }, 'honouring saved backoff')
      await sleep(savedWaitMs, signal)
    }
    while (!signal.aborted) {
      let waitMs: number
      try {
        const session = await this.connect()
        await this.onConnected()
        await session.closed
        if (session.wentSilent) this.avoid(session.supernode)
        this.afterSilence = session.wentSilent
        this.deps.metrics.attached.set(0)
        this.attachedAtMs = null
        if (signal.aborted) break
        this.deps.onOrphaned?.()
        // Orphaned: spread the re-homing of all this supernode's clients over W, as the supernode
        // last advertised it (orphan-window.ts).
        waitMs = this.defended ? orphanWaitMs(session.orphanWindowMs, session.wentSilent, SESSION_PING_INTERVAL_MS, this.deps.random) : 0
        this.state = 'attaching'
      } catch (err) {
        waitMs = await this.onFailure(err)
      }
      await sleep(waitMs, signal)
    }
  }

  private async onConnected (): Promise<void> {
    this.retry.onSuccess()
    if (this.defended && (this.saved.failures !== 0 || this.saved.nextAttemptAtMs !== null || this.saved.slot !== null)) {
      this.saved = { ...this.saved, failures: 0, nextAttemptAtMs: null, slot: null }
      await this.deps.stateFile.save(this.saved)
    }
  }

  private async onFailure (err: unknown): Promise<number> {
    const code = (err as ReboundError).code ?? 'INTERNAL'
    const meta = (err as ReboundError).meta ?? {}
    const hints: FailureHints = {}
    if (typeof meta.retryAfterMs === 'number') hints.retryAfterMs = meta.retryAfterMs
    let slot = this.saved.slot
    if (code === 'SLOT_INVALID') slot = null
    const offered = meta.slot as HeldSlot | undefined
    if (this.defended && offered !== undefined) {
      slot = offered
      const dueAtMs = peekSlot(offered.token)?.dueAtMs
      if (dueAtMs !== undefined) hints.slotDueAtMs = dueAtMs
    }
    const nowMs = this.deps.now()
    // A supernode's join schedule is obeyed like a slot: no growing backoff on top of it.
    if (this.defended && meta.scheduled === true && hints.retryAfterMs !== undefined && hints.slotDueAtMs === undefined) {
      hints.slotDueAtMs = nowMs + hints.retryAfterMs
    }
    const waitMs = this.retry.onFailure(hints, nowMs)
    this.state = 'backoff'
    this.deps.log.warn({ code, err: describeError(err), waitMs, failures: this.retry.failures, slot: slot !== null }, 'connect failed, backing off')
    if (this.defended) {
      // Written before sleeping: if this process dies now, its successor still waits.
      this.saved = { ...this.saved, failures: this.retry.failures, nextAttemptAtMs: nowMs + waitMs, slot }
      await this.deps.stateFile.save(this.saved).catch((e: unknown) => {
        this.deps.log.error({ err: describeError(e) }, 'could not persist backoff state')
      })
    }
    return waitMs
  }

  private async connect (): Promise<ClientSession> {
    const now = this.deps.now()
    const ticketOk = this.saved.ticket !== null && (this.saved.ticketExpiresAtMs ?? 0) - now > TICKET_REFRESH_MARGIN_MS
    let viaLoginServer = true
    let choice: Candidates | undefined
    if (!this.defended || !ticketOk) {
      await this.doLogin()
    } else {
      const cached = this.candidates(now)
      if (this.staleList || cached.preferred.length === 0) {
        await this.doRenew()
      } else {
        viaLoginServer = false
        choice = cached
      }
    }
    const ticket = this.saved.ticket
    if (ticket === null) throw new ReboundError('INTERNAL', 'no ticket after login')
    choice ??= this.candidates(this.deps.now())
    // Every one we know avoided even after asking a login server: trying them beats waiting.
    const session = await this.attachAny(ticket, choice.preferred.length > 0 ? choice.preferred : choice.valid)
    if (viaLoginServer) void this.login.hangUp()
    if (!viaLoginServer) {
      this.deps.metrics.counters.resumes++
      this.deps.log.info({ supernode: session.supernode }, 'resumed session with saved ticket')
    }
    return session
  }

  private async doLogin (): Promise<void> {
    this.state = 'logging-in'
    try {
      const firstBoot = this.saved.savedAtMs === 0
      const slot = this.defended ? (this.saved.slot ?? undefined) : undefined
      // A slot is shown once: the server marks it used on arrival, so a request that timed out
      // here may still have spent it, and showing it again would be refused as a replay. A
      // refusal hands out a new one (onFailure); a lost request falls back to plain backoff.
      if (slot !== undefined) this.saved = { ...this.saved, slot: null }
      const grant = await this.login.login(() => { this.deps.metrics.counters.registrations++ }, firstBoot, slot)
      await this.accept(grant)
      this.loggedInAtMs = this.deps.now()
      this.deps.metrics.counters.logins++
      this.deps.metrics.logins.inc({ result: 'ok' })
      this.deps.log.info({ supernodes: grant.supernodes.length }, 'logged in')
    } catch (err) {
      this.deps.metrics.counters.loginFailures++
      this.deps.metrics.logins.inc({ result: (err as ReboundError).code ?? 'INTERNAL' })
      throw err
    }
  }

  private async doRenew (): Promise<void> {
    this.state = 'logging-in'
    const ticket = this.saved.ticket
    if (ticket === null) return await this.doLogin()
    try {
      await this.accept(await this.login.renew(ticket))
      this.deps.metrics.counters.renewals++
      this.deps.log.info({ supernodes: this.saved.supernodes.length }, 'renewed ticket')
    } catch (err) {
      // A refused ticket needs a real login; anything else (overload, outage) backs off as usual.
      if (!TICKET_CODES.has((err as ReboundError).code ?? '')) throw err
      await this.doLogin()
    }
  }

  private async accept (grant: LoginGrant): Promise<void> {
    const expiresAtMs = peekTicket(grant.ticket)?.expiresAtMs ?? grant.expiresAtMs
    this.saved = { ...this.saved, ticket: grant.ticket, ticketExpiresAtMs: expiresAtMs, supernodes: grant.supernodes, savedAtMs: this.deps.now(), slot: null }
    await this.deps.stateFile.save(this.saved)
    this.staleList = false
    this.deps.onTicket?.()
  }

  /**
   * The cached supernodes whose certificate verifies, never this peer itself (an elected supernode
   * is also a client), and among them the preferred: those that did not recently go silent under us
   * or time out. No preferred one left: the caller asks a login server for a fresh list before
   * falling back to the avoided ones.
   */
  private candidates (now: number): Candidates {
    const self = this.deps.node.peerId.toString()
    for (const [id, untilMs] of this.avoided) if (untilMs <= now) this.avoided.delete(id)
    const valid = verifiedSupernodes(this.saved.supernodes, this.deps.clusterKey, now).filter((e) => e.peerId !== self)
    return { valid, preferred: valid.filter((e) => !this.avoided.has(e.peerId)) }
  }

  private avoid (supernode: string, forMs = AVOID_SILENT_MS): void {
    const untilMs = Math.max(this.avoided.get(supernode) ?? 0, this.deps.now() + forMs)
    setNewest(this.avoided, supernode, untilMs, MAX_AVOIDED)
  }

  private async attachAny (ticket: string, candidates: SupernodeEntry[]): Promise<ClientSession> {
    this.state = 'attaching'
    let attached: Attached
    try {
      const hedgeDials = this.afterSilence
      this.afterSilence = false
      attached = await attachRound(ticket, candidates, {
        ...this.deps,
        hedgeDials,
        onDeliver: (m) => { this.onDeliver(m) },
        onTimeout: (peerId) => { this.avoid(peerId, AVOID_UNREACHABLE_MS) }
      })
    } catch (err) {
      if (TICKET_CODES.has((err as ReboundError).code ?? '')) this.saved = { ...this.saved, ticket: null, ticketExpiresAtMs: null }
      if ((err as ReboundError).meta?.listStale === true) this.staleList = true
      this.deps.onOrphaned?.()
      throw err
    }
    this.session = attached.session
    this.attachedAtMs = this.deps.now()
    this.state = 'attached'
    this.deps.metrics.counters.attaches++
    this.deps.metrics.attaches.inc({ result: 'ok' })
    this.deps.metrics.attached.set(1)
    if (attached.supernodes.length > 0) {
      this.saved = { ...this.saved, supernodes: attached.supernodes, savedAtMs: this.deps.now() }
      await this.deps.stateFile.save(this.saved)
    }
    this.deps.log.info({ supernode: attached.entry.peerId }, 'attached')
    this.deps.onAttached?.()
    return attached.session
  }

  private onDeliver (message: ChatMessage): void {
    if (this.deps.inbox.put(message, this.deps.now())) {
      this.deps.metrics.counters.messagesReceived++
      this.deps.metrics.received.inc()
    }
  }
}
