/**
 * One attached client, seen from its supernode: reads the client's sends and hands them to the
 * router, pushes deliveries and waits for the client's acknowledgement (the client stored it).
 * Answers the client's keepalive pings (with the current orphan window); a client silent for
 * SESSION_IDLE_MS is dropped.
 */
import {
  ClientFrame, FramedStream, ReboundError, SESSION_IDLE_MS, describeError, errorCodeOf,
  type ChatMessage, type Logger, type ServerFrame
} from '@rebound/protocol'
import type { SendOutcome } from '../client/client-session.js'

/** Sends of one client being routed at once; more are refused with BUSY (the client retries). */
export const MAX_SENDS_IN_FLIGHT = 64
/** Deliveries awaiting one client's acknowledgement. */
export const MAX_PENDING_DELIVERIES = 256

export type RouteFn = (message: ChatMessage, deadlineMs: number) => Promise<SendOutcome>

interface PendingDelivery {
  resolve: (outcome: SendOutcome) => void
  timer: NodeJS.Timeout
}

export class ServerSession {
  private readonly deliveries = new Map<string, PendingDelivery>()
  private sendsInFlight = 0
  private ended = false

  constructor (
    readonly user: string,
    readonly ticket: string,
    readonly peerId: string,
    readonly sinceMs: number,
    private readonly framed: FramedStream,
    private readonly route: RouteFn,
    private readonly log: Logger,
    /** The orphan window to advertise in each pong. */
    private readonly orphanWindowMs: () => number
  ) {}

  get isOpen (): boolean {
    return !this.ended
  }

  async write (frame: ServerFrame): Promise<void> {
    await this.framed.write(frame, { signal: AbortSignal.timeout(5000) })
  }

  /** Push a message to this client; ok once the client acknowledged storing it. */
  async deliver (message: ChatMessage, deadlineMs: number): Promise<SendOutcome> {
    if (this.ended) return { ok: false, code: 'RECIPIENT_OFFLINE' }
    if (this.deliveries.size >= MAX_PENDING_DELIVERIES) return { ok: false, code: 'BUSY' }
    const existing = this.deliveries.get(message.id)
    if (existing !== undefined) return { ok: false, code: 'BUSY' }
    const outcome = new Promise<SendOutcome>((resolve) => {
      const timer = setTimeout(() => { this.settle(message.id, { ok: false, code: 'TIMEOUT' }) }, deadlineMs)
      this.deliveries.set(message.id, { resolve, timer })
    })
    try {
      await this.write({ type: 'deliver', message })
    } catch (err) {
      this.settle(message.id, { ok: false, code: errorCodeOf(err) })
    }
    return await outcome
  }

  /** Serve the client's frames until the stream ends. */
  async serve (): Promise<void> {
    try {
      for (;;) {
        const frame = await this.framed.read(ClientFrame, { signal: AbortSignal.timeout(SESSION_IDLE_MS) })
        if (frame.type === 'ping') {
          this.write({ type: 'pong', orphanWindowMs: this.orphanWindowMs() }).catch(() => { /* the session is gone: the read ends it */ })
        } else if (frame.type === 'deliver-ack') {
          this.settle(frame.id, { ok: true })
        } else if (frame.type === 'send') {
          this.onSend(frame.message, frame.deadlineMs)
        } else {
          throw new ReboundError('BAD_REQUEST', 'already attached')
        }
      }
    } catch (err) {
      const code = errorCodeOf(err)
      if (code !== 'CLOSED') this.log.warn({ client: this.user, code, err: describeError(err) }, 'session stream error')
      this.framed.abort(err instanceof Error ? err : new Error(describeError(err)))
    } finally {
      this.ended = true
      for (const id of [...this.deliveries.keys()]) this.settle(id, { ok: false, code: 'RECIPIENT_OFFLINE' })
    }
  }

  close (reason: string): void {
    this.framed.abort(new Error(reason))
  }

  private onSend (message: ChatMessage, deadlineMs: number): void {
    const reply = (outcome: SendOutcome): void => {
      const frame: ServerFrame = outcome.code === undefined
        ? { type: 'send-result', id: message.id, ok: outcome.ok }
        : { type: 'send-result', id: message.id, ok: outcome.ok, code: outcome.code }
      this.write(frame).catch(() => { /* the session is gone; the client sees CLOSED */ })
    }
    // The ticket decides who you are: a client cannot send in another user's name.
    if (message.from !== this.user) { reply({ ok: false, code: 'NOT_AUTHORIZED' }); return }
    if (this.sendsInFlight >= MAX_SENDS_IN_FLIGHT) { reply({ ok: false, code: 'BUSY' }); return }
    this.sendsInFlight++
    this.route(message, deadlineMs)
      .catch((err: unknown): SendOutcome => ({ ok: false, code: errorCodeOf(err) }))
      .then(reply)
      .finally(() => { this.sendsInFlight-- })
  }

  private settle (id: string, outcome: SendOutcome): void {
    const p = this.deliveries.get(id)
    if (p === undefined) return
    clearTimeout(p.timer)
    this.deliveries.delete(id)
    p.resolve(outcome)
  }
}
