/**
 * The supernode role: get certified by the registry and heartbeat to it; admit clients holding a
 * valid ticket; own a share of the presence directory; route messages between sessions, locally
 * or through the supernode that holds the recipient.
 */
import type { KeyObject } from 'node:crypto'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  ClientFrame, FramedStream, MESH_PROTOCOL, MeshRequest, MeshResponse, ReboundError, RequestChannel, SESSION_PROTOCOL,
  TokenBucket, describeError, errorCodeOf, errorReply, mapBounded, peekTicket, serveRequests, sleep, verifyCertificate, verifyTicket,
  type ChatMessage, type Logger, type MeshCall, type SupernodeClass, type SupernodeEntry
} from '@rebound/protocol'
import { Backoff } from '../backoff.js'
import type { SendOutcome } from '../client/client-session.js'
import { verifiedSupernodes } from '../client/attach-round.js'
import { keysWithNewOwners, rendezvousOwners } from '../hrw.js'
import type { PeerNode } from '../libp2p.js'
import type { NodeMetrics } from '../metrics.js'
import { MembershipGossip } from './membership-gossip.js'
import { MESH_DEADLINE_MS, entryAddrs, meshRequest } from './mesh-client.js'
import { PRESENCE_REPLICAS, PresenceDirectory, type PresenceRecord } from './presence-directory.js'
import { PublishQueue } from './publish-queue.js'
import { RegistryClient } from './registry-client.js'
import { JoinSchedule } from './join-schedule.js'
import { orphanWindowMs } from './orphan-window.js'
import { shouldSendOn } from './balance.js'
import { SupernodeLiveness } from './liveness.js'
import { PROBE_DEADLINE_MS, PROBE_INTERVAL_MS, RingWatch, ringSuccessors } from './ring-monitor.js'
import { ServerSession } from './server-session.js'

export const ATTACH_READ_TIMEOUT_MS = 5000
/** Redirect candidates handed to a client refused because this supernode is full. */
export const MAX_REDIRECTS = 5
/** Lookups one lookupMany keeps in flight (each is at most one mesh request per owner tried). */
export const LOOKUP_CONCURRENCY = 16
/** Two announcement periods past the refutation: by then the others have taken this supernode back. */
export const REPUBLISH_AFTER_SUSPICION_MS = 2500

export interface SupernodeInit {
  loginServers: string[]
  operatorToken: string
  capacity: number
  /** Sessions admitted per second, and how many may come at once (overload.md: 20/s, burst 50). */
  joinRate: number
  joinBurst: number
  heartbeatMs: number
  /** The longest orphan window advertised; the window itself follows the client count. */
  orphanWindowMs: number
  class: SupernodeClass
  /** An elected supernode starts with the certificate the registry promoted it with (no certify). */
  certificate?: string
}

export interface SupernodeDeps {
  node: PeerNode
  clusterKey: KeyObject
  metrics: NodeMetrics
  log: Logger
  random: () => number
  now: () => number
  /** The registry told this (elected) supernode to step down; the owner stops it. */
  onDemote?: (orphanWindowMs: number) => void
}

export class Supernode {
  certificate: string | null = null
  certifiedAtMs: number | null = null
  readonly sessions = new Map<string, ServerSession>()
  private list: SupernodeEntry[] = []
  /** The last list the registry sent (verified), before suspects are left out. */
  private registryList: SupernodeEntry[] = []
  private live = new Set<string>()
  private readonly liveness = new SupernodeLiveness()
  private readonly ringWatch = new RingWatch()
  /** Kept mesh streams to the ring successors being probed (at most MONITORED_SUCCESSORS). */
  private readonly probeChannels = new Map<string, RequestChannel>()
  private monitor: Promise<void> | undefined
  private readonly directory = new PresenceDirectory()
  private readonly registry: RegistryClient
  private readonly self: string
  private readonly joins: TokenBucket
  private readonly joinSchedule: JoinSchedule
  private readonly stopController = new AbortController()
  private loop: Promise<void> | undefined
  private readonly publishQueue: PublishQueue
  private readonly gossip: MembershipGossip
  private republishTimer: NodeJS.Timeout | undefined

  constructor (private readonly init: SupernodeInit, private readonly deps: SupernodeDeps) {
    this.registry = new RegistryClient(deps.node, init.loginServers, deps.random)
    this.self = deps.node.peerId.toString()
    const { gossip, identify } = deps.node.services
    if (gossip === undefined || identify === undefined) throw new ReboundError('INTERNAL', 'a supernode needs a node built with gossip (createPeerNode)')
    this.gossip = new MembershipGossip({
      gossip,
      identify,
      clusterKey: deps.clusterKey,
      self: this.self,
      now: deps.now,
      log: deps.log,
      ownEntry: () => this.ownEntry(),
      onAnnounce: (from) => { this.onAnnounce(from) },
      onGone: (supernode, by, how) => { this.onGoneNotice(supernode, by, how) },
      count: (type, result) => { deps.metrics.gossipNotices.inc({ type, result }) }
    })
    this.joins = new TokenBucket(init.joinRate, init.joinBurst, deps.now)
    this.joinSchedule = new JoinSchedule(init.joinRate)
    this.publishQueue = new PublishQueue({
      publish: async (user) => {
        const session = this.sessions.get(user)
        return session === undefined ? true : await this.publish(session)
      },
      everyone: () => this.sessions.keys(),
      now: deps.now,
      random: deps.random,
      log: deps.log
    })
    if (init.certificate !== undefined) {
      this.certificate = init.certificate
      this.certifiedAtMs = deps.now()
    }
  }

  /** The orphan window advertised now, sized to the clients this supernode holds (orphan-window.ts). */
  get orphanWindowMs (): number {
    return orphanWindowMs({ clients: this.sessions.size, joinRate: this.init.joinRate, maxMs: this.init.orphanWindowMs })
  }

  get supernodeClass (): SupernodeClass {
    return this.init.class
  }

  get knownSupernodes (): number {
    return this.live.size
  }

  async start (): Promise<void> {
    await this.deps.node.handle(SESSION_PROTOCOL, (stream, connection) => this.handleSession(stream, connection), { maxInboundStreams: 4 })
    await this.deps.node.handle(MESH_PROTOCOL, serveRequests(MeshRequest, async (req, connection) => await this.handleMesh(req, connection), {
      readTimeoutMs: MESH_DEADLINE_MS, log: this.deps.log
    }), { maxInboundStreams: 256 })
    this.deps.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.deps.node.addEventListener('peer:connect', this.onConnect)
    this.loop = this.registryLoop(this.stopController.signal)
    this.monitor = this.monitorLoop(this.stopController.signal)
    this.publishQueue.start()
    this.gossip.start()
  }

  async stop (): Promise<void> {
    this.stopController.abort()
    clearTimeout(this.republishTimer)
    await this.gossip.stop()
    this.deps.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.deps.node.removeEventListener('peer:connect', this.onConnect)
    await this.deps.node.unhandle([SESSION_PROTOCOL, MESH_PROTOCOL])
    for (const session of this.sessions.values()) session.close('supernode stopping')
    for (const channel of this.probeChannels.values()) channel.close()
    await this.loop
    await this.monitor
    await this.publishQueue.stop()
  }

  // ---- frozen supernodes: probe the ring successors (ring-monitor.ts) ----

  private async monitorLoop (signal: AbortSignal): Promise<void> {
    let lastTickAtMs = this.deps.now()
    while (!signal.aborted) {
      await sleep(PROBE_INTERVAL_MS, signal)
      const nowMs = this.deps.now()
      const previousTickAtMs = lastTickAtMs
      lastTickAtMs = nowMs
      if (signal.aborted || this.certificate === null) continue
      const targets = ringSuccessors(this.live, this.self)
      this.ringWatch.setTargets(targets, nowMs)
      for (const [id, channel] of this.probeChannels) {
        if (!targets.includes(id)) { channel.close(); this.probeChannels.delete(id) }
      }
      for (const id of this.ringWatch.verdicts(nowMs, previousTickAtMs)) this.declareDead(id)
      // One probe in flight per target: a frozen one leaves its probe unanswered, nothing piles up.
      for (const id of this.ringWatch.idle()) void this.probe(id)
    }
  }

  private async probe (id: string): Promise<void> {
    const entry = this.list.find((e) => e.peerId === id)
    const certificate = this.certificate
    if (entry === undefined || certificate === null) return
    let channel = this.probeChannels.get(id)
    if (channel === undefined) {
      channel = new RequestChannel(this.deps.node, entryAddrs(entry), MESH_PROTOCOL)
      this.probeChannels.set(id, channel)
    }
    this.ringWatch.onSent(id, this.deps.now())
    try {
      await channel.request({ certificate, call: { type: 'ping' } } satisfies MeshRequest, MeshResponse, PROBE_DEADLINE_MS)
      this.ringWatch.onAnswer(id, this.deps.now())
    } catch {
      this.ringWatch.onFailure(id)
    }
  }

  /** Silent past the bound: leave it out here, and tell the others. */
  private declareDead (id: string): void {
    this.probeChannels.get(id)?.close()
    this.probeChannels.delete(id)
    this.liveness.suspect(id, this.deps.now())
    this.liveness.accuse(id, this.self, this.deps.now())
    this.deps.log.warn({ supernode: id }, 'supernode silent: treated as dead')
    this.applyList()
    if (this.certificate !== null) void this.gossip.suspect(id, this.certificate)
  }

  /**
   * A certified supernode left, or others' probes of it went unanswered (ACCUSERS_NEEDED of them,
   * liveness.ts): take their word for a while (SUSPECT_MS, longer than the registry needs to drop
   * it from its list).
   */
  private onGoneNotice (supernode: string, by: string, how: 'left' | 'suspected'): void {
    if (supernode === this.self) { this.onSuspectedSelf(by); return }
    if (!this.live.has(supernode)) return
    if (how === 'suspected' && !this.liveness.accuse(supernode, by, this.deps.now())) return
    this.deps.log.info({ supernode, by, how }, 'supernode gone, by gossip')
    this.liveness.suspect(supernode, this.deps.now())
    this.applyList()
  }

  /** An announcement: load news, a new member, or a suspect that is alive after all. */
  private onAnnounce (from: string): void {
    if (this.liveness.refute(from, this.deps.now())) this.deps.log.info({ supernode: from }, 'suspected supernode announced itself: alive')
    this.applyList()
  }

  /**
   * Another supernode took this one for dead (its probes went unanswered: this process was busy,
   * or frozen and now thawed). Refute with an announcement; and publish every session again once
   * the others have taken this one back (REPUBLISH_AFTER_SUSPICION_MS): owners keep a suspect's
   * records, but one that restarted meanwhile, or a registry that dropped this supernode, lost
   * them, and the next refresh is a minute away.
   */
  private onSuspectedSelf (by: string): void {
    this.deps.log.warn({ by }, 'suspected by another supernode: refuting')
    void this.gossip.announceNow()
    if (this.republishTimer !== undefined) return
    this.republishTimer = setTimeout(() => {
      this.republishTimer = undefined
      this.publishQueue.add(this.sessions.keys())
    }, REPUBLISH_AFTER_SUSPICION_MS)
  }

  /** What this supernode announces to the others (membership-gossip.ts); null until certified. */
  private ownEntry (): SupernodeEntry | null {
    if (this.certificate === null) return null
    const addrs = this.deps.node.getMultiaddrs().map((a) => a.toString())
    return { peerId: this.self, addrs, class: this.init.class, clients: this.sessions.size, capacity: this.init.capacity, certificate: this.certificate }
  }

  // ---- registry: certify, then heartbeat ----

  private async registryLoop (signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.deps.random, 500, 5000)
    while (!signal.aborted && this.certificate === null) {
      try {
        const addrs = this.deps.node.getMultiaddrs().map((a) => a.toString())
        this.certificate = await this.registry.certify({ addrs, class: this.init.class, operatorToken: this.init.operatorToken, capacity: this.init.capacity })
        this.certifiedAtMs = this.deps.now()
        this.deps.log.info({ class: this.init.class }, 'certified as supernode')
      } catch (err) {
        const waitMs = backoff.fail()
        this.deps.log.warn({ code: errorCodeOf(err), err: describeError(err), waitMs }, 'certification failed')
        await sleep(waitMs, signal)
      }
    }
    while (!signal.aborted) {
      await this.heartbeat()
      await sleep(this.init.heartbeatMs, signal)
    }
  }

  private async heartbeat (): Promise<void> {
    if (this.certificate === null) return
    try {
      const beat = await this.registry.heartbeat(this.certificate, this.sessions.size, this.init.capacity)
      if (beat.certificate !== undefined) this.certificate = beat.certificate
      this.onSupernodeList(beat.supernodes)
      if (beat.demote !== undefined && this.init.class === 'elected') {
        this.deps.log.info({ clients: this.sessions.size, orphanWindowMs: beat.demote.orphanWindowMs }, 'demoted by the registry')
        this.deps.onDemote?.(beat.demote.orphanWindowMs)
      }
    } catch (err) {
      this.deps.log.warn({ code: errorCodeOf(err), err: describeError(err) }, 'heartbeat failed')
    }
  }

  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peerId = evt.detail.toString()
    if (!this.live.has(peerId) || peerId === this.self) return
    this.liveness.suspect(peerId, this.deps.now())
    this.deps.log.info({ supernode: peerId }, 'lost the connection to a supernode: treated as dead')
    this.applyList()
    // A connection can also close for benign reasons: one dial tells. A dead one refuses at once
    // (or times out); a live one connects, and peer:connect clears the suspicion.
    const entry = this.registryList.find((e) => e.peerId === peerId)
    if (entry !== undefined) this.connectTo([entry])
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    if (this.liveness.clear(evt.detail.toString())) this.applyList()
  }

  private onSupernodeList (list: SupernodeEntry[]): void {
    this.registryList = verifiedSupernodes(list, this.deps.clusterKey, this.deps.now())
    this.applyList()
  }

  /**
   * The registry's list, with what gossip announced within its TTL (supernodes the registry has
   * not listed yet, and everyone's load as of the last second), less the suspects, becomes the
   * live set; presence follows a change.
   */
  private applyList (): void {
    const nowMs = this.deps.now()
    const merged = new Map(this.registryList.map((e) => [e.peerId, e]))
    for (const e of this.gossip.fresh(nowMs)) merged.set(e.peerId, e)
    const alive = [...merged.values()].filter((e) => !this.liveness.isSuspect(e.peerId, nowMs))
    const next = new Set([this.self, ...alive.map((e) => e.peerId)])
    const changed = next.size !== this.live.size || [...next].some((id) => !this.live.has(id))
    this.list = alive
    const joined = [...next].filter((id) => !this.live.has(id))
    const previous = this.live
    this.live = next
    if (!changed) return
    this.connectTo(alive.filter((e) => joined.includes(e.peerId)))
    // Records are dropped only for supernodes nobody lists any more; a suspect's are kept and
    // ignored by lookups (livePresence) while it is suspected, so that a supernode taken for dead
    // by mistake is found again the moment it is taken back, without re-publishing anything.
    const dropped = this.directory.retainSupernodes(new Set([this.self, ...merged.keys()]))
    // Owners moved for the sessions whose keys the joined or departed supernodes held: publish
    // those again (all sessions on every change was a storm: 500 peers, a flapping supernode,
    // two changes a second, hundreds of mesh requests a second on each supernode).
    const moved = keysWithNewOwners(this.sessions.keys(), [...previous], [...next], PRESENCE_REPLICAS)
    this.deps.log.info({ supernodes: next.size, dropped, republish: moved.length, ids: [...next].map((id) => id.slice(-6)) }, 'supernode set changed')
    this.publishQueue.add(moved)
  }

  /**
   * Keep a connection to every other live supernode, so that a death shows as a closed connection;
   * gossip runs over the same connections.
   */
  private connectTo (entries: SupernodeEntry[]): void {
    for (const entry of entries) {
      if (entry.peerId === this.self) continue
      this.deps.node.dial(entryAddrs(entry), { signal: AbortSignal.timeout(MESH_DEADLINE_MS) }).then((connection) => {
        this.gossip.introduce(connection)
      }, (err: unknown) => {
        this.deps.log.debug({ supernode: entry.peerId, err: describeError(err) }, 'could not connect to a supernode')
      })
    }
  }

  // ---- sessions ----

  private async handleSession (stream: Stream, connection: Connection): Promise<void> {
    const framed = new FramedStream(stream)
    const remote = connection.remotePeer.toString()
    let session: ServerSession
    try {
      const first = await framed.read(ClientFrame, { signal: AbortSignal.timeout(ATTACH_READ_TIMEOUT_MS) })
      if (first.type !== 'attach') throw new ReboundError('BAD_REQUEST', 'first frame must be attach')
      if (this.certificate === null) throw new ReboundError('UNAVAILABLE', 'supernode not certified yet', { retryAfterMs: 1000 })
      // The ticket must have been issued to the peer that Noise authenticated on this connection.
      const ticket = verifyTicket(first.ticket, this.deps.clusterKey, { peerId: remote, nowMs: this.deps.now() })
      const replaced = this.sessions.get(ticket.user)
      if (replaced === undefined && this.sessions.size >= this.init.capacity) {
        throw new ReboundError('FULL', 'supernode at capacity', { redirect: this.redirects() })
      }
      // Well above the live set's mean load while another is below it: send it there (balance.ts).
      if (replaced === undefined && first.redirected !== true && shouldSendOn({ clients: this.sessions.size, capacity: this.init.capacity, others: this.others() })) {
        throw new ReboundError('FULL', 'supernode above the mean load: try a less loaded one', { redirect: this.redirects(), balance: true })
      }
      // Under a join storm, shed and redirect rather than fall over (Skype 2010: never self-terminate).
      if (!this.joins.tryTake()) {
        const retryAfterMs = this.joinSchedule.place(this.deps.now(), this.joins.msUntilNext())
        throw new ReboundError('OVERLOADED', 'supernode join rate exceeded', { redirect: this.redirects(), retryAfterMs })
      }
      replaced?.close('replaced by a newer session')
      session = new ServerSession(ticket.user, first.ticket, remote, this.deps.now(), framed, async (m, d) => await this.route(m, d), this.deps.log, () => this.orphanWindowMs)
      this.sessions.set(ticket.user, session)
      this.deps.metrics.sessions.set(this.sessions.size)
      await session.write({ type: 'attached', certificate: this.certificate, orphanWindowMs: this.orphanWindowMs, supernodes: this.list })
    } catch (err) {
      const reply = errorReply(err)
      const redirect = (err as ReboundError).meta?.redirect
      if (Array.isArray(redirect)) reply.redirect = redirect as SupernodeEntry[]
      if ((err as ReboundError).meta?.balance === true) reply.balance = true
      this.deps.log.info({ remote, code: reply.code, err: describeError(err) }, 'attach refused')
      await framed.write(reply, { signal: AbortSignal.timeout(1000) }).catch(() => {})
      await framed.close()
      return
    }
    // At once (the client may be sent to within the second); queued for a retry if an owner failed.
    void this.publish(session).then((ok) => { if (!ok) this.publishQueue.add([session.user]) })
    await session.serve()
    if (this.sessions.get(session.user) === session) {
      this.sessions.delete(session.user)
      this.deps.metrics.sessions.set(this.sessions.size)
      void this.unpublish(session.user)
    }
  }

  private others (): SupernodeEntry[] {
    return this.list.filter((e) => e.peerId !== this.self)
  }

  private redirects (): SupernodeEntry[] {
    return this.others().filter((e) => e.clients < e.capacity)
      .sort((a, b) => a.clients / a.capacity - b.clients / b.capacity)
      .slice(0, MAX_REDIRECTS)
  }

  // ---- presence ----

  private owners (user: string): string[] {
    return rendezvousOwners(user, [...this.live], PRESENCE_REPLICAS)
  }

  /** The directory's record of `user`, unless it names a supernode not live here (suspected). */
  private livePresence (user: string): PresenceRecord | undefined {
    const record = this.directory.get(user)
    return record !== undefined && this.live.has(record.supernode) ? record : undefined
  }

  private entryOf (peerId: string): SupernodeEntry | undefined {
    return this.list.find((e) => e.peerId === peerId)
  }

  /** Publish a session's record to its owners; false when one of them did not take it. */
  private async publish (session: ServerSession): Promise<boolean> {
    const addrs = this.deps.node.getMultiaddrs().map((a) => a.toString())
    const results = await Promise.all(this.owners(session.user).map(async (owner) => {
      if (owner === this.self) {
        this.directory.put({ user: session.user, supernode: this.self, addrs, sinceMs: session.sinceMs })
        return true
      }
      const entry = this.entryOf(owner)
      // Not in the list any more: the set changed again, and that change queued everyone.
      if (entry === undefined) return true
      try {
        await this.mesh(entryAddrs(entry), { type: 'publish', ticket: session.ticket, supernode: this.self, addrs, sinceMs: session.sinceMs })
        return true
      } catch (err) {
        this.deps.log.debug({ owner, client: session.user, err: describeError(err) }, 'presence publish failed')
        return false
      }
    }))
    return results.every((ok) => ok)
  }

  private async unpublish (user: string): Promise<void> {
    await Promise.all(this.owners(user).map(async (owner) => {
      if (owner === this.self) { this.directory.remove(user, this.self); return }
      const entry = this.entryOf(owner)
      if (entry === undefined) return
      await this.mesh(entryAddrs(entry), { type: 'unpublish', user, supernode: this.self }).catch(() => {})
    }))
  }

  private async mesh (target: Multiaddr[], call: MeshCall, deadlineMs = MESH_DEADLINE_MS): Promise<MeshResponse> {
    if (this.certificate === null) throw new ReboundError('UNAVAILABLE', 'not certified yet')
    return await meshRequest(this.deps.node, this.certificate, target, call, deadlineMs)
  }

  private async lookup (user: string, deadlineAtMs: number): Promise<{ supernode: string, addrs: string[] } | undefined> {
    for (const owner of this.owners(user)) {
      if (owner === this.self) {
        const record = this.livePresence(user)
        if (record !== undefined) return record
        continue
      }
      const entry = this.entryOf(owner)
      const leftMs = deadlineAtMs - this.deps.now()
      if (entry === undefined || leftMs <= 0) continue
      try {
        const reply = await this.mesh(entryAddrs(entry), { type: 'lookup', user }, Math.min(MESH_DEADLINE_MS, leftMs))
        if (reply.type === 'found') return reply
      } catch (err) {
        this.deps.log.debug({ owner, client: user, err: describeError(err) }, 'lookup failed at owner')
      }
    }
    return undefined
  }

  /**
   * Look each user up as routing would (one hop to an owner), LOOKUP_CONCURRENCY at a time, all
   * within `deadlineMs`: the load generator's check that the directory names every online user's
   * supernode once the layer has settled.
   */
  async lookupMany (users: readonly string[], deadlineMs: number): Promise<Array<{ user: string, supernode: string | null }>> {
    const deadlineAtMs = this.deps.now() + deadlineMs
    return await mapBounded(users, LOOKUP_CONCURRENCY, async (user) => {
      const supernode = this.sessions.has(user) ? this.self : (await this.lookup(user, deadlineAtMs))?.supernode ?? null
      return { user, supernode }
    })
  }

  // ---- routing ----

  /** Deliver to the recipient's session, here or at the supernode the directory names. */
  async route (message: ChatMessage, deadlineMs: number): Promise<SendOutcome> {
    const deadlineAtMs = this.deps.now() + deadlineMs
    const local = this.sessions.get(message.to)
    let outcome: SendOutcome
    if (local !== undefined) {
      outcome = await local.deliver(message, deadlineMs)
    } else {
      const found = await this.lookup(message.to, deadlineAtMs)
      const leftMs = deadlineAtMs - this.deps.now()
      if (found === undefined || found.supernode === this.self) {
        outcome = { ok: false, code: 'RECIPIENT_OFFLINE' }
      } else if (leftMs <= 0) {
        outcome = { ok: false, code: 'TIMEOUT' }
      } else {
        try {
          await this.mesh(entryAddrs({ peerId: found.supernode, addrs: found.addrs }), { type: 'route', message, deadlineMs: leftMs }, leftMs)
          outcome = { ok: true }
        } catch (err) {
          outcome = { ok: false, code: errorCodeOf(err) }
        }
      }
    }
    this.deps.metrics.routed.inc({ result: outcome.ok ? 'ok' : (outcome.code ?? 'INTERNAL') })
    return outcome
  }

  private async handleMesh ({ certificate, call: req }: MeshRequest, connection: Connection): Promise<MeshResponse> {
    const remote = connection.remotePeer.toString()
    this.deps.metrics.meshRequests.inc({ type: req.type })
    // Only certified supernodes take part in the mesh: the certificate must name the Noise peer.
    try {
      verifyCertificate(certificate, this.deps.clusterKey, { peerId: remote, nowMs: this.deps.now() })
    } catch (err) {
      throw new ReboundError('NOT_SUPERNODE', `peer has no valid supernode certificate: ${(err as Error).message}`)
    }
    switch (req.type) {
      case 'publish': {
        // A supernode may only publish presence for a user whose valid ticket it holds, at itself.
        // The ticket's peer binding was checked by the publisher at attach; here: signature and expiry.
        const ticket = verifyTicket(req.ticket, this.deps.clusterKey, { peerId: peekTicket(req.ticket)?.peerId ?? '', nowMs: this.deps.now() })
        if (req.supernode !== remote) throw new ReboundError('NOT_AUTHORIZED', 'presence can only be published for oneself')
        this.directory.put({ user: ticket.user, supernode: remote, addrs: req.addrs, sinceMs: req.sinceMs })
        return { type: 'ok' }
      }
      case 'unpublish':
        if (req.supernode !== remote) throw new ReboundError('NOT_AUTHORIZED', 'presence can only be withdrawn by its holder')
        this.directory.remove(req.user, remote)
        return { type: 'ok' }
      case 'lookup': {
        const record = this.livePresence(req.user)
        return record === undefined ? { type: 'not-found', user: req.user } : { type: 'found', ...record }
      }
      case 'ping':
        return { type: 'ok' }
      case 'route': {
        const session = this.sessions.get(req.message.to)
        if (session === undefined) throw new ReboundError('RECIPIENT_OFFLINE', 'recipient not attached here')
        const outcome = await session.deliver(req.message, req.deadlineMs)
        if (!outcome.ok) throw new ReboundError(outcome.code ?? 'INTERNAL', 'delivery failed')
        return { type: 'ok' }
      }
    }
  }
}

