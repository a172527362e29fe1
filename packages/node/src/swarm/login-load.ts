/**
 * The login load generator (`rebound-swarm --login-load`): K libp2p clients, each its own identity
 * on its own loopback address, keep a connection to one login server open and log in on a new
 * stream per request. Runs are either open loop (a fixed aggregate rate per phase, whatever the
 * server does) or closed loop (C requests always outstanding, to measure capacity). Every request
 * carries a 10 s deadline; a reply after it counts as failed. Accounts are registered while
 * preparing, before anything is measured.
 */
import { performance } from 'node:perf_hooks'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  LOGIN_PROTOCOL, LoginResponse, MAX_REGISTER_USERS, ReboundError, describeError, errorCodeOf, request, sleep,
  type LoadPlan, type LoadResult, type LoadState, type LoginRequest, type Logger, type RegisterPlan
} from '@rebound/protocol'
import { memberUser, swarmPassword } from './accounts.js'
import { createLoadNode, type LoadNode } from './load-node.js'
import { LoadRecorder, phaseWindows, type Outcome } from './load-stats.js'
import { OpenLoopSchedule, type LoadPhase } from './open-loop.js'
import type { MemberIdentity } from './swarm-config.js'

/** Deadline of every login (the client's LOGIN_DEADLINE_MS); a later reply is a failure. */
export const LOGIN_DEADLINE_MS = 10_000
/** Login streams in flight per connection; the login server accepts 8 per connection and protocol. */
export const STREAMS_PER_CONNECTION = 6
/** Generator tick: arrivals due are released this often. */
export const TICK_MS = 5
/** Clients connecting at once: 250 simultaneous dials overwhelm a busy 2-core machine (libp2p note). */
export const CONNECT_BATCH = 25
export const CONNECT_ATTEMPTS = 5
export const CONNECT_RETRY_MS = 500
/** Registrations in flight: a few more than the server hashes at once keeps it busy without queueing. */
export const REGISTER_CONCURRENCY = 8
export const REGISTER_ATTEMPTS = 5
/** Slack after the last deadline for the last replies to be counted. */
const DRAIN_SLACK_MS = 2000

interface Client {
  node: LoadNode
  user: string
  password: string
  outstanding: number
}

export interface LoginLoadInit {
  target: string
  members: readonly MemberIdentity[]
  passwordSeed: string
  register: boolean
}

async function stopQuietly (node: LoadNode): Promise<void> {
  try {
    await node.stop()
  } catch {
    // stopping is best effort: the process is going away or the client is being discarded
  }
}

export class LoginLoad {
  state: LoadState = 'preparing'
  error: string | null = null
  registered = 0
  runs = 0
  result: LoadResult | null = null
  private readonly clients: Client[] = []
  private readonly target: Multiaddr
  private readonly stopController = new AbortController()
  private running: Promise<void> | undefined
  private next = 0

  constructor (private readonly init: LoginLoadInit, private readonly log: Logger, private readonly debugFilter?: RegExp) {
    this.target = multiaddr(init.target)
  }

  get connections (): number {
    return this.clients.length
  }

  /** Create, connect and (optionally) register every client. */
  async prepare (): Promise<void> {
    try {
      for (let first = 0; first < this.init.members.length; first += CONNECT_BATCH) {
        if (this.stopController.signal.aborted) return
        const batch = this.init.members.slice(first, first + CONNECT_BATCH)
        this.clients.push(...await Promise.all(batch.map(async (m) => await this.connect(m))))
      }
      if (this.init.register) await this.registerAll(this.clients.map((c) => c.user))
      this.state = 'ready'
      this.log.info({ connections: this.clients.length, registered: this.registered }, 'login load ready')
    } catch (err) {
      this.state = 'failed'
      this.error = describeError(err)
      this.log.error({ err: this.error }, 'login load could not prepare')
    }
  }

  /** Start a run in the background; its result replaces `result` when it ends. */
  startRun (plan: LoadPlan): void {
    if (this.state !== 'ready') throw new ReboundError('BUSY', `login load is ${this.state}`)
    if (plan.mode === 'closed' && plan.concurrency > this.clients.length * STREAMS_PER_CONNECTION) {
      throw new ReboundError('BAD_REQUEST', `concurrency over ${this.clients.length * STREAMS_PER_CONNECTION} (connections x streams)`)
    }
    this.state = 'running'
    this.runs++
    this.running = (plan.mode === 'open' ? this.runOpen(plan.phases) : this.runClosed(plan.concurrency, plan.durationMs))
      .then((result) => { this.result = result })
      .catch((err: unknown) => { this.error = describeError(err); this.log.error({ err: this.error }, 'load run failed') })
      .finally(() => { if (this.state === 'running') this.state = 'ready' })
  }

  async stop (): Promise<void> {
    this.stopController.abort()
    this.state = 'stopped'
    await this.running
    await Promise.all(this.clients.map(async (c) => { await stopQuietly(c.node) }))
  }

  private async connect (member: MemberIdentity): Promise<Client> {
    const node = await createLoadNode(member.ip, await generateKeyPair('Ed25519'), this.log, this.debugFilter)
    let lastError: unknown
    for (let attempt = 1; attempt <= CONNECT_ATTEMPTS; attempt++) {
      try {
        await node.dial(this.target, { signal: AbortSignal.timeout(LOGIN_DEADLINE_MS) })
        return { node, user: member.user, password: swarmPassword(this.init.passwordSeed, member.user), outstanding: 0 }
      } catch (err) {
        lastError = err
        await sleep(CONNECT_RETRY_MS * attempt, this.stopController.signal)
      }
    }
    await stopQuietly(node)
    throw new ReboundError('UNAVAILABLE', `${member.user} could not connect: ${describeError(lastError)}`)
  }

  /**
   * Register the accounts of a swarm (users `range`) through these clients, in the background:
   * before a storm the accounts must exist, and registering is not what a storm measures.
   */
  startRegister (range: RegisterPlan): void {
    if (this.state !== 'ready') throw new ReboundError('BUSY', `login load is ${this.state}`)
    if (range.count > MAX_REGISTER_USERS) throw new ReboundError('BAD_REQUEST', `at most ${MAX_REGISTER_USERS} users`)
    this.state = 'running'
    this.runs++
    const users = Array.from({ length: range.count }, (_, i) => memberUser(range.prefix, range.first + i, range.digits))
    this.running = this.registerAll(users)
      .catch((err: unknown) => { this.error = describeError(err); this.log.error({ err: this.error }, 'registration failed') })
      .finally(() => { if (this.state === 'running') this.state = 'ready' })
  }

  private async registerAll (users: readonly string[]): Promise<void> {
    let index = 0
    const worker = async (w: number): Promise<void> => {
      const client = this.clients[w % this.clients.length]
      // Bounded: each worker takes users off a shared index until none are left.
      while (client !== undefined && index < users.length && !this.stopController.signal.aborted) {
        const user = users[index++]
        if (user !== undefined) await this.register(client, user)
      }
    }
    await Promise.all(Array.from({ length: REGISTER_CONCURRENCY }, async (_, w) => { await worker(w) }))
  }

  private async register (client: Client, user: string): Promise<void> {
    const req: LoginRequest = { type: 'register', user, password: swarmPassword(this.init.passwordSeed, user), deadlineMs: LOGIN_DEADLINE_MS }
    for (let attempt = 1; attempt <= REGISTER_ATTEMPTS; attempt++) {
      try {
        const reply = await request(client.node, this.target, LOGIN_PROTOCOL, req, LoginResponse, LOGIN_DEADLINE_MS)
        if (reply.type === 'registered' || (reply.type === 'error' && reply.code === 'USER_EXISTS')) {
          this.registered++
          return
        }
        if (reply.type === 'error') await sleep(Math.max(reply.retryAfterMs ?? 0, CONNECT_RETRY_MS * attempt), this.stopController.signal)
      } catch (err) {
        this.log.debug({ user, err: describeError(err) }, 'registration attempt failed')
        await sleep(CONNECT_RETRY_MS * attempt, this.stopController.signal)
      }
    }
    throw new ReboundError('UNAVAILABLE', `could not register ${user} in ${REGISTER_ATTEMPTS} attempts`)
  }

  /** The next client (round robin) with a free stream, or undefined when all are full. */
  private pickClient (): Client | undefined {
    for (let i = 0; i < this.clients.length; i++) {
      const client = this.clients[(this.next + i) % this.clients.length]
      if (client !== undefined && client.outstanding < STREAMS_PER_CONNECTION) {
        this.next = (this.next + i + 1) % this.clients.length
        return client
      }
    }
    return undefined
  }

  private async login (client: Client, phase: number, recorder: LoadRecorder, t0: number): Promise<void> {
    const startedMs = performance.now()
    recorder.sent(phase)
    recorder.sentAt(startedMs - t0)
    client.outstanding++
    let outcome: Outcome
    let code = 'OK'
    try {
      const req: LoginRequest = { type: 'login', user: client.user, password: client.password, deadlineMs: LOGIN_DEADLINE_MS }
      const reply = await request(client.node, this.target, LOGIN_PROTOCOL, req, LoginResponse, LOGIN_DEADLINE_MS)
      if (reply.type === 'logged-in') outcome = 'ok'
      else if (reply.type === 'error') { outcome = 'rejected'; code = reply.code } else { outcome = 'failed'; code = 'BAD_REPLY' }
    } catch (err) {
      code = errorCodeOf(err)
      outcome = code === 'TIMEOUT' ? 'timeout' : 'failed'
    } finally {
      client.outstanding--
    }
    const doneMs = performance.now()
    // A ticket that arrived after the deadline is of no use to the client that gave up.
    if (outcome === 'ok' && doneMs - startedMs > LOGIN_DEADLINE_MS) { outcome = 'timeout'; code = 'LATE' }
    recorder.completed(phase, outcome, code, doneMs - startedMs, doneMs - t0)
  }

  private async runOpen (phases: LoadPhase[]): Promise<LoadResult> {
    const schedule = new OpenLoopSchedule(phases)
    const recorder = new LoadRecorder(phaseWindows(phases.map((p) => p.durationMs)))
    const inFlight = new Set<Promise<void>>()
    const startedAtMs = Date.now()
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const signal = this.stopController.signal
    // Bounded by the schedule's total time (each tick advances the clock) and the stop signal.
    while (!schedule.done() && !signal.aborted && performance.now() - t0 < schedule.totalMs + TICK_MS) {
      for (const arrival of schedule.take(performance.now() - t0)) {
        const client = this.pickClient()
        if (client === undefined) {
          recorder.dropped(arrival.phase)
          continue
        }
        const p = this.login(client, arrival.phase, recorder, t0).finally(() => { inFlight.delete(p) })
        inFlight.add(p)
      }
      await sleep(TICK_MS, signal)
    }
    await this.drain(inFlight)
    return this.finish('open', startedAtMs, cpu0, recorder, phases.map((p, i) => ({ ratePerS: p.ratePerS, concurrency: null, durationMs: p.durationMs, missed: schedule.missed[i] ?? 0 })))
  }

  private async runClosed (concurrency: number, durationMs: number): Promise<LoadResult> {
    const recorder = new LoadRecorder(phaseWindows([durationMs]))
    const startedAtMs = Date.now()
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const signal = this.stopController.signal
    const worker = async (w: number): Promise<void> => {
      const client = this.clients[w % this.clients.length]
      if (client === undefined) return
      // Bounded by the run's duration: each request ends within its deadline.
      while (!signal.aborted && performance.now() - t0 < durationMs) await this.login(client, 0, recorder, t0)
    }
    await Promise.all(Array.from({ length: concurrency }, async (_, w) => { await worker(w) }))
    return this.finish('closed', startedAtMs, cpu0, recorder, [{ ratePerS: null, concurrency, durationMs, missed: 0 }])
  }

  private async drain (inFlight: Set<Promise<void>>): Promise<void> {
    await Promise.race([Promise.all([...inFlight]), sleep(LOGIN_DEADLINE_MS + DRAIN_SLACK_MS)])
  }

  private finish (mode: LoadPlan['mode'], startedAtMs: number, cpu0: NodeJS.CpuUsage, recorder: LoadRecorder,
    specs: Parameters<LoadRecorder['phaseResults']>[0]): LoadResult {
    const cpu = process.cpuUsage(cpu0)
    return {
      mode,
      startedAtMs,
      endedAtMs: Date.now(),
      connections: this.clients.length,
      loadCpuS: (cpu.user + cpu.system) / 1e6,
      phases: recorder.phaseResults(specs),
      seconds: recorder.secondRows()
    }
  }
}
