/**
 * One request and one reply per stream, with a deadline on the whole exchange. Used for login,
 * registry and mesh traffic; the session protocol keeps a long-lived stream instead.
 */
import type { Connection, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { z } from 'zod'
import { ReboundError, describeError, errorCodeOf } from './errors.js'
import { FramedStream } from './framed-stream.js'
import type { ErrorReply } from './messages.js'

/** The part of a libp2p node that `request` needs (keeps this module independent of its wiring). */
export interface Dialer {
  dialProtocol: (target: Multiaddr | Multiaddr[], protocols: string | string[], options?: { signal?: AbortSignal }) => Promise<Stream>
}

export async function request<S extends z.ZodType> (
  dialer: Dialer, target: Multiaddr | Multiaddr[], protocol: string, message: unknown, replySchema: S, deadlineMs: number
): Promise<z.infer<S>> {
  const signal = AbortSignal.timeout(deadlineMs)
  let stream: Stream
  try {
    stream = await dialer.dialProtocol(target, protocol, { signal })
  } catch (err) {
    const code = signal.aborted ? 'TIMEOUT' : 'UNAVAILABLE'
    throw new ReboundError(code, `dial ${protocol} failed: ${describeError(err)}`, { protocol })
  }
  const framed = new FramedStream(stream)
  try {
    await framed.write(message, { signal })
    const reply = await framed.read(replySchema, { signal })
    await framed.close()
    return reply
  } catch (err) {
    framed.abort(err instanceof Error ? err : new Error(describeError(err)))
    throw err
  }
}

export function errorReply (err: unknown): ErrorReply {
  const code = errorCodeOf(err)
  const message = code === 'INTERNAL' ? 'internal error' : (err as Error).message.slice(0, 500)
  const reply: ErrorReply = { type: 'error', code, message }
  const retryAfterMs = (err as ReboundError).meta?.retryAfterMs
  if (typeof retryAfterMs === 'number') reply.retryAfterMs = Math.max(0, Math.round(retryAfterMs))
  return reply
}

export interface ServeOptions {
  /** A client has this long to send its first request; a silent stream is aborted after it. */
  readTimeoutMs: number
  /** Between requests on a kept stream: an idle stream is closed after this (default 30 s). */
  idleTimeoutMs?: number
  log: Logger
}

/** Requests served on one stream before the server closes it (the client simply re-opens). */
export const MAX_REQUESTS_PER_STREAM = 10_000
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000

/**
 * A libp2p stream handler serving requests, one reply each, until the client closes the stream,
 * goes idle or reaches MAX_REQUESTS_PER_STREAM. Keeping the stream is what makes a refusal cheap:
 * opening a stream costs the server ~1.4 ms of libp2p work (multistream negotiation, peer-store
 * update), a frame on an open stream ~0.1 ms. It never throws into libp2p: a bad frame gets an
 * error reply when the stream can still carry one, and is logged; a handler error becomes an
 * error reply with its code.
 */
export function serveRequests<S extends z.ZodType> (
  requestSchema: S,
  handler: (req: z.infer<S>, connection: Connection) => Promise<unknown>,
  options: ServeOptions
): (stream: Stream, connection: Connection) => Promise<void> {
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
  return async (stream, connection) => {
    const framed = new FramedStream(stream)
    const remote = connection.remotePeer.toString()
    for (let served = 0; served < MAX_REQUESTS_PER_STREAM; served++) {
      let req: z.infer<S>
      try {
        req = await framed.read(requestSchema, { signal: AbortSignal.timeout(served === 0 ? options.readTimeoutMs : idleTimeoutMs) })
      } catch (err) {
        const code = errorCodeOf(err)
        if (served > 0 && (code === 'CLOSED' || code === 'TIMEOUT')) {
          // The client is done with this stream (closed it, or went quiet): end it cleanly.
          await framed.close()
          return
        }
        // A client that simply went away is routine under churn; a bad frame is worth a warning.
        const level = code === 'CLOSED' || code === 'TIMEOUT' ? 'debug' : 'warn'
        options.log[level]({ remote, code, err: describeError(err) }, 'bad request stream')
        if (code === 'BAD_REQUEST') {
          await framed.write(errorReply(err), { signal: AbortSignal.timeout(1000) }).catch(() => {})
        }
        framed.abort(err as Error)
        return
      }
      let reply: unknown
      try {
        reply = await handler(req, connection)
      } catch (err) {
        if (errorCodeOf(err) === 'INTERNAL') options.log.error({ remote, err: describeError(err) }, 'request handler failed')
        reply = errorReply(err)
      }
      try {
        await framed.write(reply, { signal: AbortSignal.timeout(options.readTimeoutMs) })
      } catch (err) {
        options.log.debug({ remote, err: describeError(err) }, 'reply not delivered')
        framed.abort(err as Error)
        return
      }
    }
    await framed.close()
  }
}
