/**
 * Passwords of generated test accounts: a deterministic function of the run's seed and the user,
 * so the load generator and the swarm processes it starts agree on them without a password list,
 * and a replayed run logs in with the same credentials. Not a secret worth protecting.
 */
import { createHash } from 'node:crypto'

export const WORKLOAD_PASSWORD_LENGTH = 24

export function workloadPassword (seed: number | string, user: string): string {
  return createHash('sha256').update(`rebound-loadgen:${seed}:${user}`).digest('base64url').slice(0, WORKLOAD_PASSWORD_LENGTH)
}
