/**
 * CPU, memory and file descriptors of the cluster's processes, summed by role, for the timeline
 * and the soak's growth check: per process, utime + stime from /proc/<pid>/stat (CPU time in clock
 * ticks, proc(5)), VmRSS from /proc/<pid>/status and the entries of /proc/<pid>/fd. Linux only;
 * elsewhere every read fails and nothing is reported.
 *
 * CPU is the change of a pid's ticks since the previous sample over the wall time between the two,
 * in cores (1 = one core busy all the time). A pid not seen before started since the previous
 * sample, so all its ticks are new: a restarted node's start-up (about a core-second) lands in the
 * second it happened, which is the reboot storm this tool is about.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { peerProcesses, type Member } from './layout.js'

/** The kinds of process a cluster runs: its members' roles, and swarm processes hosting many peers. */
export type UsageRole = 'login-server' | 'supernode' | 'peer' | 'swarm'
export const USAGE_ROLES: readonly UsageRole[] = ['login-server', 'supernode', 'peer', 'swarm']

export interface RoleUsage {
  /** Processes of the role whose /proc entries could be read in this sample. */
  processes: number
  cpuCores: number
  rssMiB: number
  /** Open file descriptors (sockets, database files, pipes) summed over the role's processes. */
  fds?: number
}

export type UsageByRole = Partial<Record<UsageRole, RoleUsage>>

export interface UsageProcess {
  name: string
  role: UsageRole
}

/**
 * Processes read per sample. Each costs two small synchronous /proc reads (tens of microseconds),
 * so a sample of this many stays within a few percent of one core per second.
 */
export const MAX_USAGE_PROCESSES = 1000
/** Linux's USER_HZ on the common architectures: used when `getconf CLK_TCK` cannot be run. */
export const DEFAULT_CLOCK_TICKS_PER_S = 100
const GETCONF_TIMEOUT_MS = 2000
const KIB_PER_MIB = 1024
/** utime and stime are fields 14 and 15 of /proc/<pid>/stat; after the `(comm)` field we are at field 3. */
const UTIME_AFTER_COMM = 14 - 3
const STIME_AFTER_COMM = 15 - 3

let clockTicks: number | undefined

/** The kernel's clock ticks per second (read once; the value cannot change while we run). */
export function clockTicksPerS (): number {
  if (clockTicks !== undefined) return clockTicks
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: GETCONF_TIMEOUT_MS }).trim())
    clockTicks = Number.isInteger(value) && value > 0 ? value : DEFAULT_CLOCK_TICKS_PER_S
  } catch {
    clockTicks = DEFAULT_CLOCK_TICKS_PER_S
  }
  return clockTicks
}

/** The OS processes of a cluster with their role: one per login server and supernode, the peers' processes. */
export function usageProcesses (members: readonly Member[], added: readonly Member[] = []): UsageProcess[] {
  const servers = [...members, ...added]
    .filter((m) => m.role !== 'peer')
    .map((m): UsageProcess => ({ name: m.process, role: m.role }))
  const peers = peerProcesses(members).map((p): UsageProcess => ({ name: p.name, role: p.swarm ? 'swarm' : 'peer' }))
  return [...servers, ...peers]
}

/** CPU ticks (utime + stime) from the text of /proc/<pid>/stat, or undefined when it does not parse. */
export function parseStatTicks (text: string): number | undefined {
  // The command name is in parentheses and may itself hold spaces and parentheses: split after the last one.
  const fields = text.slice(text.lastIndexOf(')') + 1).trim().split(/\s+/)
  const ticks = Number(fields[UTIME_AFTER_COMM]) + Number(fields[STIME_AFTER_COMM])
  return Number.isFinite(ticks) ? ticks : undefined
}

/** Resident memory in KiB from the text of /proc/<pid>/status (absent for a zombie). */
export function parseRssKiB (text: string): number | undefined {
  const match = /^VmRSS:\s*(\d+)\s*kB/m.exec(text)
  return match?.[1] === undefined ? undefined : Number(match[1])
}

export interface ProcUsageInit {
  /** Where the proc file system is mounted (tests point it at a fixture). */
  procRoot?: string
  ticksPerS?: () => number
  /** The previous "sample" for the first one: when the run started. */
  startMs: number
}

export interface ProcUsageDeps {
  processes: () => readonly UsageProcess[]
  /** The running process's pid, undefined when it is not running. */
  pid: (name: string) => number | undefined
}

export class ProcUsage {
  private readonly init: ProcUsageInit
  private readonly deps: ProcUsageDeps
  /** Ticks of each pid at the previous sample; only pids seen then, so it is bounded like a sample. */
  private lastTicks = new Map<number, number>()
  private lastAtMs: number
  /** Running processes not read in the last sample because of MAX_USAGE_PROCESSES. */
  skipped = 0

  constructor (init: ProcUsageInit, deps: ProcUsageDeps) {
    this.init = init
    this.deps = deps
    this.lastAtMs = init.startMs
  }

  /** Usage by role since the previous call. Never throws: an unreadable entry (the process died) is left out. */
  sample (nowMs: number): UsageByRole {
    const periodS = Math.max(nowMs - this.lastAtMs, 1) / 1000
    const ticksPerS = (this.init.ticksPerS ?? clockTicksPerS)()
    const root = this.init.procRoot ?? '/proc'
    const byRole: UsageByRole = {}
    const ticksNow = new Map<number, number>()
    const processes = this.deps.processes()
    this.skipped = Math.max(0, processes.length - MAX_USAGE_PROCESSES)
    for (const proc of processes.slice(0, MAX_USAGE_PROCESSES)) {
      const pid = this.deps.pid(proc.name)
      if (pid === undefined) continue
      const ticks = readOr(join(root, String(pid), 'stat'), parseStatTicks)
      const rssKiB = readOr(join(root, String(pid), 'status'), parseRssKiB)
      const fds = countFds(join(root, String(pid), 'fd'))
      if (ticks === undefined) continue
      ticksNow.set(pid, ticks)
      const before = this.lastTicks.get(pid)
      // Fewer ticks than before: the pid was reused by a new process, whose ticks are all new.
      const delta = before === undefined || ticks < before ? ticks : ticks - before
      const usage = byRole[proc.role] ?? { processes: 0, cpuCores: 0, rssMiB: 0, fds: 0 }
      usage.processes++
      usage.cpuCores += delta / ticksPerS / periodS
      usage.rssMiB += (rssKiB ?? 0) / KIB_PER_MIB
      usage.fds = (usage.fds ?? 0) + (fds ?? 0)
      byRole[proc.role] = usage
    }
    this.lastTicks = ticksNow
    this.lastAtMs = nowMs
    for (const usage of Object.values(byRole)) {
      usage.cpuCores = round2(usage.cpuCores)
      usage.rssMiB = round2(usage.rssMiB)
    }
    return byRole
  }
}

/** Entries of /proc/<pid>/fd (one per open descriptor); undefined when unreadable (gone, or not ours). */
function countFds (dir: string): number | undefined {
  try {
    return readdirSync(dir).length
  } catch {
    return undefined
  }
}

function readOr<T> (path: string, parse: (text: string) => T | undefined): T | undefined {
  try {
    return parse(readFileSync(path, 'utf8'))
  } catch {
    return undefined
  }
}

/** Two decimals: enough for a chart, and keeps report.json small. */
function round2 (value: number): number {
  return Math.round(value * 100) / 100
}
