/**
 * One error class for the whole project, with a closed set of codes. Callers branch on `code`,
 * never on the message; `meta` carries structured context for logs.
 */
export const ERROR_CODES = [
  'BAD_REQUEST',
  'FRAME_TOO_LARGE',
  'BAD_PASSWORD',
  'UNKNOWN_USER',
  'USER_EXISTS',
  'TICKET_INVALID',
  'TICKET_EXPIRED',
  'TICKET_PEER_MISMATCH',
  'SLOT_INVALID',
  'CERT_INVALID',
  'CERT_EXPIRED',
  'NOT_AUTHORIZED',
  'NOT_SUPERNODE',
  'OVERLOADED',
  'FULL',
  'RECIPIENT_OFFLINE',
  'NO_ROUTE',
  'TIMEOUT',
  'UNAVAILABLE',
  'BUSY',
  'CLOSED',
  'BAD_CONFIG',
  'CORRUPT_STORE',
  'INTERNAL'
] as const

export type ErrorCode = typeof ERROR_CODES[number]

export class ReboundError extends Error {
  static override name = 'ReboundError'
  readonly code: ErrorCode
  readonly meta: Record<string, unknown>

  constructor (code: ErrorCode, message: string, meta: Record<string, unknown> = {}) {
    super(message)
    this.name = 'ReboundError'
    this.code = code
    this.meta = meta
  }
}

export function isErrorCode (value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value)
}

/** The code of any thrown value: a ReboundError's own, TIMEOUT for aborts, INTERNAL otherwise. */
export function errorCodeOf (err: unknown): ErrorCode {
  if (err instanceof ReboundError) return err.code
  const name = (err as { name?: unknown } | null)?.name
  if (name === 'TimeoutError' || name === 'AbortError') return 'TIMEOUT'
  return 'INTERNAL'
}

/** A short printable description of any thrown value, including libp2p's Event rejections. */
export function describeError (err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`
  const inner = (err as { error?: unknown } | null)?.error
  if (inner instanceof Error) return `${inner.name}: ${inner.message}`
  return String(err)
}
