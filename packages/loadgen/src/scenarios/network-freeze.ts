/**
 * `freeze --freeze-mode network`: the freeze scenario (supernode-failure.ts) with a partition in
 * place of SIGSTOP. The scenario freezes with kill(SIGSTOP) and thaws with kill(SIGCONT); this view
 * of the driver turns those two into cutting the member off the network and connecting it again,
 * and passes everything else through. A cut-off supernode, unlike a stopped one, keeps running:
 * its timers fire, it sees its own connections go silent and may give up on the login servers,
 * which is what a partition tests that a freeze does not.
 */
import { capabilityOf, type ClusterDriver, type DriverSignal } from '../driver/driver.js'
import type { ScenarioContext } from './scenario.js'

/** `ctx` with a driver whose SIGSTOP and SIGCONT cut and restore the network (BAD_CONFIG if it cannot). */
export function withNetworkFreeze (ctx: ScenarioContext): ScenarioContext {
  return { ...ctx, driver: partitioningDriver(ctx.driver) }
}

export function partitioningDriver (driver: ClusterDriver): ClusterDriver {
  const network = capabilityOf(driver, 'network')
  const kill = async (name: string, signal: DriverSignal): Promise<void> => {
    if (signal === 'SIGSTOP') await network.cut(name)
    else if (signal === 'SIGCONT') await network.restore(name)
    else await driver.kill(name, signal)
  }
  // Explicit delegation (no Proxy): tsc names any required field left out; of the optional
  // capabilities only the network is passed on, the one this scenario uses.
  return {
    kind: driver.kind,
    kill,
    start: async (spec) => { await driver.start(spec) },
    restart: async (name) => { await driver.restart(name) },
    isRunning: (name) => driver.isRunning(name),
    pid: (name) => driver.pid(name),
    generation: (name) => driver.generation(name),
    interventions: (name) => driver.interventions(name),
    runningCount: () => driver.runningCount(),
    exits: () => driver.exits(),
    unexpectedExits: () => driver.unexpectedExits(),
    logPath: (name) => driver.logPath(name),
    stopAll: async () => { await driver.stopAll() },
    killAllNow: () => { driver.killAllNow() },
    network
  }
}
