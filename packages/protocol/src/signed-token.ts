/**
 * Signed tokens: base64url(JSON payload) '.' base64url(Ed25519 signature over those payload bytes).
 * Every payload carries a `kind`, so a certificate can never be shown as a ticket or a slot.
 */
import { sign, verify, type KeyObject } from 'node:crypto'
import type { z } from 'zod'
import { ReboundError, type ErrorCode } from './errors.js'
import { MAX_TOKEN_LENGTH } from './limits.js'

export function signToken (payload: object, privateKey: KeyObject): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8')
  const signature = sign(null, body, privateKey)
  return `${body.toString('base64url')}.${signature.toString('base64url')}`
}

/** Verify the signature, then decode and validate the payload. Throws ReboundError(`code`). */
export function verifyToken<S extends z.ZodType> (token: string, schema: S, publicKey: KeyObject, code: ErrorCode): z.infer<S> {
  if (token.length > MAX_TOKEN_LENGTH) throw new ReboundError(code, 'token too long')
  const dot = token.indexOf('.')
  if (dot <= 0 || dot !== token.lastIndexOf('.')) throw new ReboundError(code, 'malformed token')
  const body = Buffer.from(token.slice(0, dot), 'base64url')
  const signature = Buffer.from(token.slice(dot + 1), 'base64url')
  let ok = false
  try {
    ok = signature.length === 64 && verify(null, body, publicKey, signature)
  } catch {
    ok = false
  }
  if (!ok) throw new ReboundError(code, 'bad signature')
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    throw new ReboundError(code, 'payload is not JSON')
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new ReboundError(code, 'payload does not match its schema')
  return parsed.data
}

/** Decode a token's payload without checking its signature: only for display and caching. */
export function peekToken<S extends z.ZodType> (token: string, schema: S): z.infer<S> | undefined {
  const dot = token.indexOf('.')
  if (dot <= 0) return undefined
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}
