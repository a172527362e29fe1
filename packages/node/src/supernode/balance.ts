/**
 * Balance at admission (issue 4: max/mean supernode load <= 1.3 after a loss). Orphans choose by
 * two choices over the load figures they cached at their last attach, which can be minutes old:
 * after half the supernodes of a small cluster were killed, 18 of 21 orphans picked the same
 * survivor (max/mean 1.4). A supernode knows every live supernode's load as of the last second
 * (membership gossip), so it sends a newcomer on when taking it would put it well above the
 * mean while another is below it. Once only: a redirected client is admitted up to the hard cap.
 */
import type { SupernodeEntry } from '@rebound/protocol'

/** Above the mean utilisation by more than this factor, a newcomer is sent on. */
export const BALANCE_TOLERANCE = 1.15

export interface BalanceInput {
  /** This supernode's clients and capacity. */
  clients: number
  capacity: number
  /** The other live supernodes, with their load as last announced. */
  others: readonly SupernodeEntry[]
}

/** Whether to send a newcomer to a less loaded supernode rather than take it. */
export function shouldSendOn ({ clients, capacity, others }: BalanceInput): boolean {
  if (others.length === 0) return false
  const total = clients + others.reduce((sum, e) => sum + e.clients, 0)
  const room = capacity + others.reduce((sum, e) => sum + e.capacity, 0)
  const mean = total / room
  const mine = (clients + 1) / capacity
  return mine > BALANCE_TOLERANCE * mean && others.some((e) => (e.clients + 1) / e.capacity <= mean)
}
