/**
 * The orphan window W a supernode advertises (DESIGN "Orphan window": enough for the orphans to
 * fit the spare join rate of the survivors). Orphans wait U(0, W) before re-homing, so W trades
 * their outage for the survivors' join load. Sized for losing half the layer at once: each
 * survivor then takes about one lost supernode's clients, admits `joinBurst` of them at once and
 * `joinRate` per second after, so W = (clients - joinBurst) / joinRate fits them without a refusal.
 * A small layer of lightly loaded supernodes gets a short W (its orphans re-home in well under a
 * second); a crowded one a long W, up to the operator's bound (--orphan-window-ms).
 */

/**
 * Some spread even when the survivors' join buckets could take every orphan at once: their
 * handshakes still share the survivors' CPU (at 250 ms, a third of a frozen supernode's orphans
 * on a 2-core machine saw their first handshake take over a second).
 */
export const MIN_ORPHAN_WINDOW_MS = 500

export interface OrphanWindowInputs {
  clients: number
  joinRate: number
  joinBurst: number
  /** The operator's bound (--orphan-window-ms); 0 turns the window off. */
  maxMs: number
}

export function orphanWindowMs ({ clients, joinRate, joinBurst, maxMs }: OrphanWindowInputs): number {
  if (maxMs <= 0) return 0
  const needMs = joinRate > 0 ? Math.ceil(1000 * Math.max(0, clients - joinBurst) / joinRate) : maxMs
  return Math.min(maxMs, Math.max(MIN_ORPHAN_WINDOW_MS, needMs))
}
