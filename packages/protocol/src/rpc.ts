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
  /** A client has this long to send its request; a silent stream is aborted after it. */
  readTimeoutMs: number
  log: Logger
}

/**
 * A libp2p stream handler serving one request per stream. It never throws into libp2p: a bad
 * frame gets an error reply when the stream can still carry one, and is logged; a handler error
 * becomes an error reply with its code.
 */
export function serveRequests<S extends z.ZodType> (
  requestSchema: S,
  handler: (req: z.infer<S>, connection: Connection) => Promise<unknown>,
  options: ServeOptions
): (stream: Stream, connection: Connection) => Promise<void> {
  return async (stream, connection) => {
    const framed = new FramedStream(stream)
    const remote = connection.remotePeer.toString()
    let req: z.infer<S>
    try {
      req = await framed.read(requestSchema, { signal: AbortSignal.timeout(options.readTimeoutMs) })
    } catch (err) {
      // A client that simply went away is routine under churn; a bad frame is worth a warning.
      const level = errorCodeOf(err) === 'CLOSED' || errorCodeOf(err) === 'TIMEOUT' ? 'debug' : 'warn'
      options.log[level]({ remote, code: errorCodeOf(err), err: describeError(err) }, 'bad request stream')
      if (errorCodeOf(err) === 'BAD_REQUEST') {
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
      await framed.close()
    } catch (err) {
      options.log.debug({ remote, err: describeError(err) }, 'reply not delivered')
      framed.abort(err as Error)
    }
  }
}
