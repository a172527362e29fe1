/**
 * How the load generator starts a rebound-swarm that hosts peers (docs/interfaces.md
 * "rebound-swarm"): its flags from a description of the members, and the password seed, which
 * travels in the environment (flags show in `ps`). Shared by `rebound run` and the benchmark.
 */

export interface SwarmMembers {
  count: number
  /** Member i listens on the i-th address from here (`perOctet` per third octet, swarm default 254). */
  firstIp: string
  perOctet?: number
  controlIp: string
  /** Member i keeps its identity and state in `<dataDir>/<user>/`. */
  dataDir: string
  /** Member i is user `<userPrefix><firstUser + i, zero-padded to userDigits>`. */
  userPrefix: string
  firstUser: number
  userDigits?: number
  /** Members start evenly over this window; 0 starts all at once (a mass start or restart). */
  startSpreadMs: number
  /** Register accounts the login servers do not know yet. */
  register?: boolean
}

export function swarmArgs (m: SwarmMembers): string[] {
  return [
    '--count', String(m.count), '--first-ip', m.firstIp,
    ...(m.perOctet === undefined ? [] : ['--ips-per-octet', String(m.perOctet)]),
    '--control-ip', m.controlIp, '--data-dir', m.dataDir, '--user-prefix', m.userPrefix, '--first-user', String(m.firstUser),
    ...(m.userDigits === undefined ? [] : ['--user-digits', String(m.userDigits)]),
    '--start-spread-ms', String(m.startSpreadMs),
    ...(m.register === true ? ['--register'] : [])
  ]
}

/** The swarm derives member passwords from this (protocol workloadPassword), as the load generator does. */
export function swarmPasswordEnv (passwordSeed: number | string): Record<string, string> {
  return { REBOUND_SWARM_PASSWORD_SEED: String(passwordSeed) }
}
