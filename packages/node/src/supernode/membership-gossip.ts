/**
 * Membership and load among supernodes over gossipsub (DESIGN "Overlay": a real dissemination
 * library, not a home-made flood). Every supernode publishes its entry (certificate, addresses,
 * clients, capacity) on one topic each ANNOUNCE_INTERVAL_MS, a `leave` notice when it stops
 * serving, and a failure its ring probes found as a `suspect` notice. The others learn a new
 * supernode, and every supernode's load, within a second, without waiting for the registry's
 * list (its heartbeat is 2 s, and after a mass loss it is the registry that is busiest); the
 * loads decide where a newcomer is admitted (balance.ts).
 *
 * Trust: gossipsub signs every message with its publisher's key (StrictSign) and checks the
 * signature; a notice counts only if it carries a valid supernode certificate naming that
 * publisher. A peer without one cannot announce itself or accuse anyone: the validator rejects the
 * message (not delivered, not forwarded, and gossipsub's score counts it against the sender).
 * Malformed or oversized messages: the same, or gossipsub ends that stream (MAX_GOSSIP_RPC_BYTES).
 *
 * What gossip does not do: detect failures. A killed supernode shows as a closed connection at
 * once, a frozen one to its ring probes (ring-monitor.ts); an entry whose announcements stop is
 * forgotten after ANNOUNCEMENT_TTL_MS, and is otherwise as live as the registry says.
 */
import type { KeyObject } from 'node:crypto'
import type { Connection } from '@libp2p/interface'
import { TopicValidatorResult, type GossipSub, type Message } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import {
  MAX_SUPERNODE_LIST, MEMBERSHIP_TOPIC, MembershipNotice, decodeFrame, describeError, encodeFrame, verifyCertificate,
  type Logger, type SupernodeEntry
} from '@rebound/protocol'

export const ANNOUNCE_INTERVAL_MS = 1000
/** Three missed announcements: the entry is forgotten (the registry's list still decides membership). */
export const ANNOUNCEMENT_TTL_MS = 3500

export interface MembershipGossipDeps {
  gossip: GossipSub
  identify: Identify
  clusterKey: KeyObject
  self: string
  now: () => number
  log: Logger
  /** This supernode's entry as it stands (null until certified): what it announces. */
  ownEntry: () => SupernodeEntry | null
  /** `from` announced itself: the fresh entries changed (a supernode appeared, or its load moved). */
  onAnnounce: (from: string) => void
  /** A certified supernode says `supernode` is gone: itself (`left`) or another (`suspected`). */
  onGone: (supernode: string, by: string, how: 'left' | 'suspected') => void
  /** Counts notices by type and verdict (rebound_supernode_gossip_notices_total). */
  count: (type: string, result: 'accepted' | 'rejected') => void
}

interface Heard { entry: SupernodeEntry, atMs: number }

export class MembershipGossip {
  private readonly heard = new Map<string, Heard>()
  private timer: NodeJS.Timeout | undefined
  private readonly introduced = new WeakSet<Connection>()
  /**
   * What validate() decoded, for the 'message' event that follows: gossipsub hands both the same
   * message object, so a notice is decoded once. Weak: a message rejected or never delivered goes.
   */
  private readonly accepted = new WeakMap<Message, MembershipNotice>()

  constructor (private readonly deps: MembershipGossipDeps) {}

  start (): void {
    const { gossip } = this.deps
    gossip.topicValidators.set(MEMBERSHIP_TOPIC, (_source, message) => this.validate(message))
    gossip.addEventListener('message', this.onMessage)
    gossip.subscribe(MEMBERSHIP_TOPIC)
    this.timer = setInterval(() => { void this.announce() }, ANNOUNCE_INTERVAL_MS)
    void this.announce()
  }

  /** Stop, telling the others first (best effort: a killed supernode shows as a closed connection). */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    const certificate = this.deps.ownEntry()?.certificate
    if (certificate !== undefined) await this.publish({ type: 'leave', certificate })
    const { gossip } = this.deps
    gossip.removeEventListener('message', this.onMessage)
    gossip.unsubscribe(MEMBERSHIP_TOPIC)
    gossip.topicValidators.delete(MEMBERSHIP_TOPIC)
    this.heard.clear()
  }

  /** Entries announced within ANNOUNCEMENT_TTL_MS (others than this supernode), freshest load. */
  fresh (nowMs: number): SupernodeEntry[] {
    const out: SupernodeEntry[] = []
    for (const [id, { entry, atMs }] of this.heard) {
      if (nowMs - atMs <= ANNOUNCEMENT_TTL_MS) out.push(entry)
      else this.heard.delete(id)
    }
    return out
  }

  /** Announce now, between the periodic announcements (a supernode refuting a suspicion). */
  async announceNow (): Promise<void> {
    await this.announce()
  }

  /** Tell every supernode that `supernode` went silent (its own verdict is the caller's). */
  async suspect (supernode: string, certificate: string): Promise<void> {
    await this.publish({ type: 'suspect', certificate, supernode })
  }

  /**
   * A connection to another supernode: run identify on it once, which is how libp2p tells
   * gossipsub that the peer speaks it (identify does not run by itself: see libp2p.ts).
   */
  introduce (connection: Connection): void {
    if (this.introduced.has(connection)) return
    this.introduced.add(connection)
    this.deps.identify.identify(connection, { signal: AbortSignal.timeout(5000) }).catch((err: unknown) => {
      this.introduced.delete(connection)
      this.deps.log.debug({ remote: connection.remotePeer.toString(), err: describeError(err) }, 'identify of a supernode failed')
    })
  }

  private async announce (): Promise<void> {
    const entry = this.deps.ownEntry()
    if (entry !== null) await this.publish({ type: 'announce', entry })
  }

  private async publish (notice: MembershipNotice): Promise<void> {
    try {
      await this.deps.gossip.publish(MEMBERSHIP_TOPIC, encodeFrame(notice))
    } catch (err) {
      // Publishing to nobody is allowed; what is left is gossipsub stopping: nothing to do.
      this.deps.log.debug({ type: notice.type, err: describeError(err) }, 'gossip publish failed')
    }
  }

  /** Gossipsub calls this before delivering or forwarding a message. */
  private validate (message: Message): TopicValidatorResult {
    const notice = this.verified(message)
    this.deps.count(notice?.type ?? 'unknown', notice === undefined ? 'rejected' : 'accepted')
    if (notice === undefined) return TopicValidatorResult.Reject
    this.accepted.set(message, notice)
    return TopicValidatorResult.Accept
  }

  /** The notice, if signed by a peer whose supernode certificate it carries; undefined otherwise. */
  private verified (message: Message): MembershipNotice | undefined {
    if (message.type !== 'signed') return undefined
    const from = message.from.toString()
    try {
      const notice = decodeFrame(MembershipNotice, message.data)
      const certificate = notice.type === 'announce' ? notice.entry.certificate : notice.certificate
      if (notice.type === 'announce' && notice.entry.peerId !== from) return undefined
      // The same certificate comes every second: verifyToken remembers its signature (protocol signed-token.ts).
      verifyCertificate(certificate, this.deps.clusterKey, { peerId: from, nowMs: this.deps.now() })
      return notice
    } catch (err) {
      this.deps.log.info({ from, err: describeError(err) }, 'gossip notice refused')
      return undefined
    }
  }

  private readonly onMessage = (evt: CustomEvent<Message>): void => {
    const message = evt.detail
    if (message.topic !== MEMBERSHIP_TOPIC || message.type !== 'signed') return
    const from = message.from.toString()
    const notice = this.accepted.get(message)
    this.accepted.delete(message)
    if (from === this.deps.self || notice === undefined) return
    if (notice.type === 'suspect') {
      this.deps.onGone(notice.supernode, from, 'suspected')
      return
    }
    if (notice.type === 'leave') {
      // Forgotten at once: an announcement heard a moment ago must not keep it listed.
      this.heard.delete(from)
      this.deps.onGone(from, from, 'left')
      return
    }
    if (!this.heard.has(from) && this.heard.size >= MAX_SUPERNODE_LIST) return
    this.heard.set(from, { entry: notice.entry, atMs: this.deps.now() })
    this.deps.onAnnounce(from)
  }
}
