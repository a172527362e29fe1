/**
 * The containers' logs copied into the run's folder (DIR/logs/<name>.log), as the process driver
 * writes its children's: the engine keeps them only as long as the container, and `down -v` (CI's
 * tear-down) removes both, so a report that names a log must have its own copy.
 * Each copy is the container's whole log (every start of it, before and during the run) cut to its
 * last MAX_LOG_BYTES; a first line says how much was cut.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@rebound/protocol'
import type { EngineApi } from './engine-api.js'

/** Per container: compose's json-file driver keeps up to 2 x 10 MB; the end is what explains a failure. */
export const MAX_LOG_BYTES = 5 * 1024 * 1024
/** Copies in flight at once: each holds up to MAX_LOG_BYTES in memory. */
export const LOG_COPIES_IN_FLIGHT = 4
/** All copies together; the rest are skipped (and said so) rather than holding up the report. */
export const LOG_COPY_BUDGET_MS = 60_000

export interface LoggedContainer {
  name: string
  containerId: string
}

export function logFileOf (logsDir: string, name: string): string {
  return join(logsDir, `${name}.log`)
}

/** Copy each container's log; returns the names copied. Never throws: a missing log is logged. */
export async function copyContainerLogs (
  engine: EngineApi, containers: readonly LoggedContainer[], logsDir: string, log: Logger, budgetMs = LOG_COPY_BUDGET_MS
): Promise<string[]> {
  const deadlineMs = Date.now() + budgetMs
  const queue = [...containers]
  const copied: string[] = []
  const skipped: string[] = []
  await mkdir(logsDir, { recursive: true })
  const worker = async (): Promise<void> => {
    // Bounded: each turn takes one container off the queue.
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      if (Date.now() > deadlineMs) {
        skipped.push(next.name)
        continue
      }
      try {
        const tty = (await engine.inspect(next.containerId)).Config.Tty
        const { text, dropped } = await engine.logs(next.containerId, tty, MAX_LOG_BYTES)
        const note = dropped > 0 ? JSON.stringify({ time: Date.now(), service: 'loadgen', msg: 'log truncated: only its end is kept', droppedBytes: dropped }) + '\n' : ''
        await writeFile(logFileOf(logsDir, next.name), Buffer.concat([Buffer.from(note), text]))
        copied.push(next.name)
      } catch (err) {
        log.warn({ name: next.name, err: (err as Error).message }, 'container log not copied')
      }
    }
  }
  await Promise.all(Array.from({ length: LOG_COPIES_IN_FLIGHT }, worker))
  if (skipped.length > 0) log.warn({ skipped, budgetMs }, 'container logs not copied: out of time')
  log.info({ copied: copied.length, of: containers.length, logsDir }, 'container logs copied')
  return copied
}
