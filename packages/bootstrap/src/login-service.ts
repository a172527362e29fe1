/**
 * The /rebound/login handler: register, log in, renew. A ticket is bound to the peer id that the
 * Noise handshake authenticated on this connection (never to anything the client claims), so a
 * stolen ticket is useless from another peer.
 *
 * Logins and registrations go through admission (admission/controller.ts) before anything costly:
 * the account lookup (SQLite), the hash (scrypt) and the ticket (Ed25519) all happen after it.
 * A refusal is decided and answered with an HMAC-signed waiting-room slot (slot-desk.ts) and
 * nothing else, so that it costs well under 1% of a login (overload.md section 5: at 10x load,
 * 90% goodput needs R <= 1.1%). Its main-thread CPU is measured and exported.
 */
import type { KeyObject } from 'node:crypto'
import type { Connection } from '@libp2p/interface'
import {
  ReboundError, errorCodeOf, errorReply, describeError, issueTicket,
  type ErrorReply, type LoginRequest, type LoginResponse, type Logger, type SupernodeEntry
} from '@rebound/protocol'
import { refusalReasonOf, type AdmissionController } from './admission/controller.js'
import { CpuSampler, type CpuClock } from './cpu-clock.js'
import type { LiveSupernodes } from './live-supernodes.js'
import type { BootstrapMetrics } from './metrics.js'
import { hashPassword, verifyPassword } from './passwords.js'
import { renewal } from './renewal.js'
import { bareReply, type SlotCheck, type SlotDesk } from './slot-desk.js'
import type { Store } from './store.js'

export interface LoginServiceInit {
  ticketTtlMs: number
  /** Cost for new hashes; existing accounts keep the cost they were stored with. */
  scryptN: number
  clusterPrivateKey: KeyObject
  clusterPublicKey: KeyObject
}

export interface LoginServiceDeps {
  store: Store
  admission: AdmissionController
  /** The waiting room's desk; undefined in the naive profile (refusals carry no slot, no hint). */
  desk: SlotDesk | undefined
  supernodes: LiveSupernodes
  metrics: BootstrapMetrics
  /** Wall-clock milliseconds: tickets and slots carry its values. */
  clock: () => number
  cpu: CpuClock
  /** Which requests to time (one in eight by default). */
  cpuSampler?: CpuSampler
  log: Logger
}

type RegisterRequest = Extract<LoginRequest, { type: 'register' }>
type LoginOnlyRequest = Extract<LoginRequest, { type: 'login' }>

const NO_SLOT: SlotCheck = { kind: 'none' }

/** The request handler, to be wrapped by `serveRequests(LoginRequest, ...)`. */
export function loginService (init: LoginServiceInit, deps: LoginServiceDeps): (req: LoginRequest, connection: Connection) => Promise<LoginResponse> {
  const { store, admission, desk, metrics, clock, cpu, log } = deps
  const renew = renewal(init, deps)
  const sampler = deps.cpuSampler ?? new CpuSampler()

  /**
   * Build a refusal and account its CPU when this request is timed: the synchronous admission
   * decision (`decisionUs`) plus building the reply, scaled by the sampling rate.
   */
  function refused (timed: boolean, decisionUs: number, build: () => ErrorReply): ErrorReply {
    const startUs = timed ? cpu() : 0
    const reply = build()
    if (reply.slot !== undefined) metrics.slotsIssued.inc()
    if (timed) metrics.rejectionCpu.inc((decisionUs + cpu() - startUs) * sampler.every / 1e6)
    return reply
  }

  /** A ticket for `user` bound to the connection's peer, with the current supernode list. */
  function grant (user: string, peerId: string): { ticket: string, expiresAtMs: number, supernodes: SupernodeEntry[] } {
    const { token, payload } = issueTicket({ user, peerId, nowMs: clock(), ttlMs: init.ticketTtlMs }, init.clusterPrivateKey)
    return { ticket: token, expiresAtMs: payload.expiresAtMs, supernodes: deps.supernodes.list() }
  }

  async function register (req: RegisterRequest, connection: Connection): Promise<LoginResponse> {
    // A repeated registration (its reply was lost, or an earlier life registered) is answered from
    // the store at once: queued, it would wait behind every login, in the class shed first, to be
    // told this. 500 peers starting: one was shed there nine times and backed off past 100 s.
    if (store.getAccount(req.user) !== undefined) {
      metrics.registerTotal.inc({ result: 'rejected' })
      return errorReply(userExists(req.user))
    }
    const timed = sampler.take()
    const entryUs = timed ? cpu() : 0
    const admitted = admission.run('register', req.deadlineMs, async () => {
      // Checked before hashing so that a repeated registration costs no scrypt.
      if (store.getAccount(req.user) !== undefined) throw userExists(req.user)
      return await hashPassword(req.password, init.scryptN)
    })
    const decisionUs = timed ? cpu() - entryUs : 0
    try {
      const hashed = await admitted
      // Another request (or login server) may have taken the name while we hashed.
      if (!store.insertAccount({ user: req.user, ...hashed, createdAtMs: clock() })) throw userExists(req.user)
      metrics.registerTotal.inc({ result: 'accepted' })
      log.debug({ user: req.user }, 'account registered')
      return { type: 'registered', user: req.user, ...grant(req.user, connection.remotePeer.toString()) }
    } catch (err) {
      const code = errorCodeOf(err)
      metrics.registerTotal.inc({ result: code === 'INTERNAL' ? 'failed' : 'rejected' })
      if (refusalReasonOf(err) !== undefined) {
        return refused(timed, decisionUs, () => desk?.refuseRegistration(err, clock()) ?? bareReply(err))
      }
      if (code === 'INTERNAL') log.error({ user: req.user, err: describeError(err) }, 'registration failed')
      return errorReply(err)
    }
  }

  async function login (req: LoginOnlyRequest, connection: Connection): Promise<LoginResponse> {
    metrics.loginOffered.inc()
    const timed = sampler.take()
    const entryUs = timed ? cpu() : 0
    const arrivedAtMs = clock()
    const who = { user: req.user, peerId: connection.remotePeer.toString() }
    let held = NO_SLOT
    let admitted: Promise<boolean>
    try {
      // The naive server knows nothing of slots and ignores any it is shown.
      if (desk !== undefined) held = desk.check(req.slot, who, arrivedAtMs)
      admitted = admission.run(held.kind === 'due' ? 'slot' : 'login', req.deadlineMs, async () => {
        const account = store.getAccount(req.user)
        if (account === undefined) throw new ReboundError('UNKNOWN_USER', `no account named ${req.user}`, { user: req.user })
        return await verifyPassword(req.password, account)
      })
    } catch (err) {
      // Only a bad slot throws here: forged, foreign, expired or already used.
      metrics.loginRejected.inc({ reason: errorCodeOf(err) })
      return refused(timed, timed ? cpu() - entryUs : 0, () => errorReply(err))
    }
    const decisionUs = timed ? cpu() - entryUs : 0
    try {
      const ok = await admitted
      if (!ok) throw new ReboundError('BAD_PASSWORD', 'wrong password', { user: req.user })
      const granted = grant(req.user, who.peerId)
      metrics.loginAccepted.inc()
      metrics.loginDuration.observe(Math.max(0, clock() - arrivedAtMs) / 1000)
      log.debug({ user: req.user, peerId: who.peerId, supernodes: granted.supernodes.length, slot: held.kind }, 'ticket issued')
      return { type: 'logged-in', ...granted }
    } catch (err) {
      const reason = refusalReasonOf(err)
      if (reason !== undefined) {
        metrics.loginRejected.inc({ reason })
        return refused(timed, decisionUs, () => desk?.refuseLogin(err, who, held, clock()) ?? bareReply(err))
      }
      const code = errorCodeOf(err)
      if (code === 'INTERNAL') {
        metrics.loginFailed.inc()
        log.error({ user: req.user, err: describeError(err) }, 'login failed')
      } else {
        metrics.loginRejected.inc({ reason: code })
      }
      return errorReply(err)
    }
  }

  return async (req, connection) => {
    switch (req.type) {
      case 'renew': return renew(req, connection)
      case 'register': return await register(req, connection)
      case 'login': return await login(req, connection)
    }
  }
}

function userExists (user: string): ReboundError {
  return new ReboundError('USER_EXISTS', `account ${user} already exists`, { user })
}
