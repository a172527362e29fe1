/**
 * report.json `wipe`: what the wipe scenario erased and how fast the data came back, and its lines
 * in the terminal summary.
 */
import type { RecoveryFigures } from '../recovery.js'

export type WipeTarget = 'store' | 'device'

export interface WipeReport {
  target: WipeTarget
  wipedAtMs: number
  /** store: the files deleted; device: the data directories erased (one per killed process). */
  erased: string[]
  /** The storeId before the wipe and at the end (a wiped store is re-created with a new one). */
  storeIdBefore: string | null
  storeIdAfter: string | null
  /** store: from the wipe until every login server answered on the new store; null if not all did. */
  loginServersBackMs: number | null
  /**
   * Over the devices followed (store: every client peer; device: the wiped ones), from the wipe
   * until each was restored (it holds nothing the store lacks, and the store nothing it lacks:
   * settle.ts deviceRestoredInto). `killed` = followed, `reattached` = restored.
   */
  restore: RecoveryFigures
  /** Writes started just before the trigger, so that it caught some in flight. */
  writesAtTrigger: { sends: number, contacts: number }
}

export function wipeLines (w: WipeReport, formatMs: (ms: number | null) => string): string[] {
  const what = w.target === 'store'
    ? `store wiped (${w.erased.length} files), login servers back in ${formatMs(w.loginServersBackMs)}`
    : `${w.erased.length} device data director${w.erased.length === 1 ? 'y' : 'ies'} erased (${w.restore.killed} peers)`
  const r = w.restore
  return [
    `  wipe        ${what}; storeId ${w.storeIdBefore ?? '-'} -> ${w.storeIdAfter ?? '-'}`,
    `              devices restored ${r.reattached} of ${r.killed}: T50 ${formatMs(r.t50Ms)}, T90 ${formatMs(r.t90Ms)}, T99 ${formatMs(r.t99Ms)}, T100 ${formatMs(r.t100Ms)}`,
    `              writes started at the trigger: ${w.writesAtTrigger.sends} sends, ${w.writesAtTrigger.contacts} contact changes`
  ]
}
