/**
 * The operator token: shown by operator supernodes to be certified (registry) and by checkers
 * reading the store over HTTP (`authorization: Bearer <token>`). Compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

/** Compares digests so that neither the token's content nor its length leaks through timing. */
export function sameSecret (a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()
  return timingSafeEqual(digest(a), digest(b))
}

/**
 * True when an `authorization` header is `Bearer <operator token>`. The scheme is case-insensitive
 * (RFC 6750); the rest is compared as it is, since --operator-token may be any 8-256 characters.
 */
export function isOperatorBearer (authorization: string | undefined, operatorToken: string): boolean {
  const match = /^bearer (.+)$/is.exec(authorization ?? '')
  return match?.[1] !== undefined && sameSecret(match[1], operatorToken)
}
