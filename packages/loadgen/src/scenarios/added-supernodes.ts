/**
 * The mega-supernode lever (--add-supernodes N, --add-after-ms T): in 2010 Skype recovered from
 * losing a quarter of its supernodes by starting hundreds of dedicated ones by hand. Here the load
 * generator starts N more operator supernodes T ms after the trigger, exactly as the cluster
 * started the first ones (new names and addresses after every other member's), and records when
 * each was certified and how many clients it took.
 */
import { sleep } from '@rebound/protocol'
import { SUPERNODE_READY_TIMEOUT_MS } from '../cluster.js'
import { addedSupernodes, type Member } from '../layout.js'
import type { AddedSupernode } from './supernode-failure-report.js'
import type { ScenarioContext } from './scenario.js'
import type { SupernodeWatch } from './supernode-watch.js'

export class SupernodeLever {
  readonly members: readonly Member[]
  private startedAtMs: number | null = null
  private readonly ctx: ScenarioContext
  private readonly watch: SupernodeWatch

  constructor (ctx: ScenarioContext, watch: SupernodeWatch) {
    const { options } = ctx
    this.ctx = ctx
    this.watch = watch
    this.members = addedSupernodes({ loginServers: options.loginServers, supernodes: options.supernodes, peers: options.peers }, options.net, options.addSupernodes)
  }

  /** Start them at `atMs` (nothing when none are asked for, or when `signal` ends the wait first). */
  async startAt (atMs: number, signal: AbortSignal): Promise<void> {
    if (this.members.length === 0) return
    await sleep(Math.max(0, atMs - Date.now()), signal)
    if (signal.aborted || this.ctx.signal.aborted) return
    this.startedAtMs = Date.now()
    for (const member of this.members) this.watch.follow(member.name)
    try {
      await this.ctx.cluster.addSupernodes(this.members)
      this.ctx.log.info({ added: this.members.map((m) => m.name) }, 'mega-supernode lever: supernodes added')
    } catch (err) {
      this.ctx.log.error({ err: String(err) }, 'adding supernodes failed')
    }
  }

  /** Nothing more to wait for: none asked, or all started and each certified or past the cluster's start-up deadline. */
  settled (nowMs: number): boolean {
    if (this.members.length === 0) return true
    if (this.startedAtMs === null) return false
    const late = nowMs - this.startedAtMs > SUPERNODE_READY_TIMEOUT_MS
    return this.members.every((m) => late || this.watch.certifiedAtMs(m.name) !== null)
  }

  records (): AddedSupernode[] {
    return this.members.map((m) => ({
      name: m.name,
      ip: m.ip,
      startedAtMs: this.startedAtMs,
      certifiedAtMs: this.watch.certifiedAtMs(m.name),
      maxClients: this.watch.maxClients(m.name),
      clientsAfter: this.watch.clientsNow(m.name)
    }))
  }
}
