/** Constants the benchmark shares with the programs it drives (documented in docs/interfaces.md). */

/** A client's login deadline (rebound-node LOGIN_DEADLINE_MS, the load generator's too). */
export const LOGIN_DEADLINE_MS_OF_CLIENTS = 10_000
/** Zero-padding of user numbers in swarms (rebound-swarm --user-digits default). */
export const SWARM_USER_DIGITS = 6
export const SWARM_USER_PREFIX = 'u'
