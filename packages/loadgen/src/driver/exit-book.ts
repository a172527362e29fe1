/**
 * What both drivers keep about their members' ends: every exit (bounded, each marked expected or
 * not, logged as it happens) and how often the run intervened on each member (kills, signals,
 * restarts), which tells an unexpected exit from one the scenario caused.
 */
import type { Logger } from '@rebound/protocol'
import type { ExitRecord } from './driver.js'

/** Exit records kept (a soak run restarts members many times). */
export const MAX_EXIT_RECORDS = 10_000

export class ExitBook {
  private readonly records: ExitRecord[] = []
  private readonly interventionCounts = new Map<string, number>()

  constructor (private readonly log: Logger) {}

  record (record: ExitRecord): void {
    if (this.records.length < MAX_EXIT_RECORDS) this.records.push(record)
    if (record.expected) this.log.info(record, 'exited')
    else this.log.warn(record, 'exited unexpectedly')
  }

  intervened (name: string): void {
    this.interventionCounts.set(name, this.interventions(name) + 1)
  }

  interventions (name: string): number {
    return this.interventionCounts.get(name) ?? 0
  }

  exits (): readonly ExitRecord[] {
    return this.records
  }

  unexpectedExits (): readonly ExitRecord[] {
    return this.records.filter((record) => !record.expected)
  }
}
