/**
 * Brings a cluster up, in order: the cluster key and shared files, the login servers (their peer
 * ids come from /healthz), the operator supernodes (until certified), then the peers' processes in
 * small batches (until every peer is attached): rebound-node processes ten at a time, or
 * rebound-swarm processes one at a time (a swarm of K peers is itself K node start-ups). Each step
 * waits with a deadline and fails early, with the end of the process's log, when a process dies.
 */
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  LoginServerHealth, generateClusterKey, privateKeyToPem, publicKeyToBase64, writeFileDurable, type Logger, type Profile
} from '@rebound/protocol'
import type { ClusterDriver, ProcessSpec } from './driver/driver.js'
import { getJson } from './http.js'
import {
  HTTP_PORT, LIBP2P_PORT, NODES_PER_OCTET, USER_PREFIX, httpUrl, libp2pAddr, numberDigits, peerProcesses, type ClusterSize, type Member, type PeerProcess
} from './layout.js'
import type { Observer } from './observer.js'
import { swarmArgs, swarmPasswordEnv } from './swarm-args.js'
import { derivePassword } from './users.js'
import { tailLog, waitFor } from './wait.js'

export const LOGIN_SERVER_READY_TIMEOUT_MS = 20_000
export const SUPERNODE_READY_TIMEOUT_MS = 30_000
export const PEERS_READY_TIMEOUT_MS = 90_000
/** Large clusters get this much longer per peer (logins are scrypt hashes, joins are rate-limited). */
export const PEERS_READY_MS_PER_PEER = 300
/** Peer processes started at once: starting a Node process costs about a core-second on this class of machine. */
export const PEER_START_BATCH = 10
/** Swarm processes started at once: each starts all its members at once, a heavy start of its own. */
export const SWARM_START_BATCH = 1
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
  /** The orphan window W every supernode is started with (--orphan-window-ms). */
  orphanWindowMs: number
  /** Share of the peer processes started --eligible (the first ones in layout order). */
  eligibleFraction?: number
  /**
   * adopt(): the token the running cluster's login servers were started with (the compose keys
   * service wrote it). Absent: a token of our own, which start() gives the processes it starts;
   * an adopted cluster refuses it, so the history check then reports the store unreadable.
   */
  operatorToken?: string
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
  private readonly token: string
  private clusterPubkey = ''
  /** Supernodes a scenario added during the run (addSupernodes), in the order added. */
  private readonly added: Member[] = []
  private readonly eligible: Set<string>

  constructor (init: ClusterInit, deps: ClusterDeps) {
    this.init = init
    this.deps = deps
    this.members = init.members
    this.clusterDir = join(init.outDir, 'cluster')
    this.keyPath = join(this.clusterDir, 'cluster-key.pem')
    this.storePath = join(this.clusterDir, 'store.sqlite')
    this.token = init.operatorToken ?? randomBytes(24).toString('base64url')
    // The first ceil(f x n) peer processes: deterministic, so a seed replays the same cluster;
    // which of them a scenario kills is the scenario's (seeded) draw.
    const processes = peerProcesses(this.members)
    const eligible = Math.ceil((init.eligibleFraction ?? 0) * processes.length)
    this.eligible = new Set(processes.slice(0, eligible).map((p) => p.name))
  }

  /** Whether this peer process's peers may be elected supernodes (--eligible). */
  isEligible (processName: string): boolean {
    return this.eligible.has(processName)
  }

  /** Flags that make a peer (or every member of a swarm) a candidate, with a supernode's capacity. */
  private eligibleArgs (processName: string): string[] {
    return this.isEligible(processName) ? ['--eligible', '--capacity', String(this.supernodeCapacity())] : []
  }

  byRole (role: Member['role']): Member[] {
    return this.members.filter((member) => member.role === role)
  }

  /** The processes that host the peers (one per peer, or the swarms), in layout order. */
  peerProcesses (): PeerProcess[] {
    return peerProcesses(this.members)
  }

  /** A process's data directory; a swarm keeps each member's in `<its dir>/<user>/`. */
  dataDir (name: string): string {
    return join(this.init.outDir, 'data', name)
  }

  /** Where a member keeps its identity and state: its own process's directory, or its swarm's `<dir>/<user>` (rebound-swarm --data-dir). */
  memberDataDir (member: Member): string {
    return member.process === member.name ? this.dataDir(member.name) : join(this.dataDir(member.process), member.user ?? member.name)
  }

  /**
   * The operator token the login servers and supernodes are started with: the history checker
   * reads the store with it (login server GET /data). Never logged or written to the report.
   */
  get operatorToken (): string {
    return this.token
  }

  /** The orphan window W the supernodes advertise to their clients. */
  get orphanWindowMs (): number {
    return this.init.orphanWindowMs
  }

  /** Supernodes added during the run (the mega-supernode lever). */
  addedMembers (): readonly Member[] {
    return this.added
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

  /**
   * Take over a cluster that is already running (the docker driver's compose project): observe
   * its members and wait, as start() does, until the supernodes are certified and every peer is
   * attached; nothing is started.
   */
  async adopt (): Promise<void> {
    this.deps.setPhase('login-servers')
    for (const member of this.byRole('login-server')) this.deps.observer.addLoginServer(member.name, httpUrl(member.ip))
    await this.waitLoginServers()
    this.deps.setPhase('supernodes')
    for (const member of this.byRole('supernode')) this.deps.observer.addNode(member.name, member.role, httpUrl(member.ip))
    await this.waitSupernodes()
    this.deps.setPhase('peers')
    for (const proc of this.peerProcesses()) this.observe(proc)
    const peers = this.byRole('peer')
    await this.waitPeersAttached(Math.max(PEERS_READY_TIMEOUT_MS, peers.length * PEERS_READY_MS_PER_PEER))
  }

  private async prepare (): Promise<void> {
    const key = generateClusterKey()
    await writeFileDurable(this.keyPath, privateKeyToPem(key.privateKey), 0o600)
    this.clusterPubkey = publicKeyToBase64(key.publicKey)
    for (const name of new Set(this.members.map((member) => member.process))) await mkdir(this.dataDir(name), { recursive: true })
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

  /** The spec a peer process is started (and restarted) with: a rebound-node, or a rebound-swarm of its peers. */
  peerProcessSpec (proc: PeerProcess): ProcessSpec {
    const [first] = proc.peers
    if (!proc.swarm && first !== undefined) return this.specOf(first)
    const args = swarmArgs({
      count: proc.peers.length,
      firstIp: proc.ip,
      perOctet: NODES_PER_OCTET,
      controlIp: proc.ip,
      dataDir: this.dataDir(proc.name),
      userPrefix: USER_PREFIX,
      // The swarm names member i u<firstUser + i>: the layout's users, which are consecutive.
      firstUser: proc.firstPeer,
      userDigits: numberDigits(this.init.size.peers),
      // At once, like a reboot: the start batches pace the first start, a restart is a mass start.
      startSpreadMs: 0,
      register: true
    })
    return {
      name: proc.name,
      role: 'swarm',
      program: 'swarm',
      ip: proc.ip,
      args: [...args, '--port', String(LIBP2P_PORT), '--http-port', String(HTTP_PORT), ...this.eligibleArgs(proc.name)],
      env: { ...this.nodeEnv(), ...swarmPasswordEnv(this.init.seed), REBOUND_PROFILE: this.init.profile }
    }
  }

  private programSpec (member: Member): ProcessSpec {
    const base = { name: member.name, role: member.role, ip: member.ip }
    if (member.role === 'login-server') {
      return {
        ...base,
        program: 'bootstrap',
        args: [...this.commonArgs(member), '--store', this.storePath, '--cluster-key-file', this.keyPath],
        env: { REBOUND_OPERATOR_TOKEN: this.token }
      }
    }
    if (member.role === 'supernode') {
      return {
        ...base,
        program: 'node',
        args: [
          ...this.commonArgs(member), '--supernode', '--capacity', String(this.supernodeCapacity()), '--orphan-window-ms', String(this.init.orphanWindowMs)
        ],
        env: { ...this.nodeEnv(), REBOUND_OPERATOR_TOKEN: this.token }
      }
    }
    const user = member.user ?? member.name
    return {
      ...base,
      program: 'node',
      args: [...this.commonArgs(member), '--user', user, '--register', ...this.eligibleArgs(member.process)],
      env: { ...this.nodeEnv(), REBOUND_PASSWORD: derivePassword(this.init.seed, user) }
    }
  }

  private async startLoginServers (): Promise<void> {
    const servers = this.byRole('login-server')
    for (const member of servers) {
      this.deps.observer.addLoginServer(member.name, httpUrl(member.ip))
      await this.deps.driver.start(this.specOf(member))
    }
    await this.waitLoginServers()
  }

  /** Until every login server is healthy; their libp2p addresses (peer ids from /healthz) are kept. */
  private async waitLoginServers (): Promise<void> {
    const servers = this.byRole('login-server')
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
      failFast: async () => await this.firstDead(servers.map((m) => m.name)),
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
    await this.waitSupernodes()
  }

  private async waitSupernodes (): Promise<void> {
    const supernodes = this.byRole('supernode')
    const ready = (m: Member): boolean => this.deps.observer.isAttached(m.name) && this.deps.observer.node(m.name)?.status?.role === 'supernode'
    await waitFor(() => supernodes.every(ready), {
      what: `${supernodes.length} supernodes certified (role supernode, state attached)`,
      timeoutMs: SUPERNODE_READY_TIMEOUT_MS,
      signal: this.deps.signal,
      failFast: async () => await this.firstDead(supernodes.map((m) => m.name)),
      progress: () => `not ready: ${this.describeMissing(supernodes, ready)}`
    })
    this.deps.log.info({ supernodes: supernodes.length }, 'supernodes ready')
  }

  /**
   * Start more operator supernodes, the same way as the first ones, while the run goes on (the
   * mega-supernode lever). Does not wait for their certificates: the caller watches for them.
   */
  async addSupernodes (members: readonly Member[]): Promise<void> {
    for (const member of members) {
      if (member.role !== 'supernode' || this.members.some((m) => m.name === member.name) || this.added.some((m) => m.name === member.name)) {
        throw new RangeError(`cannot add ${member.name}: not a new supernode`)
      }
      await mkdir(this.dataDir(member.name), { recursive: true })
      this.added.push(member)
      this.deps.observer.addNode(member.name, member.role, httpUrl(member.ip))
      await this.deps.driver.start(this.specOf(member))
    }
    this.deps.log.info({ added: members.map((m) => m.name) }, 'supernodes added')
  }

  private async startPeers (): Promise<void> {
    const peers = this.byRole('peer')
    const processes = this.peerProcesses()
    const deadlineMs = Date.now() + Math.max(PEERS_READY_TIMEOUT_MS, peers.length * PEERS_READY_MS_PER_PEER)
    const remainingMs = (): number => Math.max(0, deadlineMs - Date.now())
    const batchSize = processes.some((p) => p.swarm) ? SWARM_START_BATCH : PEER_START_BATCH
    // Bounded: ceil(processes / batchSize) batches, each waiting within the one deadline.
    for (let first = 0; first < processes.length; first += batchSize) {
      const batch = processes.slice(first, first + batchSize)
      for (const proc of batch) {
        this.observe(proc)
        await this.deps.driver.start(this.peerProcessSpec(proc))
      }
      // The next batch starts once this one answers: the costly part of start-up is behind it.
      const batchPeers = batch.flatMap((p) => p.peers)
      const answering = (m: Member): boolean => this.deps.observer.node(m.name)?.reachable === true
      const swarm = batch.length === 1 && batch[0]?.swarm === true ? `${batch[0].name}: ` : ''
      await waitFor(() => batchPeers.every(answering), {
        what: `${swarm}peers ${batchPeers[0]?.name}..${batchPeers.at(-1)?.name} answering /status`,
        timeoutMs: remainingMs(),
        signal: this.deps.signal,
        failFast: async () => await this.firstDead(batch.map((p) => p.name)),
        progress: () => `not answering: ${this.describeMissing(batchPeers, answering)}`
      })
    }
    await this.waitPeersAttached(remainingMs())
  }

  private async waitPeersAttached (timeoutMs: number): Promise<void> {
    const peers = this.byRole('peer')
    const processes = this.peerProcesses()
    const attached = (m: Member): boolean => this.deps.observer.isAttached(m.name)
    await waitFor(() => peers.every(attached), {
      what: `${peers.length} peers attached`,
      timeoutMs,
      signal: this.deps.signal,
      failFast: async () => await this.firstDead(processes.map((p) => p.name)),
      progress: () => `${peers.filter(attached).length}/${peers.length} attached; not attached: ${this.describeMissing(peers, attached)}`
    })
    this.deps.log.info({ peers: peers.length, processes: processes.length }, 'peers attached')
  }

  private observe (proc: PeerProcess): void {
    const url = httpUrl(proc.ip)
    if (proc.swarm) {
      this.deps.observer.addSwarm(proc.name, url, proc.peers.map((m) => ({ name: m.name, user: m.user ?? m.name })))
    } else {
      for (const member of proc.peers) this.deps.observer.addNode(member.name, member.role, url)
    }
  }

  /** "name exited (code 1)" plus its log tail, for the first named process that is no longer running. */
  private async firstDead (names: readonly string[]): Promise<string | undefined> {
    const dead = names.find((name) => !this.deps.driver.isRunning(name))
    if (dead === undefined) return undefined
    const exit = [...this.deps.driver.exits()].reverse().find((record) => record.name === dead)
    const how = exit === undefined ? 'is not running' : `exited (code ${exit.code ?? '-'}, signal ${exit.signal ?? '-'})`
    const path = this.deps.driver.logPath(dead)
    const tail = await tailLog(path)
    return `${dead} ${how}; log ${path}${tail === '' ? '' : `, ending:\n${tail}`}`
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
