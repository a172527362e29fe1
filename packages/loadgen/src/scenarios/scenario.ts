/**
 * What a named scenario is: the trigger it applies to a running cluster, what it measures, and the
 * objectives that decide the run's exit code.
 */
import type { Logger } from '@rebound/protocol'
import type { Cluster } from '../cluster.js'
import type { ClusterDriver, DriverCapability } from '../driver/driver.js'
import type { Observer } from '../observer.js'
import type { RunOptions } from '../options.js'
import type { Prng } from '../prng.js'
import type { RecoveryFigures } from '../recovery.js'
import type { ChaosCounters } from '../timeline.js'
import type { Workload } from '../workload.js'
import type { SupernodeFailureReport } from './supernode-failure-report.js'
import type { SoakReport } from './soak.js'
import type { WipeReport } from './wipe-report.js'

export interface ScenarioContext {
  options: RunOptions
  cluster: Cluster
  driver: ClusterDriver
  observer: Observer
  /** The message workload, for counting a window of its sends apart (Workload.openWindow). */
  workload: Workload
  /**
   * Start a message and a contact change from each named peer (attached ones) now: the writes a
   * trigger should catch in flight. Returns how many of each were started.
   */
  burstWrites: (peerNames: readonly string[]) => { sends: number, contacts: number }
  /** The run's root stream; a scenario forks its own named streams from it. */
  prng: Prng
  chaos: ChaosCounters
  log: Logger
  signal: AbortSignal
  setPhase: (phase: string) => void
}

/** One killed peer. */
export interface KillRecord {
  name: string
  /** The process whose kill took it down: the peer's own, or its swarm's. */
  process: string
  killTimeMs: number
  restartDelayMs: number
  restartedAtMs: number | null
  reattachedAtMs: number | null
  recoveryMs: number | null
  /** Login requests (accepted or not) the restarted process made, from its counters; null if never seen. */
  loginAttempts: number | null
}

/** One killed process and the peers that went down with it (report.json recovery.processKills). */
export interface ProcessKill {
  process: string
  peers: string[]
  killTimeMs: number
  restartDelayMs: number
  restartedAtMs: number | null
  /** Of its peers, how many re-attached after the kill. */
  reattached: number
}

export interface ScenarioOutcome {
  /** When the trigger struck (the kill, the wipe, the freeze); the history counts the writes in flight then. */
  triggerAtMs?: number
  /** Over the peers the trigger hit: killed peers (patch-tuesday) or orphaned ones (supernode scenarios). */
  recovery: RecoveryFigures
  kills: KillRecord[]
  /** wipe: what was wiped and how fast the data came back. */
  wipe?: WipeReport
  /** soak: the churn and the growth of every role's memory and descriptors. */
  soak?: SoakReport
  /** decapitate and freeze: what happened to the supernodes, their orphans and the survivors. */
  supernodeFailure?: SupernodeFailureReport
}

/** Facts about a finished run that objectives are judged on. */
export interface RunFacts {
  options: RunOptions
  outcome: ScenarioOutcome
  messages: { sent: number, delivered: number, counted: number }
  unexpectedExits: number
}

export interface Objective {
  name: string
  ok: boolean
  value: number | null
  limit: number
}

export interface Scenario {
  name: string
  description: string
  /** Runs after the cluster is up and the workload is running; resolves when observation ends. */
  run: (ctx: ScenarioContext) => Promise<ScenarioOutcome>
  objectives: (facts: RunFacts) => Objective[]
  /** The driver's optional capabilities the run needs with these options; checked before it starts. */
  driverNeeds?: (options: RunOptions) => readonly DriverCapability[]
}
