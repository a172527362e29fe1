/**
 * A kept request stream to one peer: requests go one at a time over the same stream (the server
 * side is `serveRequests`), so a client's retries and a supernode's heartbeats cost a frame, not
 * a new stream. Any failure drops the stream; the next request opens a fresh one. Callers that
 * overlap wait their turn, bounded by MAX_CHANNEL_WAITERS and by their own deadline.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { z } from 'zod'
import { ReboundError, describeError } from './errors.js'
import { FramedStream } from './framed-stream.js'
import type { Dialer } from './rpc.js'

/** Requests waiting for the channel at once; beyond it a request fails fast with BUSY. */
export const MAX_CHANNEL_WAITERS = 64

export class RequestChannel {
  private framed: FramedStream | undefined
  private turn: Promise<void> = Promise.resolve()
  private waiters = 0

  constructor (private readonly dialer: Dialer, readonly target: Multiaddr | Multiaddr[], private readonly protocol: string) {}

  async request<S extends z.ZodType> (message: unknown, replySchema: S, deadlineMs: number): Promise<z.infer<S>> {
    if (this.waiters >= MAX_CHANNEL_WAITERS) throw new ReboundError('BUSY', `too many requests waiting for ${this.protocol}`)
    const signal = AbortSignal.timeout(deadlineMs)
    this.waiters++
    const previous = this.turn
    let release!: () => void
    this.turn = new Promise<void>((resolve) => { release = resolve })
    try {
      await raceAbort(previous, signal)
      return await this.exchange(message, replySchema, signal)
    } finally {
      this.waiters--
      release()
    }
  }

  /** Drop the kept stream (e.g. when the peer is known to be gone). */
  close (): void {
    this.framed?.abort(new Error('channel closed'))
    this.framed = undefined
  }

  private async exchange<S extends z.ZodType> (message: unknown, replySchema: S, signal: AbortSignal): Promise<z.infer<S>> {
    const kept = this.framed !== undefined && isUsable(this.framed) ? this.framed : undefined
    if (kept === undefined) this.close()
    try {
      return await this.once(kept ?? await this.open(signal), message, replySchema, signal)
    } catch (err) {
      // The server may have closed a kept stream while it sat idle: one more try on a fresh one.
      // Only for requests that are safe to repeat (every rebound request/response is).
      if (kept === undefined || (err as ReboundError).code !== 'CLOSED' || signal.aborted) throw err
      return await this.once(await this.open(signal), message, replySchema, signal)
    }
  }

  private async once<S extends z.ZodType> (framed: FramedStream, message: unknown, replySchema: S, signal: AbortSignal): Promise<z.infer<S>> {
    try {
      await framed.write(message, { signal })
      return await framed.read(replySchema, { signal })
    } catch (err) {
      // Whatever went wrong, this stream's framing can no longer be trusted: start afresh next time.
      framed.abort(err instanceof Error ? err : new Error(describeError(err)))
      if (this.framed === framed) this.framed = undefined
      throw err
    }
  }

  private async open (signal: AbortSignal): Promise<FramedStream> {
    try {
      this.framed = new FramedStream(await this.dialer.dialProtocol(this.target, this.protocol, { signal }))
      return this.framed
    } catch (err) {
      throw new ReboundError(signal.aborted ? 'TIMEOUT' : 'UNAVAILABLE', `dial ${this.protocol} failed: ${describeError(err)}`, { protocol: this.protocol })
    }
  }
}

function isUsable (framed: FramedStream): boolean {
  const stream = framed.stream
  return stream.status === 'open' && stream.writeStatus === 'writable' && stream.remoteWriteStatus === 'writable'
}

async function raceAbort (promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw new ReboundError('TIMEOUT', 'deadline passed while waiting for the channel')
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { reject(new ReboundError('TIMEOUT', 'deadline passed while waiting for the channel')) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(() => { signal.removeEventListener('abort', onAbort); resolve() }, () => { signal.removeEventListener('abort', onAbort); resolve() })
  })
}
