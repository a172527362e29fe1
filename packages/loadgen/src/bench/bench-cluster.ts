/**
 * The processes of one benchmark part, started fresh for each part and profile (so no run
 * inherits another's queues, accounts or caches): login servers, operator supernodes, a login
 * load generator and swarms of clients, on 127.B addresses of their own. Every process gets
 * REBOUND_PROFILE. Only processes this cluster started are signalled; stop() ends them all.
 */
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  LoginServerHealth, NodeStatus, generateClusterKey, privateKeyToPem, publicKeyToBase64, writeFileDurable, type Logger, type Profile
} from '@rebound/protocol'
import type { ClusterDriver, ProcessSpec } from '../driver/driver.js'
import { DEFAULT_BINS, createProcessDriver } from '../driver/process-driver.js'
import { getJson } from '../http.js'
import { HTTP_PORT, LIBP2P_PORT, httpUrl, libp2pAddr, loginServerIp } from '../layout.js'
import { swarmArgs, swarmPasswordEnv } from '../swarm-args.js'
import { waitFor } from '../wait.js'

export const READY_TIMEOUT_MS = 60_000
const HEALTH_TIMEOUT_MS = 2000

/** Where each kind of process lives in 127.B: login servers .1.x, supernodes .2.x, load .9/.10, swarms .8.j and from .20. */
export const benchIps = {
  loginServer: (net: number, i: number): string => loginServerIp(net, i),
  supernode: (net: number, i: number): string => `127.${net}.2.${i + 1}`,
  loadControl: (net: number): string => `127.${net}.9.1`,
  loadFirst: (net: number): string => `127.${net}.10.1`,
  swarmControl: (net: number, j: number): string => `127.${net}.8.${j + 1}`,
  /** Five third octets per swarm: room for 1000 members (254 per octet). */
  swarmFirst: (net: number, j: number): string => `127.${net}.${20 + 5 * j}.1`
}
export const MAX_SWARMS = 46

export interface BenchClusterInit {
  dir: string
  net: number
  profile: Profile
  scryptN: number
  logLevel: string
  passwordSeed: string
}

export class BenchCluster {
  readonly driver: ClusterDriver
  loginServerAddrs: string[] = []
  private supernodes = 0
  private readonly operatorToken = randomBytes(24).toString('base64url')
  private clusterPubkey = ''
  private readonly keyPath: string

  constructor (readonly init: BenchClusterInit, private readonly log: Logger) {
    this.driver = createProcessDriver({ logsDir: join(init.dir, 'logs'), bins: DEFAULT_BINS, baseEnv: process.env }, log)
    this.keyPath = join(init.dir, 'cluster-key.pem')
  }

  private env (extra: Record<string, string> = {}): Record<string, string> {
    return { REBOUND_PROFILE: this.init.profile, REBOUND_LOG_LEVEL: this.init.logLevel, ...extra }
  }

  private nodeEnv (extra: Record<string, string> = {}): Record<string, string> {
    return this.env({ REBOUND_CLUSTER_PUBKEY: this.clusterPubkey, REBOUND_LOGIN_SERVERS: this.loginServerAddrs.join(','), ...extra })
  }

  loginServerUrl (i: number): string {
    return httpUrl(benchIps.loginServer(this.init.net, i))
  }

  async startLoginServers (count: number, signal: AbortSignal): Promise<void> {
    const key = generateClusterKey()
    await writeFileDurable(this.keyPath, privateKeyToPem(key.privateKey), 0o600)
    this.clusterPubkey = publicKeyToBase64(key.publicKey)
    const peerIds: string[] = []
    for (let i = 0; i < count; i++) {
      const ip = benchIps.loginServer(this.init.net, i)
      const dataDir = join(this.init.dir, 'data', `ls${i + 1}`)
      await mkdir(dataDir, { recursive: true })
      await this.driver.start({
        name: `ls${i + 1}`, role: 'login-server', program: 'bootstrap', ip,
        args: ['--listen', ip, '--port', String(LIBP2P_PORT), '--http-port', String(HTTP_PORT), '--data-dir', dataDir,
          '--store', join(this.init.dir, 'store.sqlite'), '--cluster-key-file', this.keyPath, '--scrypt-n', String(this.init.scryptN)],
        env: this.env({ REBOUND_OPERATOR_TOKEN: this.operatorToken })
      })
    }
    await waitFor(async () => {
      for (let i = peerIds.length; i < count; i++) {
        const health = await getJson(`${this.loginServerUrl(i)}/healthz`, LoginServerHealth, HEALTH_TIMEOUT_MS)
        if (!health.ok || !health.value.ok) return false
        peerIds.push(health.value.peerId)
      }
      return true
    }, { what: `${count} login servers healthy`, timeoutMs: READY_TIMEOUT_MS, signal, failFast: () => this.dead('ls') })
    this.loginServerAddrs = peerIds.map((id, i) => libp2pAddr(benchIps.loginServer(this.init.net, i), id))
  }

  supernodeUrls (): string[] {
    return Array.from({ length: this.supernodes }, (_, i) => httpUrl(benchIps.supernode(this.init.net, i)))
  }

  async startSupernodes (count: number, capacity: number, signal: AbortSignal): Promise<void> {
    this.supernodes = count
    const urls: string[] = []
    for (let i = 0; i < count; i++) {
      const ip = benchIps.supernode(this.init.net, i)
      await this.driver.start({
        name: `sn${i + 1}`, role: 'supernode', program: 'node', ip,
        args: ['--listen', ip, '--data-dir', join(this.init.dir, 'data', `sn${i + 1}`), '--supernode', '--capacity', String(capacity)],
        env: this.nodeEnv({ REBOUND_OPERATOR_TOKEN: this.operatorToken })
      })
      urls.push(httpUrl(ip))
    }
    await waitFor(async () => {
      const statuses = await Promise.all(urls.map(async (url) => await getJson(`${url}/status`, NodeStatus, HEALTH_TIMEOUT_MS)))
      return statuses.every((s) => s.ok && s.value.role === 'supernode' && s.value.state === 'attached')
    }, { what: `${count} supernodes certified`, timeoutMs: READY_TIMEOUT_MS, signal, failFast: () => this.dead('sn') })
  }

  /** A login load generator with `connections` clients to login server 0; returns its control URL. */
  async startLoad (connections: number, register: boolean): Promise<string> {
    const controlIp = benchIps.loadControl(this.init.net)
    await this.driver.start({
      name: 'load', role: 'login-load', program: 'swarm', ip: controlIp,
      args: ['--login-load', '--count', String(connections), '--first-ip', benchIps.loadFirst(this.init.net), '--control-ip', controlIp,
        '--user-prefix', 'load', '--login-servers', this.loginServerAddrs[0] ?? '', ...(register ? ['--register'] : [])],
      env: this.env({ REBOUND_SWARM_PASSWORD_SEED: this.init.passwordSeed })
    })
    return httpUrl(controlIp)
  }

  /** The spec of swarm j: `count` clients, users u<firstUser>.., all starting at once. */
  swarmSpec (j: number, count: number, firstUser: number): ProcessSpec {
    const controlIp = benchIps.swarmControl(this.init.net, j)
    return {
      name: `swarm${j + 1}`, role: 'swarm', program: 'swarm', ip: controlIp,
      args: swarmArgs({
        count, firstIp: benchIps.swarmFirst(this.init.net, j), controlIp, dataDir: join(this.init.dir, 'data', `swarm${j + 1}`),
        userPrefix: 'u', firstUser, startSpreadMs: 0
      }),
      env: this.nodeEnv(swarmPasswordEnv(this.init.passwordSeed))
    }
  }

  async stop (): Promise<void> {
    await this.driver.stopAll()
  }

  /** "lsN exited ..." for the first process named with `prefix` that is gone, else undefined. */
  private dead (prefix: string): string | undefined {
    const exit = this.driver.exits().find((e) => e.name.startsWith(prefix))
    return exit === undefined ? undefined : `${exit.name} exited (code ${exit.code ?? '-'}, signal ${exit.signal ?? '-'}); log ${this.driver.logPath(exit.name)}`
  }
}
