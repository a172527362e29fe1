/**
 * What a scenario may do to the processes of a cluster, independent of how they run: as local OS
 * processes (`process` driver) or as the containers of a compose project (`docker` driver). A
 * driver only touches what it started itself, or the project it attached to.
 * Beyond start, signals and restart, a driver may offer optional capabilities (wipeData, network);
 * a scenario that needs one says so (Scenario.driverNeeds) and is refused before the run starts
 * when the driver lacks it, rather than failing halfway through a run.
 */
import { ReboundError } from '@rebound/protocol'
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

/**
 * What wipeData erases. `own`: what only the member keeps (its data directory: identity, ticket,
 * device store). `shared`: what it shares with other members (the login servers' one store).
 */
export type WipeScope = 'own' | 'shared'

/** Optional capabilities, by the name of the ClusterDriver field that provides each. */
export type DriverCapability = 'wipeData' | 'network'

/** Cutting a member off the network while it keeps running (a partition, not a crash). */
export interface NetworkControl {
  /** Disconnect the named member from every network it is on; it keeps running. */
  cut: (name: string) => Promise<void>
  /** Connect it again, at the address (and names) it had; a no-op if it was not cut. */
  restore: (name: string) => Promise<void>
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
  /**
   * Optional: erase the named members' data (`scope`, see WipeScope) and return what was erased,
   * for the report. `own` requires them stopped (the caller starts them again); `shared` is erased
   * under them while they run, as a storage tier lost under its servers.
   */
  wipeData?: (names: readonly string[], scope: WipeScope) => Promise<string[]>
  /** Optional: partitions (docker: Engine API network disconnect and connect). */
  network?: NetworkControl
}

const CAPABILITY_USE: Record<DriverCapability, string> = {
  wipeData: 'erase a member\'s data (wipe)',
  network: 'cut a member off the network (--freeze-mode network)'
}

/** Whether `driver` lacks any of `needs`; the message says which and names the driver. */
export function missingCapabilities (driver: Pick<ClusterDriver, 'kind' | DriverCapability>, needs: readonly DriverCapability[]): string | undefined {
  const missing = needs.filter((need) => driver[need] === undefined)
  if (missing.length === 0) return undefined
  return `the ${driver.kind} driver cannot ${missing.map((need) => CAPABILITY_USE[need]).join(', nor ')}`
}

/** The capability, or BAD_CONFIG (exit 2) when the driver lacks it. */
export function capabilityOf<K extends DriverCapability> (driver: Pick<ClusterDriver, 'kind' | DriverCapability>, need: K): NonNullable<ClusterDriver[K]> {
  const found = driver[need]
  if (found === undefined) throw new ReboundError('BAD_CONFIG', missingCapabilities(driver, [need]) ?? need)
  // A method of a class-based driver, handed out alone, must keep its `this`.
  return (typeof found === 'function' ? found.bind(driver) : found) as NonNullable<ClusterDriver[K]>
}
