/**
 * A login server: the account store, the login, registry and user-data protocols over libp2p, and
 * the HTTP endpoints (observation, and GET /data for checkers). Several of these, in separate
 * processes, share one store file.
 * Start order is store, libp2p, HTTP; stop is the reverse, so nothing is served from a closed store.
 */
import { performance } from 'node:perf_hooks'
import type { KeyObject } from 'node:crypto'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  DATA_PROTOCOL, DataRequest, LOGIN_PROTOCOL, LoginRequest, REGISTRY_PROTOCOL, RegistryRequest, deriveSlotKey, describeError, loadOrCreateIdentity,
  publicKeyOf, serveRequests, startHttpServer,
  type HttpServerHandle, type LoginServerHealth, type Logger, type Profile
} from '@rebound/protocol'
import { CapacityEstimator } from './admission/capacity.js'
import { AimdLimit, FixedLimit, type AimdLimitInit } from './admission/concurrency-limit.js'
import { AdmissionController, type Scheduler } from './admission/controller.js'
import { INITIAL_CONCURRENCY, NAIVE_CONCURRENCY, admissionPolicy, type AdmissionClass, type AdmissionPolicy, type QueuePolicy } from './admission/policy.js'
import { UsedSlots } from './admission/used-slots.js'
import { WaitingRoom } from './admission/waiting-room.js'
import {
  DEFAULT_DEMOTE_BELOW, DEFAULT_ELECTED_CERT_TTL_MS, DEFAULT_MAX_NEW_CONNECTIONS_PER_S, DEFAULT_MAX_PENDING_CONNECTIONS,
  DEFAULT_MIN_SUPERNODES, DEFAULT_PROMOTE_ABOVE, DEFAULT_PROMOTION_RATE_PER_S, type BootstrapConfig
} from './config.js'
import { ConnectionGate, HOLD_SHARE_OF_UPGRADE, MAX_HELD_CONNECTIONS, MAX_HOLD_MS } from './connection-gate.js'
import { threadCpuMicros } from './cpu-clock.js'
import { dataService, userDataRoute } from './data-service.js'
import { ElectionPolicy } from './election/policy.js'
import { startServerNode, type ConnectionLimits, type ServerNode } from './libp2p.js'
import { LiveSupernodes } from './live-supernodes.js'
import { loginService } from './login-service.js'
import { createMetrics, type BootstrapMetrics } from './metrics.js'
import { hashPassword } from './passwords.js'
import { registryService } from './registry-service.js'
import { SlotDesk } from './slot-desk.js'
import { Store } from './store.js'

/** A client has this long after opening a stream to send its request. */
export const REQUEST_READ_TIMEOUT_MS = 5000
/** Streams per connection and protocol: one exchange at a time is normal, a few retries overlap. */
export const MAX_INBOUND_STREAMS = 8
/**
 * A connection not upgraded by then (counted from accept: the gate's hold, then Noise + yamux) is
 * dropped, so connections that never complete Noise hold a pending place for at most 5 s less
 * their hold, not libp2p's default 30 s (a loopback handshake takes ~10 ms; on 2 saturated cores
 * in a 1000-client storm, up to a second or two). Clients dial with a 5 s timeout too.
 */
export const INBOUND_UPGRADE_TIMEOUT_MS = 5000
/** Calibration hashes at start-up; the fastest is the first estimate of a hash's cost (mu). */
export const CALIBRATION_HASHES = 2
/** How often rows of expired certificates are deleted (any server may do it; it is idempotent). */
export const PRUNE_INTERVAL_MS = 60_000

type OptionalConfig = 'profile' | 'maxNewConnectionsPerS' | 'maxPendingConnections' |
  'minSupernodes' | 'promoteAbove' | 'demoteBelow' | 'promotionRate' | 'electedCertTtlMs'

export type LoginServerInit = Omit<BootstrapConfig, 'clusterKeyFile' | 'logLevel' | OptionalConfig> & Partial<Pick<BootstrapConfig, OptionalConfig>> & {
  clusterPrivateKey: KeyObject
  /** libp2p debug components to log; none by default. */
  libp2pDebug?: RegExp | undefined
  /** Overrides of the built-in constants, for tests that need a tiny server. */
  tuning?: LoginServerTuning
}

export interface LoginServerTuning {
  limit?: Partial<AimdLimitInit>
  queues?: Partial<Record<AdmissionClass, Partial<QueuePolicy>>>
  inboundUpgradeTimeoutMs?: number
  connectionBurst?: number
}

export interface LoginServerDeps {
  log: Logger
  /** Wall-clock milliseconds; tickets, certificates and slots carry its values. */
  clock?: () => number
  /** Monotonic milliseconds for queueing and rate limits (performance.now by default). */
  monotonicClock?: () => number
  /** Timers of the admission queue sweep (setTimeout by default). */
  schedule?: Scheduler
  /** In [0, 1): the jitter of the election's "not now" and ties in the supernode list (Math.random by default). */
  random?: () => number
}

export type LoginServerHealthReply = LoginServerHealth & { profile: Profile }

type Status = 'new' | 'starting' | 'started' | 'stopping' | 'stopped'

export class LoginServer {
  private readonly init: LoginServerInit
  private readonly log: Logger
  private readonly clock: () => number
  private readonly deps: LoginServerDeps
  private readonly profile: Profile
  private status: Status = 'new'
  private startedAtMs = 0
  private store: Store | undefined
  private supernodes: LiveSupernodes | undefined
  private node: ServerNode | undefined
  private http: HttpServerHandle | undefined
  private pruneTimer: NodeJS.Timeout | undefined
  private stopping: Promise<void> | undefined
  private metrics: BootstrapMetrics | undefined
  private admission: AdmissionController | undefined
  private gate: ConnectionGate | undefined

  constructor (init: LoginServerInit, deps: LoginServerDeps) {
    this.init = init
    this.log = deps.log
    this.clock = deps.clock ?? Date.now
    this.deps = deps
    this.profile = init.profile ?? 'defended'
  }

  get peerId (): string {
    return this.requireNode().peerId.toString()
  }

  /** Listening addresses with /p2p/<peer id>; the real port when started with port 0. */
  get multiaddrs (): Multiaddr[] {
    return this.requireNode().getMultiaddrs()
  }

  get httpPort (): number {
    if (this.http === undefined) throw new Error('login server is not started')
    return this.http.port
  }

  async start (): Promise<void> {
    if (this.status !== 'new') throw new Error(`cannot start a login server that is ${this.status}`)
    this.status = 'starting'
    this.startedAtMs = this.clock()
    try {
      await this.startParts()
      this.status = 'started'
    } catch (err) {
      await this.stopParts()
      this.status = 'stopped'
      throw err
    }
  }

  /** Idempotent; concurrent callers share one stop. */
  async stop (): Promise<void> {
    if (this.status === 'new') this.status = 'stopped'
    if (this.status === 'stopped') return
    this.stopping ??= (async () => {
      this.status = 'stopping'
      await this.stopParts()
      this.status = 'stopped'
      this.log.info('login server stopped')
    })()
    await this.stopping
  }

  /** Connections let through the gate and still in their handshake (0 in the naive profile). */
  get pendingConnections (): number {
    return this.gate?.pendingCount ?? 0
  }

  /** The protocol schema has no `profile` yet; zod strips unknown keys, so old readers are unaffected. */
  health (): LoginServerHealthReply {
    return {
      ok: this.status === 'started',
      profile: this.profile,
      peerId: this.node?.peerId.toString() ?? '',
      addrs: this.node?.getMultiaddrs().map(String) ?? [],
      pid: process.pid,
      startedAtMs: this.startedAtMs,
      supernodes: this.supernodes?.count() ?? 0,
      ...(this.store === undefined ? {} : { storeId: this.store.data.storeId })
    }
  }

  private async startParts (): Promise<void> {
    const { init, clock, log, profile } = this
    const monotonic = this.deps.monotonicClock ?? (() => performance.now())
    const privateKey = await loadOrCreateIdentity(init.dataDir)
    const serverPeerId = peerIdFromPrivateKey(privateKey).toString()
    const store = this.store = Store.open(init.store)
    const random = this.deps.random ?? Math.random
    const supernodes = this.supernodes = new LiveSupernodes({ heartbeatTimeoutMs: init.heartbeatTimeoutMs }, { store, clock, random })
    const metrics = this.metrics = createMetrics({
      countLiveSupernodes: () => supernodes.count(),
      supernodeUtilisation: () => supernodes.utilisation(),
      admission: () => this.admission
    })
    const admission = this.admission = new AdmissionController({
      policy: this.policy(),
      limit: profile === 'naive' ? new FixedLimit(NAIVE_CONCURRENCY) : new AimdLimit({ initial: INITIAL_CONCURRENCY, ...init.tuning?.limit }),
      // First guess until a saturated spell measures it: the initial limit's hashes in parallel.
      capacity: new CapacityEstimator((INITIAL_CONCURRENCY * 1000) / await calibrate(init.scryptN))
    }, {
      clock: monotonic,
      ...(this.deps.schedule === undefined ? {} : { schedule: this.deps.schedule }),
      onStart: (cls, queueDelayMs) => { metrics.queueDelay.observe({ class: cls }, queueDelayMs / 1000) }
    })
    const desk = profile === 'naive'
      ? undefined
      : new SlotDesk({ key: deriveSlotKey(init.clusterPrivateKey), serverPeerId: () => serverPeerId },
        { room: new WaitingRoom(), used: new UsedSlots(), capacityPerS: () => admission.capacityPerS() })
    const clusterPublicKey = publicKeyOf(init.clusterPrivateKey)
    const login = loginService(
      { ticketTtlMs: init.ticketTtlMs, scryptN: init.scryptN, clusterPrivateKey: init.clusterPrivateKey, clusterPublicKey },
      { store, admission, desk, supernodes, metrics, clock, cpu: threadCpuMicros, log: log.child({ component: 'login' }) })
    const registry = registryService({
      operatorToken: init.operatorToken,
      certTtlMs: init.certTtlMs,
      electedCertTtlMs: init.electedCertTtlMs ?? DEFAULT_ELECTED_CERT_TTL_MS,
      heartbeatTimeoutMs: init.heartbeatTimeoutMs,
      clusterPrivateKey: init.clusterPrivateKey,
      clusterPublicKey
    }, { store, supernodes, metrics, election: this.election(clock, random), clock, log: log.child({ component: 'registry' }) })
    // Not behind admission: a data request costs no hash (data-service.ts).
    const data = dataService({ clusterPublicKey }, { data: store.data, metrics, clock, log: log.child({ component: 'data' }) })
    const serve = { readTimeoutMs: REQUEST_READ_TIMEOUT_MS }
    this.node = await startServerNode({
      listen: init.listen,
      port: init.port,
      privateKey,
      log,
      debugFilter: init.libp2pDebug,
      limits: this.connectionLimits(monotonic, metrics),
      handlers: [
        { protocol: LOGIN_PROTOCOL, handler: serveRequests(LoginRequest, login, { ...serve, log: log.child({ component: 'login' }) }), maxInboundStreams: MAX_INBOUND_STREAMS },
        { protocol: REGISTRY_PROTOCOL, handler: serveRequests(RegistryRequest, registry, { ...serve, log: log.child({ component: 'registry' }) }), maxInboundStreams: MAX_INBOUND_STREAMS },
        { protocol: DATA_PROTOCOL, handler: serveRequests(DataRequest, data, { ...serve, log: log.child({ component: 'data' }) }), maxInboundStreams: MAX_INBOUND_STREAMS }
      ]
    })
    this.http = await startHttpServer(init.listen, init.httpPort, {
      'GET /healthz': () => ({ status: 200, body: this.health() }),
      'GET /metrics': async () => ({ status: 200, body: await metrics.register.metrics(), contentType: metrics.register.contentType }),
      'GET /data': userDataRoute({ operatorToken: init.operatorToken }, { data: store.data })
    }, log.child({ component: 'http' }))
    this.pruneTimer = setInterval(() => { this.prune() }, PRUNE_INTERVAL_MS)
    this.pruneTimer.unref()
  }

  /** The naive profile elects without admission control (election/policy.ts ElectionInit). */
  private election (clock: () => number, random: () => number): ElectionPolicy {
    const { init } = this
    return new ElectionPolicy({
      minSupernodes: init.minSupernodes ?? DEFAULT_MIN_SUPERNODES,
      promoteAbove: init.promoteAbove ?? DEFAULT_PROMOTE_ABOVE,
      demoteBelow: init.demoteBelow ?? DEFAULT_DEMOTE_BELOW,
      promotionRatePerS: init.promotionRate ?? DEFAULT_PROMOTION_RATE_PER_S,
      admissionControl: this.profile !== 'naive'
    }, { clock, random })
  }

  private policy (): AdmissionPolicy {
    const policy = admissionPolicy(this.profile)
    const overrides = this.init.tuning?.queues ?? {}
    for (const [cls, over] of Object.entries(overrides) as Array<[AdmissionClass, Partial<QueuePolicy>]>) {
      policy.queues[cls] = { ...policy.queues[cls], ...over }
    }
    return policy
  }

  /** The naive server has no gate: only libp2p's defaults, raised (libp2p.ts). */
  private connectionLimits (monotonic: () => number, metrics: BootstrapMetrics): ConnectionLimits | undefined {
    if (this.profile === 'naive') return undefined
    const { init } = this
    const maxPendingConnections = init.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS
    const inboundUpgradeTimeoutMs = init.tuning?.inboundUpgradeTimeoutMs ?? INBOUND_UPGRADE_TIMEOUT_MS
    const gate = this.gate = new ConnectionGate({
      maxNewConnectionsPerS: init.maxNewConnectionsPerS ?? DEFAULT_MAX_NEW_CONNECTIONS_PER_S,
      maxPendingConnections,
      // The upgrade timeout runs from accept: a hold may use 60% of it, the handshake the rest.
      maxHoldMs: Math.min(MAX_HOLD_MS, Math.floor(inboundUpgradeTimeoutMs * HOLD_SHARE_OF_UPGRADE)),
      ...(init.tuning?.connectionBurst === undefined ? {} : { burst: init.tuning.connectionBurst })
    }, {
      clock: monotonic,
      onRefused: (reason) => { metrics.connectionsRefused.inc({ reason }) },
      onAdmitted: () => { metrics.connectionsAdmitted.inc() }
    })
    return { gater: gate.gater(), maxPendingConnections, maxHeldConnections: MAX_HELD_CONNECTIONS, inboundUpgradeTimeoutMs }
  }

  private prune (): void {
    try {
      const removed = this.store?.pruneExpiredSupernodes(this.clock()) ?? 0
      if (removed > 0) this.log.debug({ removed }, 'expired supernodes pruned')
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'pruning the supernode registry failed')
    }
  }

  /** Stops whatever was started, newest first; each part is stopped even if another fails. */
  private async stopParts (): Promise<void> {
    clearInterval(this.pruneTimer)
    this.pruneTimer = undefined
    const steps: Array<[string, () => Promise<void> | void]> = [
      ['admission', () => { this.admission?.close() }],
      ['http', async () => { await this.http?.close() }],
      ['libp2p', async () => { await this.node?.stop() }],
      ['store', () => { this.store?.close() }]
    ]
    for (const [part, step] of steps) {
      try {
        await step()
      } catch (err) {
        this.log.warn({ part, err: describeError(err) }, 'stopping a part failed')
      }
    }
  }

  private requireNode (): ServerNode {
    if (this.node === undefined) throw new Error('login server is not started')
    return this.node
  }
}

/** The cost of one hash on this machine now, as the first estimate of capacity (capacity.ts). */
async function calibrate (scryptN: number): Promise<number> {
  let fastestMs = Infinity
  for (let i = 0; i < CALIBRATION_HASHES; i++) {
    const startMs = performance.now()
    await hashPassword('calibration', scryptN)
    fastestMs = Math.min(fastestMs, performance.now() - startMs)
  }
  return fastestMs
}
