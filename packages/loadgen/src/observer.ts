/**
 * Watches every process over HTTP: each node's GET /status, each swarm's GET /status (one request
 * for all its peers, fanned out to a view per peer) and each login server's GET /metrics, in two
 * bounded polling loops. A killed or frozen process just fails to answer (its views turn
 * unreachable: a killed swarm takes all its peers with it); the last good status is kept for
 * reading after the fact.
 */
import { NodeStatus, SwarmStatus, sleep, type Logger } from '@rebound/protocol'
import { getJson, getText } from './http.js'
import { findMetrics, sumMetrics } from './prom-text.js'
import type { Role } from './layout.js'

export const STATUS_POLL_MS = 500
export const METRICS_POLL_MS = 1000
export const REQUEST_TIMEOUT_MS = 1000
/** A swarm's /status carries every member (~0.7 KB each) and its process is busy with all of them. */
export const SWARM_REQUEST_TIMEOUT_MS = 3000
/** Distinct attachedAtMs values remembered per node (enough for many re-attaches in one run). */
export const MAX_ATTACH_HISTORY = 64

export const LOGIN_METRICS = {
  offered: 'rebound_login_offered_total',
  accepted: 'rebound_login_accepted_total',
  rejected: 'rebound_login_rejected_total',
  failed: 'rebound_login_failed_total'
} as const
/** The registry's count of live supernodes (a gauge; every login server reads the same shared store). */
export const LIVE_SUPERNODES_METRIC = 'rebound_registry_live_supernodes'

export interface LoginCounters {
  offered: number
  accepted: number
  rejected: number
  failed: number
}

export interface NodeView {
  name: string
  role: Role
  /** The OS process that answers for this node: its own name, or its swarm's. */
  process: string
  url: string
  reachable: boolean
  status: NodeStatus | undefined
  lastOkAtMs: number | null
  /** Distinct attachedAtMs values seen while polling, oldest first. */
  attachHistory: number[]
  lastError: string | undefined
}

/** A swarm process: one /status request per poll, its members' statuses go to their own views. */
interface SwarmView {
  name: string
  url: string
  /** The views of its peers by user (a member status names its user). */
  byUser: Map<string, NodeView>
}

export interface SwarmPeer {
  name: string
  user: string
}

interface LoginServerView {
  name: string
  url: string
  reachable: boolean
  /** The server's own counters at the last scrape (they restart from 0 with the process). */
  last: LoginCounters
  /** Our running totals, carried over restarts of the server. */
  totals: LoginCounters
  /** Live supernodes in the registry at the last scrape. */
  liveSupernodes: number | null
}

export interface ObserverDeps {
  log: Logger
  /** Whether the driver has the process running; a dead process is not polled. */
  isRunning: (name: string) => boolean
}

function newView (name: string, role: Role, process: string, url: string): NodeView {
  return { name, role, process, url, reachable: false, status: undefined, lastOkAtMs: null, attachHistory: [], lastError: undefined }
}

/** A good answer: remember it, and each new attachedAtMs (a re-attach). */
function applyStatus (view: NodeView, status: NodeStatus): void {
  view.reachable = true
  view.status = status
  view.lastOkAtMs = Date.now()
  view.lastError = undefined
  if (status.state === 'attached' && status.attachedAtMs !== null && status.attachedAtMs !== view.attachHistory.at(-1)) {
    view.attachHistory.push(status.attachedAtMs)
    if (view.attachHistory.length > MAX_ATTACH_HISTORY) view.attachHistory.shift()
  }
}

function unreachable (view: NodeView, reason: string): void {
  view.reachable = false
  view.lastError = reason
}

const zero = (): LoginCounters => ({ offered: 0, accepted: 0, rejected: 0, failed: 0 })
const COUNTER_KEYS = Object.keys(LOGIN_METRICS) as Array<keyof LoginCounters>

export class Observer {
  private readonly deps: ObserverDeps
  private readonly nodeViews = new Map<string, NodeView>()
  private readonly swarmViews = new Map<string, SwarmView>()
  private readonly loginViews = new Map<string, LoginServerView>()
  private readonly controller = new AbortController()
  private readonly loops: Array<Promise<void>> = []
  /** Names whose schema mismatch was already reported (once each, it is the same every poll). */
  private readonly schemaWarned = new Set<string>()

  constructor (deps: ObserverDeps) {
    this.deps = deps
  }

  addNode (name: string, role: Role, url: string): void {
    this.nodeViews.set(name, newView(name, role, name, url))
  }

  /** The member answers at another address now (a container restarted on a new one). */
  moveNode (name: string, url: string): void {
    const view = this.nodeViews.get(name)
    if (view !== undefined) view.url = url
  }

  /** A rebound-swarm process `name` at `url` hosting `peers`; each peer gets its own view. */
  addSwarm (name: string, url: string, peers: readonly SwarmPeer[]): void {
    const byUser = new Map<string, NodeView>()
    for (const peer of peers) {
      const view = newView(peer.name, 'peer', name, url)
      this.nodeViews.set(peer.name, view)
      byUser.set(peer.user, view)
    }
    this.swarmViews.set(name, { name, url, byUser })
  }

  addLoginServer (name: string, url: string): void {
    this.loginViews.set(name, { name, url, reachable: false, last: zero(), totals: zero(), liveSupernodes: null })
  }

  start (): void {
    this.loops.push(this.loop(STATUS_POLL_MS, async () => { await this.pollNodes() }))
    this.loops.push(this.loop(METRICS_POLL_MS, async () => { await this.pollLoginServers() }))
  }

  async stop (): Promise<void> {
    this.controller.abort()
    await Promise.all(this.loops)
  }

  node (name: string): NodeView | undefined {
    return this.nodeViews.get(name)
  }

  nodes (): NodeView[] {
    return [...this.nodeViews.values()]
  }

  /** Running and answering its status requests. */
  isAnswering (name: string): boolean {
    const view = this.nodeViews.get(name)
    return view !== undefined && view.reachable && this.deps.isRunning(view.process)
  }

  /** Running, answering, and in session. */
  isAttached (name: string): boolean {
    return this.isAnswering(name) && this.nodeViews.get(name)?.status?.state === 'attached'
  }

  loginTotals (): LoginCounters {
    const sum = zero()
    for (const view of this.loginViews.values()) for (const key of COUNTER_KEYS) sum[key] += view.totals[key]
    return sum
  }

  /**
   * The registry's live supernodes as the login servers last reported them (the largest answer: a
   * server that has not refreshed its cached list yet lags), or null when none answered yet.
   */
  liveSupernodes (): number | null {
    const counts = [...this.loginViews.values()].filter((v) => v.reachable && v.liveSupernodes !== null).map((v) => v.liveSupernodes ?? 0)
    return counts.length === 0 ? null : Math.max(...counts)
  }

  /** Poll every node's and swarm's /status once now (also used by start-up waits). */
  async pollNodes (): Promise<void> {
    const single = [...this.nodeViews.values()].filter((view) => view.process === view.name)
    await Promise.all([
      ...single.map(async (view) => { await this.pollNode(view) }),
      ...[...this.swarmViews.values()].map(async (swarm) => { await this.pollSwarm(swarm) })
    ])
  }

  private async loop (periodMs: number, tick: () => Promise<void>): Promise<void> {
    const signal = this.controller.signal
    // Bounded by the abort signal: stop() ends it.
    while (!signal.aborted) {
      const startedMs = Date.now()
      try {
        await tick()
      } catch (err) {
        this.deps.log.error({ err: String(err) }, 'observer tick failed')
      }
      await sleep(Math.max(0, periodMs - (Date.now() - startedMs)), signal)
    }
  }

  private async pollNode (view: NodeView): Promise<void> {
    if (!this.deps.isRunning(view.name)) {
      view.reachable = false
      return
    }
    const outcome = await getJson(`${view.url}/status`, NodeStatus, REQUEST_TIMEOUT_MS)
    if (!outcome.ok) {
      unreachable(view, outcome.message)
      this.warnSchema(view.name, outcome, 'NodeStatus')
      return
    }
    applyStatus(view, outcome.value)
  }

  private async pollSwarm (swarm: SwarmView): Promise<void> {
    const views = [...swarm.byUser.values()]
    if (!this.deps.isRunning(swarm.name)) {
      for (const view of views) view.reachable = false
      return
    }
    const outcome = await getJson(`${swarm.url}/status`, SwarmStatus, SWARM_REQUEST_TIMEOUT_MS)
    if (!outcome.ok) {
      for (const view of views) unreachable(view, `${swarm.name}: ${outcome.message}`)
      this.warnSchema(swarm.name, outcome, 'SwarmStatus')
      return
    }
    const seen = new Set<NodeView>()
    for (const status of outcome.value.members) {
      const view = status.user === null ? undefined : swarm.byUser.get(status.user)
      if (view === undefined) continue
      applyStatus(view, status)
      seen.add(view)
    }
    // Only started members are listed: the others are still starting (or failed to).
    for (const view of views) if (!seen.has(view)) unreachable(view, `not started in ${swarm.name}`)
  }

  /** A schema mismatch is the same every poll: reported once per process. */
  private warnSchema (name: string, outcome: { kind: string, message: string }, schema: string): void {
    if (outcome.kind !== 'schema' || this.schemaWarned.has(name)) return
    this.schemaWarned.add(name)
    this.deps.log.warn({ name, problem: outcome.message }, `/status does not match the ${schema} schema`)
  }

  private async pollLoginServers (): Promise<void> {
    await Promise.all([...this.loginViews.values()].map(async (view) => { await this.pollLoginServer(view) }))
  }

  private async pollLoginServer (view: LoginServerView): Promise<void> {
    if (!this.deps.isRunning(view.name)) {
      view.reachable = false
      return
    }
    const outcome = await getText(`${view.url}/metrics`, REQUEST_TIMEOUT_MS)
    if (!outcome.ok) {
      view.reachable = false
      return
    }
    view.reachable = true
    const sums = sumMetrics(outcome.value, Object.values(LOGIN_METRICS))
    view.liveSupernodes = findMetrics(outcome.value, [LIVE_SUPERNODES_METRIC])[LIVE_SUPERNODES_METRIC] ?? null
    for (const key of COUNTER_KEYS) {
      const current = sums[LOGIN_METRICS[key]]
      const previous = view.last[key]
      // A counter lower than last time means the server restarted and counts from 0 again.
      view.totals[key] += current >= previous ? current - previous : current
      view.last[key] = current
    }
  }
}
