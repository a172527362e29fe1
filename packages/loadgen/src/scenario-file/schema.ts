/**
 * The scenario file format (docs/scenarios.md): one JSON object that names a built-in trigger with
 * its parameters, the phases around it, the cluster and workload it runs on, and which of the
 * trigger's objectives decide the run. Every field that is a run option is checked against that
 * option's own bounds (options.ts OptionValues), so a file can hold nothing a flag could not, and
 * every object is strict: a misspelt field is an error, not a silently ignored default.
 */
import { z } from 'zod'
import { OptionValues, type RunOptions } from '../options.js'

type OptionKey = keyof typeof OptionValues
/** A section's fields, each with the run option it sets (the flag of the same name, kebab-cased). */
export type SectionFields = Readonly<Record<string, OptionKey>>

export const CLUSTER_FIELDS = {
  peers: 'peers',
  supernodes: 'supernodes',
  loginServers: 'loginServers',
  peersPerProcess: 'peersPerProcess',
  eligibleFraction: 'eligibleFraction',
  orphanWindowMs: 'orphanWindowMs'
} as const satisfies SectionFields

export const WORKLOAD_FIELDS = { messageRate: 'messageRate', contactRate: 'contactRate' } as const satisfies SectionFields
export const WARMUP_FIELDS = { durationMs: 'warmupMs' } as const satisfies SectionFields
export const OBSERVE_FIELDS = { maxMs: 'observeMs' } as const satisfies SectionFields

export const TRIGGER_TYPES = ['kill-peers', 'decapitate', 'freeze', 'wipe', 'soak'] as const
export type TriggerType = typeof TRIGGER_TYPES[number]

/** Each trigger's parameters and the run options they set; `type` selects the trigger. */
export const TRIGGER_FIELDS = {
  'kill-peers': { fraction: 'killFraction', rebootWindowMs: 'rebootWindowMs' },
  decapitate: {
    fraction: 'supernodeKillFraction', restartSupernodes: 'restartSupernodes', rebootWindowMs: 'rebootWindowMs', addSupernodes: 'addSupernodes', addAfterMs: 'addAfterMs'
  },
  freeze: { fraction: 'freezeFraction', freezeMs: 'freezeMs', mode: 'freezeMode', addSupernodes: 'addSupernodes', addAfterMs: 'addAfterMs' },
  wipe: { target: 'target', fraction: 'wipeFraction', rebootWindowMs: 'rebootWindowMs' },
  soak: { durationMs: 'duration', churnIntervalMs: 'churnIntervalMs', rebootWindowMs: 'rebootWindowMs' }
} as const satisfies Record<TriggerType, SectionFields>

/** wipe's parameters that only a device wipe (a reboot wave) uses. */
const DEVICE_WIPE_ONLY = ['fraction', 'rebootWindowMs'] as const

/** Bounds on the file itself: a scenario file is a few hundred bytes of hand-written JSON. */
export const MAX_SCENARIO_FILE_BYTES = 64 * 1024
export const MAX_DESCRIPTION_CHARS = 300
export const MAX_SOURCE_CHARS = 500
export const MAX_OBJECTIVE_ENTRIES = 32

/** A section's schema: each field optional, with its option's values. */
type SectionShape<F extends SectionFields> = { [K in keyof F]: z.ZodOptional<(typeof OptionValues)[F[K]]> }

function section<F extends SectionFields> (fields: F): z.ZodObject<SectionShape<F>, z.core.$strict> {
  return z.strictObject(Object.fromEntries(Object.entries(fields).map(([field, option]) => [field, OptionValues[option].optional()])) as SectionShape<F>)
}

const wipeTrigger = section(TRIGGER_FIELDS.wipe).extend({ type: z.literal('wipe') }).superRefine((trigger, ctx) => {
  if (trigger.target !== 'store') return
  for (const field of DEVICE_WIPE_ONLY) {
    if (trigger[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'only with target "device" (a store wipe kills no peer)' })
  }
})

const Trigger = z.discriminatedUnion('type', [
  section(TRIGGER_FIELDS['kill-peers']).extend({ type: z.literal('kill-peers') }),
  section(TRIGGER_FIELDS.decapitate).extend({ type: z.literal('decapitate') }),
  section(TRIGGER_FIELDS.freeze).extend({ type: z.literal('freeze') }),
  wipeTrigger,
  section(TRIGGER_FIELDS.soak).extend({ type: z.literal('soak') })
], { error: (issue) => unknownTrigger(issue.input) })

function unknownTrigger (input: unknown): string {
  const type = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined
  const known = TRIGGER_TYPES.join(' | ')
  return type === undefined ? `missing (one of ${known})` : `unknown trigger ${JSON.stringify(type)} (one of ${known})`
}

/** An objective judged, by name alone (its default limit) or with a limit of the file's own. */
const ObjectiveEntry = z.preprocess(
  (entry) => typeof entry === 'string' ? { name: entry } : entry,
  z.strictObject({
    name: z.string().min(1),
    /** Replaces the default limit; only objectives whose limit is a number of their own may take one. */
    limit: z.number().min(0).optional()
  }, { error: (issue) => issue.code === 'invalid_type' ? 'expected an objective name, or {"name": ..., "limit": ...}' : undefined })
)

const oneLine = (max: number) => z.string().min(1).max(max).regex(/^[^\n]*$/, 'must be one line')

export const ScenarioFileSchema = z.strictObject({
  description: oneLine(MAX_DESCRIPTION_CHARS),
  /** The outage it reproduces, with a reference. */
  source: oneLine(MAX_SOURCE_CHARS).optional(),
  cluster: section(CLUSTER_FIELDS).optional(),
  workload: section(WORKLOAD_FIELDS).optional(),
  phases: z.strictObject({
    warmup: section(WARMUP_FIELDS).optional(),
    trigger: Trigger,
    observe: section(OBSERVE_FIELDS).optional(),
    /** Absent: every objective the trigger produces, with its default limit. */
    objectives: z.array(ObjectiveEntry).min(1).max(MAX_OBJECTIVE_ENTRIES).optional()
  })
})
export type ScenarioFile = z.infer<typeof ScenarioFileSchema>
export type TriggerParams = ScenarioFile['phases']['trigger']

/** The run options a section sets: its fields that are present, renamed to their options. */
export function sectionOptions (values: Readonly<Record<string, unknown>> | undefined, fields: SectionFields): Partial<RunOptions> {
  if (values === undefined) return {}
  const set = Object.entries(fields).filter(([field]) => values[field] !== undefined).map(([field, option]) => [option, values[field]])
  // Each value was checked against OptionValues[option] by the schema above.
  return Object.fromEntries(set) as Partial<RunOptions>
}

/** Every run option the file sets, the trigger's parameters included. */
export function fileOptions (file: ScenarioFile): Partial<RunOptions> {
  const { trigger } = file.phases
  return {
    ...sectionOptions(file.cluster, CLUSTER_FIELDS),
    ...sectionOptions(file.workload, WORKLOAD_FIELDS),
    ...sectionOptions(file.phases.warmup, WARMUP_FIELDS),
    ...sectionOptions(trigger, TRIGGER_FIELDS[trigger.type]),
    ...sectionOptions(file.phases.observe, OBSERVE_FIELDS)
  }
}

/** A section's fields as the effective options have them (what `rebound list` shows). */
export function sectionValues (fields: SectionFields, options: RunOptions): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([field, option]) => [field, options[option]]))
}

/** The trigger's parameters that take effect under these options (a store wipe kills no peer; a restart window needs restarts). */
export function triggerValues (type: TriggerType, options: RunOptions): Record<string, unknown> {
  const unused: readonly string[] = type === 'wipe' && options.target === 'store'
    ? DEVICE_WIPE_ONLY
    : type === 'decapitate' && !options.restartSupernodes ? ['rebootWindowMs'] : []
  return Object.fromEntries(Object.entries(sectionValues(TRIGGER_FIELDS[type], options)).filter(([field]) => !unused.includes(field)))
}
