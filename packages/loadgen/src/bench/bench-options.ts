/**
 * Options of the storm benchmark. Every size and duration has a full default (the numbers
 * overload.md section 5 asks for) and a `--quick` default (a CI-sized smoke run of about 2.5
 * minutes on 2 cores); a flag given explicitly wins over both.
 */
import { z } from 'zod'
import { Profile, type OptionSpecs } from '@rebound/protocol'
import { MAX_SEED } from '../prng.js'

export const PARTS = ['capacity', 'storm', 'hysteresis'] as const
export type Part = typeof PARTS[number]
export const MAX_SWARM_SIZE = 1000
export const MAX_CLIENTS = 20_000
export const MAX_BENCH_MS = 3600_000

interface Sized { full: number, quick: number }

/** Full and quick defaults of the numeric options. */
export const SIZES = {
  clients: { full: 1000, quick: 100 },
  swarmSize: { full: 250, quick: 100 },
  loginServers: { full: 1, quick: 1 },
  // At most 6 logins in flight per connection: 100 connections let a naive server's queue grow past
  // mu x 10 s (its collapse point) at mu up to ~60/s; fewer would hide the collapse.
  loadConnections: { full: 200, quick: 100 },
  // Enough outstanding logins to keep every hash slot and the stream handling busy.
  capacityConcurrency: { full: 32, quick: 16 },
  capacityMs: { full: 10_000, quick: 2000 },
  levelMs: { full: 15_000, quick: 2000 },
  hysteresisBaseMs: { full: 5000, quick: 2000 },
  hysteresisHighMs: { full: 20_000, quick: 4000 },
  hysteresisLowMs: { full: 30_000, quick: 6000 },
  stormTimeoutMs: { full: 300_000, quick: 40_000 }
} satisfies Record<string, Sized>
export type SizeName = keyof typeof SIZES

const flag = (name: SizeName, description: string): OptionSpecs[string] =>
  ({ type: 'string', description, default: `${SIZES[name].full} (--quick ${SIZES[name].quick})` })

export const BENCH_OPTIONS: OptionSpecs = {
  quick: { type: 'boolean', description: 'CI-sized smoke run (about 2.5 minutes on 2 cores; the full run about 18)' },
  seed: { type: 'string', description: `seed of every random choice, 0..${MAX_SEED}`, default: 'random, printed' },
  out: { type: 'string', description: 'output folder (bench.json, logs)', default: 'runs/bench-storm-<time>' },
  net: { type: 'string', description: 'B in the 127.B.x.y addresses the bench uses', default: '90' },
  parts: { type: 'string', description: `comma-separated subset of ${PARTS.join(',')}`, default: PARTS.join(',') },
  profiles: { type: 'string', description: 'comma-separated profiles, each part runs once per profile', default: 'naive,defended' },
  clients: flag('clients', 'storm: clients N (swarm members in all)'),
  'swarm-size': flag('swarmSize', 'storm: members per swarm process'),
  'login-servers': flag('loginServers', 'storm: login servers'),
  'load-connections': flag('loadConnections', 'capacity/hysteresis: connections of the login load generator'),
  'capacity-concurrency': flag('capacityConcurrency', 'capacity: concurrent logins of the closed loop measuring mu'),
  'capacity-ms': flag('capacityMs', 'capacity: closed-loop window'),
  'level-ms': flag('levelMs', 'capacity: length of each open-loop level (0.5..10 x mu)'),
  'hysteresis-base-ms': flag('hysteresisBaseMs', 'hysteresis: 0.5 x mu phase giving the unloaded p99'),
  'hysteresis-high-ms': flag('hysteresisHighMs', 'hysteresis: 10 x mu phase'),
  'hysteresis-low-ms': flag('hysteresisLowMs', 'hysteresis: 0.8 x mu phase after it'),
  'storm-timeout-ms': flag('stormTimeoutMs', 'storm: longest wait for every client to attach'),
  mu: { type: 'string', description: 'one login server\'s capacity (logins/s) for storm and hysteresis when capacity is not run', default: 'measured' },
  'scrypt-n': { type: 'string', description: 'scrypt cost of the login servers (their default is realistic)', default: '16384' },
  'log-level': { type: 'string', description: 'log level of the started processes', default: 'warn' }
}

const whole = (min: number, max: number) => z.string().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(min).max(max))
const list = <T extends string>(allowed: readonly T[]) => z.string().transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''))
  .pipe(z.array(z.enum(allowed as [T, ...T[]])).min(1))

export const BenchOptionsSchema = z.object({
  quick: z.boolean().default(false),
  seed: whole(0, MAX_SEED).optional(),
  out: z.string().min(1).optional(),
  net: whole(1, 254).default(90),
  parts: list(PARTS).default([...PARTS]),
  profiles: list(Profile.options).default(['naive', 'defended']),
  clients: whole(1, MAX_CLIENTS).optional(),
  swarmSize: whole(1, MAX_SWARM_SIZE).optional(),
  loginServers: whole(1, 8).optional(),
  loadConnections: whole(1, 250).optional(),
  capacityConcurrency: whole(1, 1000).optional(),
  capacityMs: whole(1000, MAX_BENCH_MS).optional(),
  levelMs: whole(1000, MAX_BENCH_MS).optional(),
  hysteresisBaseMs: whole(1000, MAX_BENCH_MS).optional(),
  hysteresisHighMs: whole(1000, MAX_BENCH_MS).optional(),
  hysteresisLowMs: whole(1000, MAX_BENCH_MS).optional(),
  stormTimeoutMs: whole(10_000, MAX_BENCH_MS).optional(),
  mu: z.string().regex(/^\d+(\.\d+)?$/, 'expected a number').transform(Number).pipe(z.number().positive().max(100_000)).optional(),
  scryptN: whole(1024, 1 << 20).default(16384),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('warn')
})
export type BenchOptionsInput = z.infer<typeof BenchOptionsSchema>

export type BenchSizes = Record<SizeName, number>
export type BenchOptions = Omit<BenchOptionsInput, SizeName> & BenchSizes & { seed: number }

/** Fill every size from the flag, else the quick or full default. */
export function resolveSizes (input: BenchOptionsInput, seed: number): BenchOptions {
  const sizes = Object.fromEntries((Object.keys(SIZES) as SizeName[]).map((name) =>
    [name, input[name] ?? (input.quick ? SIZES[name].quick : SIZES[name].full)])) as BenchSizes
  return { ...input, ...sizes, seed }
}
