/**
 * The end of every run's history (docs/durability.md, "The history and its checker"): after the
 * scenario and with the workloads stopped, let the devices settle, read both failure domains and
 * check the history against them. The result is report.json's `history` and decides the
 * `no-lost-writes` objective of every scenario.
 */
import type { DeviceDataStatus, Logger } from '@rebound/protocol'
import { NO_LOST_WRITES, checkHistory, historyObjective } from './history/checker.js'
import type { History } from './history/history.js'
import { inFlightAt, type InFlightAtTrigger } from './history/in-flight.js'
import type { HistoryCheck } from './history/result.js'
import { readFinalState } from './final-reads.js'
import type { Objective } from './scenarios/scenario.js'
import { settle, type SettleLeft } from './settle.js'
import type { WorkloadPeer } from './workload.js'

/** report.json `history`: the checker's counts and examples, plus how the settle went. */
export interface HistoryReport extends HistoryCheck {
  /** Operations recorded (sends and contact changes), whatever their outcome. */
  operations: number
  /** How long the settle took (the workloads had stopped). */
  settledMs: number
  /** Every outbox drained before the reads; false: the settle gave up at its bound (see `left`). */
  drained: boolean
  left: SettleLeft
  /** The writes the scenario's trigger caught in flight (absent when it has no single trigger). */
  atTrigger?: InFlightAtTrigger
}

/** The objective when the history could not be checked (the run was cut short): not shown kept. */
export const NOT_CHECKED: Objective = { name: NO_LOST_WRITES, ok: false, value: null, limit: 0 }

export interface HistoryRunInit {
  peers: readonly WorkloadPeer[]
  /** When the scenario's trigger struck, if it did. */
  triggerAtMs?: number | undefined
  /** Base URLs of the login servers' HTTP ports. */
  loginServers: readonly string[]
  operatorToken: string
}

export interface HistoryRunDeps {
  history: History
  /** Keyed by process name. */
  isRunning: (name: string) => boolean
  /** A peer's user-data status as last observed, keyed by peer name (the settle waits for a store's restoration). */
  deviceData?: (name: string) => DeviceDataStatus | null | undefined
  signal: AbortSignal
  log: Logger
  setPhase: (phase: string) => void
}

/** Settle, read and check; undefined when the run was interrupted meanwhile. */
export async function checkRunHistory (init: HistoryRunInit, deps: HistoryRunDeps): Promise<HistoryReport | undefined> {
  deps.setPhase('settle')
  const settled = await settle({ peers: init.peers, loginServers: init.loginServers }, deps)
  if (deps.signal.aborted) return undefined
  deps.setPhase('check')
  const state = await readFinalState(init, deps)
  const check = checkHistory(deps.history, state)
  const report: HistoryReport = {
    ...check,
    operations: deps.history.operations().length,
    ...settled,
    ...(init.triggerAtMs === undefined ? {} : { atTrigger: inFlightAt(deps.history, init.triggerAtMs) })
  }
  deps.log.info({ ok: check.ok, lost: check.lost, duplicated: check.duplicated, unexpected: check.unexpected, unknown: check.unknown, unreadable: check.unreadable }, 'history checked')
  return report
}

/** no-lost-writes: judged on the check, or failed when there is none. */
export function historyObjectiveOf (report: HistoryReport | undefined): Objective {
  return report === undefined ? NOT_CHECKED : historyObjective(report)
}
