/**
 * A libp2p stream carrying length-prefixed, schema-checked frames. Reads time out by deadline and
 * abort the stream on timeout (libp2p leaves a timed-out stream open); writes are serialised so
 * that concurrent senders on one long-lived stream never interleave, and wait for drain.
 */
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import type { z } from 'zod'
import { decodeFrame, encodeFrame } from './codec.js'
import { ReboundError } from './errors.js'
import { MAX_FRAME_BYTES } from './limits.js'

export interface ReadOptions {
  signal?: AbortSignal
}

export class FramedStream {
  readonly stream: Stream
  private readonly lp: ReturnType<typeof lpStream<Stream>>
  private writeChain: Promise<void> = Promise.resolve()

  constructor (stream: Stream) {
    this.stream = stream
    this.lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
  }

  /** Next frame, decoded with `schema`. Throws ReboundError: CLOSED, TIMEOUT, FRAME_TOO_LARGE, BAD_REQUEST. */
  async read<S extends z.ZodType> (schema: S, options: ReadOptions = {}): Promise<z.infer<S>> {
    let bytes: Uint8Array
    try {
      const frame = await this.lp.read(options.signal == null ? {} : { signal: options.signal })
      bytes = frame.subarray()
    } catch (err) {
      throw translateReadError(err)
    }
    return decodeFrame(schema, bytes)
  }

  /** Queue one frame for writing; resolves when it has been handed to the muxer. */
  async write (message: unknown, options: ReadOptions = {}): Promise<void> {
    const bytes = encodeFrame(message)
    const next = this.writeChain.then(async () => {
      await this.lp.write(bytes, options.signal == null ? {} : { signal: options.signal })
    })
    // A failed write must not poison the writes queued after it: they fail on their own.
    this.writeChain = next.catch(() => {})
    try {
      await next
    } catch (err) {
      throw translateWriteError(err)
    }
  }

  async close (): Promise<void> {
    try {
      await this.stream.close()
    } catch {
      this.stream.abort(new Error('close failed'))
    }
  }

  abort (err: Error): void {
    this.stream.abort(err)
  }
}

function nameOf (err: unknown): string {
  const e = err as { name?: unknown, error?: { name?: unknown } } | null
  if (typeof e?.name === 'string') return e.name
  if (typeof e?.error?.name === 'string') return e.error.name
  return ''
}

function translateReadError (err: unknown): ReboundError {
  const name = nameOf(err)
  if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') {
    return new ReboundError('FRAME_TOO_LARGE', `frame exceeds ${MAX_FRAME_BYTES} bytes`)
  }
  if (name === 'TimeoutError' || name === 'AbortError') return new ReboundError('TIMEOUT', 'read deadline passed')
  if (name === 'InvalidMessageLengthError') return new ReboundError('BAD_REQUEST', 'invalid frame length prefix')
  return new ReboundError('CLOSED', `stream ended: ${name === '' ? String(err) : name}`)
}

function translateWriteError (err: unknown): ReboundError {
  if (err instanceof ReboundError) return err
  const name = nameOf(err)
  if (name === 'TimeoutError' || name === 'AbortError') return new ReboundError('TIMEOUT', 'write deadline passed')
  return new ReboundError('CLOSED', `stream closed while writing: ${name}`)
}
