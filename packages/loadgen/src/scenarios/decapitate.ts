/**
 * decapitate: Skype, December 2010. A bug in one client version crashed a large share of the
 * clients that were supernodes; the survivors took their orphans, were overloaded in turn, and the
 * supernode network collapsed until Skype added dedicated "mega-supernodes" by hand. Here: SIGKILL
 * a seeded share of the operator supernodes at once (--supernode-kill-fraction, up to all of
 * them), and measure how fast their orphans are attached again, whether any survivor goes over its
 * hard cap, how evenly the load lies afterwards, and whether messages flow again.
 * Source: Lars Rabbe, "CIO update: Post-mortem on the Skype outage" (Skype blog, 29 Dec 2010).
 */
import { supernodeFailureScenario } from './supernode-failure.js'
import { decapitateObjectives } from './supernode-objectives.js'

export const decapitate = supernodeFailureScenario(
  'decapitate',
  'SIGKILL a share of the supernodes at once (up to all), measure orphan re-homing, survivor load and delivery',
  (o) => ({ signal: 'SIGKILL', fraction: o.supernodeKillFraction, freezeMs: null, restartWindowMs: o.restartSupernodes ? o.rebootWindowMs : null }),
  decapitateObjectives
)
