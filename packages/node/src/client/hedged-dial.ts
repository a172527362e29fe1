/**
 * The dials of the attach round right after a supernode went silent, when others may be frozen
 * with it: a frozen process accepts TCP in its kernel and never answers the handshake. On a
 * saturated machine a healthy supernode's handshake can take seconds too, and cutting dials short
 * cannot tell the two apart: 500 clients in two processes, 3 of 8 supernodes frozen, a 1 s cut-off
 * timed out the dials to healthy supernodes as often as to frozen ones, the clients avoided the
 * healthy ones for 10 s, and the last orphan was re-homed 30 s after the freeze. So a dial that has
 * not finished in HEDGE_AFTER_MS is kept, and the next candidate is dialled beside it (at most
 * MAX_DIALS_IN_FLIGHT at once, a failed dial making room at once): the first to finish wins and
 * the others are aborted. A frozen first choice costs one hedge delay; a slow healthy one, nothing.
 * Only in that round: every hedge is a handshake more for the supernodes, and hedging (or cutting
 * short) every first dial of a mass re-attach multiplies the handshakes of a storm.
 */
import type { FramedStream, SupernodeEntry } from '@rebound/protocol'

export const HEDGE_AFTER_MS = 1000
export const MAX_DIALS_IN_FLIGHT = 3

export type Dial = (entry: SupernodeEntry, signal: AbortSignal) => Promise<FramedStream>

export interface HedgedDialResult {
  /** The first dial to finish, if any did. */
  winner?: { entry: SupernodeEntry, framed: FramedStream }
  /** Dials that failed on their own (refused, timed out), in the order they failed. */
  failed: Array<{ entry: SupernodeEntry, error: unknown }>
  /** Dials still running when another won: aborted, neither failed nor tried to the end. */
  abandoned: SupernodeEntry[]
}

export interface HedgedDialOptions {
  /** Bound of each dial. */
  timeoutMs: number
  hedgeAfterMs?: number
  maxInFlight?: number
}

/**
 * Dial the candidates `next` hands out, hedged as above, until one dial finishes or `next` has no
 * more and every dial failed. Never rejects: failures are in the result.
 */
export async function hedgedDial (next: () => SupernodeEntry | undefined, dial: Dial, options: HedgedDialOptions): Promise<HedgedDialResult> {
  const hedgeAfterMs = options.hedgeAfterMs ?? HEDGE_AFTER_MS
  const maxInFlight = options.maxInFlight ?? MAX_DIALS_IN_FLIGHT
  return await new Promise((resolve) => {
    const inFlight = new Map<SupernodeEntry, AbortController>()
    const failed: HedgedDialResult['failed'] = []
    let done = false
    let timer: NodeJS.Timeout | undefined

    const finish = (winner?: HedgedDialResult['winner']): void => {
      done = true
      clearTimeout(timer)
      const abandoned = [...inFlight.keys()]
      for (const controller of inFlight.values()) controller.abort(new Error('another dial finished first'))
      inFlight.clear()
      resolve(winner === undefined ? { failed, abandoned } : { winner, failed, abandoned })
    }

    /** Start the next candidate's dial; false when there is none. */
    const launch = (): boolean => {
      const entry = next()
      if (entry === undefined) return false
      const controller = new AbortController()
      inFlight.set(entry, controller)
      dial(entry, AbortSignal.any([controller.signal, AbortSignal.timeout(options.timeoutMs)])).then((framed) => {
        inFlight.delete(entry)
        if (done) {
          framed.abort(new Error('another dial finished first'))
          return
        }
        finish({ entry, framed })
      }, (error: unknown) => {
        if (done) return
        inFlight.delete(entry)
        failed.push({ entry, error })
        if (!launch() && inFlight.size === 0) finish()
      })
      return true
    }

    const hedge = (): void => {
      if (done) return
      if (inFlight.size < maxInFlight && !launch()) return
      timer = setTimeout(hedge, hedgeAfterMs)
    }

    if (!launch()) {
      finish()
      return
    }
    timer = setTimeout(hedge, hedgeAfterMs)
  })
}
