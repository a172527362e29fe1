/**
 * One rebound-node process: its libp2p node, its data directory, and its role: an operator
 * supernode, or a client. An eligible client (--eligible) also offers itself to the registry
 * (candidacy.ts); once promoted it serves as an elected supernode besides its own user session,
 * until the registry demotes it. Started and stopped in order; stop is idempotent.
 */
import { randomInt, type KeyObject } from 'node:crypto'
import {
  ChatMessage, ReboundError, loadOrCreateIdentity, publicKeyFromBase64, startHttpServer,
  type ContactRecord, type ContactResult, type HttpServerHandle, type Logger, type LookupResult, type NodeStatus,
  type OutboxList, type SendResult
} from '@rebound/protocol'
import { ClientAgent } from './client/client-agent.js'
import { ClientStateFile } from './client/client-state.js'
import { Inbox } from './client/inbox.js'
import type { NodeConfig } from './config.js'
import { controlRoutes } from './control-api.js'
import type { ContactOp } from './data/contacts.js'
import { DeviceData } from './data/device-data.js'
import { DeviceStore } from './data/device-store.js'
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
  private device: DeviceStore | undefined
  private data: DeviceData | undefined
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
    // A client's stores open first: a corrupt one (CORRUPT_STORE) stops the start before anything runs.
    if (!config.supernode) {
      this.inbox = new Inbox(config.dataDir)
      this.device = new DeviceStore(config.dataDir)
    }
    const nodeInit = { listen: config.listen, port: config.port, privateKey, log: deps.log, gossip: config.supernode || config.eligible }
    this.node = await createPeerNode(deps.debugFilter === undefined ? nodeInit : { ...nodeInit, debugFilter: deps.debugFilter })
    await this.node.start()
    if (config.supernode) {
      this.supernode = this.supernodeRole('operator')
      await this.supernode.start()
    } else {
      await this.startClient()
    }
    if (deps.http !== false) this.http = await startHttpServer(config.listen, config.httpPort, controlRoutes(this), deps.log)
    deps.log.info({ peerId: this.node.peerId.toString(), addrs: this.node.getMultiaddrs().map(String), role: config.supernode ? 'supernode' : 'client', httpPort: this.http?.port ?? null }, 'node started')
  }

  private async startClient (): Promise<void> {
    const { config, inbox, device } = this
    if (config.user === undefined || config.password === undefined) throw new ReboundError('BAD_CONFIG', 'a client needs --user and a password')
    if (inbox === undefined || device === undefined) throw new ReboundError('INTERNAL', 'client stores not open')
    const data = new DeviceData({ user: config.user, loginServers: config.loginServers }, {
      ...this.common(),
      store: device,
      log: this.deps.log.child({ component: 'device-data' }),
      ticket: () => this.agent?.ticket ?? null,
      route: async (message, deadlineMs) => await (this.agent?.send(message, deadlineMs) ?? { ok: false, code: 'UNAVAILABLE' }),
      attached: () => this.agent?.state === 'attached',
      inbox,
      deliver: (message, storeId) => this.received(message, storeId)
    })
    this.data = data
    this.agent = new ClientAgent(
      { user: config.user, password: config.password, register: config.register, loginServers: config.loginServers, profile: config.profile },
      {
        ...this.common(),
        stateFile: new ClientStateFile(config.dataDir),
        inbox,
        onOrphaned: () => { this.candidacy?.nudge() },
        onTicket: () => { data.onTicket() },
        onAttached: () => { data.onAttached() }
      }
    )
    await this.agent.start()
    data.start()
    if (config.eligible) this.offerToServe()
  }

  /** A message fetched from store `storeId`'s mailbox: into the inbox (once per id), held there already. */
  private received (message: ChatMessage, storeId: string): boolean {
    const fresh = this.inbox?.put(message, this.now(), storeId) ?? false
    if (fresh) {
      this.metrics.counters.messagesReceived++
      this.metrics.received.inc()
    }
    return fresh
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
    // The background data tasks route through the agent: they stop first.
    await this.data?.stop()
    await this.agent?.stop()
    await this.supernode?.stop()
    await this.node?.stop()
    this.device?.close()
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

  /**
   * Send with the outbox: stored (pending) before it is routed; ok once the recipient's inbox or,
   * the recipient being offline, the server mailbox holds it; otherwise `pending: true` (it is
   * retried in the background). BAD_REQUEST and BUSY come before anything is stored.
   */
  async send (message: { id: string, to: string, body: string }, deadlineMs: number): Promise<SendResult> {
    const started = this.now()
    const { data, config } = this
    if (data === undefined || config.user === undefined) {
      throw new ReboundError('BAD_REQUEST', 'a supernode process has no user session to send from')
    }
    const parsed = ChatMessage.safeParse({ ...message, from: config.user, sentAtMs: started })
    if (!parsed.success) throw new ReboundError('BAD_REQUEST', `bad message: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
    this.metrics.counters.messagesSent++
    const outcome = await data.outbox.submit(parsed.data, deadlineMs)
    if (outcome.ok) this.metrics.counters.messagesDelivered++
    else this.metrics.counters.messagesFailed++
    this.metrics.messages.inc({ result: outcome.ok ? 'ok' : (outcome.code ?? 'INTERNAL') })
    const result: SendResult = { id: message.id, ok: outcome.ok, latencyMs: this.now() - started }
    if (outcome.code !== undefined) result.code = outcome.code
    if (outcome.pending === true) result.pending = true
    return result
  }

  /** The first contacts sync has finished: changes are accepted (before it POST /contacts is 503). */
  get contactsReady (): boolean {
    return this.data?.contacts.ready ?? false
  }

  /** POST /contacts: a change to this user's contacts (UNAVAILABLE before the first sync). */
  async applyContact (op: ContactOp): Promise<ContactResult> {
    return await this.clientData().contacts.apply(op)
  }

  /** GET /contacts: every record, tombstones included. */
  contacts (): ContactRecord[] {
    return this.clientData().contacts.list()
  }

  /** GET /outbox?all=1. */
  outbox (): OutboxList {
    return { entries: this.device?.outbox.views() ?? [] }
  }

  private clientData (): DeviceData {
    if (this.data === undefined) throw new ReboundError('BAD_REQUEST', 'a supernode process has no user data: this peer is not a client')
    return this.data
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
      counters: this.metrics.counters,
      // A stopped peer's stores are closed: its data status is not known any more.
      data: this.stopped === undefined ? (this.data?.status() ?? null) : null
    }
  }
}
