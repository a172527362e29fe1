/**
 * Signed tokens: base64url(JSON payload) '.' base64url(Ed25519 signature over those payload bytes).
 * Every payload carries a `kind`, so a certificate can never be shown as a ticket or a slot.
 */
import { sign, verify, type KeyObject } from 'node:crypto'
import type { z } from 'zod'
import { setNewest } from './bounded.js'
import { ReboundError, type ErrorCode } from './errors.js'
import { MAX_TOKEN_LENGTH } from './limits.js'

/**
 * Tokens whose signature verified, per public key, with their decoded payload: a supernode sees
 * the same few certificates and tickets on every mesh request and attach, and checking each
 * signature again was ~6% of a busy supernode's CPU (500 peers, a freeze). A token is an
 * immutable string, so a hit proves what the first check proved; the schema is still applied,
 * and expiry and binding are checked by the callers every time.
 */
const verifiedByKey = new WeakMap<KeyObject, Map<string, unknown>>()
export const MAX_VERIFIED_TOKENS_PER_KEY = 4096

export function signToken (payload: object, privateKey: KeyObject): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8')
  const signature = sign(null, body, privateKey)
  return `${body.toString('base64url')}.${signature.toString('base64url')}`
}

/** Verify the signature, then decode and validate the payload. Throws ReboundError(`code`). */
export function verifyToken<S extends z.ZodType> (token: string, schema: S, publicKey: KeyObject, code: ErrorCode): z.infer<S> {
  if (token.length > MAX_TOKEN_LENGTH) throw new ReboundError(code, 'token too long')
  let verified = verifiedByKey.get(publicKey)
  const cached = verified?.get(token)
  if (cached !== undefined) return parsePayload(cached, schema, code)
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
  const data = parsePayload(value, schema, code)
  if (verified === undefined) {
    verified = new Map()
    verifiedByKey.set(publicKey, verified)
  }
  setNewest(verified, token, value, MAX_VERIFIED_TOKENS_PER_KEY)
  return data
}

function parsePayload<S extends z.ZodType> (value: unknown, schema: S, code: ErrorCode): z.infer<S> {
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
