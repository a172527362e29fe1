/**
 * Graceful shutdown: the first SIGTERM/SIGINT stops the program within a deadline, a second one
 * (or the deadline passing) exits at once. Mirrors Lodestar's process handling.
 */
import type { Logger } from 'pino'

export function stopOnSignals (log: Logger, stop: () => Promise<void>, deadlineMs = 5000): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal, exiting now')
      process.exit(1)
    }
    stopping = true
    log.info({ signal }, 'stopping')
    const timer = setTimeout(() => {
      log.error({ deadlineMs }, 'graceful stop overran its deadline')
      process.exit(1)
    }, deadlineMs)
    timer.unref()
    stop().then(() => { process.exit(0) }, (err: unknown) => {
      log.error({ err: String(err) }, 'stop failed')
      process.exit(1)
    })
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}

/** Sleep that ends early when `signal` aborts (never rejects). */
export async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
