/**
 * What the checker reads at the end of a run, per user, from both failure domains
 * (docs/durability.md): the device (GET /inbox?all=1, GET /contacts) and the login servers' store
 * (GET /data?user=U). The I/O that fills it lives with the run, not here.
 */
import type { ContactRecord } from '@rebound/protocol'
import type { Where } from './result.js'

export interface PlaceRead {
  /**
   * Ids of the messages to the user as read: the device's inbox, or the store's mailbox of the user
   * as recipient. Repeats are kept: a repeat is a duplicate.
   */
  messageIds: readonly string[]
  /** The user's contact records as read, tombstones included. */
  contacts: readonly ContactRecord[]
}

/** null: the place could not be read (process gone, timeout, bad answer); it is counted unreadable. */
export interface UserFinalState {
  device: PlaceRead | null
  store: PlaceRead | null
}

/** Keyed by user. A user the history needs but missing here counts as unreadable in both places. */
export type FinalState = ReadonlyMap<string, UserFinalState>

export const PLACES: readonly Where[] = ['device', 'store']

export function readOf (state: FinalState, user: string, where: Where): PlaceRead | null {
  return state.get(user)?.[where] ?? null
}
