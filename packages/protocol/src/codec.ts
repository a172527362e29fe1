/**
 * Frames are UTF-8 JSON, length-prefixed on the stream, bounded by MAX_FRAME_BYTES and validated
 * against a schema on decode. JSON keeps frames readable in captures; the schemas keep it strict.
 */
import type { z } from 'zod'
import { ReboundError } from './errors.js'
import { MAX_FRAME_BYTES } from './limits.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeFrame (message: unknown): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(message))
  if (bytes.byteLength > MAX_FRAME_BYTES) {
    throw new ReboundError('FRAME_TOO_LARGE', `frame of ${bytes.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`, { bytes: bytes.byteLength })
  }
  return bytes
}

export function decodeFrame<S extends z.ZodType> (schema: S, bytes: Uint8Array): z.infer<S> {
  if (bytes.byteLength > MAX_FRAME_BYTES) {
    throw new ReboundError('FRAME_TOO_LARGE', `frame of ${bytes.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`, { bytes: bytes.byteLength })
  }
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch {
    throw new ReboundError('BAD_REQUEST', 'frame is not valid UTF-8 JSON')
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.join('.') ?? ''
    throw new ReboundError('BAD_REQUEST', `invalid frame${where === '' ? '' : ` at ${where}`}: ${issue?.message ?? 'schema mismatch'}`)
  }
  return parsed.data
}
