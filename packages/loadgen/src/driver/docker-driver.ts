/**
 * The `docker` driver: the cluster's members are the containers of a compose project
 * (docker-compose.yml), found by their labels and driven through the Engine API (engine-api.ts).
 * It attaches to containers that exist; it never creates or removes one.
 *   - `com.docker.compose.project=<project>` selects the project's containers;
 *   - `io.rebound.role` (login-server | supernode | peer) makes a container a member; those
 *     without it (the one-shot keys job, the load generator itself) are left alone.
 * Member names: the service for a single container (`login-1`), `<service>-<n>` for the replicas
 * of a scaled one (`peer-7`, n = `com.docker.compose.container-number`).
 * Signals: SIGKILL and SIGTERM through the kill call; SIGSTOP and SIGCONT as pause and unpause: the
 * cgroup freezer stops every process of the container (health checks included) and the engine
 * then reports it paused, so the state this driver keeps is the engine's own.
 * The engine's event stream tells it about exits it did not cause (unexpected ones).
 * When the run ends, each member's log is copied into the run's folder (docker-logs.ts).
 * wipeData empties a member's volumes through a helper container (docker-wipe.ts); network cuts
 * a member off its networks and connects it again at the same address (docker-network.ts).
 */
import { constants } from 'node:os'
import { ReboundError, type Logger } from '@rebound/protocol'
import type { Role } from '../layout.js'
import type { ClusterDriver, DriverSignal, ExitRecord, NetworkControl, ProcessSpec, WipeScope } from './driver.js'
import { ExitBook } from './exit-book.js'
import { followEvents } from './docker-events.js'
import { copyContainerLogs, logFileOf } from './docker-logs.js'
import { cutOff, reconnect, type Endpoint } from './docker-network.js'
import { WIPE_TIMEOUT_MS, describeTarget, eraseTargets, wipeTargets } from './docker-wipe.js'
import type { ContainerInspect, EngineApi, EngineEvent, Mount } from './engine-api.js'

export const PROJECT_LABEL = 'com.docker.compose.project'
export const SERVICE_LABEL = 'com.docker.compose.service'
export const NUMBER_LABEL = 'com.docker.compose.container-number'
export const ROLE_LABEL = 'io.rebound.role'
const ROLES: readonly Role[] = ['login-server', 'supernode', 'peer']
/** How long a SIGKILLed container may take to be reported stopped. */
export const KILL_WAIT_MS = 10_000
/** How the engine reports a container whose main process died of SIGKILL (128 + 9). */
const EXIT_CODE_SIGKILL = 137

export interface DockerDriverInit {
  engine: EngineApi
  project: string
  /** Where stopAll() copies each member's log (DIR/logs of the run). */
  logsDir: string
  /** Bound on one wipe's helper container (default WIPE_TIMEOUT_MS). */
  wipeTimeoutMs?: number
}

/** A member as the engine shows it. */
export interface ContainerMember {
  name: string
  role: Role
  service: string
  containerId: string
  /** Without the leading slash; resolvable by the engine's DNS on the project's network. */
  containerName: string
  /** The container's hostname (its short id unless set): a peer's user (rebound-node --user-from-hostname). */
  hostname: string
  /** Its address on its (first) network; may change when the container restarts. */
  ip: string
}

interface Tracked extends ContainerMember {
  /** Its image's id: a wipe's helper runs the same image (it has the tools, and no pull is needed). */
  image: string
  mounts: Mount[]
  running: boolean
  paused: boolean
  pid: number
  generation: number
  /** We sent a terminating signal: the exit that follows is expected. */
  ending: boolean
  /** The generation whose exit is already recorded (the event and our own wait both see it). */
  exitRecordedFor: number
  /** Set while we have it cut off the network: where to connect it again. */
  cutFrom: Endpoint[] | undefined
}

/**
 * Attach to the members of compose project `init.project`. The event stream is opened first and
 * the state read after, so no exit between the two goes unseen.
 */
export async function attachDockerDriver (init: DockerDriverInit, log: Logger): Promise<DockerDriver> {
  const driver = new DockerDriver(init, log)
  try {
    await driver.followEvents()
    await driver.refresh()
  } catch (err) {
    driver.killAllNow()
    init.engine.close()
    throw err
  }
  return driver
}

export class DockerDriver implements ClusterDriver {
  readonly kind = 'docker'
  private readonly init: DockerDriverInit
  private readonly log: Logger
  private readonly byName = new Map<string, Tracked>()
  private readonly byId = new Map<string, Tracked>()
  private readonly book: ExitBook
  private readonly events = new AbortController()
  private stopping = false
  private readonly addressListeners: Array<(name: string, ip: string) => void> = []

  constructor (init: DockerDriverInit, log: Logger) {
    this.init = init
    this.log = log.child({ component: 'docker-driver', project: init.project })
    this.book = new ExitBook(this.log)
  }

  /** Members in a stable order: role (login servers, supernodes, peers), then name. */
  members (): ContainerMember[] {
    return [...this.byName.values()]
      .sort((a, b) => ROLES.indexOf(a.role) - ROLES.indexOf(b.role) || a.name.localeCompare(b.name, 'en', { numeric: true }))
      .map(({ name, role, service, containerId, containerName, hostname, ip }) => ({ name, role, service, containerId, containerName, hostname, ip }))
  }

  /**
   * Tell `listener` when a member comes back on another address: compose does not keep an unpinned
   * (peer) address across a restart, and whoever polls the member from outside must follow it.
   */
  onAddressChange (listener: (name: string, ip: string) => void): void {
    this.addressListeners.push(listener)
  }

  /** Read every member's state from the engine (at attach, and after missed events). */
  async refresh (): Promise<void> {
    const summaries = await this.init.engine.list([`${PROJECT_LABEL}=${this.init.project}`, ROLE_LABEL])
    const inspected = await Promise.all(summaries.map(async (s) => await this.init.engine.inspect(s.Id)))
    for (const info of inspected) this.track(info)
    this.log.info({ members: this.byName.size, running: this.runningCount() }, 'attached')
  }

  /** Not a compose `create`: the container must exist; the spec's flags are compose's business. */
  async start (spec: ProcessSpec): Promise<void> {
    await this.startMember(this.member(spec.name))
  }

  async kill (name: string, signal: DriverSignal): Promise<void> {
    const member = this.member(name)
    if (!member.running) return
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      const changed = signal === 'SIGSTOP' ? await this.init.engine.pause(member.containerId) : await this.init.engine.unpause(member.containerId)
      if (changed) member.paused = signal === 'SIGSTOP'
      this.log.info({ name, signal, changed }, signal === 'SIGSTOP' ? 'paused' : 'unpaused')
      return
    }
    member.ending = true
    this.intervene(name)
    await this.init.engine.kill(member.containerId, signal)
    this.log.info({ name, signal }, 'signalled')
    if (signal !== 'SIGKILL') return
    await this.init.engine.waitStopped(member.containerId, KILL_WAIT_MS)
    this.markStopped(member, EXIT_CODE_SIGKILL)
  }

  async restart (name: string): Promise<void> {
    const member = this.member(name)
    if (member.running) await this.kill(name, 'SIGKILL')
    if (member.running) throw new ReboundError('TIMEOUT', `${name} did not stop after SIGKILL`)
    await this.startMember(member)
  }

  isRunning (name: string): boolean {
    return this.byName.get(name)?.running === true
  }

  /** The host's pid of the container's main process: /proc/<pid> only means it outside the container's pid namespace. */
  pid (name: string): number | undefined {
    const member = this.byName.get(name)
    return member?.running === true && member.pid > 0 ? member.pid : undefined
  }

  generation (name: string): number {
    return this.byName.get(name)?.generation ?? 0
  }

  interventions (name: string): number {
    return this.book.interventions(name)
  }

  runningCount (): number {
    let count = 0
    for (const member of this.byName.values()) if (member.running) count++
    return count
  }

  exits (): readonly ExitRecord[] {
    return this.book.exits()
  }

  unexpectedExits (): readonly ExitRecord[] {
    return this.book.unexpectedExits()
  }

  /** Partitions: the member keeps running, off the network; restore() puts it back at its address. */
  readonly network: NetworkControl = {
    cut: async (name) => {
      if (this.stopping) throw new ReboundError('CLOSED', 'driver is stopping')
      const member = this.member(name)
      if (member.cutFrom !== undefined) return
      member.cutFrom = await cutOff(this.init.engine, member.containerId)
      this.log.info({ name, networks: member.cutFrom.length }, 'cut off the network')
    },
    restore: async (name) => {
      const member = this.member(name)
      const endpoints = member.cutFrom
      if (endpoints === undefined) return
      await reconnect(this.init.engine, member.containerId, endpoints)
      member.cutFrom = undefined
      this.log.info({ name, ip: endpoints.map((e) => e.ip) }, 'connected again')
    }
  }

  /**
   * Empty the named members' volumes (`own`: they must be stopped; `shared`: under them) with one
   * helper container for all of them; returns the volumes emptied.
   */
  async wipeData (names: readonly string[], scope: WipeScope): Promise<string[]> {
    if (this.stopping) throw new ReboundError('CLOSED', 'driver is stopping')
    const members = names.map((name) => this.member(name))
    const [first] = members
    if (first === undefined) return []
    const running = members.filter((m) => m.running).map((m) => m.name)
    if (scope === 'own' && running.length > 0) throw new ReboundError('BAD_REQUEST', `cannot erase the data of running containers: ${running.join(', ')}`)
    const targets = wipeTargets([...this.byName.values()], names, scope)
    await eraseTargets(this.init.engine, { image: first.image, project: this.init.project, targets, timeoutMs: this.init.wipeTimeoutMs ?? WIPE_TIMEOUT_MS }, this.log)
    const erased = targets.map(describeTarget)
    this.log.warn({ names, scope, erased }, 'data erased')
    return erased
  }

  /** The copy stopAll() makes of the container's log (until then, `docker logs <container>` shows it). */
  logPath (name: string): string {
    return logFileOf(this.init.logsDir, name)
  }

  /**
   * Leave the project as it was found: connect what we cut off, thaw what is paused and start
   * what we stopped, in parallel; the containers are compose's, not ours to remove. Then copy every member's log
   * (bounded in size and time). Idempotent.
   */
  async stopAll (): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.events.abort()
    await Promise.all([...this.byName.values()].map(async (member) => {
      try {
        if (member.cutFrom !== undefined) await this.network.restore(member.name)
        if (member.paused) await this.init.engine.unpause(member.containerId)
        if (!member.running && member.ending) await this.init.engine.start(member.containerId)
      } catch (err) {
        this.log.warn({ name: member.name, err: (err as Error).message }, 'could not restore')
      }
    }))
    await copyContainerLogs(this.init.engine, [...this.byName.values()], this.init.logsDir, this.log)
    this.init.engine.close()
  }

  /** Nothing can be sent synchronously to the engine; the containers outlive us as compose's. */
  killAllNow (): void {
    this.stopping = true
    this.events.abort()
  }

  /** Follow the project's events (docker-events.ts); resolves once the subscription is open. */
  async followEvents (): Promise<void> {
    await followEvents({
      engine: this.init.engine,
      labels: [`${PROJECT_LABEL}=${this.init.project}`],
      onEvent: (event) => { this.onEvent(event) },
      refresh: async () => { await this.refresh() },
      signal: this.events.signal,
      log: this.log
    })
  }

  private async startMember (member: Tracked): Promise<void> {
    if (this.stopping) throw new ReboundError('CLOSED', 'driver is stopping')
    if (member.running) throw new ReboundError('BAD_REQUEST', `${member.name} is already running`)
    this.intervene(member.name)
    member.ending = false
    await this.init.engine.start(member.containerId)
    this.markStarted(member)
    // Its address and pid are new: a compose network does not keep an unpinned address.
    this.track(await this.init.engine.inspect(member.containerId))
    this.log.info({ name: member.name, container: member.containerName, ip: member.ip, generation: member.generation }, 'started')
  }

  private onEvent (event: EngineEvent): void {
    const member = this.byId.get(event.Actor.ID)
    if (member === undefined) return
    if (event.Action === 'die') {
      // Only news when we think it runs; then asked again, since our own start may already have
      // overtaken a late event about the generation before it.
      if (member.running) void this.confirmStopped(member)
    } else if (event.Action === 'start') {
      this.markStarted(member)
    } else if (event.Action === 'pause' || event.Action === 'unpause') {
      member.paused = event.Action === 'pause'
    }
  }

  private async confirmStopped (member: Tracked): Promise<void> {
    try {
      const info = await this.init.engine.inspect(member.containerId)
      if (!info.State.Running && member.running) this.markStopped(member, info.State.ExitCode)
    } catch (err) {
      this.log.warn({ name: member.name, err: (err as Error).message }, 'could not inspect after an exit')
    }
  }

  private member (name: string): Tracked {
    const member = this.byName.get(name)
    if (member === undefined) throw new ReboundError('BAD_REQUEST', `no container named ${name} in compose project ${this.init.project}`)
    return member
  }

  private track (info: ContainerInspect): void {
    const labels = info.Config.Labels
    const role = ROLES.find((r) => r === labels[ROLE_LABEL])
    const service = labels[SERVICE_LABEL]
    if (role === undefined || service === undefined) return
    const name = role === 'peer' ? `${service}-${labels[NUMBER_LABEL] ?? info.Id.slice(0, 12)}` : service
    const ip = Object.values(info.NetworkSettings.Networks).find((n) => n.IPAddress !== '')?.IPAddress ?? ''
    const known = this.byId.get(info.Id)
    const state = { running: info.State.Running, paused: info.State.Paused, pid: info.State.Pid }
    if (known !== undefined) {
      const moved = ip !== '' && ip !== known.ip
      Object.assign(known, { ip: moved ? ip : known.ip, ...state })
      if (moved) for (const listener of this.addressListeners) listener(known.name, ip)
      return
    }
    const member: Tracked = {
      name, role, service, containerId: info.Id, containerName: info.Name.replace(/^\//, ''), hostname: info.Config.Hostname, ip,
      image: info.Image, mounts: info.Mounts, ...state, generation: 1, ending: false, exitRecordedFor: 0, cutFrom: undefined
    }
    this.byName.set(name, member)
    this.byId.set(info.Id, member)
  }

  private markStarted (member: Tracked): void {
    if (member.running) return
    member.running = true
    member.paused = false
    member.generation++
  }

  private markStopped (member: Tracked, code: number | null): void {
    member.running = false
    member.paused = false
    if (member.exitRecordedFor === member.generation) return
    member.exitRecordedFor = member.generation
    this.book.record({ name: member.name, pid: member.pid, code, signal: signalOf(code), atMs: Date.now(), expected: member.ending || this.stopping })
  }

  private intervene (name: string): void {
    this.book.intervened(name)
  }
}

/** 128 + n is how a container reports death by signal n (137 = SIGKILL). */
function signalOf (code: number | null): string | null {
  if (code === null || code <= 128) return null
  return Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] ?? null
}
