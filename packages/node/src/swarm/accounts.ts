/**
 * The accounts of a swarm's members: user names numbered from `--first-user`, and passwords that
 * are a deterministic function of a seed and the user, so the load generator that started the
 * swarm can log in as (or check) any member without a password list.
 * The derivation is protocol's `workloadPassword`, which the load generator uses too.
 */
import { workloadPassword } from '@rebound/protocol'

/** Default zero-padding of the member number in a user name ("u000042"). */
export const DEFAULT_USER_DIGITS = 6
export const swarmPassword: (seed: string, user: string) => string = workloadPassword

export function memberUser (prefix: string, number: number, digits: number): string {
  return `${prefix}${String(number).padStart(digits, '0')}`
}
