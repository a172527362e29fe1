/**
 * A login server: the account store, the login and registry protocols over libp2p, and the HTTP
 * observation endpoints. Several of these, in separate processes, share one store file.
 * Start order is store, libp2p, HTTP; stop is the reverse, so nothing is served from a closed store.
 */
import { availableParallelism } from 'node:os'
import type { KeyObject } from 'node:crypto'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  LOGIN_PROTOCOL, LoginRequest, REGISTRY_PROTOCOL, RegistryRequest, describeError, loadOrCreateIdentity,
  publicKeyOf, serveRequests, startHttpServer,
  type HttpServerHandle, type LoginServerHealth, type Logger
} from '@rebound/protocol'
import type { BootstrapConfig } from './config.js'
import { HashGate } from './hash-gate.js'
import { startServerNode, type ServerNode } from './libp2p.js'
import { LiveSupernodes } from './live-supernodes.js'
import { loginService } from './login-service.js'
import { createMetrics, type BootstrapMetrics } from './metrics.js'
import { registryService } from './registry-service.js'
import { Store } from './store.js'

/** A client has this long after opening a stream to send its request. */
export const REQUEST_READ_TIMEOUT_MS = 5000
/** Streams per connection and protocol: one exchange at a time is normal, a few retries overlap. */
export const MAX_INBOUND_STREAMS = 8
/** scrypt runs on libuv's pool (4 threads); more parallel hashes than cores only add latency. */
export const HASH_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism()))
/** Logins waiting for a hash slot; ~2 s of work at 2^14 on two cores, beyond it clients retry. */
export const MAX_QUEUED_HASHES = 1024
export const OVERLOADED_RETRY_AFTER_MS = 2000
/** How often rows of expired certificates are deleted (any server may do it; it is idempotent). */
export const PRUNE_INTERVAL_MS = 60_000

export type LoginServerInit = Omit<BootstrapConfig, 'clusterKeyFile' | 'logLevel'> & {
  clusterPrivateKey: KeyObject
  /** libp2p debug components to log; none by default. */
  libp2pDebug?: RegExp | undefined
}

export interface LoginServerDeps {
  log: Logger
  /** Wall-clock milliseconds; tickets and certificates carry its values. */
  clock?: () => number
}

type Status = 'new' | 'starting' | 'started' | 'stopping' | 'stopped'

export class LoginServer {
  private readonly init: LoginServerInit
  private readonly log: Logger
  private readonly clock: () => number
  private status: Status = 'new'
  private startedAtMs = 0
  private store: Store | undefined
  private supernodes: LiveSupernodes | undefined
  private node: ServerNode | undefined
  private http: HttpServerHandle | undefined
  private pruneTimer: NodeJS.Timeout | undefined
  private stopping: Promise<void> | undefined
  private metrics: BootstrapMetrics | undefined

  constructor (init: LoginServerInit, deps: LoginServerDeps) {
    this.init = init
    this.log = deps.log
    this.clock = deps.clock ?? Date.now
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

  health (): LoginServerHealth {
    return {
      ok: this.status === 'started',
      peerId: this.node?.peerId.toString() ?? '',
      addrs: this.node?.getMultiaddrs().map(String) ?? [],
      pid: process.pid,
      startedAtMs: this.startedAtMs,
      supernodes: this.supernodes?.count() ?? 0
    }
  }

  private async startParts (): Promise<void> {
    const { init, clock, log } = this
    const privateKey = await loadOrCreateIdentity(init.dataDir)
    const store = this.store = Store.open(init.store)
    const supernodes = this.supernodes = new LiveSupernodes({ heartbeatTimeoutMs: init.heartbeatTimeoutMs }, { store, clock })
    const metrics = this.metrics = createMetrics(() => supernodes.count())
    const gate = new HashGate({ concurrency: HASH_CONCURRENCY, maxQueued: MAX_QUEUED_HASHES, retryAfterMs: OVERLOADED_RETRY_AFTER_MS }, clock)
    const login = loginService(
      { ticketTtlMs: init.ticketTtlMs, scryptN: init.scryptN, clusterPrivateKey: init.clusterPrivateKey },
      { store, gate, supernodes, metrics, clock, log: log.child({ component: 'login' }) })
    const registry = registryService(
      { operatorToken: init.operatorToken, certTtlMs: init.certTtlMs, clusterPrivateKey: init.clusterPrivateKey, clusterPublicKey: publicKeyOf(init.clusterPrivateKey) },
      { store, supernodes, metrics, clock, log: log.child({ component: 'registry' }) })
    const serve = { readTimeoutMs: REQUEST_READ_TIMEOUT_MS }
    this.node = await startServerNode({
      listen: init.listen,
      port: init.port,
      privateKey,
      log,
      debugFilter: init.libp2pDebug,
      handlers: [
        { protocol: LOGIN_PROTOCOL, handler: serveRequests(LoginRequest, login, { ...serve, log: log.child({ component: 'login' }) }), maxInboundStreams: MAX_INBOUND_STREAMS },
        { protocol: REGISTRY_PROTOCOL, handler: serveRequests(RegistryRequest, registry, { ...serve, log: log.child({ component: 'registry' }) }), maxInboundStreams: MAX_INBOUND_STREAMS }
      ]
    })
    this.http = await startHttpServer(init.listen, init.httpPort, {
      'GET /healthz': () => ({ status: 200, body: this.health() }),
      'GET /metrics': async () => ({ status: 200, body: await metrics.register.metrics(), contentType: metrics.register.contentType })
    }, log.child({ component: 'http' }))
    this.pruneTimer = setInterval(() => { this.prune() }, PRUNE_INTERVAL_MS)
    this.pruneTimer.unref()
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
