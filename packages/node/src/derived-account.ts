/**
 * Accounts for peers started as interchangeable replicas (a compose service scaled to N
 * containers, docker-compose.yml): every replica gets the same flags, so the user is taken from the
 * machine's hostname (a container's id: distinct per container, kept across its restarts) and the
 * password is derived from a seed shared with the load generator by protocol's workloadPassword (as
 * rebound-swarm derives its members'), so the load generator can act as any replica's user without
 * a password list.
 */
import { join } from 'node:path'
import { ReboundError, USER_PATTERN, workloadPassword } from '@rebound/protocol'
import type { NodeConfig } from './config.js'

/** The user a host named `hostname` runs as: its first label, lower-cased (`3F2A9c.net` -> `3f2a9c`). */
export function userFromHostname (hostname: string): string {
  const user = (hostname.split('.')[0] ?? '').toLowerCase()
  if (!USER_PATTERN.test(user)) {
    throw new ReboundError('BAD_CONFIG', `--user-from-hostname: hostname '${hostname}' does not give a user name (1-32 of [a-z0-9_-], starting with a letter or digit)`)
  }
  return user
}

/**
 * The configuration with `--user-from-hostname` and `--password-seed` resolved into a user, a
 * password and a data directory; unchanged when neither is set. The schema (config.ts) has already
 * ruled out contradictions (a user and --user-from-hostname, a password and --password-seed).
 */
export function resolveAccount (config: NodeConfig, hostname: () => string): NodeConfig {
  if (config.supernode || (!config.userFromHostname && config.passwordSeed === undefined)) return config
  const resolved = { ...config }
  if (config.userFromHostname) {
    resolved.user = userFromHostname(hostname())
    // Its own directory, as rebound-swarm members have: a container re-created on its
    // predecessor's volume is a new user and must not resume with that user's ticket and data.
    resolved.dataDir = join(config.dataDir, resolved.user)
  }
  if (config.passwordSeed !== undefined && resolved.user !== undefined) resolved.password = workloadPassword(config.passwordSeed, resolved.user)
  return resolved
}
