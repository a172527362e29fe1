/**
 * The options of `rebound run`: flag specs for --help and one zod schema that validates them.
 * Defaults are sized for a 2-core machine; the whole default run finishes in under 3 minutes.
 */
import { z } from 'zod'
import { Profile, ReboundError, type OptionSpecs } from '@rebound/protocol'
import { DEFAULT_ENGINE_SOCKET } from './driver/engine-api.js'
import { MAX_LOGIN_SERVERS, MAX_NODES, MAX_PEERS_PER_PROCESS } from './layout.js'
import { MAX_SEED } from './prng.js'

/** Longest any timed option may be: a day (a soak run is long, not unbounded). */
export const MAX_DURATION_MS = 24 * 3600_000
export const MAX_MESSAGE_RATE_PER_S = 1000
/** Each change is a commit in the shared store: well below the message rate's bound. */
export const MAX_CONTACT_RATE_PER_S = 100
export const DRIVERS = ['process', 'docker'] as const
/** The compose project `--driver docker` attaches to (docker-compose.yml's README name; CI uses rebound-ci). */
export const DEFAULT_COMPOSE_PROJECT = 'rebound'
export const WIPE_TARGETS = ['store', 'device'] as const
/** freeze: `stop` = SIGSTOP then SIGCONT (a hung machine); `network` = cut off then reconnected (a partition; docker driver). */
export const FREEZE_MODES = ['stop', 'network'] as const
/**
 * rebound-node's own --orphan-window-ms default; the cluster passes W to its supernodes explicitly,
 * so that the run's objectives (W + 10 s) are judged against the W the supernodes really advertise.
 */
export const DEFAULT_ORPHAN_WINDOW_MS = 2000
/** rebound-node's upper bound on --orphan-window-ms. */
export const MAX_ORPHAN_WINDOW_MS = 600_000

/**
 * The values every option may take, once: flags (strings) are parsed into these, and a scenario
 * file's numbers (docs/scenarios.md) are checked against the same bounds.
 */
export const OptionValues = {
  driver: z.enum(DRIVERS),
  composeProject: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'a compose project name (lower case, digits, _ and -)'),
  engineSocket: z.string().min(1),
  peers: z.number().int().min(1).max(MAX_NODES),
  peersPerProcess: z.number().int().min(1).max(MAX_PEERS_PER_PROCESS),
  supernodes: z.number().int().min(1).max(MAX_NODES),
  loginServers: z.number().int().min(1).max(MAX_LOGIN_SERVERS),
  seed: z.number().int().min(0).max(MAX_SEED),
  killFraction: z.number().min(0).max(1),
  rebootWindowMs: z.number().int().min(0).max(MAX_DURATION_MS),
  supernodeKillFraction: z.number().min(0).max(1),
  restartSupernodes: z.boolean(),
  freezeFraction: z.number().min(0).max(1),
  freezeMs: z.number().int().min(0).max(MAX_DURATION_MS),
  freezeMode: z.enum(FREEZE_MODES),
  orphanWindowMs: z.number().int().min(0).max(MAX_ORPHAN_WINDOW_MS),
  eligibleFraction: z.number().min(0).max(1),
  addSupernodes: z.number().int().min(0).max(MAX_NODES),
  addAfterMs: z.number().int().min(0).max(MAX_DURATION_MS),
  target: z.enum(WIPE_TARGETS),
  wipeFraction: z.number().min(0).max(1),
  duration: z.number().int().min(1000).max(MAX_DURATION_MS),
  churnIntervalMs: z.number().int().min(100).max(MAX_DURATION_MS),
  warmupMs: z.number().int().min(0).max(MAX_DURATION_MS),
  observeMs: z.number().int().min(1000).max(MAX_DURATION_MS),
  messageRate: z.number().min(0).max(MAX_MESSAGE_RATE_PER_S),
  contactRate: z.number().min(0).max(MAX_CONTACT_RATE_PER_S),
  net: z.number().int().min(0).max(255),
  profile: Profile
}

/** A flag's text as a whole number within `values`' bounds. */
function wholeNumber (values: z.ZodNumber) {
  return z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(values)
}

/** A flag's text as a duration: `90s`, `30m`, `1h`, `500ms`, or a bare number of milliseconds. */
function durationText (values: z.ZodNumber) {
  const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
  return z.string().regex(/^\d+(ms|s|m|h)?$/, 'expected a duration like 90s, 30m, 1h or 500ms')
    .transform((text) => Number(/^\d+/.exec(text)?.[0]) * (UNIT_MS[text.replace(/^\d+/, '')] ?? 1)).pipe(values)
}

/** A flag's text as a decimal number within `values`' bounds. */
function decimal (values: z.ZodNumber) {
  return z.string().regex(/^\d+(\.\d+)?$/, 'expected a number').transform(Number).pipe(values)
}

export const RUN_OPTIONS: OptionSpecs = {
  driver: { type: 'string', description: `how processes run: ${DRIVERS.join(' | ')}`, default: 'process' },
  'compose-project': { type: 'string', description: '--driver docker: the compose project whose containers are the cluster (its size is what is found)', default: DEFAULT_COMPOSE_PROJECT },
  'engine-socket': { type: 'string', description: '--driver docker: the Docker Engine API socket', default: DEFAULT_ENGINE_SOCKET },
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
  'freeze-mode': { type: 'string', description: `freeze: ${FREEZE_MODES.join(' | ')}: stop = SIGSTOP then SIGCONT; network = cut off the network then connected again at the same address (--driver docker only)`, default: 'stop' },
  'eligible-fraction': { type: 'string', description: 'share of peer processes (peers, or swarms) started --eligible: the registry may elect their peers as supernodes', default: '0.1' },
  'orphan-window-ms': { type: 'string', description: 'orphan window W the supernodes advertise: orphans re-home after U(0, W)', default: String(DEFAULT_ORPHAN_WINDOW_MS) },
  'add-supernodes': { type: 'string', description: 'decapitate, freeze: operator supernodes added after the trigger (the mega-supernode lever)', default: '0' },
  'add-after-ms': { type: 'string', description: 'how long after the trigger the added supernodes start', default: '0' },
  target: { type: 'string', description: `wipe: what loses its data, ${WIPE_TARGETS.join(' | ')}`, default: 'device' },
  'wipe-fraction': { type: 'string', description: 'wipe --target device: share of peer processes (peers, or swarms) whose data directory is erased, 0..1', default: '0.3' },
  duration: { type: 'string', description: 'soak: how long the steady churn goes on (90s, 30m, 1h, or ms)', default: '1h' },
  'churn-interval-ms': { type: 'string', description: 'soak: one peer process SIGKILLed (and restarted within the reboot window) every this often', default: '10000' },
  'warmup-ms': { type: 'string', description: 'steady traffic after all peers attached, before the trigger', default: '15000' },
  'observe-ms': { type: 'string', description: 'longest wait for recovery after the trigger', default: '90000' },
  'message-rate': { type: 'string', description: 'messages per second offered by the workload', default: '4' },
  'contact-rate': { type: 'string', description: 'contact changes (add, rename, remove) per second offered by the contact workload; 0 = off', default: '1' },
  net: { type: 'string', description: 'B in the 127.B.x.y addresses, 0..255 (distinct runs side by side)', default: '0' },
  profile: { type: 'string', description: `${Profile.options.join(' | ')}: passed to every process as REBOUND_PROFILE`, default: 'defended' },
  'node-bin': { type: 'string', env: 'REBOUND_NODE_BIN', description: 'rebound-node main.js', default: 'the workspace build' },
  'bootstrap-bin': { type: 'string', env: 'REBOUND_BOOTSTRAP_BIN', description: 'rebound-bootstrap main.js', default: 'the workspace build' }
}

const V = OptionValues

/** The options without their cross-field rule, so that `compare` can leave out --profile. */
export const RunOptionsObject = z.object({
  driver: V.driver.default('process'),
  composeProject: V.composeProject.default(DEFAULT_COMPOSE_PROJECT),
  engineSocket: V.engineSocket.default(DEFAULT_ENGINE_SOCKET),
  peers: wholeNumber(V.peers).default(40),
  peersPerProcess: wholeNumber(V.peersPerProcess).default(1),
  supernodes: wholeNumber(V.supernodes).default(4),
  loginServers: wholeNumber(V.loginServers).default(2),
  seed: wholeNumber(V.seed).optional(),
  out: z.string().min(1).optional(),
  killFraction: decimal(V.killFraction).default(0.5),
  rebootWindowMs: wholeNumber(V.rebootWindowMs).default(20_000),
  supernodeKillFraction: decimal(V.supernodeKillFraction).default(0.3),
  restartSupernodes: V.restartSupernodes.default(false),
  freezeFraction: decimal(V.freezeFraction).default(0.3),
  freezeMs: wholeNumber(V.freezeMs).default(20_000),
  freezeMode: V.freezeMode.default('stop'),
  orphanWindowMs: wholeNumber(V.orphanWindowMs).default(DEFAULT_ORPHAN_WINDOW_MS),
  eligibleFraction: decimal(V.eligibleFraction).default(0.1),
  addSupernodes: wholeNumber(V.addSupernodes).default(0),
  addAfterMs: wholeNumber(V.addAfterMs).default(0),
  target: V.target.default('device'),
  wipeFraction: decimal(V.wipeFraction).default(0.3),
  duration: durationText(V.duration).default(3_600_000),
  churnIntervalMs: wholeNumber(V.churnIntervalMs).default(10_000),
  warmupMs: wholeNumber(V.warmupMs).default(15_000),
  observeMs: wholeNumber(V.observeMs).default(90_000),
  messageRate: decimal(V.messageRate).default(4),
  contactRate: decimal(V.contactRate).default(1),
  net: wholeNumber(V.net).default(0),
  profile: V.profile.default('defended'),
  nodeBin: z.string().min(1).optional(),
  bootstrapBin: z.string().min(1).optional()
})

// Written as "not over" so that a count already refused above (NaN) adds no second complaint.
const notTooManyNodes = (o: { peers: number, supernodes: number, addSupernodes: number }): boolean => !(o.peers + o.supernodes + o.addSupernodes > MAX_NODES)
const TOO_MANY_NODES_MESSAGE = `peers + supernodes + add-supernodes must be at most ${MAX_NODES}`
// zod takes its refine parameters over (it rewrites `message`): each use gets its own copy.
const TOO_MANY_NODES = (): { message: string, path: string[] } => ({ message: TOO_MANY_NODES_MESSAGE, path: ['peers'] })

export const RunOptionsSchema = RunOptionsObject.refine(notTooManyNodes, TOO_MANY_NODES())
export type RunOptions = z.infer<typeof RunOptionsSchema>

/** A shape with every default taken off: the field is optional instead. */
type WithoutDefaults<S extends z.ZodRawShape> = { [K in keyof S]: S[K] extends z.ZodDefault<infer Inner> ? z.ZodOptional<Inner> : S[K] }

function withoutDefaults<S extends z.ZodRawShape> (shape: S): WithoutDefaults<S> {
  const fields = Object.entries(shape).map(([key, schema]) => [key, schema instanceof z.ZodDefault ? z.optional(schema.unwrap()) : schema])
  return Object.fromEntries(fields) as WithoutDefaults<S>
}

/**
 * The flags as given, with no default filled in: a scenario file's values sit between the defaults
 * and the flags (docs/scenarios.md), so a flag left out must stay out until the layers are merged.
 */
export const RunFlagsSchema = z.object(withoutDefaults(RunOptionsObject.shape))
export type RunFlags = z.infer<typeof RunFlagsSchema>
export const CompareFlagsSchema = RunFlagsSchema.omit({ profile: true })

/** The fields of `layer` that are set (zod leaves absent optionals out, but the type allows undefined). */
function setFields<T extends object> (layer: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(layer).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> }
}

/**
 * The effective options of a run: the defaults, then what the scenario file sets, then the flags
 * (each layer wins over the one before); the cross-field rule is judged on the result.
 */
export function layerOptions (file: Partial<RunOptions>, flags: RunFlags): RunOptions {
  const options: RunOptions = { ...RunOptionsSchema.parse({}), ...setFields(file), ...setFields(flags) }
  if (!notTooManyNodes(options)) throw new ReboundError('BAD_CONFIG', `invalid configuration:\n  --peers: ${TOO_MANY_NODES_MESSAGE} (flags and scenario file together)`)
  return options
}

/** `rebound compare`: the run options except --profile (it runs both), and --out names a folder for both runs. */
export const COMPARE_OPTIONS: OptionSpecs = {
  ...Object.fromEntries(Object.entries(RUN_OPTIONS).filter(([flag]) => flag !== 'profile' && flag !== 'out')),
  out: { type: 'string', description: 'folder for both runs (<out>/naive, <out>/defended) and compare.json', default: 'runs/compare-<scenario>-<time>-<seed>' }
}
export const CompareOptionsSchema = RunOptionsObject.omit({ profile: true }).refine(notTooManyNodes, TOO_MANY_NODES())
export type CompareOptions = z.infer<typeof CompareOptionsSchema>
