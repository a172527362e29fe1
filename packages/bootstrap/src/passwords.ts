/**
 * Password hashing with scrypt (RFC 7914). One hash at N=2^14, r=8 costs ~50 ms of a libuv pool
 * thread and 16 MiB of memory; that is the real price of a login, which is why logins pass through
 * admission control (admission/controller.ts) instead of piling up in the thread pool.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

export const SCRYPT_R = 8
export const SCRYPT_P = 1
export const SALT_BYTES = 16
export const HASH_BYTES = 32

export interface PasswordHash {
  salt: Uint8Array
  hash: Uint8Array
  scryptN: number
}

/**
 * scrypt needs 128 * N * r bytes; Node refuses anything over `maxmem` (32 MiB by default), which
 * N=2^18 would already exceed. Twice the need leaves room for the small extra buffers.
 */
function maxmemFor (n: number): number {
  return 2 * 128 * n * SCRYPT_R
}

async function derive (password: string, salt: Uint8Array, n: number): Promise<Buffer> {
  // NFC: the same password typed on two keyboards may arrive as different code point sequences.
  const secret = Buffer.from(password.normalize('NFC'), 'utf8')
  return await new Promise((resolve, reject) => {
    scrypt(secret, salt, HASH_BYTES, { N: n, r: SCRYPT_R, p: SCRYPT_P, maxmem: maxmemFor(n) }, (err, key) => {
      if (err !== null) reject(err)
      else resolve(key)
    })
  })
}

export async function hashPassword (password: string, scryptN: number): Promise<PasswordHash> {
  const salt = randomBytes(SALT_BYTES)
  return { salt, hash: await derive(password, salt, scryptN), scryptN }
}

/** Constant-time comparison, with the cost the hash was stored with. */
export async function verifyPassword (password: string, stored: PasswordHash): Promise<boolean> {
  const candidate = await derive(password, stored.salt, stored.scryptN)
  return candidate.byteLength === stored.hash.byteLength && timingSafeEqual(candidate, stored.hash)
}
