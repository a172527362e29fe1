/**
 * A swarm: many rebound peers in one process. Each member is a complete `Peer` (its own libp2p
 * node, identity, data directory, connections and Noise handshakes); only the HTTP control port is
 * shared, so thousands of real clients fit on one machine (a process costs ~85 MiB, a member ~0.5).
 * Members start evenly spread over a window (0 = all at once: a mass restart).
 */
import {
  ReboundError, describeError, sleep,
  type ContactRecord, type ContactResult, type Logger, type LookupResult, type NodeStatus, type OutboxList, type SendResult, type SwarmStatus
} from '@rebound/protocol'
import type { ContactOp } from '../data/contacts.js'
import { Peer } from '../peer.js'
import { memberConfig, memberIdentity, type MemberIdentity, type SwarmConfig } from './swarm-config.js'

export type MemberState = 'scheduled' | 'starting' | 'started' | 'failed' | 'stopped'

interface Member {
  identity: MemberIdentity
  peer: Peer | undefined
  state: MemberState
  /** Settles when this member's start has finished or failed. */
  started: Promise<void>
}

export interface SwarmDeps {
  log: Logger
  debugFilter?: RegExp
}

export class Swarm {
  private readonly members: Member[]
  private readonly byUser = new Map<string, Member>()
  private readonly stopController = new AbortController()
  private stopped: Promise<void> | undefined

  constructor (private readonly config: SwarmConfig, private readonly deps: SwarmDeps) {
    this.members = Array.from({ length: config.count }, (_, i) => ({
      identity: memberIdentity(config, i), peer: undefined, state: 'scheduled' as MemberState, started: Promise.resolve()
    }))
    for (const member of this.members) this.byUser.set(member.identity.user, member)
  }

  /** Start every member on schedule; resolves when all have started or failed (or stop() was called). */
  async start (): Promise<void> {
    const { count, startSpreadMs } = this.config
    const signal = this.stopController.signal
    const t0 = Date.now()
    // Bounded: one pass over the members, each waiting at most until the end of the spread window.
    for (let i = 0; i < count && !signal.aborted; i++) {
      const member = this.members[i]
      if (member === undefined) continue
      const dueMs = t0 + Math.floor((i * startSpreadMs) / count)
      if (dueMs > Date.now()) await sleep(dueMs - Date.now(), signal)
      if (signal.aborted) break
      member.started = this.startMember(member)
    }
    await Promise.all(this.members.map(async (m) => { await m.started }))
    const failed = this.members.filter((m) => m.state === 'failed').length
    this.deps.log.info({ count, started: count - failed, failed, tookMs: Date.now() - t0 }, 'swarm started')
  }

  async stop (): Promise<void> {
    this.stopped ??= this.doStop()
    await this.stopped
  }

  status (): SwarmStatus {
    const members: NodeStatus[] = []
    let failed = 0
    for (const member of this.members) {
      if (member.state === 'started' && member.peer !== undefined) members.push(member.peer.status())
      if (member.state === 'failed') failed++
    }
    return { count: this.config.count, started: members.length, failed, members }
  }

  /** Started peers, for the metrics aggregate. */
  peers (): Peer[] {
    return this.members.filter((m) => m.state === 'started').map((m) => m.peer).filter((p): p is Peer => p !== undefined)
  }

  stateCounts (): Record<MemberState, number> {
    const counts: Record<MemberState, number> = { scheduled: 0, starting: 0, started: 0, failed: 0, stopped: 0 }
    for (const member of this.members) counts[member.state]++
    return counts
  }

  async send (from: string, message: { id: string, to: string, body: string }, deadlineMs: number): Promise<SendResult> {
    return await this.startedPeer(from).send(message, deadlineMs)
  }

  /** The member with this user, started, or BAD_REQUEST / UNAVAILABLE. */
  private startedPeer (user: string): Peer {
    const member = this.member(user)
    if (member.state !== 'started' || member.peer === undefined) throw new ReboundError('UNAVAILABLE', `member ${user} is ${member.state}`)
    return member.peer
  }

  async lookup (via: string, users: readonly string[], deadlineMs: number): Promise<LookupResult> {
    return await this.startedPeer(via).lookup(users, deadlineMs)
  }

  inbox (user: string, limit: number): unknown[] {
    return this.member(user).peer?.inbox?.latest(limit) ?? []
  }

  /** Every message id in a member's inbox (GET /inbox?all=1). */
  inboxIds (user: string): string[] {
    return this.member(user).peer?.inbox?.ids() ?? []
  }

  async applyContact (from: string, op: ContactOp): Promise<ContactResult> {
    return await this.startedPeer(from).applyContact(op)
  }

  contacts (user: string): ContactRecord[] {
    return this.startedPeer(user).contacts()
  }

  outbox (user: string): OutboxList {
    return this.startedPeer(user).outbox()
  }

  private member (user: string): Member {
    const member = this.byUser.get(user)
    if (member === undefined) throw new ReboundError('BAD_REQUEST', `no member with user ${user} in this swarm`)
    return member
  }

  private async startMember (member: Member): Promise<void> {
    const { identity } = member
    const log = this.deps.log.child({ user: identity.user, addr: identity.ip })
    member.state = 'starting'
    const deps = { log, http: false as const }
    const peer = new Peer(memberConfig(this.config, identity), this.deps.debugFilter === undefined ? deps : { ...deps, debugFilter: this.deps.debugFilter })
    member.peer = peer
    try {
      await peer.start()
      member.state = 'started'
    } catch (err) {
      member.state = 'failed'
      log.error({ err: describeError(err) }, 'member failed to start')
      // Release whatever it had opened (its listener, its inbox).
      await peer.stop().catch(() => {})
    }
  }

  private async doStop (): Promise<void> {
    this.stopController.abort()
    // Starts in flight finish first (a libp2p node cannot be stopped halfway through starting).
    await Promise.all(this.members.map(async (m) => { await m.started }))
    await Promise.all(this.members.map(async (member) => {
      if (member.state !== 'started' || member.peer === undefined) return
      try {
        await member.peer.stop()
      } catch (err) {
        this.deps.log.warn({ user: member.identity.user, err: describeError(err) }, 'member stop failed')
      }
      member.state = 'stopped'
    }))
    this.deps.log.info({ count: this.config.count }, 'swarm stopped')
  }
}
