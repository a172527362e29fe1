/**
 * The /rebound/login handler: register and log in. A ticket is bound to the peer id that the
 * Noise handshake authenticated on this connection (never to anything the client claims), so a
 * stolen ticket is useless from another peer. Password hashing goes through the HashGate, which
 * refuses requests whose deadline passed while they waited.
 */
import type { KeyObject } from 'node:crypto'
import type { Connection } from '@libp2p/interface'
import {
  ReboundError, errorCodeOf, errorReply, describeError, issueTicket,
  type LoginRequest, type LoginResponse, type Logger
} from '@rebound/protocol'
import type { HashGate } from './hash-gate.js'
import type { LiveSupernodes } from './live-supernodes.js'
import type { BootstrapMetrics } from './metrics.js'
import { hashPassword, verifyPassword } from './passwords.js'
import type { Store } from './store.js'

export interface LoginServiceInit {
  ticketTtlMs: number
  /** Cost for new hashes; existing accounts keep the cost they were stored with. */
  scryptN: number
  clusterPrivateKey: KeyObject
}

export interface LoginServiceDeps {
  store: Store
  gate: HashGate
  supernodes: LiveSupernodes
  metrics: BootstrapMetrics
  clock: () => number
  log: Logger
}

type RegisterRequest = Extract<LoginRequest, { type: 'register' }>
type LoginOnlyRequest = Extract<LoginRequest, { type: 'login' }>

/** The request handler, to be wrapped by `serveRequests(LoginRequest, ...)`. */
export function loginService (init: LoginServiceInit, deps: LoginServiceDeps): (req: LoginRequest, connection: Connection) => Promise<LoginResponse> {
  const { store, gate, metrics, clock, log } = deps

  async function register (req: RegisterRequest, deadlineAtMs: number): Promise<LoginResponse> {
    try {
      // Checked before hashing so that a repeated registration costs no scrypt.
      if (store.getAccount(req.user) !== undefined) throw userExists(req.user)
      const hashed = await gate.run(deadlineAtMs, async () => await hashPassword(req.password, init.scryptN))
      // Another request (or login server) may have taken the name while we hashed.
      if (!store.insertAccount({ user: req.user, ...hashed, createdAtMs: clock() })) throw userExists(req.user)
      metrics.registerTotal.inc({ result: 'accepted' })
      log.debug({ user: req.user }, 'account registered')
      return { type: 'registered', user: req.user }
    } catch (err) {
      const code = errorCodeOf(err)
      metrics.registerTotal.inc({ result: code === 'INTERNAL' ? 'failed' : 'rejected' })
      if (code === 'INTERNAL') log.error({ user: req.user, err: describeError(err) }, 'registration failed')
      return errorReply(err)
    }
  }

  async function login (req: LoginOnlyRequest, connection: Connection, startedAtMs: number, deadlineAtMs: number): Promise<LoginResponse> {
    metrics.loginOffered.inc()
    try {
      const account = store.getAccount(req.user)
      if (account === undefined) throw new ReboundError('UNKNOWN_USER', `no account named ${req.user}`, { user: req.user })
      const ok = await gate.run(deadlineAtMs, async () => await verifyPassword(req.password, account))
      if (!ok) throw new ReboundError('BAD_PASSWORD', 'wrong password', { user: req.user })
      const peerId = connection.remotePeer.toString()
      const nowMs = clock()
      const { token, payload } = issueTicket({ user: req.user, peerId, nowMs, ttlMs: init.ticketTtlMs }, init.clusterPrivateKey)
      const supernodes = deps.supernodes.list()
      metrics.loginAccepted.inc()
      metrics.loginDuration.observe(Math.max(0, nowMs - startedAtMs) / 1000)
      log.debug({ user: req.user, peerId, supernodes: supernodes.length }, 'ticket issued')
      return { type: 'logged-in', ticket: token, expiresAtMs: payload.expiresAtMs, supernodes }
    } catch (err) {
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
    // deadlineMs is the client's budget for the whole exchange, counted from when we got it.
    const startedAtMs = clock()
    const deadlineAtMs = startedAtMs + req.deadlineMs
    return req.type === 'register'
      ? await register(req, deadlineAtMs)
      : await login(req, connection, startedAtMs, deadlineAtMs)
  }
}

function userExists (user: string): ReboundError {
  return new ReboundError('USER_EXISTS', `account ${user} already exists`, { user })
}
