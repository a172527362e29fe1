/**
 * rebound-swarm configuration. The flags a member shares with rebound-node are rebound-node's own
 * option specs and schema pieces (imported, not copied), so a swarm member is configured exactly
 * like a single node; the swarm adds how many members, where, and under which names.
 */
import { isIPv4 } from 'node:net'
import { join } from 'node:path'
import { z } from 'zod'
import { MAX_SWARM_MEMBERS, USER_PATTERN, type OptionSpecs } from '@rebound/protocol'
import { NodeConfigSchema, OPTIONS as NODE_OPTIONS, type NodeConfig } from '../config.js'
import { DEFAULT_USER_DIGITS, memberUser, swarmPassword } from './accounts.js'
import { USABLE_PER_OCTET, capacityFrom, firstIpProblem, memberIp } from './addresses.js'

export const PROGRAM = 'rebound-swarm'
/** Members per process (protocol, so the load generator validates its --peers-per-process against it). */
export { MAX_SWARM_MEMBERS }
export const MAX_START_SPREAD_MS = 3600_000
export const MAX_FIRST_USER = 1_000_000_000

function nodeOption (flag: string): OptionSpecs[string] {
  const spec = NODE_OPTIONS[flag]
  if (spec === undefined) throw new Error(`rebound-node has no option --${flag}`)
  return spec
}

export const SWARM_OPTIONS: OptionSpecs = {
  count: { type: 'string', env: 'REBOUND_SWARM_COUNT', description: `members in this process, 1..${MAX_SWARM_MEMBERS}` },
  'first-ip': { type: 'string', env: 'REBOUND_SWARM_FIRST_IP', description: 'member i listens on the i-th address from this one (skipping .0 and .255)' },
  'ips-per-octet': { type: 'string', env: 'REBOUND_SWARM_IPS_PER_OCTET', description: `member addresses use last octets 1..N of each third octet, N 1..${USABLE_PER_OCTET}`, default: String(USABLE_PER_OCTET) },
  'control-ip': { type: 'string', env: 'REBOUND_SWARM_CONTROL_IP', description: 'address of the HTTP control port', default: 'the first member address' },
  'user-prefix': { type: 'string', env: 'REBOUND_SWARM_USER_PREFIX', description: 'member i is user <prefix><first-user + i, zero-padded>', default: 'u' },
  'first-user': { type: 'string', env: 'REBOUND_SWARM_FIRST_USER', description: 'number of the first member\'s user', default: '1' },
  'user-digits': { type: 'string', env: 'REBOUND_SWARM_USER_DIGITS', description: 'zero-padding of the user number', default: String(DEFAULT_USER_DIGITS) },
  'password-seed': { type: 'string', env: 'REBOUND_SWARM_PASSWORD_SEED', description: 'passwords are derived from this and the user (prefer the env var)' },
  'start-spread-ms': { type: 'string', env: 'REBOUND_SWARM_START_SPREAD_MS', description: 'members start evenly over this window; 0 starts all at once', default: '0' },
  'login-load': { type: 'boolean', env: 'REBOUND_SWARM_LOGIN_LOAD', description: 'be a login load generator (POST /load) instead of hosting peers' },
  'data-dir': { ...nodeOption('data-dir'), description: 'member i keeps its identity and state in <data-dir>/<user>/' },
  ...Object.fromEntries(['port', 'http-port', 'cluster-pubkey', 'login-servers', 'register', 'eligible', 'capacity', 'profile', 'log-level', 'libp2p-debug']
    .map((flag) => [flag, nodeOption(flag)]))
}

const node = NodeConfigSchema.shape
const required = { error: 'is required' }

export const SwarmConfigSchema = z.object({
  count: z.coerce.number(required).int().min(1).max(MAX_SWARM_MEMBERS),
  firstIp: z.string(required).superRefine((ip, ctx) => {
    const problem = firstIpProblem(ip)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  }),
  ipsPerOctet: z.coerce.number().int().min(1).max(USABLE_PER_OCTET).default(USABLE_PER_OCTET),
  controlIp: z.string().refine(isIPv4, 'must be an IPv4 address').optional(),
  userPrefix: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,15}$/, 'must be 1-16 of [a-z0-9_-], starting with a letter or digit').default('u'),
  firstUser: z.coerce.number().int().min(0).max(MAX_FIRST_USER).default(1),
  userDigits: z.coerce.number().int().min(1).max(12).default(DEFAULT_USER_DIGITS),
  passwordSeed: z.string(required).min(1).max(256),
  startSpreadMs: z.coerce.number().int().min(0).max(MAX_START_SPREAD_MS).default(0),
  loginLoad: z.boolean().default(false),
  dataDir: node.dataDir.optional(),
  port: node.port,
  httpPort: node.httpPort,
  clusterPubkey: node.clusterPubkey.optional(),
  loginServers: node.loginServers,
  register: node.register,
  eligible: node.eligible,
  capacity: node.capacity,
  profile: node.profile,
  logLevel: node.logLevel,
  libp2pDebug: node.libp2pDebug
}).superRefine((c, ctx) => {
  // zod runs this even when a field failed: only judge the address range once both parts are sound.
  const perOctetOk = Number.isInteger(c.ipsPerOctet) && c.ipsPerOctet >= 1 && c.ipsPerOctet <= USABLE_PER_OCTET
  if (perOctetOk && firstIpProblem(c.firstIp) === undefined) {
    // The field check used the default packing; fewer addresses per octet rule out more last octets.
    const problem = firstIpProblem(c.firstIp, c.ipsPerOctet)
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['firstIp'], message: problem })
    } else if (c.count > capacityFrom(c.firstIp, c.ipsPerOctet)) {
      ctx.addIssue({ code: 'custom', path: ['count'], message: `only ${capacityFrom(c.firstIp, c.ipsPerOctet)} addresses remain after --first-ip ${c.firstIp}` })
    }
  }
  const last = memberUser(c.userPrefix, c.firstUser + c.count - 1, c.userDigits)
  if (!USER_PATTERN.test(last)) ctx.addIssue({ code: 'custom', path: ['userPrefix'], message: `user ${last} is not a valid user name` })
  if (!c.loginLoad && c.dataDir === undefined) ctx.addIssue({ code: 'custom', path: ['dataDir'], message: 'is required (unless --login-load)' })
  if (!c.loginLoad && c.clusterPubkey === undefined) ctx.addIssue({ code: 'custom', path: ['clusterPubkey'], message: 'is required (unless --login-load)' })
})
export type SwarmConfig = z.infer<typeof SwarmConfigSchema>

export interface MemberIdentity {
  index: number
  user: string
  ip: string
}

export function memberIdentity (config: SwarmConfig, index: number): MemberIdentity {
  return { index, user: memberUser(config.userPrefix, config.firstUser + index, config.userDigits), ip: memberIp(config.firstIp, index, config.ipsPerOctet) }
}

export function controlIpOf (config: SwarmConfig): string {
  return config.controlIp ?? config.firstIp
}

/** A member's rebound-node configuration, validated by rebound-node's own schema. */
export function memberConfig (config: SwarmConfig, member: MemberIdentity): NodeConfig {
  if (config.dataDir === undefined || config.clusterPubkey === undefined) throw new Error('peer members need --data-dir and --cluster-pubkey')
  return NodeConfigSchema.parse({
    listen: member.ip,
    port: config.port,
    httpPort: config.httpPort,
    dataDir: join(config.dataDir, member.user),
    clusterPubkey: config.clusterPubkey,
    loginServers: config.loginServers.join(','),
    user: member.user,
    password: swarmPassword(config.passwordSeed, member.user),
    register: config.register,
    eligible: config.eligible,
    capacity: config.capacity,
    profile: config.profile,
    logLevel: config.logLevel
  })
}
