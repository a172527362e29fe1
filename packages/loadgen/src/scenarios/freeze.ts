/**
 * freeze: a supernode that stops answering without dying (a swapping machine, a debugger, a VM
 * paused by its host) is worse than a dead one: its connections stay open. Here: SIGSTOP a seeded
 * share of the operator supernodes for --freeze-ms, then SIGCONT them, and measure how fast their
 * clients re-home (the session keepalive notices the silence) and whether the thawed supernodes
 * are listed by the registry again. --freeze-mode network cuts them off the network instead
 * (network-freeze.ts; docker driver).
 */
import { withNetworkFreeze } from './network-freeze.js'
import type { Scenario } from './scenario.js'
import { supernodeFailureScenario } from './supernode-failure.js'
import { freezeObjectives } from './supernode-objectives.js'

const stopFreeze = supernodeFailureScenario(
  'freeze',
  'SIGSTOP a share of the supernodes for a while, then SIGCONT; measure their clients\' re-homing and the thawed ones\' return',
  (o) => ({ signal: 'SIGSTOP', fraction: o.freezeFraction, freezeMs: o.freezeMs, restartWindowMs: null }),
  freezeObjectives
)

export const freeze: Scenario = {
  ...stopFreeze,
  run: async (ctx) => await stopFreeze.run(ctx.options.freezeMode === 'network' ? withNetworkFreeze(ctx) : ctx),
  driverNeeds: (options) => options.freezeMode === 'network' ? ['network'] : []
}
