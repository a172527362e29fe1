/**
 * report.json: everything a machine (CI, a later `compare`) needs about one run, written durably
 * so that a crash of the load generator right after the run cannot leave a torn file.
 */
import { join } from 'node:path'
import { writeFileDurable, type Profile } from '@rebound/protocol'
import type { ExitRecord } from './driver/driver.js'
import type { HostReport } from './host-cpu.js'
import type { HistoryReport } from './history-run.js'
import type { ClusterSize } from './layout.js'
import type { LoginCounters } from './observer.js'
import type { RunOptions } from './options.js'
import type { RecoveryFigures } from './recovery.js'
import type { KillRecord, Objective, ProcessKill } from './scenarios/scenario.js'
import type { SupernodeFailureReport } from './scenarios/supernode-failure-report.js'
import type { SoakReport } from './scenarios/soak.js'
import type { WipeReport } from './scenarios/wipe-report.js'
import type { TimelineSample } from './timeline.js'

export const REPORT_FILE = 'report.json'

export interface MessagesReport {
  sent: number
  delivered: number
  failed: number
  failedByCode: Record<string, number>
  /** Sends whose outcome counts for the delivery ratio (sent minus excluded failures). */
  counted: number
  /** Workload ticks without a possible send (no attached pair, or the in-flight bound). */
  skipped: number
}

export interface Report {
  scenario: string
  /**
   * The scenario file the run came from (docs/scenarios.md): its name, absolute path, and whether
   * it is a shipped one (replayed by name) or a user's (replayed by path). Absent in older reports.
   */
  scenarioFile?: { name: string, path: string, shipped: boolean }
  seed: number
  driver: string
  profile: Profile
  startedAt: string
  durationMs: number
  /** The command that replays this run. */
  reproduce: string
  options: Omit<RunOptions, 'nodeBin' | 'bootstrapBin'>
  cluster: ClusterSize
  /**
   * Peers per OS process (--peers-per-process): 1 = a rebound-node each, K > 1 = rebound-swarm
   * processes of K. Always written; optional for reports of runs older than the option.
   */
  peersPerProcess?: number
  recovery: RecoveryFigures & {
    /** One per killed peer, with the process whose kill took it down. */
    kills: KillRecord[]
    /** One per killed process, with the peers that went down with it (optional as peersPerProcess). */
    processKills?: ProcessKill[]
    /** Login requests received by the login servers from the kill on (whole seconds). */
    loginsOffered: number
    /** Mean login attempts (logins + failed logins) per restarted peer, from their own counters. */
    attemptsPerClient: number | null
  }
  /** decapitate and freeze: supernodes hit, orphans, survivors, load, messages after recovery. */
  supernodeFailure?: SupernodeFailureReport
  /** wipe: what was erased (store or devices) and how fast the data came back. */
  wipe?: WipeReport
  /** soak: the churn and the growth of memory and descriptors by role. */
  soak?: SoakReport
  logins: LoginCounters
  messages: MessagesReport
  /**
   * The history check (docs/durability.md): every send and contact change against the final reads
   * of the devices and the store. Absent when the run ended before it (the cluster never came up,
   * Ctrl-C) and in reports older than it.
   */
  history?: HistoryReport
  objectives: Objective[]
  ok: boolean
  /** Why the run could not complete (cluster did not come up, interrupted, ...), else null. */
  error: string | null
  interrupted: boolean
  /**
   * When the trigger hit (first kill, or the supernodes' kill or freeze), in the timeline's seconds
   * since the start; null when the run never reached it. Absent in reports older than the field.
   */
  triggerAtS?: number | null
  timeline: TimelineSample[]
  timelineTruncated: boolean
  /** The machine's CPU from the trigger on (host-cpu.ts); absent where /proc/stat cannot be read, and in older reports. */
  host?: HostReport
  unexpectedExits: ExitRecord[]
  logsDir: string
}

export async function writeReport (outDir: string, report: Report): Promise<string> {
  const path = join(outDir, REPORT_FILE)
  await writeFileDurable(path, JSON.stringify(report, null, 2) + '\n', 0o644)
  return path
}

/** `rebound run ...` with the flags that differ from the defaults, and always the seed. */
export function reproduceCommand (scenario: string, argv: readonly string[], seed: number): string {
  const kept: string[] = []
  // Drop --seed and --out from the original flags: the seed is appended, the out dir must be new.
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ''
    const flag = arg.split('=')[0]
    if (flag === '--seed' || flag === '--out') {
      if (!arg.includes('=')) i++
      continue
    }
    kept.push(arg)
  }
  return ['rebound', 'run', scenario, ...kept, '--seed', String(seed)].join(' ')
}
