/**
 * freeze: a supernode that stops answering without dying (a swapping machine, a debugger, a VM
 * paused by its host) is worse than a dead one: its connections stay open. Here: SIGSTOP a seeded
 * share of the operator supernodes for --freeze-ms, then SIGCONT them, and measure how fast their
 * clients re-home (the session keepalive notices the silence) and whether the thawed supernodes
 * are listed by the registry again.
 */
import { supernodeFailureScenario } from './supernode-failure.js'
import { freezeObjectives } from './supernode-objectives.js'

export const freeze = supernodeFailureScenario(
  'freeze',
  'SIGSTOP a share of the supernodes for a while, then SIGCONT; measure their clients\' re-homing and the thawed ones\' return',
  (o) => ({ signal: 'SIGSTOP', fraction: o.freezeFraction, freezeMs: o.freezeMs, restartWindowMs: null }),
  freezeObjectives
)
