/**
 * One rebound-node process: its libp2p node, its data directory, and its role (client, or
 * operator supernode). Started and stopped in order; stop is idempotent.
 */
import { randomInt } from 'node:crypto'
import {
  ReboundError, loadOrCreateIdentity, publicKeyFromBase64, startHttpServer,
  type HttpServerHandle, type Logger, type NodeStatus, type SendResult
} from '@rebound/protocol'
import { ClientAgent } from './client/client-agent.js'
import { ClientStateFile } from './client/client-state.js'
import { Inbox } from './client/inbox.js'
import type { NodeConfig } from './config.js'
import { controlRoutes } from './control-api.js'
import { createPeerNode, type PeerNode } from './libp2p.js'
import { NodeMetrics } from './metrics.js'
import { Supernode } from './supernode/supernode.js'

export interface PeerDeps {
  log: Logger
  now?: () => number
  random?: () => number
  debugFilter?: RegExp
  /** Serve the HTTP control port (default true); a swarm process serves one for all its peers. */
  http?: boolean
}

/** Process-level randomness: crypto-strength, so no two restarted peers draw the same jitter. */
function defaultRandom (): number {
  return randomInt(0, 2 ** 47) / 2 ** 47
}

export class Peer {
  readonly metrics: NodeMetrics
  inbox: Inbox | undefined
  node!: PeerNode
  private agent: ClientAgent | undefined
  private supernode: Supernode | undefined
  private http: HttpServerHandle | undefined
  private readonly startedAtMs: number
  private readonly now: () => number
  private readonly random: () => number
  private stopped: Promise<void> | undefined

  constructor (private readonly config: NodeConfig, private readonly deps: PeerDeps) {
    this.now = deps.now ?? Date.now
    this.random = deps.random ?? defaultRandom
    this.startedAtMs = this.now()
    this.metrics = new NodeMetrics({ processMetrics: deps.http !== false })
  }

  /** Supernode role: the certificate the registry issued (null until certified, or for a client). */
  get supernodeCertificate (): string | null {
    return this.supernode?.certificate ?? null
  }

  get httpPort (): number | undefined {
    return this.http?.port
  }

  async start (): Promise<void> {
    const { config, deps } = this
    const clusterKey = publicKeyFromBase64(config.clusterPubkey)
    const privateKey = await loadOrCreateIdentity(config.dataDir)
    const nodeInit = { listen: config.listen, port: config.port, privateKey, log: deps.log }
    this.node = await createPeerNode(deps.debugFilter === undefined ? nodeInit : { ...nodeInit, debugFilter: deps.debugFilter })
    await this.node.start()
    const common = { node: this.node, clusterKey, metrics: this.metrics, log: deps.log, random: this.random, now: this.now }
    if (config.supernode) {
      this.supernode = new Supernode({
        loginServers: config.loginServers,
        operatorToken: config.operatorToken ?? '',
        capacity: config.capacity,
        joinRate: config.joinRate,
        joinBurst: config.joinBurst,
        heartbeatMs: config.heartbeatMs,
        orphanWindowMs: config.orphanWindowMs,
        class: 'operator'
      }, common)
      await this.supernode.start()
    } else {
      if (config.user === undefined || config.password === undefined) throw new ReboundError('BAD_CONFIG', 'a client needs --user and a password')
      this.inbox = new Inbox(config.dataDir)
      this.agent = new ClientAgent(
        { user: config.user, password: config.password, register: config.register, loginServers: config.loginServers, profile: config.profile },
        { ...common, stateFile: new ClientStateFile(config.dataDir), inbox: this.inbox }
      )
      await this.agent.start()
    }
    if (deps.http !== false) this.http = await startHttpServer(config.listen, config.httpPort, controlRoutes(this), deps.log)
    deps.log.info({ peerId: this.node.peerId.toString(), addrs: this.node.getMultiaddrs().map(String), role: config.supernode ? 'supernode' : 'client', httpPort: this.http?.port ?? null }, 'node started')
  }

  async stop (): Promise<void> {
    this.stopped ??= this.doStop()
    await this.stopped
  }

  private async doStop (): Promise<void> {
    await this.http?.close()
    await this.agent?.stop()
    await this.supernode?.stop()
    await this.node?.stop()
    this.inbox?.close()
  }

  async send (message: { id: string, to: string, body: string }, deadlineMs: number): Promise<SendResult> {
    const started = this.now()
    if (this.agent === undefined || this.config.user === undefined) {
      throw new ReboundError('BAD_REQUEST', 'a supernode process has no user session to send from')
    }
    this.metrics.counters.messagesSent++
    const outcome = await this.agent.send({ ...message, from: this.config.user, sentAtMs: started }, deadlineMs)
    if (outcome.ok) this.metrics.counters.messagesDelivered++
    else this.metrics.counters.messagesFailed++
    this.metrics.messages.inc({ result: outcome.ok ? 'ok' : (outcome.code ?? 'INTERNAL') })
    const result: SendResult = { id: message.id, ok: outcome.ok, latencyMs: this.now() - started }
    if (outcome.code !== undefined) result.code = outcome.code
    return result
  }

  status (): NodeStatus {
    const sn = this.supernode
    const certified = sn?.certificate != null
    return {
      peerId: this.node.peerId.toString(),
      pid: process.pid,
      role: sn === undefined ? 'client' : 'supernode',
      user: this.config.user ?? null,
      // A supernode counts as attached (to the overlay) once certified.
      state: sn === undefined ? (this.agent?.state ?? 'starting') : (certified ? 'attached' : 'starting'),
      supernode: sn === undefined ? (this.agent?.supernode ?? null) : null,
      attachedAtMs: sn === undefined ? (this.agent?.attachedAtMs ?? null) : sn.certifiedAtMs,
      loggedInAtMs: this.agent?.loggedInAtMs ?? null,
      profile: this.config.profile,
      startedAtMs: this.startedAtMs,
      ticketExpiresAtMs: this.agent?.ticketExpiresAtMs ?? null,
      knownSupernodes: sn?.knownSupernodes ?? this.agent?.knownSupernodes ?? 0,
      supernodeClass: sn === undefined ? null : 'operator',
      clients: sn?.sessions.size ?? null,
      capacity: sn === undefined ? null : this.config.capacity,
      counters: this.metrics.counters
    }
  }
}
