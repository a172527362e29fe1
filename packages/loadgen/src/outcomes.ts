/**
 * What an answer of the node's API means for the history (docs/durability.md, the acknowledgement
 * rule): acknowledged, definitely refused (nothing was stored), or unknown. Only a refusal the node
 * makes before it stores anything is a failure; a `pending: true` answer, a timeout, a reset
 * connection, a 503 or a killed process may all have left the operation stored and retried.
 */
import type { ContactResult, SendResult } from '@rebound/protocol'
import type { OperationHandle, Outcome } from './history/history.js'
import type { FetchOutcome } from './http.js'

/**
 * Codes of a send refused before the outbox stored it (packages/node data/outbox.ts `submit`):
 * BAD_REQUEST (an id reused for another message) and BUSY (too many sends in flight, or the outbox
 * full). Without `pending` only: BUSY with `pending: true` is the same id already being sent.
 */
export const REFUSED_SEND_CODES: ReadonlySet<string> = new Set(['BAD_REQUEST', 'BUSY'])
/**
 * Codes of a contact change refused before the device stored it (packages/node data/contacts.ts
 * `apply`): a bad change or a full contact list (MAX_CONTACTS). The node's 503 (before its first
 * sync, or a swarm member not started) stores nothing either, but it stays unknown: a status says
 * less than an answer body, and unknown only weakens the check, never blames the cluster wrongly.
 */
export const REFUSED_CONTACT_CODES: ReadonlySet<string> = new Set(['BAD_REQUEST'])
/** HTTP status of a request refused as misshapen before any handler ran (nothing stored). */
export const HTTP_BAD_REQUEST = 400

type Answer = FetchOutcome<{ ok: boolean, code?: string | undefined, pending?: boolean | undefined }>

function verdict (outcome: Answer, refused: ReadonlySet<string>): Outcome {
  if (!outcome.ok) return outcome.kind === 'status' && outcome.status === HTTP_BAD_REQUEST ? 'failed' : 'unknown'
  const answer = outcome.value
  if (answer.ok) return 'ok'
  return answer.pending !== true && refused.has(answer.code ?? '') ? 'failed' : 'unknown'
}

/** The history outcome of a POST /messages. */
export function sendVerdict (outcome: FetchOutcome<SendResult>): Outcome {
  return verdict(outcome, REFUSED_SEND_CODES)
}

/** The history outcome of a POST /contacts. */
export function contactVerdict (outcome: FetchOutcome<ContactResult>): Outcome {
  return verdict(outcome, REFUSED_CONTACT_CODES)
}

/** Complete `handle` with `verdict`; `code` says why it failed or is unknown. */
export function completeWith (handle: OperationHandle, verdict: Outcome, code: string): void {
  if (verdict === 'ok') handle.ok()
  else if (verdict === 'failed') handle.failed(code)
  else handle.unknown(code)
}
