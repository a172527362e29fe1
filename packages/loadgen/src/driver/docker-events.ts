/**
 * The engine's event stream for one compose project, followed for as long as the docker driver is
 * attached: it is how the driver learns of exits it did not cause. The stream ends when the engine
 * restarts; it is opened again (bounded), after reading the state afresh, since events may have
 * been missed while it was down.
 */
import { ReboundError, sleep, type Logger } from '@rebound/protocol'
import type { EngineApi, EngineEvent } from './engine-api.js'

/** Re-subscriptions to the event stream after it ends (an engine restart), then exits go unseen. */
const MAX_EVENT_RESUBSCRIBES = 10
const RESUBSCRIBE_DELAY_MS = 1000
/** The engine answers a subscription at once; a silent one is not an engine we can drive. */
export const EVENTS_OPEN_TIMEOUT_MS = 10_000

export interface EventFollower {
  engine: EngineApi
  /** Label filters of the events ("key=value"). */
  labels: readonly string[]
  onEvent: (event: EngineEvent) => void
  /** Read the state afresh, before each re-subscription. */
  refresh: () => Promise<void>
  /** Ends the following. */
  signal: AbortSignal
  log: Logger
}

/**
 * Follow the events, re-subscribing (bounded) when the stream ends. Resolves once the first
 * subscription is open; rejects if it cannot be opened within EVENTS_OPEN_TIMEOUT_MS.
 */
export async function followEvents (f: EventFollower): Promise<void> {
  let opened = false
  let firstOpen: { resolve: () => void, reject: (err: Error) => void } | undefined
  const open = new Promise<void>((resolve, reject) => { firstOpen = { resolve, reject } })
  const onOpen = (): void => {
    opened = true
    firstOpen?.resolve()
  }
  const subscribe = async (): Promise<void> => { await f.engine.events(f.labels, f.onEvent, f.signal, onOpen) }
  const follow = async (): Promise<void> => {
    for (let attempt = 1; attempt <= MAX_EVENT_RESUBSCRIBES && !f.signal.aborted; attempt++) {
      await sleep(RESUBSCRIBE_DELAY_MS, f.signal).catch(() => {})
      if (f.signal.aborted) return
      // Events may have been missed while the stream was down.
      await f.refresh().catch((err: Error) => { f.log.warn({ err: err.message }, 'refresh failed') })
      await subscribe().catch((err: Error) => { f.log.warn({ err: err.message }, 'engine events failed') })
    }
    if (!f.signal.aborted) f.log.error({}, 'engine events lost: unexpected exits are no longer seen')
  }
  subscribe().then(
    () => { if (!f.signal.aborted) f.log.warn({}, 'engine events ended') },
    (err: Error) => { if (!opened) firstOpen?.reject(err) }
  ).then(async () => { if (opened) await follow() }, () => {})
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new ReboundError('TIMEOUT', `engine: no answer to the event subscription within ${EVENTS_OPEN_TIMEOUT_MS} ms`)) }, EVENTS_OPEN_TIMEOUT_MS)
  })
  try {
    await Promise.race([open, timedOut])
  } finally {
    clearTimeout(timer)
  }
}
