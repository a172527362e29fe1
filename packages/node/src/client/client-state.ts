/**
 * What a client keeps across restarts: its session ticket and the supernode list that came with
 * it, so that a rebooted peer resumes straight to a supernode without the login server.
 * Written with write-temp-fsync-rename; a file that exists but does not parse is reported.
 */
import { join } from 'node:path'
import { z } from 'zod'
import { ReboundError, SupernodeList, Token, readFileIfExists, writeFileDurable, type SupernodeEntry } from '@rebound/protocol'

export const CLIENT_STATE_FILE = 'session.json'

const ClientStateSchema = z.object({
  v: z.literal(1),
  user: z.string(),
  ticket: Token.nullable(),
  ticketExpiresAtMs: z.number().nullable(),
  supernodes: SupernodeList,
  savedAtMs: z.number(),
  /** Backoff that must survive a crash loop: consecutive failures and the next allowed attempt. */
  failures: z.number().int().nonnegative().default(0),
  nextAttemptAtMs: z.number().nullable().default(null),
  /** A waiting-room slot and the login server (multiaddr) that issued it. */
  slot: z.object({ token: Token, server: z.string().max(512) }).nullable().default(null)
})
export type ClientState = z.infer<typeof ClientStateSchema>

export function emptyState (user: string): ClientState {
  return { v: 1, user, ticket: null, ticketExpiresAtMs: null, supernodes: [], savedAtMs: 0, failures: 0, nextAttemptAtMs: null, slot: null }
}

export class ClientStateFile {
  private readonly path: string
  constructor (dataDir: string) {
    this.path = join(dataDir, CLIENT_STATE_FILE)
  }

  async load (user: string): Promise<ClientState> {
    const bytes = await readFileIfExists(this.path)
    if (bytes === undefined) return emptyState(user)
    let parsed
    try {
      parsed = ClientStateSchema.safeParse(JSON.parse(bytes.toString('utf8')))
    } catch {
      parsed = undefined
    }
    if (parsed?.success !== true) throw new ReboundError('CORRUPT_STORE', `session state ${this.path} is corrupt`, { path: this.path })
    // A data directory handed to another user must not resume the previous user's session.
    if (parsed.data.user !== user) return emptyState(user)
    return parsed.data
  }

  async save (state: ClientState): Promise<void> {
    await writeFileDurable(this.path, JSON.stringify(state))
  }

  static withSupernodes (state: ClientState, supernodes: SupernodeEntry[], nowMs: number): ClientState {
    return { ...state, supernodes, savedAtMs: nowMs }
  }
}
