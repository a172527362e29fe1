/**
 * rebound-bootstrap configuration: flags and environment, validated once (docs/interfaces.md).
 * This is the only module that reads the environment; main passes `process.env` in.
 */
import { isIPv4 } from 'node:net'
import { z } from 'zod'
import { DEFAULT_CERT_TTL_MS, DEFAULT_TICKET_TTL_MS, Profile, ReboundError, parseConfig, usage, type OptionSpecs } from '@rebound/protocol'

export const PROGRAM = 'rebound-bootstrap'

/**
 * A Noise handshake costs ~7 ms of server CPU (libp2p note: 130-160 handshakes/s per core). 100/s
 * leaves most of a 2-core machine to the hashes (~0.7 core on handshakes at the limit) while
 * admitting ~2.5x the logins it can hash at 2^14, room for refusals that carry slots and renewals.
 */
export const DEFAULT_MAX_NEW_CONNECTIONS_PER_S = 100
/**
 * libp2p's default is 10. A reboot wave's cohort arrives at once and each of its clients needs its
 * one handshake anyway; at 64, a 250-client storm on 2 busy cores had 86 refused for "pending",
 * each a blind backoff and an attempt. 128 absorbs such a cohort while a flood of handshakes
 * that never finish still holds at most 128 places until the 5 s upgrade timeout.
 */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 128
/**
 * Election (election/policy.ts). Two supernodes at least, so one loss never leaves the overlay
 * without any; promote above 70% and demote below 40% mean utilisation (DESIGN; the gap between
 * them is the hysteresis that keeps a promotion from being undone by the next demotion).
 */
export const DEFAULT_MIN_SUPERNODES = 2
export const DEFAULT_PROMOTE_ABOVE = 0.7
export const DEFAULT_DEMOTE_BELOW = 0.4
/**
 * Promotions a second per login server, after a burst of 10. A promoted peer's first heartbeat
 * and its first clients take a few seconds to show in the load, so a slow steady rate keeps one
 * storm of need from electing far more than it needs; 2/s still replaces 20 lost supernodes in ~5 s.
 */
export const DEFAULT_PROMOTION_RATE_PER_S = 2
/**
 * Elected certificates live 10 min (operators: --cert-ttl-ms): an elected peer is an ordinary
 * machine that may vanish, and its certificate is what clients trust, so a demoted or dead one
 * stops being accepted sooner. Renewed at half-life by heartbeats, like operators'.
 */
export const DEFAULT_ELECTED_CERT_TTL_MS = 10 * 60_000
export const SUMMARY = 'Login server: accounts, session tickets and the supernode registry, sharing one SQLite store with its peers.'

export const OPTIONS: OptionSpecs = {
  listen: { type: 'string', env: 'REBOUND_LISTEN', description: 'loopback IPv4 address to bind (listen and dial from)' },
  port: { type: 'string', env: 'REBOUND_PORT', description: 'libp2p TCP port', default: '7401' },
  'http-port': { type: 'string', env: 'REBOUND_HTTP_PORT', description: 'HTTP port (/healthz, /metrics, /data)', default: '7480' },
  'data-dir': { type: 'string', env: 'REBOUND_DATA_DIR', description: "this server's own files (identity key)" },
  store: { type: 'string', env: 'REBOUND_STORE', description: 'SQLite file shared by all login servers' },
  'cluster-key-file': { type: 'string', env: 'REBOUND_CLUSTER_KEY_FILE', description: 'PEM Ed25519 key signing tickets and certificates' },
  'operator-token': { type: 'string', env: 'REBOUND_OPERATOR_TOKEN', description: 'secret an operator supernode shows to be certified' },
  'ticket-ttl-ms': { type: 'string', env: 'REBOUND_TICKET_TTL_MS', description: 'session ticket lifetime', default: String(DEFAULT_TICKET_TTL_MS) },
  'cert-ttl-ms': { type: 'string', env: 'REBOUND_CERT_TTL_MS', description: 'supernode certificate lifetime', default: String(DEFAULT_CERT_TTL_MS) },
  'heartbeat-timeout-ms': { type: 'string', env: 'REBOUND_HEARTBEAT_TIMEOUT_MS', description: 'a supernode silent this long leaves the list', default: '6000' },
  'scrypt-n': { type: 'string', env: 'REBOUND_SCRYPT_N', description: 'scrypt cost N (power of two)', default: '16384' },
  profile: { type: 'string', env: 'REBOUND_PROFILE', description: 'defended (every mitigation) or naive (the 2007 server)', default: 'defended' },
  'max-new-connections-per-s': {
    type: 'string', env: 'REBOUND_MAX_NEW_CONNECTIONS_PER_S', description: 'new inbound connections admitted per second, before Noise (defended)', default: String(DEFAULT_MAX_NEW_CONNECTIONS_PER_S)
  },
  'max-pending-connections': {
    type: 'string', env: 'REBOUND_MAX_PENDING_CONNECTIONS', description: 'inbound connections still in their handshake, at most (defended)', default: String(DEFAULT_MAX_PENDING_CONNECTIONS)
  },
  'min-supernodes': {
    type: 'string', env: 'REBOUND_MIN_SUPERNODES', description: 'promote candidates while fewer supernodes are live; never demote below it', default: String(DEFAULT_MIN_SUPERNODES)
  },
  'promote-above': {
    type: 'string', env: 'REBOUND_PROMOTE_ABOVE', description: 'promote when mean supernode utilisation stays above this (0-1]', default: String(DEFAULT_PROMOTE_ABOVE)
  },
  'demote-below': {
    type: 'string', env: 'REBOUND_DEMOTE_BELOW', description: 'demote an elected supernode when mean utilisation stays below this', default: String(DEFAULT_DEMOTE_BELOW)
  },
  'promotion-rate': {
    type: 'string', env: 'REBOUND_PROMOTION_RATE', description: 'promotions per second by this server (defended; burst 10)', default: String(DEFAULT_PROMOTION_RATE_PER_S)
  },
  'elected-cert-ttl-ms': {
    type: 'string', env: 'REBOUND_ELECTED_CERT_TTL_MS', description: 'elected supernode certificate lifetime', default: String(DEFAULT_ELECTED_CERT_TTL_MS)
  },
  'log-level': { type: 'string', env: 'REBOUND_LOG_LEVEL', description: 'pino log level', default: 'info' }
}

const port = z.coerce.number().int().min(1).max(65535)
const required = { error: 'is required' }
const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0

export const BootstrapConfigSchema = z.object({
  listen: z.string(required).refine(isIPv4, 'must be an IPv4 address'),
  port: port.default(7401),
  httpPort: port.default(7480),
  dataDir: z.string(required).min(1),
  store: z.string(required).min(1),
  clusterKeyFile: z.string(required).min(1),
  operatorToken: z.string(required).min(8, 'must be at least 8 characters').max(256),
  // A ticket must outlive a login-server outage (resumption), but not by more than a month.
  ticketTtlMs: z.coerce.number().int().min(1000).max(30 * 24 * 3600_000).default(DEFAULT_TICKET_TTL_MS),
  certTtlMs: z.coerce.number().int().min(1000).max(7 * 24 * 3600_000).default(DEFAULT_CERT_TTL_MS),
  heartbeatTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(6000),
  // 2^10 is fast enough for tests; above 2^20 one hash needs over a GiB of memory.
  scryptN: z.coerce.number().int().min(1024).max(1 << 20)
    .refine(isPowerOfTwo, 'must be a power of two between 1024 and 1048576').default(16384),
  profile: Profile.default('defended'),
  maxNewConnectionsPerS: z.coerce.number().positive().max(100_000).default(DEFAULT_MAX_NEW_CONNECTIONS_PER_S),
  maxPendingConnections: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_MAX_PENDING_CONNECTIONS),
  minSupernodes: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_MIN_SUPERNODES),
  promoteAbove: z.coerce.number().gt(0).max(1).default(DEFAULT_PROMOTE_ABOVE),
  demoteBelow: z.coerce.number().min(0).lt(1).default(DEFAULT_DEMOTE_BELOW),
  promotionRate: z.coerce.number().positive().max(10_000).default(DEFAULT_PROMOTION_RATE_PER_S),
  electedCertTtlMs: z.coerce.number().int().min(1000).max(7 * 24 * 3600_000).default(DEFAULT_ELECTED_CERT_TTL_MS),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info')
}).refine((c) => c.demoteBelow < c.promoteAbove, { message: 'must be below --promote-above', path: ['demoteBelow'] })
export type BootstrapConfig = z.infer<typeof BootstrapConfigSchema>

/** The configuration, or undefined when --help was asked for. Throws ReboundError('BAD_CONFIG'). */
export function loadConfig (argv: string[], env: NodeJS.ProcessEnv): BootstrapConfig | undefined {
  return parseConfig(argv, env, OPTIONS, BootstrapConfigSchema)
}

export function helpText (): string {
  return usage(PROGRAM, SUMMARY, OPTIONS)
}

/**
 * libp2p's own debug output, off unless REBOUND_LIBP2P_DEBUG holds a RegExp of component names
 * (see @rebound/protocol log.ts). It is a debugging aid, not part of the documented interface.
 */
export function libp2pDebugFilter (env: NodeJS.ProcessEnv): RegExp | undefined {
  const source = env.REBOUND_LIBP2P_DEBUG
  if (source === undefined || source === '') return undefined
  try {
    return new RegExp(source)
  } catch (err) {
    throw new ReboundError('BAD_CONFIG', `REBOUND_LIBP2P_DEBUG is not a regular expression: ${(err as Error).message}`)
  }
}
