/**
 * Reading report.json and compare.json back for `rebound report DIR`. The files may be old, edited
 * or from elsewhere, so they are checked against what the renderers read before anything is drawn;
 * a missing, oversized, unparsable or wrong-shaped file is bad usage (ReboundError BAD_CONFIG).
 * Unknown fields are kept: a newer report renders with an older tool.
 */
import { readFile, stat } from 'node:fs/promises'
import { z } from 'zod'
import { Profile, ReboundError } from '@rebound/protocol'
import type { CompareReport } from '../compare.js'
import type { Report } from '../report.js'

/** An hour of timeline and a full history is a few MB; anything far past this is not ours. */
export const MAX_REPORT_BYTES = 64 * 1024 * 1024

const num = z.number()
const nullableNum = z.number().nullable()
const figures = { killed: num, reattached: num, t50Ms: nullableNum, t90Ms: nullableNum, t99Ms: nullableNum, t100Ms: nullableNum }
const roleUsage = z.looseObject({ processes: num, cpuCores: num, rssMiB: num })

const Sample = z.looseObject({
  t: num,
  peersOnline: num,
  supernodes: num,
  loginsOffered: num,
  loginsAccepted: num,
  loginsRejected: num,
  loginsFailed: num,
  messagesSent: num,
  messagesDelivered: num,
  messagesFailed: num,
  usage: z.partialRecord(z.enum(['login-server', 'supernode', 'peer', 'swarm']), roleUsage).optional()
})

const History = z.looseObject({
  operations: num,
  ok: num,
  failed: num,
  lost: num,
  duplicated: num,
  unexpected: num,
  unknown: z.looseObject({ present: num, absent: num }),
  unreadable: num,
  dropped: num,
  settledMs: num,
  drained: z.boolean(),
  examples: z.array(z.looseObject({ what: z.string(), where: z.string(), user: z.string(), expected: z.string(), got: z.string() })),
  atTrigger: z.looseObject({ send: num, contact: num, outcomes: z.looseObject({ ok: num, failed: num, unknown: num }) }).optional()
})

const Wipe = z.looseObject({
  target: z.enum(['store', 'device']),
  erased: z.array(z.string()),
  storeIdBefore: z.string().nullable(),
  storeIdAfter: z.string().nullable(),
  loginServersBackMs: nullableNum,
  restore: z.looseObject(figures),
  writesAtTrigger: z.looseObject({ sends: num, contacts: num })
})

/** Shallow where the summary lines' own code reads it (supernode-summary.ts); the figures in full. */
const SupernodeFailure = z.looseObject({
  trigger: z.string(),
  triggerAtMs: num,
  rehoming: z.looseObject(figures),
  affected: z.array(z.looseObject({ name: z.string() })),
  survivors: z.array(z.looseObject({ name: z.string(), capacity: num, maxClients: num })),
  orphans: z.array(z.looseObject({ rehomedAtMs: nullableNum })),
  afterRecovery: z.looseObject({ fromMs: num, toMs: num, sent: num, delivered: num, failed: num }),
  lookups: z.looseObject({}),
  added: z.array(z.looseObject({ name: z.string() })),
  elected: z.array(z.looseObject({ name: z.string() }))
})

const ReportShape = z.looseObject({
  scenario: z.string(),
  seed: num,
  driver: z.string(),
  profile: Profile,
  startedAt: z.string(),
  durationMs: num,
  reproduce: z.string(),
  cluster: z.looseObject({ loginServers: num, supernodes: num, peers: num }),
  peersPerProcess: num.optional(),
  recovery: z.looseObject({
    ...figures,
    kills: z.array(z.looseObject({ killTimeMs: num })),
    processKills: z.array(z.looseObject({})).optional(),
    loginsOffered: num,
    attemptsPerClient: nullableNum
  }),
  supernodeFailure: SupernodeFailure.optional(),
  wipe: Wipe.optional(),
  soak: z.looseObject({
    durationMs: num, churnIntervalMs: num, churned: num, samples: num,
    growth: z.array(z.looseObject({ role: z.string(), rssEarlyMiB: num, rssLateMiB: num, rssRatio: nullableNum, fdsEarly: num, fdsLate: num, fdRatio: nullableNum }))
  }).optional(),
  logins: z.looseObject({ offered: num, accepted: num, rejected: num, failed: num }),
  messages: z.looseObject({ sent: num, delivered: num, failed: num, counted: num, failedByCode: z.record(z.string(), num) }),
  history: History.optional(),
  objectives: z.array(z.looseObject({ name: z.string(), ok: z.boolean(), value: nullableNum, limit: num })),
  ok: z.boolean(),
  error: z.string().nullable(),
  triggerAtS: nullableNum.optional(),
  timeline: z.array(Sample),
  timelineTruncated: z.boolean(),
  unexpectedExits: z.array(z.looseObject({ name: z.string(), pid: num, code: nullableNum, signal: z.string().nullable() })),
  logsDir: z.string()
})

const CompareShape = z.looseObject({
  scenario: z.string(),
  seed: num,
  profiles: z.array(Profile),
  runs: z.array(z.looseObject({ profile: Profile, reportPath: z.string(), ok: z.boolean(), exitCode: num })),
  rows: z.array(z.looseObject({ label: z.string(), cells: z.array(z.string()) })),
  ok: z.boolean()
})

/** The parsed JSON of `path`; undefined when there is no such file. */
export async function readJsonIfExists (path: string): Promise<unknown> {
  const size = await stat(path).then((s) => s.size, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw new ReboundError('BAD_CONFIG', `cannot read ${path}: ${err.message}`)
  })
  if (size === undefined) return undefined
  if (size > MAX_REPORT_BYTES) throw new ReboundError('BAD_CONFIG', `${path} is ${size} bytes, over the ${MAX_REPORT_BYTES} a report may be`)
  const text = await readFile(path, 'utf8')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ReboundError('BAD_CONFIG', `${path} is not valid JSON: ${(err as Error).message}`)
  }
}

function check (path: string, what: string, schema: z.ZodType, value: unknown): void {
  const result = schema.safeParse(value)
  if (result.success) return
  const issue = result.error.issues[0]
  const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`
  throw new ReboundError('BAD_CONFIG', `${path} is not a rebound ${what}${where}: ${issue?.message ?? 'invalid'}`)
}

/** Checked against the fields the renderers read; the value itself is returned, unknown fields and all. */
export function asReport (path: string, value: unknown): Report {
  check(path, 'report', ReportShape, value)
  return value as Report
}

export function asCompare (path: string, value: unknown): CompareReport {
  check(path, 'compare report', CompareShape, value)
  return value as CompareReport
}
