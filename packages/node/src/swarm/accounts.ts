/**
 * The accounts of a swarm's members: user names numbered from `--first-user`, and passwords that
 * are a deterministic function of a seed and the user, so the load generator that started the
 * swarm can log in as (or check) any member without a password list.
 *
 * MUST stay identical to `derivePassword` in packages/loadgen/src/users.ts (the programs share no
 * code besides the protocol package); both have a test pinning the same vector.
 */
import { createHash } from 'node:crypto'

/** Default zero-padding of the member number in a user name ("u000042"). */
export const DEFAULT_USER_DIGITS = 6
export const PASSWORD_LENGTH = 24

export function swarmPassword (seed: string, user: string): string {
  return createHash('sha256').update(`rebound-loadgen:${seed}:${user}`).digest('base64url').slice(0, PASSWORD_LENGTH)
}

export function memberUser (prefix: string, number: number, digits: number): string {
  return `${prefix}${String(number).padStart(digits, '0')}`
}
