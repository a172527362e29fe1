/**
 * One rebound-node process: its libp2p node, its data directory, and its role: an operator
 * supernode, or a client. An eligible client (--eligible) also offers itself to the registry
 * (candidacy.ts); once promoted it serves as an elected supernode besides its own user session,
 * until the registry demotes it. Started and stopped in order; stop is idempotent.
 */
import { randomInt, type KeyObject } from 'node:crypto'
import {
  ReboundError, loadOrCreateIdentity, publicKeyFromBase64, startHttpServer,
  type HttpServerHandle, type Logger, type LookupResult, type NodeStatus, type SendResult
} from '@rebound/protocol'
import { ClientAgent } from './client/client-agent.js'
import { ClientStateFile } from './client/client-state.js'
import { Inbox } from './client/inbox.js'
import type { NodeConfig } from './config.js'
import { controlRoutes } from './control-api.js'
import { createPeerNode, type PeerNode } from './libp2p.js'
import { NodeMetrics } from './metrics.js'
import { Candidacy } from './candidacy.js'
import { RegistryClient } from './supernode/registry-client.js'
import { Supernode } from './supernode/supernode.js'

/** After a demotion, the peer waits this long before offering itself again. */
export const OFFER_AGAIN_AFTER_DEMOTION_MS = 60_000

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
  private candidacy: Candidacy | undefined
  private clusterKey!: KeyObject
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
    this.clusterKey = publicKeyFromBase64(config.clusterPubkey)
    const privateKey = await loadOrCreateIdentity(config.dataDir)
    const nodeInit = { listen: config.listen, port: config.port, privateKey, log: deps.log }
    this.node = await createPeerNode(deps.debugFilter === undefined ? nodeInit : { ...nodeInit, debugFilter: deps.debugFilter })
    await this.node.start()
    if (config.supernode) {
      this.supernode = this.supernodeRole('operator')
      await this.supernode.start()
    } else {
      if (config.user === undefined || config.password === undefined) throw new ReboundError('BAD_CONFIG', 'a client needs --user and a password')
      this.inbox = new Inbox(config.dataDir)
      this.agent = new ClientAgent(
        { user: config.user, password: config.password, register: config.register, loginServers: config.loginServers, profile: config.profile },
        { ...this.common(), stateFile: new ClientStateFile(config.dataDir), inbox: this.inbox, onOrphaned: () => { this.candidacy?.nudge() } }
      )
      await this.agent.start()
      if (config.eligible) this.offerToServe()
    }
    if (deps.http !== false) this.http = await startHttpServer(config.listen, config.httpPort, controlRoutes(this), deps.log)
    deps.log.info({ peerId: this.node.peerId.toString(), addrs: this.node.getMultiaddrs().map(String), role: config.supernode ? 'supernode' : 'client', httpPort: this.http?.port ?? null }, 'node started')
  }

  async stop (): Promise<void> {
    this.stopped ??= this.doStop()
    await this.stopped
  }

  /** What every role is built with. */
  private common (): { node: PeerNode, clusterKey: KeyObject, metrics: NodeMetrics, log: Logger, random: () => number, now: () => number } {
    return { node: this.node, clusterKey: this.clusterKey, metrics: this.metrics, log: this.deps.log, random: this.random, now: this.now }
  }

  private supernodeRole (cls: 'operator' | 'elected', certificate?: string): Supernode {
    const { config } = this
    const init = {
      loginServers: config.loginServers,
      operatorToken: config.operatorToken ?? '',
      capacity: config.capacity,
      joinRate: config.joinRate,
      joinBurst: config.joinBurst,
      heartbeatMs: config.heartbeatMs,
      orphanWindowMs: config.orphanWindowMs,
      class: cls
    }
    return new Supernode(certificate === undefined ? init : { ...init, certificate }, {
      ...this.common(),
      // Not awaited here: the heartbeat that carried the demotion is still running.
      onDemote: () => { void this.stepDown() }
    })
  }

  /** Eligible client: offer to serve as an elected supernode, now or after `delayMs`. */
  private offerToServe (delayMs?: number): void {
    if (this.stopped !== undefined) return
    this.candidacy = new Candidacy({
      registry: new RegistryClient(this.node, this.config.loginServers, this.random),
      offer: () => {
        const ticket = this.agent?.ticket
        if (ticket == null) return undefined
        return { ticket, addrs: this.node.getMultiaddrs().map(String), capacity: this.config.capacity, uptimeMs: Math.max(0, this.now() - this.startedAtMs) }
      },
      onPromoted: async (certificate) => { await this.promote(certificate) },
      log: this.deps.log.child({ component: 'candidacy' }),
      random: this.random,
      now: this.now
    })
    this.candidacy.start(delayMs)
  }

  private async promote (certificate: string): Promise<void> {
    if (this.stopped !== undefined || this.supernode !== undefined) return
    const role = this.supernodeRole('elected', certificate)
    this.supernode = role
    await role.start()
  }

  /** Demoted: drain (its clients re-home after U(0, W)), stop serving, stay a client, offer again later. */
  private async stepDown (): Promise<void> {
    const role = this.supernode
    if (role === undefined || role.supernodeClass !== 'elected') return
    this.supernode = undefined
    await role.stop()
    this.offerToServe(OFFER_AGAIN_AFTER_DEMOTION_MS)
  }

  private async doStop (): Promise<void> {
    await this.http?.close()
    await this.candidacy?.stop()
    await this.agent?.stop()
    await this.supernode?.stop()
    await this.node?.stop()
    this.inbox?.close()
  }

  /** Supernode role only: where the presence directory says each user is (POST /lookups). */
  async lookup (users: readonly string[], deadlineMs: number): Promise<LookupResult> {
    const role = this.supernode
    if (role === undefined) throw new ReboundError('BAD_REQUEST', 'only a supernode looks users up: this peer is a client')
    const started = this.now()
    const results = await role.lookupMany(users, deadlineMs)
    return { results, elapsedMs: this.now() - started }
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
    const agent = this.agent
    const certified = sn?.certificate != null
    return {
      peerId: this.node.peerId.toString(),
      pid: process.pid,
      role: sn === undefined ? 'client' : 'supernode',
      user: this.config.user ?? null,
      // An operator supernode counts as attached (to the overlay) once certified; an elected one
      // is also a user, and its own session says whether that user is online.
      state: agent !== undefined ? agent.state : (certified ? 'attached' : 'starting'),
      supernode: agent?.supernode ?? null,
      attachedAtMs: agent !== undefined ? agent.attachedAtMs : (sn?.certifiedAtMs ?? null),
      loggedInAtMs: this.agent?.loggedInAtMs ?? null,
      profile: this.config.profile,
      startedAtMs: this.startedAtMs,
      ticketExpiresAtMs: this.agent?.ticketExpiresAtMs ?? null,
      knownSupernodes: sn?.knownSupernodes ?? this.agent?.knownSupernodes ?? 0,
      supernodeClass: sn === undefined ? null : sn.supernodeClass,
      clients: sn?.sessions.size ?? null,
      capacity: sn === undefined ? null : this.config.capacity,
      counters: this.metrics.counters
    }
  }
}
