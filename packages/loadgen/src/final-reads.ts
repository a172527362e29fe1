/**
 * The checker's reads at the end of a run (docs/durability.md): every peer's device (GET
 * /inbox?all=1, GET /contacts through its own control port, or its swarm's with `user`) and the
 * login servers' store (GET /data?user=U with the operator token, from the first login server
 * that answers). A place that does not answer, or whose process is not running, is unreadable
 * (null): the checker counts it, it does not guess.
 */
import { z } from 'zod'
import { ContactRecord, InboxIds, StoreUserData, mapBounded, type Logger } from '@rebound/protocol'
import type { FinalState, PlaceRead, UserFinalState } from './history/final-state.js'
import { getJson, type FetchOutcome } from './http.js'
import type { WorkloadPeer } from './workload.js'

/** Reads in flight at once: a 1000-peer cluster is read in a minute, a 2-core machine not swamped. */
export const FINAL_READ_CONCURRENCY = 16
/** One read; a swarm answers for all its members and may be slow. */
export const FINAL_READ_TIMEOUT_MS = 5000

export const ContactList = z.array(ContactRecord)

/** A peer's control-port URL for `path`; a swarm's peer is named with `user`. */
export function peerUrl (peer: WorkloadPeer, path: string, query: Record<string, string> = {}): string {
  const params = new URLSearchParams(query)
  if (peer.swarm !== undefined) params.set('user', peer.user)
  const search = params.toString()
  return `${peer.url}${path}${search === '' ? '' : `?${search}`}`
}

/** The process answering for `peer`: its own, or its swarm. */
export function ownerOf (peer: WorkloadPeer): string {
  return peer.swarm ?? peer.name
}

export interface FinalReadsInit {
  peers: readonly WorkloadPeer[]
  /** Base URLs of the login servers' HTTP ports, tried in this order. */
  loginServers: readonly string[]
  operatorToken: string
  concurrency?: number
  timeoutMs?: number
}

export interface FinalReadsDeps {
  /** Keyed by process name. */
  isRunning: (name: string) => boolean
  log: Logger
}

export async function readFinalState (init: FinalReadsInit, deps: FinalReadsDeps): Promise<FinalState> {
  const timeoutMs = init.timeoutMs ?? FINAL_READ_TIMEOUT_MS
  const store = new StoreReader(init.loginServers, init.operatorToken, timeoutMs, deps.log)
  const reads = await mapBounded(init.peers, init.concurrency ?? FINAL_READ_CONCURRENCY, async (peer): Promise<[string, UserFinalState]> => {
    const [device, stored] = await Promise.all([readDevice(peer, timeoutMs, deps), store.read(peer.user)])
    return [peer.user, { device, store: stored }]
  })
  return new Map(reads)
}

async function readDevice (peer: WorkloadPeer, timeoutMs: number, deps: FinalReadsDeps): Promise<PlaceRead | null> {
  if (!deps.isRunning(ownerOf(peer))) {
    deps.log.warn({ peer: peer.name, process: ownerOf(peer) }, 'final read: device not running')
    return null
  }
  const [inbox, contacts] = await Promise.all([
    getJson(peerUrl(peer, '/inbox', { all: '1' }), InboxIds, timeoutMs),
    getJson(peerUrl(peer, '/contacts'), ContactList, timeoutMs)
  ])
  if (!inbox.ok || !contacts.ok) {
    deps.log.warn({ peer: peer.name, inbox: problemOf(inbox), contacts: problemOf(contacts) }, 'final read: device did not answer')
    return null
  }
  return { messageIds: inbox.value.ids, contacts: contacts.value }
}

function problemOf (outcome: FetchOutcome<unknown>): string | null {
  return outcome.ok ? null : `${outcome.kind}: ${outcome.message}`
}

/** Every login server reads the same shared store: any one that answers will do. */
class StoreReader {
  /** The server that answered last; tried first next time. */
  private preferred = 0

  constructor (
    private readonly servers: readonly string[],
    private readonly token: string,
    private readonly timeoutMs: number,
    private readonly log: Logger
  ) {}

  async read (user: string): Promise<PlaceRead | null> {
    const problems: string[] = []
    // Bounded by the number of login servers.
    for (let k = 0; k < this.servers.length; k++) {
      const index = (this.preferred + k) % this.servers.length
      const url = `${this.servers[index] ?? ''}/data?${new URLSearchParams({ user }).toString()}`
      const outcome = await getJson(url, StoreUserData, this.timeoutMs, { headers: { authorization: `Bearer ${this.token}` } })
      if (outcome.ok) {
        this.preferred = index
        return { messageIds: outcome.value.mailbox, contacts: outcome.value.contacts }
      }
      problems.push(`${this.servers[index] ?? ''}: ${outcome.kind}: ${outcome.message}`)
    }
    this.log.warn({ user, problems }, 'final read: no login server answered GET /data')
    return null
  }
}
