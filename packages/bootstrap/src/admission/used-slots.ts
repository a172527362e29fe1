/**
 * Slot ids already honoured by this server, so that a slot buys priority once. An id is kept
 * until its slot expires (after that the slot desk treats it as a plain login, with no priority), and the memory is
 * bounded: the waiting room's horizon bounds how many slots can be live, and MAX_REMEMBERED_SLOTS
 * covers that horizon at a few thousand logins a second. Should it ever fill up, `remember`
 * says no and the caller treats the slot as a plain login: no priority is ever granted twice.
 */

/** ~(120 s horizon + grace) x 2000 logins/s; an entry is a short string and a number. */
export const MAX_REMEMBERED_SLOTS = 262_144

export class UsedSlots {
  private readonly max: number
  /** slotId -> expiresAtMs, in the order the slots were used (roughly expiry order). */
  private readonly used = new Map<string, number>()

  constructor (max = MAX_REMEMBERED_SLOTS) {
    this.max = max
  }

  get size (): number {
    return this.used.size
  }

  has (slotId: string): boolean {
    return this.used.has(slotId)
  }

  /** Record a use; false when the memory is full of live slots. */
  remember (slotId: string, expiresAtMs: number, nowMs: number): boolean {
    this.forget(nowMs)
    if (this.used.size >= this.max) return false
    this.used.set(slotId, expiresAtMs)
    return true
  }

  /**
   * Drop expired ids from the old end. Slots are used close to their due time and share one
   * grace period, so insertion order is nearly expiry order; a straggler is dropped a little late.
   */
  private forget (nowMs: number): void {
    for (const [slotId, expiresAtMs] of this.used) {
      if (expiresAtMs > nowMs) break
      this.used.delete(slotId)
    }
  }
}
