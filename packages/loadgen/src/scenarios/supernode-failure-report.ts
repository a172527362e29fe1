/**
 * report.json `supernodeFailure`: what decapitate and freeze measured. Times are epoch ms (the
 * processes share the machine's clock); durations are ms after the trigger unless named otherwise.
 */
import type { MessageCounters } from '../workload.js'
import type { RecoveryFigures } from '../recovery.js'
import type { LoadStats } from '../supernode-stats.js'
import type { LookupSweepReport } from './lookup-sweep.js'

/** A supernode the trigger hit. */
export interface AffectedSupernode {
  name: string
  peerId: string
  /** Its client count in its last status before the trigger. */
  clientsBefore: number
  /** decapitate --restart-supernodes: when it was started again; else null. */
  restartedAtMs: number | null
  /** freeze: when it was sent SIGCONT; else null. */
  thawedAtMs: number | null
  /**
   * After a thaw or restart: the first time it answered as a certified supernode while the
   * registry listed every supernode that did (it is usable again); null when never, or not revived.
   */
  backAtMs: number | null
}

/** A supernode the trigger spared. */
export interface SurvivorLoad {
  name: string
  capacity: number
  clientsBefore: number
  /** Most clients seen from the trigger to the end of the after-recovery window. */
  maxClients: number
  /** At the end of the after-recovery window; null when it did not answer then. */
  clientsAfter: number | null
}

/** A peer whose supernode the trigger hit. */
export interface OrphanRecord {
  name: string
  /** The supernode it was attached to. */
  from: string
  /** Its first attach after the trigger (to a live supernode: the lost one was dead or frozen), or null. */
  rehomedAtMs: number | null
  rehomeMs: number | null
  /** The supernode it was attached to at the end, or null when not attached. */
  to: string | null
}

/** A supernode started during the run (--add-supernodes, the mega-supernode lever). */
export interface AddedSupernode {
  name: string
  ip: string
  startedAtMs: number | null
  /** First seen certified (role supernode, attached); null when never. */
  certifiedAtMs: number | null
  maxClients: number
  clientsAfter: number | null
}

/** A peer the registry elected supernode during the run (seen serving by the load generator). */
export interface ElectedSupernode {
  name: string
  /** First seen serving, epoch ms. */
  servingAtMs: number | null
  maxClients: number
  /** At the end of the after-recovery window; null when it no longer served then. */
  clientsAfter: number | null
}

export interface AfterRecoveryMessages extends Omit<MessageCounters, 'skipped'> {
  /** The last membership change of the live supernodes (or settledAtMs when none came after it). */
  fromMs: number
  /** Changes of the live supernode set after settledAtMs that restarted the window. */
  membershipChanges: number
  toMs: number
  counted: number
  /** delivered / counted, null when nothing counted. */
  deliveryRatio: number | null
}

export interface SupernodeFailureReport {
  /** What hit the supernodes: SIGKILL, SIGSTOP, or (freeze --freeze-mode network) cut off their networks. */
  trigger: 'SIGKILL' | 'SIGSTOP' | 'network cut'
  fraction: number
  triggerAtMs: number
  /**
   * The longest orphan window W the supernodes may advertise (--orphan-window-ms): orphans wait
   * U(0, W) before re-homing, W sized by each supernode to its client count up to this.
   */
  orphanWindowMs: number
  /** freeze: keepalive silence + the longest W, what re-homing a frozen supernode's clients waits at most before its dial; else null. */
  freezeRehomeBoundMs: number | null
  freezeMs: number | null
  supernodesBefore: number
  affected: AffectedSupernode[]
  survivors: SurvivorLoad[]
  orphans: OrphanRecord[]
  /** T50..T100 of the orphans' re-homing, from the trigger. */
  rehoming: RecoveryFigures
  /** When the last change was over (orphans re-homed, thaws/restarts/additions done) or the wait ended. */
  settledAtMs: number
  /**
   * Load of the live supernodes (operator, added and elected) at the end of the after-recovery
   * window; null when none was live.
   */
  loadAfter: (LoadStats & { atMs: number }) | null
  /**
   * The same over the survivors only (the supernodes live before the trigger and not hit): whether
   * the orphans were spread over them or piled onto one, the start of a cascade. A supernode
   * elected or added after the re-homing starts empty and takes only new arrivals (sessions are
   * not moved to balance), so it would skew the all-live figure without saying anything of that.
   */
  survivorLoadAfter: (LoadStats & { atMs: number }) | null
  /** The workload's sends issued in the window after settledAtMs (between attached users). */
  afterRecovery: AfterRecoveryMessages
  /** Every online user looked up through the live supernodes at the end of the window. */
  lookups: LookupSweepReport
  added: AddedSupernode[]
  elected: ElectedSupernode[]
  /** The registry's live supernodes at the end (login servers' gauge). */
  registryLiveAtEnd: number | null
}
