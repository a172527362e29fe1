/**
 * A client's attached session: one long-lived stream to its supernode. The client sends chat
 * messages and waits for their end-to-end result; the supernode pushes deliveries, which are
 * stored durably before the client acknowledges them. The client pings on this stream and ends
 * the session when its supernode has been silent for SESSION_SILENCE_MS or, for a supernode whose
 * frames come irregularly, longer (silence-watch.ts SilenceBound): killed or frozen.
 */
import { multiaddr } from '@multiformats/multiaddr'
import {
  ClientFrame, FramedStream, ReboundError, SESSION_PING_INTERVAL_MS, SESSION_PROTOCOL, SESSION_SILENCE_MS, ServerFrame,
  describeError, verifyCertificate,
  type ChatMessage, type ErrorCode, type Logger, type SupernodeEntry
} from '@rebound/protocol'
import type { KeyObject } from 'node:crypto'
import type { PeerNode } from '../libp2p.js'
import { SilenceBound, WATCH_INTERVAL_MS, isSilent } from './silence-watch.js'

/** Sends awaiting their result on one session; beyond this a send is refused with BUSY. */
export const MAX_PENDING_SENDS = 256
export const ATTACH_TIMEOUT_MS = 5000

export interface SendOutcome {
  ok: boolean
  code?: ErrorCode
}

export interface AttachResult {
  session: ClientSession
  supernodes: SupernodeEntry[]
}

interface Pending {
  resolve: (outcome: SendOutcome) => void
  timer: NodeJS.Timeout
}

export type DeliveryHandler = (message: ChatMessage) => void

export interface AttachInit {
  ticket: string
  clusterKey: KeyObject
  onDeliver: DeliveryHandler
  log: Logger
  /** Sent here by another supernode's REDIRECT (no second balance redirect). */
  redirected: boolean
  /** Bound of the attach: dial included (attach), or from the open stream (attachOn). */
  timeoutMs: number
}

export class ClientSession {
  readonly supernode: string
  readonly closed: Promise<void>
  private readonly pending = new Map<string, Pending>()
  private ended = false
  /** The session ended because the supernode fell silent (frozen or cut off), not closed. */
  wentSilent = false
  /** The supernode's orphan window: from the attach reply, then from each pong. */
  orphanWindowMs: number
  private readonly keepalive: NodeJS.Timeout
  private readonly watch: NodeJS.Timeout
  private lastHeardAtMs = Date.now()
  private lastTickAtMs = Date.now()
  /** At least SESSION_SILENCE_MS, longer for a supernode whose frames come irregularly. */
  private readonly silenceBound = new SilenceBound(SESSION_PING_INTERVAL_MS, SESSION_SILENCE_MS)

  private constructor (
    private readonly framed: FramedStream,
    supernode: string,
    orphanWindowMs: number,
    private readonly onDeliver: DeliveryHandler,
    private readonly log: Logger
  ) {
    this.supernode = supernode
    this.orphanWindowMs = orphanWindowMs
    this.keepalive = setInterval(() => { this.ping() }, SESSION_PING_INTERVAL_MS)
    this.watch = setInterval(() => { this.checkSilence() }, WATCH_INTERVAL_MS)
    this.closed = this.readLoop()
  }

  /** Dial a supernode, show the ticket, verify its certificate, all within init.timeoutMs. Throws ReboundError. */
  static async attach (node: PeerNode, entry: SupernodeEntry, init: AttachInit): Promise<AttachResult> {
    const startedAtMs = Date.now()
    const framed = await ClientSession.dial(node, entry, AbortSignal.timeout(init.timeoutMs))
    const leftMs = Math.max(0, init.timeoutMs - (Date.now() - startedAtMs))
    return await ClientSession.attachOn(framed, entry, { ...init, timeoutMs: leftMs })
  }

  /**
   * Open the session stream to a supernode: TCP, Noise (which authenticates entry.peerId), the
   * session protocol. Throws ReboundError TIMEOUT when `signal` ends it, UNAVAILABLE otherwise.
   */
  static async dial (node: PeerNode, entry: SupernodeEntry, signal: AbortSignal): Promise<FramedStream> {
    const addrs = entry.addrs.map((a) => multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${entry.peerId}`))
    try {
      return new FramedStream(await node.dialProtocol(addrs, SESSION_PROTOCOL, { signal }))
    } catch (err) {
      throw new ReboundError(signal.aborted ? 'TIMEOUT' : 'UNAVAILABLE', `dial supernode failed: ${describeError(err)}`, { supernode: entry.peerId })
    }
  }

  /** On a stream `dial` opened: show the ticket, take the reply, verify the certificate. Aborts the stream on failure. */
  static async attachOn (framed: FramedStream, entry: SupernodeEntry, init: AttachInit): Promise<AttachResult> {
    const signal = AbortSignal.timeout(init.timeoutMs)
    try {
      const { ticket, redirected } = init
      await framed.write((redirected ? { type: 'attach', ticket, redirected } : { type: 'attach', ticket }) satisfies ClientFrame, { signal })
      const reply = await framed.read(ServerFrame, { signal })
      if (reply.type === 'error') {
        // An OVERLOADED join refusal's retryAfterMs is a place in the supernode's join schedule.
        const scheduled = reply.code === 'OVERLOADED' && reply.retryAfterMs !== undefined
        throw new ReboundError(reply.code, reply.message, { retryAfterMs: reply.retryAfterMs, redirect: reply.redirect, scheduled, balance: reply.balance === true })
      }
      if (reply.type !== 'attached') throw new ReboundError('BAD_REQUEST', `expected attached, got ${reply.type}`)
      // We dialled /p2p/<entry.peerId>, so Noise has authenticated that peer: its certificate must name it.
      verifyCertificate(reply.certificate, init.clusterKey, { peerId: entry.peerId, nowMs: Date.now() })
      const session = new ClientSession(framed, entry.peerId, reply.orphanWindowMs, init.onDeliver, init.log)
      return { session, supernodes: reply.supernodes }
    } catch (err) {
      framed.abort(err instanceof Error ? err : new Error(describeError(err)))
      throw err
    }
  }

  get isOpen (): boolean {
    return !this.ended
  }

  /** Send a message and wait for its end-to-end result (the recipient stored it) or the deadline. */
  async send (message: ChatMessage, deadlineMs: number): Promise<SendOutcome> {
    if (this.ended) return { ok: false, code: 'CLOSED' }
    if (this.pending.size >= MAX_PENDING_SENDS) return { ok: false, code: 'BUSY' }
    if (this.pending.has(message.id)) return { ok: false, code: 'BAD_REQUEST' }
    const outcome = new Promise<SendOutcome>((resolve) => {
      const timer = setTimeout(() => { this.settle(message.id, { ok: false, code: 'TIMEOUT' }) }, deadlineMs)
      this.pending.set(message.id, { resolve, timer })
    })
    try {
      await this.framed.write({ type: 'send', message, deadlineMs } satisfies ClientFrame, { signal: AbortSignal.timeout(deadlineMs) })
    } catch (err) {
      this.settle(message.id, { ok: false, code: err instanceof ReboundError ? err.code : 'CLOSED' })
    }
    return await outcome
  }

  close (): void {
    this.framed.abort(new Error('session closed by client'))
  }

  private ping (): void {
    // A failed ping needs no handling here: the read loop ends the session on the silence.
    this.framed.write({ type: 'ping' } satisfies ClientFrame, { signal: AbortSignal.timeout(SESSION_SILENCE_MS) }).catch(() => {})
  }

  /** End the session when the supernode has been silent too long (silence-watch.ts). */
  private checkSilence (): void {
    const nowMs = Date.now()
    const silent = isSilent({ nowMs, lastHeardAtMs: this.lastHeardAtMs, lastTickAtMs: this.lastTickAtMs, silenceMs: this.silenceBound.ms })
    this.lastTickAtMs = nowMs
    if (!silent || this.ended) return
    this.wentSilent = true
    this.framed.abort(new ReboundError('TIMEOUT', `supernode silent for ${nowMs - this.lastHeardAtMs} ms`))
  }

  private settle (id: string, outcome: SendOutcome): void {
    const p = this.pending.get(id)
    if (p === undefined) return
    clearTimeout(p.timer)
    this.pending.delete(id)
    p.resolve(outcome)
  }

  private async readLoop (): Promise<void> {
    try {
      for (;;) {
        // No read deadline: the silence watch aborts the stream (a timer here would fire before
        // the frames queued while this process was starved could be read).
        const frame = await this.framed.read(ServerFrame)
        const nowMs = Date.now()
        this.silenceBound.observe(nowMs - this.lastHeardAtMs)
        this.lastHeardAtMs = nowMs
        if (frame.type === 'pong') {
          if (frame.orphanWindowMs !== undefined) this.orphanWindowMs = frame.orphanWindowMs
        } else if (frame.type === 'send-result') {
          this.settle(frame.id, frame.code === undefined ? { ok: frame.ok } : { ok: frame.ok, code: frame.code })
        } else if (frame.type === 'deliver') {
          // Stored (fsync'd) before the ack; if storing throws, the session ends unacknowledged.
          this.onDeliver(frame.message)
          await this.framed.write({ type: 'deliver-ack', id: frame.message.id } satisfies ClientFrame)
        } else if (frame.type === 'error') {
          this.log.warn({ code: frame.code, msg: frame.message }, 'supernode sent error')
        } else {
          throw new ReboundError('BAD_REQUEST', `unexpected ${frame.type} frame`)
        }
      }
    } catch (err) {
      this.wentSilent ||= err instanceof ReboundError && err.code === 'TIMEOUT'
      this.log.info({ supernode: this.supernode, reason: describeError(err), silent: this.wentSilent }, 'session ended')
      this.framed.abort(err instanceof Error ? err : new Error(describeError(err)))
    } finally {
      this.ended = true
      clearInterval(this.keepalive)
      clearInterval(this.watch)
      for (const id of [...this.pending.keys()]) this.settle(id, { ok: false, code: 'CLOSED' })
    }
  }
}
