/**
 * wipe: lose one failure domain's copy of the users' data and prove nothing acknowledged is lost
 * (issue 5, docs/durability.md). `--target store` deletes the login servers' shared store under
 * them (wipe-store.ts); `--target device` erases the data directories of a share of the peers
 * (wipe-device.ts). Either way the history check (no-lost-writes, every scenario's) decides.
 * Both erase through the driver (ClusterDriver.wipeData), so they run on processes and containers.
 */
import { LOGIN_SERVER_READY_TIMEOUT_MS } from '../cluster.js'
import type { RunOptions } from '../options.js'
import { T100_GRACE_MS } from './patch-tuesday.js'
import type { Objective, RunFacts, Scenario, ScenarioContext, ScenarioOutcome } from './scenario.js'
import { runDeviceWipe } from './wipe-device.js'
import { STORE_DOWN_AFTER_MS, runStoreWipe } from './wipe-store.js'

/**
 * Longest restoration of a wiped store: a device notices the new storeId at its next reply from
 * the store, at the latest at its next mailbox fetch (every 30 s), then pushes its contacts and
 * puts its sent messages again (seconds); 15 s of room on a loaded 2-core machine.
 */
export const STORE_RESTORE_LIMIT_MS = 45_000

export const wipe: Scenario = {
  name: 'wipe',
  description: '--target store: delete the login servers\' store under them and restart them; --target device: erase a share of the peers\' data directories (kill, erase, restart); nothing acknowledged may be lost',
  run: async (ctx: ScenarioContext): Promise<ScenarioOutcome> => ctx.options.target === 'store' ? await runStoreWipe(ctx) : await runDeviceWipe(ctx),
  objectives: wipeObjectives,
  driverNeeds: () => ['wipeData']
}

/** The limit a scenario file may set (docs/scenarios.md); the others are counts or yes/no. */
export interface WipeLimits {
  /** Absolute, in ms; by default STORE_RESTORE_LIMIT_MS (store), the reboot window + T100_GRACE_MS (device). */
  'restore-t100-ms'?: number
}

export function wipeLimits (options: Pick<RunOptions, 'target' | 'rebootWindowMs'>, limits: WipeLimits = {}): Required<WipeLimits> {
  const restoreMs = options.target === 'store' ? STORE_RESTORE_LIMIT_MS : options.rebootWindowMs + T100_GRACE_MS
  return { 'restore-t100-ms': limits['restore-t100-ms'] ?? restoreMs }
}

export function wipeObjectives (facts: RunFacts, limits: WipeLimits = {}): Objective[] {
  const w = facts.outcome.wipe
  const exits: Objective = { name: 'no-unexpected-exits', ok: facts.unexpectedExits === 0, value: facts.unexpectedExits, limit: 0 }
  if (w === undefined) return [exits]
  // The target the wipe really hit decides (the same as the options' in a run).
  const restoreLimitMs = wipeLimits({ target: w.target, rebootWindowMs: facts.options.rebootWindowMs }, limits)['restore-t100-ms']
  const restored: Objective = { name: 'all-devices-restored', ok: w.restore.reattached === w.restore.killed, value: w.restore.reattached, limit: w.restore.killed }
  const restoreT100: Objective = { name: 'restore-t100-ms', ok: w.restore.t100Ms !== null && w.restore.t100Ms <= restoreLimitMs, value: w.restore.t100Ms, limit: restoreLimitMs }
  if (w.target === 'store') {
    return [
      { name: 'login-servers-back-ms', ok: w.loginServersBackMs !== null, value: w.loginServersBackMs, limit: STORE_DOWN_AFTER_MS + LOGIN_SERVER_READY_TIMEOUT_MS },
      { name: 'new-store-id', ok: w.storeIdAfter !== null && w.storeIdAfter !== w.storeIdBefore, value: w.storeIdAfter === null ? null : 1, limit: 1 },
      restored,
      restoreT100,
      exits
    ]
  }
  const { recovery } = facts.outcome
  return [
    { name: 'all-wiped-reattached', ok: recovery.reattached === recovery.killed, value: recovery.reattached, limit: recovery.killed },
    restored,
    restoreT100,
    exits
  ]
}
