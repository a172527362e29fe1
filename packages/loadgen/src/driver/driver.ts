/**
 * What a scenario may do to the processes of a cluster, independent of how they run: as local OS
 * processes (`process` driver) or, later, as containers (`docker` driver). A driver only touches
 * what it started itself.
 */
import type { Role } from '../layout.js'

export type Program = 'bootstrap' | 'node' | 'swarm'

/** Signals a scenario may send. SIGSTOP/SIGCONT freeze and thaw; the other two end the process. */
export type DriverSignal = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT'

export interface ProcessSpec {
  name: string
  /** A cluster member's role, or a benchmark's load process (a swarm of peers, a login load generator). */
  role: Role | 'swarm' | 'login-load'
  program: Program
  /** The loopback address the process binds (for drivers that must know it, e.g. docker). */
  ip: string
  /** Flags for the program (never secrets: they show in `ps`). */
  args: string[]
  /** Extra environment; secrets travel here. */
  env: Record<string, string>
}

export interface ExitRecord {
  name: string
  pid: number
  code: number | null
  signal: string | null
  atMs: number
  /** False when the process died without the driver having been asked to end it. */
  expected: boolean
}

export interface ClusterDriver {
  readonly kind: string
  /** Start a new process for `spec` (its name must not be running). */
  start: (spec: ProcessSpec) => Promise<void>
  /** Send `signal` to the named process; SIGKILL waits (bounded) until it is gone. */
  kill: (name: string, signal: DriverSignal) => Promise<void>
  /** Start the named process again with the spec it was last started with (killing it first if running). */
  restart: (name: string) => Promise<void>
  isRunning: (name: string) => boolean
  pid: (name: string) => number | undefined
  /** How many times the named process was started; changes when it is restarted. */
  generation: (name: string) => number
  /**
   * Changes the moment the driver starts the process or sends it a terminating signal, before the
   * exit is reported: a request that failed across a change failed because of us.
   */
  interventions: (name: string) => number
  runningCount: () => number
  exits: () => readonly ExitRecord[]
  unexpectedExits: () => readonly ExitRecord[]
  /** Where the named process's output goes, for error messages. */
  logPath: (name: string) => string
  /** End everything started: SIGTERM, then SIGKILL after a grace period. Idempotent. */
  stopAll: () => Promise<void>
  /** Last resort, synchronous (process 'exit' handler): SIGKILL everything still running. */
  killAllNow: () => void
}
