/**
 * The orphan window W a supernode advertises (DESIGN "Orphan window": enough for the orphans to
 * fit the spare join rate of the survivors). Orphans wait U(0, W) before re-homing, so W trades
 * their outage for the survivors' join load. Sized for losing half the layer at once: each
 * survivor then takes about one lost supernode's clients at its join rate, so W = clients /
 * joinRate. The join burst is not subtracted: it absorbs jitter, it is not spare capacity (with
 * W = (clients - burst) / rate, 186 orphans of a 500-client cluster came back within 0.6 s and
 * their handshakes, on this 2-core machine, took 20 s to drain). At least MIN_ORPHAN_WINDOW_MS,
 * at most the operator's bound (--orphan-window-ms).
 */

/** Some spread even for a lightly loaded supernode: its orphans' handshakes still share the survivors' CPU. */
export const MIN_ORPHAN_WINDOW_MS = 1000

export interface OrphanWindowInputs {
  clients: number
  joinRate: number
  /** The operator's bound (--orphan-window-ms); 0 turns the window off. */
  maxMs: number
}

export function orphanWindowMs ({ clients, joinRate, maxMs }: OrphanWindowInputs): number {
  if (maxMs <= 0) return 0
  const needMs = joinRate > 0 ? Math.ceil(1000 * clients / joinRate) : maxMs
  return Math.min(maxMs, Math.max(MIN_ORPHAN_WINDOW_MS, needMs))
}

/**
 * What an orphan waits before re-homing, drawn from `random`. A client that noticed a silent
 * (frozen) supernode is already spread over one keepalive interval (each session pings on its
 * own phase), so it draws from the rest of the window only.
 */
export function orphanWaitMs (windowMs: number, silent: boolean, pingIntervalMs: number, random: () => number): number {
  const spanMs = silent ? Math.max(0, windowMs - pingIntervalMs) : windowMs
  return Math.floor(random() * spanMs)
}
