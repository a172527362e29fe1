/**
 * rebound-node configuration: flags and environment, validated once (docs/interfaces.md).
 */
import { isIPv4 } from 'node:net'
import { z } from 'zod'
import { Profile, USER_PATTERN, type OptionSpecs } from '@rebound/protocol'

export const OPTIONS: OptionSpecs = {
  listen: { type: 'string', env: 'REBOUND_LISTEN', description: 'loopback IPv4 address to bind (listen and dial from)' },
  port: { type: 'string', env: 'REBOUND_PORT', description: 'libp2p TCP port', default: '7401' },
  'http-port': { type: 'string', env: 'REBOUND_HTTP_PORT', description: 'HTTP control port', default: '7480' },
  'data-dir': { type: 'string', env: 'REBOUND_DATA_DIR', description: 'identity, session state and inbox' },
  'cluster-pubkey': { type: 'string', env: 'REBOUND_CLUSTER_PUBKEY', description: 'cluster public key, base64 SPKI DER' },
  'login-servers': { type: 'string', env: 'REBOUND_LOGIN_SERVERS', description: 'comma-separated login server multiaddrs with /p2p/<id>' },
  user: { type: 'string', env: 'REBOUND_USER', description: 'account name (clients)' },
  password: { type: 'string', env: 'REBOUND_PASSWORD', description: 'account password (prefer the env var)' },
  'user-from-hostname': { type: 'boolean', env: 'REBOUND_USER_FROM_HOSTNAME', description: "client: the user is this host's name (a container's id); state in <data-dir>/<user>/" },
  'password-seed': { type: 'string', env: 'REBOUND_PASSWORD_SEED', description: 'client: the password is derived from this and the user, as rebound-swarm does (prefer the env var)' },
  register: { type: 'boolean', env: 'REBOUND_REGISTER', description: 'register the account if the login server does not know it' },
  supernode: { type: 'boolean', env: 'REBOUND_SUPERNODE', description: 'run as an operator supernode (no user session)' },
  eligible: { type: 'boolean', env: 'REBOUND_ELIGIBLE', description: 'client: offer to serve as an elected supernode (with --capacity) when the registry needs one' },
  'operator-token': { type: 'string', env: 'REBOUND_OPERATOR_TOKEN', description: 'operator secret, required with --supernode' },
  capacity: { type: 'string', env: 'REBOUND_CAPACITY', description: 'supernode: hard cap on attached clients', default: '200' },
  'join-rate': { type: 'string', env: 'REBOUND_JOIN_RATE', description: 'supernode: sessions admitted per second (token bucket)', default: '20' },
  'join-burst': { type: 'string', env: 'REBOUND_JOIN_BURST', description: 'supernode: join bucket depth', default: '50' },
  'heartbeat-ms': { type: 'string', env: 'REBOUND_HEARTBEAT_MS', description: 'supernode: registry heartbeat period', default: '2000' },
  'orphan-window-ms': { type: 'string', env: 'REBOUND_ORPHAN_WINDOW_MS', description: 'supernode: re-homing window W advertised to clients', default: '2000' },
  profile: { type: 'string', env: 'REBOUND_PROFILE', description: 'defended (every mitigation) or naive (the 2007 behaviour)', default: 'defended' },
  'log-level': { type: 'string', env: 'REBOUND_LOG_LEVEL', description: 'pino log level', default: 'info' },
  'libp2p-debug': { type: 'string', env: 'REBOUND_LIBP2P_DEBUG', description: "regular expression of libp2p components whose debug log to show" }
}

const port = z.coerce.number().int().min(0).max(65535)
const ms = (min: number, max: number): z.ZodCoercedNumber<unknown> => z.coerce.number().int().min(min).max(max)

export const NodeConfigSchema = z.object({
  listen: z.string({ error: 'is required' }).refine(isIPv4, 'must be an IPv4 address'),
  port: port.default(7401),
  httpPort: port.default(7480),
  dataDir: z.string({ error: 'is required' }).min(1),
  clusterPubkey: z.string({ error: 'is required' }).min(1),
  loginServers: z.string({ error: 'is required' }).transform((s) => s.split(',').map((a) => a.trim()).filter((a) => a !== ''))
    .refine((list) => list.length > 0 && list.every((a) => a.startsWith('/') && a.includes('/p2p/')), 'must be multiaddrs ending in /p2p/<peer id>'),
  user: z.string().regex(USER_PATTERN, 'must be 1-32 of [a-z0-9_-]').optional(),
  password: z.string().min(4, 'must be at least 4 characters').max(128).optional(),
  // Replicas of one compose service: derived-account.ts resolves these after parsing.
  userFromHostname: z.boolean().default(false),
  passwordSeed: z.string().min(1).max(256).optional(),
  register: z.boolean().default(false),
  supernode: z.boolean().default(false),
  eligible: z.boolean().default(false),
  operatorToken: z.string().min(8, 'must be at least 8 characters').optional(),
  capacity: z.coerce.number().int().min(1).max(100_000).default(200),
  joinRate: z.coerce.number().positive().max(100_000).default(20),
  joinBurst: z.coerce.number().int().min(1).max(100_000).default(50),
  heartbeatMs: ms(100, 60_000).default(2000),
  orphanWindowMs: ms(0, 600_000).default(2000),
  profile: Profile.default('defended'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  libp2pDebug: z.string().transform((s, ctx) => {
    try {
      return new RegExp(s)
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a regular expression' })
      return z.NEVER
    }
  }).optional()
}).superRefine((c, ctx) => {
  if (c.supernode && c.operatorToken === undefined) ctx.addIssue({ code: 'custom', path: ['operatorToken'], message: 'is required with --supernode' })
  if (!c.supernode && c.user === undefined && !c.userFromHostname) ctx.addIssue({ code: 'custom', path: ['user'], message: 'is required for a client (or pass --supernode)' })
  if (!c.supernode && c.password === undefined && c.passwordSeed === undefined) ctx.addIssue({ code: 'custom', path: ['password'], message: 'is required for a client (set REBOUND_PASSWORD)' })
  if (c.user !== undefined && c.userFromHostname) ctx.addIssue({ code: 'custom', path: ['userFromHostname'], message: 'cannot be combined with --user' })
  if (c.password !== undefined && c.passwordSeed !== undefined) ctx.addIssue({ code: 'custom', path: ['passwordSeed'], message: 'cannot be combined with --password' })
})
export type NodeConfig = z.infer<typeof NodeConfigSchema>
