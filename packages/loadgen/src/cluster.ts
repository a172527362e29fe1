/**
 * Brings a cluster up, in order: the cluster key and shared files, the login servers (their peer
 * ids come from /healthz), the operator supernodes (until certified), then the peers in small
 * batches (until every one is attached). Each step waits with a deadline and fails early, with the
 * end of the process's log, when a process dies.
 */
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  LoginServerHealth, generateClusterKey, privateKeyToPem, publicKeyToBase64, writeFileDurable, type Logger, type Profile
} from '@rebound/protocol'
import type { ClusterDriver, ProcessSpec } from './driver/driver.js'
import { getJson } from './http.js'
import { HTTP_PORT, LIBP2P_PORT, httpUrl, libp2pAddr, type ClusterSize, type Member } from './layout.js'
import type { Observer } from './observer.js'
import { derivePassword } from './users.js'
import { tailLog, waitFor } from './wait.js'

export const LOGIN_SERVER_READY_TIMEOUT_MS = 20_000
export const SUPERNODE_READY_TIMEOUT_MS = 30_000
export const PEERS_READY_TIMEOUT_MS = 90_000
/** Peers started at once: starting a libp2p node costs about a core-second on this class of machine. */
export const PEER_START_BATCH = 10
export const HEALTH_TIMEOUT_MS = 1000
/** Missing names listed in a timeout message. */
const MAX_NAMES_SHOWN = 10

export interface ClusterInit {
  size: ClusterSize
  members: readonly Member[]
  seed: number
  outDir: string
  /** Every process is started with REBOUND_PROFILE set to this. */
  profile: Profile
}

export interface ClusterDeps {
  driver: ClusterDriver
  observer: Observer
  log: Logger
  signal: AbortSignal
  setPhase: (phase: string) => void
}

export class Cluster {
  readonly members: readonly Member[]
  readonly clusterDir: string
  readonly keyPath: string
  readonly storePath: string
  loginServerAddrs: string[] = []
  private readonly init: ClusterInit
  private readonly deps: ClusterDeps
  private readonly operatorToken = randomBytes(24).toString('base64url')
  private clusterPubkey = ''

  constructor (init: ClusterInit, deps: ClusterDeps) {
    this.init = init
    this.deps = deps
    this.members = init.members
    this.clusterDir = join(init.outDir, 'cluster')
    this.keyPath = join(this.clusterDir, 'cluster-key.pem')
    this.storePath = join(this.clusterDir, 'store.sqlite')
  }

  byRole (role: Member['role']): Member[] {
    return this.members.filter((member) => member.role === role)
  }

  dataDir (name: string): string {
    return join(this.init.outDir, 'data', name)
  }

  /** Supernode capacity: room for every peer twice over, spread on the supernodes, plus slack. */
  supernodeCapacity (): number {
    const { peers, supernodes } = this.init.size
    return Math.ceil((peers * 2) / Math.max(1, supernodes)) + 10
  }

  async start (): Promise<void> {
    await this.prepare()
    this.deps.setPhase('login-servers')
    await this.startLoginServers()
    this.deps.setPhase('supernodes')
    await this.startSupernodes()
    this.deps.setPhase('peers')
    await this.startPeers()
  }

  private async prepare (): Promise<void> {
    const key = generateClusterKey()
    await writeFileDurable(this.keyPath, privateKeyToPem(key.privateKey), 0o600)
    this.clusterPubkey = publicKeyToBase64(key.publicKey)
    for (const member of this.members) await mkdir(this.dataDir(member.name), { recursive: true })
  }

  private commonArgs (member: Member): string[] {
    return ['--listen', member.ip, '--port', String(LIBP2P_PORT), '--http-port', String(HTTP_PORT), '--data-dir', this.dataDir(member.name)]
  }

  private nodeEnv (): Record<string, string> {
    return { REBOUND_CLUSTER_PUBKEY: this.clusterPubkey, REBOUND_LOGIN_SERVERS: this.loginServerAddrs.join(',') }
  }

  /** The spec a member is started (and restarted) with. */
  specOf (member: Member): ProcessSpec {
    const spec = this.programSpec(member)
    return { ...spec, env: { ...spec.env, REBOUND_PROFILE: this.init.profile } }
  }

  private programSpec (member: Member): ProcessSpec {
    const base = { name: member.name, role: member.role, ip: member.ip }
    if (member.role === 'login-server') {
      return {
        ...base,
        program: 'bootstrap',
        args: [...this.commonArgs(member), '--store', this.storePath, '--cluster-key-file', this.keyPath],
        env: { REBOUND_OPERATOR_TOKEN: this.operatorToken }
      }
    }
    if (member.role === 'supernode') {
      return {
        ...base,
        program: 'node',
        args: [...this.commonArgs(member), '--supernode', '--capacity', String(this.supernodeCapacity())],
        env: { ...this.nodeEnv(), REBOUND_OPERATOR_TOKEN: this.operatorToken }
      }
    }
    const user = member.user ?? member.name
    return {
      ...base,
      program: 'node',
      args: [...this.commonArgs(member), '--user', user, '--register'],
      env: { ...this.nodeEnv(), REBOUND_PASSWORD: derivePassword(this.init.seed, user) }
    }
  }

  private async startLoginServers (): Promise<void> {
    const servers = this.byRole('login-server')
    for (const member of servers) {
      this.deps.observer.addLoginServer(member.name, httpUrl(member.ip))
      await this.deps.driver.start(this.specOf(member))
    }
    const peerIds = new Map<string, string>()
    await waitFor(async () => {
      await Promise.all(servers.filter((m) => !peerIds.has(m.name)).map(async (member) => {
        const health = await getJson(`${httpUrl(member.ip)}/healthz`, LoginServerHealth, HEALTH_TIMEOUT_MS)
        if (health.ok && health.value.ok) peerIds.set(member.name, health.value.peerId)
      }))
      return peerIds.size === servers.length
    }, {
      what: `${servers.length} login servers healthy`,
      timeoutMs: LOGIN_SERVER_READY_TIMEOUT_MS,
      signal: this.deps.signal,
      failFast: async () => await this.firstDead(servers),
      progress: () => `missing: ${missing(servers, (m) => peerIds.has(m.name))}`
    })
    this.loginServerAddrs = servers.map((member) => libp2pAddr(member.ip, peerIds.get(member.name) ?? ''))
    this.deps.log.info({ loginServers: this.loginServerAddrs }, 'login servers ready')
  }

  private async startSupernodes (): Promise<void> {
    const supernodes = this.byRole('supernode')
    for (const member of supernodes) {
      this.deps.observer.addNode(member.name, member.role, httpUrl(member.ip))
      await this.deps.driver.start(this.specOf(member))
    }
    const ready = (m: Member): boolean => this.deps.observer.isAttached(m.name) && this.deps.observer.node(m.name)?.status?.role === 'supernode'
    await waitFor(() => supernodes.every(ready), {
      what: `${supernodes.length} supernodes certified (role supernode, state attached)`,
      timeoutMs: SUPERNODE_READY_TIMEOUT_MS,
      signal: this.deps.signal,
      failFast: async () => await this.firstDead(supernodes),
      progress: () => `not ready: ${this.describeMissing(supernodes, ready)}`
    })
    this.deps.log.info({ supernodes: supernodes.length }, 'supernodes ready')
  }

  private async startPeers (): Promise<void> {
    const peers = this.byRole('peer')
    const deadlineMs = Date.now() + PEERS_READY_TIMEOUT_MS
    const remainingMs = (): number => Math.max(0, deadlineMs - Date.now())
    // Bounded: ceil(peers / PEER_START_BATCH) batches, each waiting within the one deadline.
    for (let first = 0; first < peers.length; first += PEER_START_BATCH) {
      const batch = peers.slice(first, first + PEER_START_BATCH)
      for (const member of batch) {
        this.deps.observer.addNode(member.name, member.role, httpUrl(member.ip))
        await this.deps.driver.start(this.specOf(member))
      }
      // The next batch starts once this one answers HTTP: the costly part of start-up is behind it.
      const answering = (m: Member): boolean => this.deps.observer.node(m.name)?.reachable === true
      await waitFor(() => batch.every(answering), {
        what: `peers ${batch[0]?.name}..${batch.at(-1)?.name} answering /status`,
        timeoutMs: remainingMs(),
        signal: this.deps.signal,
        failFast: async () => await this.firstDead(batch),
        progress: () => `not answering: ${missing(batch, answering)}`
      })
    }
    const attached = (m: Member): boolean => this.deps.observer.isAttached(m.name)
    await waitFor(() => peers.every(attached), {
      what: `${peers.length} peers attached`,
      timeoutMs: remainingMs(),
      signal: this.deps.signal,
      failFast: async () => await this.firstDead(peers),
      progress: () => `${peers.filter(attached).length}/${peers.length} attached; not attached: ${this.describeMissing(peers, attached)}`
    })
    this.deps.log.info({ peers: peers.length }, 'peers attached')
  }

  /** "name exited (code 1)" plus its log tail, for the first member that is no longer running. */
  private async firstDead (members: readonly Member[]): Promise<string | undefined> {
    const dead = members.find((member) => !this.deps.driver.isRunning(member.name))
    if (dead === undefined) return undefined
    const exit = [...this.deps.driver.exits()].reverse().find((record) => record.name === dead.name)
    const how = exit === undefined ? 'is not running' : `exited (code ${exit.code ?? '-'}, signal ${exit.signal ?? '-'})`
    const path = this.deps.driver.logPath(dead.name)
    const tail = await tailLog(path)
    return `${dead.name} ${how}; log ${path}${tail === '' ? '' : `, ending:\n${tail}`}`
  }

  private describeMissing (members: readonly Member[], ok: (m: Member) => boolean): string {
    return members.filter((m) => !ok(m)).slice(0, MAX_NAMES_SHOWN).map((m) => {
      const view = this.deps.observer.node(m.name)
      const state = view?.reachable === true ? (view.status?.state ?? '?') : (view?.lastError ?? 'no answer')
      return `${m.name}=${state}`
    }).join(', ')
  }
}

function missing (members: readonly Member[], ok: (m: Member) => boolean): string {
  return members.filter((m) => !ok(m)).slice(0, MAX_NAMES_SHOWN).map((m) => m.name).join(', ')
}
