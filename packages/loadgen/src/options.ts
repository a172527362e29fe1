/**
 * The options of `rebound run`: flag specs for --help and one zod schema that validates them.
 * Defaults are sized for a 2-core machine; the whole default run finishes in under 3 minutes.
 */
import { z } from 'zod'
import { Profile, type OptionSpecs } from '@rebound/protocol'
import { MAX_LOGIN_SERVERS, MAX_NODES, MAX_PEERS_PER_PROCESS } from './layout.js'
import { MAX_SEED } from './prng.js'

/** Longest any timed option may be: a day (a soak run is long, not unbounded). */
export const MAX_DURATION_MS = 24 * 3600_000
export const MAX_MESSAGE_RATE_PER_S = 1000
/** Each change is a commit in the shared store: well below the message rate's bound. */
export const MAX_CONTACT_RATE_PER_S = 100
export const DRIVERS = ['process'] as const
export const WIPE_TARGETS = ['store', 'device'] as const
/**
 * rebound-node's own --orphan-window-ms default; the cluster passes W to its supernodes explicitly,
 * so that the run's objectives (W + 10 s) are judged against the W the supernodes really advertise.
 */
export const DEFAULT_ORPHAN_WINDOW_MS = 2000
/** rebound-node's upper bound on --orphan-window-ms. */
export const MAX_ORPHAN_WINDOW_MS = 600_000

function wholeNumber (min: number, max: number) {
  return z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(min).max(max))
}

function decimal (min: number, max: number) {
  return z.string().regex(/^\d+(\.\d+)?$/, 'expected a number').transform(Number).pipe(z.number().min(min).max(max))
}

export const RUN_OPTIONS: OptionSpecs = {
  driver: { type: 'string', description: `how processes run: ${DRIVERS.join(' | ')}`, default: 'process' },
  peers: { type: 'string', description: 'ordinary peers (one user each)', default: '40' },
  'peers-per-process': {
    type: 'string',
    description: `peers per OS process, 1..${MAX_PEERS_PER_PROCESS}: 1 = a rebound-node each; K > 1 = rebound-swarm processes of K peers (each still its own libp2p node and address), which are then the unit of kill and restart`,
    default: '1'
  },
  supernodes: { type: 'string', description: 'operator supernodes', default: '4' },
  'login-servers': { type: 'string', description: 'login servers', default: '2' },
  seed: { type: 'string', description: `seed of every random choice, 0..${MAX_SEED}`, default: 'random, printed' },
  out: { type: 'string', description: 'run directory', default: 'runs/<scenario>-<time>-<seed>' },
  'kill-fraction': { type: 'string', description: 'share of peer processes killed (peers, or swarms), 0..1', default: '0.5' },
  'reboot-window-ms': { type: 'string', description: 'killed processes restart after U(0, this)', default: '20000' },
  'supernode-kill-fraction': { type: 'string', description: 'decapitate: share of the supernodes SIGKILLed at once, 0..1 (1 = all)', default: '0.3' },
  'restart-supernodes': { type: 'boolean', description: 'decapitate: restart each killed supernode after U(0, reboot window)' },
  'freeze-fraction': { type: 'string', description: 'freeze: share of the supernodes SIGSTOPped at once, 0..1', default: '0.3' },
  'freeze-ms': { type: 'string', description: 'freeze: how long they stay stopped before SIGCONT', default: '20000' },
  'eligible-fraction': { type: 'string', description: 'share of peer processes (peers, or swarms) started --eligible: the registry may elect their peers as supernodes', default: '0.1' },
  'orphan-window-ms': { type: 'string', description: 'orphan window W the supernodes advertise: orphans re-home after U(0, W)', default: String(DEFAULT_ORPHAN_WINDOW_MS) },
  'add-supernodes': { type: 'string', description: 'decapitate, freeze: operator supernodes added after the trigger (the mega-supernode lever)', default: '0' },
  'add-after-ms': { type: 'string', description: 'how long after the trigger the added supernodes start', default: '0' },
  target: { type: 'string', description: `wipe: what loses its data, ${WIPE_TARGETS.join(' | ')}`, default: 'device' },
  'wipe-fraction': { type: 'string', description: 'wipe --target device: share of peer processes (peers, or swarms) whose data directory is erased, 0..1', default: '0.3' },
  'warmup-ms': { type: 'string', description: 'steady traffic after all peers attached, before the trigger', default: '15000' },
  'observe-ms': { type: 'string', description: 'longest wait for recovery after the trigger', default: '90000' },
  'message-rate': { type: 'string', description: 'messages per second offered by the workload', default: '4' },
  'contact-rate': { type: 'string', description: 'contact changes (add, rename, remove) per second offered by the contact workload; 0 = off', default: '1' },
  net: { type: 'string', description: 'B in the 127.B.x.y addresses, 0..255 (distinct runs side by side)', default: '0' },
  profile: { type: 'string', description: `${Profile.options.join(' | ')}: passed to every process as REBOUND_PROFILE`, default: 'defended' },
  'node-bin': { type: 'string', env: 'REBOUND_NODE_BIN', description: 'rebound-node main.js', default: 'the workspace build' },
  'bootstrap-bin': { type: 'string', env: 'REBOUND_BOOTSTRAP_BIN', description: 'rebound-bootstrap main.js', default: 'the workspace build' }
}

/** The options without their cross-field rule, so that `compare` can leave out --profile. */
export const RunOptionsObject = z.object({
  driver: z.enum(DRIVERS).default('process'),
  peers: wholeNumber(1, MAX_NODES).default(40),
  peersPerProcess: wholeNumber(1, MAX_PEERS_PER_PROCESS).default(1),
  supernodes: wholeNumber(1, MAX_NODES).default(4),
  loginServers: wholeNumber(1, MAX_LOGIN_SERVERS).default(2),
  seed: wholeNumber(0, MAX_SEED).optional(),
  out: z.string().min(1).optional(),
  killFraction: decimal(0, 1).default(0.5),
  rebootWindowMs: wholeNumber(0, MAX_DURATION_MS).default(20_000),
  supernodeKillFraction: decimal(0, 1).default(0.3),
  restartSupernodes: z.boolean().default(false),
  freezeFraction: decimal(0, 1).default(0.3),
  freezeMs: wholeNumber(0, MAX_DURATION_MS).default(20_000),
  orphanWindowMs: wholeNumber(0, MAX_ORPHAN_WINDOW_MS).default(DEFAULT_ORPHAN_WINDOW_MS),
  eligibleFraction: decimal(0, 1).default(0.1),
  addSupernodes: wholeNumber(0, MAX_NODES).default(0),
  addAfterMs: wholeNumber(0, MAX_DURATION_MS).default(0),
  target: z.enum(WIPE_TARGETS).default('device'),
  wipeFraction: decimal(0, 1).default(0.3),
  warmupMs: wholeNumber(0, MAX_DURATION_MS).default(15_000),
  observeMs: wholeNumber(1000, MAX_DURATION_MS).default(90_000),
  messageRate: decimal(0, MAX_MESSAGE_RATE_PER_S).default(4),
  contactRate: decimal(0, MAX_CONTACT_RATE_PER_S).default(1),
  net: wholeNumber(0, 255).default(0),
  profile: Profile.default('defended'),
  nodeBin: z.string().min(1).optional(),
  bootstrapBin: z.string().min(1).optional()
})

// Written as "not over" so that a count already refused above (NaN) adds no second complaint.
const notTooManyNodes = (o: { peers: number, supernodes: number, addSupernodes: number }): boolean => !(o.peers + o.supernodes + o.addSupernodes > MAX_NODES)
const TOO_MANY_NODES = { message: `peers + supernodes + add-supernodes must be at most ${MAX_NODES}`, path: ['peers'] }

export const RunOptionsSchema = RunOptionsObject.refine(notTooManyNodes, TOO_MANY_NODES)
export type RunOptions = z.infer<typeof RunOptionsSchema>

/** `rebound compare`: the run options except --profile (it runs both), and --out names a folder for both runs. */
export const COMPARE_OPTIONS: OptionSpecs = {
  ...Object.fromEntries(Object.entries(RUN_OPTIONS).filter(([flag]) => flag !== 'profile' && flag !== 'out')),
  out: { type: 'string', description: 'folder for both runs (<out>/naive, <out>/defended) and compare.json', default: 'runs/compare-<scenario>-<time>-<seed>' }
}
export const CompareOptionsSchema = RunOptionsObject.omit({ profile: true }).refine(notTooManyNodes, TOO_MANY_NODES)
export type CompareOptions = z.infer<typeof CompareOptionsSchema>
