/**
 * The `process` driver: every login server and node is a child OS process of the load generator,
 * started with the Node that runs us, its stdout and stderr appended to DIR/logs/<name>.log. Signals
 * go only to PIDs this driver spawned, and only while the child has not yet exited (so a recycled
 * PID is never hit). wipeData erases what a process's flags name: its --data-dir (own) and its
 * --store (shared by the login servers).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ReboundError, sleep, type Logger } from '@rebound/protocol'
import type { ClusterDriver, DriverSignal, ExitRecord, ProcessSpec, Program, WipeScope } from './driver.js'
import { ExitBook } from './exit-book.js'

/** After SIGTERM on stop, how long a process may take to exit before it gets SIGKILL. */
export const STOP_GRACE_MS = 3000
/** How long to wait for a SIGKILLed process's exit to be reported. */
export const KILL_WAIT_MS = 5000
/** REBOUND_* variables passed through from our environment; the others would leak our own config. */
const INHERITED_REBOUND_ENV = new Set(['REBOUND_LOG_LEVEL', 'REBOUND_LIBP2P_DEBUG'])
/** SQLite's files of one database in WAL mode (rebound-bootstrap --store). */
export const STORE_FILE_SUFFIXES = ['', '-wal', '-shm'] as const

/** Workspace layout: this file compiles to packages/loadgen/dist/src/driver/process-driver.js. */
export const DEFAULT_BINS: Record<Program, string> = {
  node: fileURLToPath(new URL('../../../../node/dist/src/main.js', import.meta.url)),
  bootstrap: fileURLToPath(new URL('../../../../bootstrap/dist/src/main.js', import.meta.url)),
  swarm: fileURLToPath(new URL('../../../../node/dist/src/swarm/main.js', import.meta.url))
}

export interface ProcessDriverInit {
  logsDir: string
  bins: Record<Program, string>
  /** Environment every child starts from (REBOUND_* variables are filtered, see above). */
  baseEnv: NodeJS.ProcessEnv
  /** The Node binary; defaults to the one running us. */
  execPath?: string
}

interface Managed {
  spec: ProcessSpec
  child: ChildProcess
  pid: number
  generation: number
  exited: Promise<void>
  done: boolean
  /** Set when we sent a terminating signal: the exit that follows is expected. */
  ending: boolean
}

/** The value after `flag` in `args`, if given. */
function flagValue (args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag)
  return at === -1 ? undefined : args[at + 1]
}

export function checkBins (bins: Record<Program, string>): void {
  for (const [program, path] of Object.entries(bins)) {
    if (!existsSync(path)) {
      throw new ReboundError('BAD_CONFIG', `rebound-${program} not found at ${path} (build it with 'npm run build', or set REBOUND_${program.toUpperCase()}_BIN)`)
    }
  }
}

export function createProcessDriver (init: ProcessDriverInit, log: Logger): ClusterDriver {
  return new ProcessDriver(init, log)
}

class ProcessDriver implements ClusterDriver {
  readonly kind = 'process'
  private readonly init: ProcessDriverInit
  private readonly log: Logger
  private readonly procs = new Map<string, Managed>()
  private readonly book: ExitBook
  private stopping = false

  constructor (init: ProcessDriverInit, log: Logger) {
    this.init = init
    this.log = log.child({ component: 'process-driver' })
    this.book = new ExitBook(this.log)
  }

  async start (spec: ProcessSpec): Promise<void> {
    if (this.stopping) throw new ReboundError('CLOSED', 'driver is stopping')
    if (this.isRunning(spec.name)) throw new ReboundError('BAD_REQUEST', `${spec.name} is already running`)
    mkdirSync(this.init.logsDir, { recursive: true })
    const generation = (this.procs.get(spec.name)?.generation ?? 0) + 1
    this.intervene(spec.name)
    const fd = openSync(this.logPath(spec.name), 'a')
    let child: ChildProcess
    try {
      // A marker line in the child's own log, so restarts are visible when reading it.
      writeSync(fd, JSON.stringify({ time: Date.now(), service: 'loadgen', msg: 'process starting', name: spec.name, generation }) + '\n')
      child = spawn(this.init.execPath ?? process.execPath, [this.init.bins[spec.program], ...spec.args], {
        env: { ...this.childEnv(), ...spec.env },
        stdio: ['ignore', fd, fd]
      })
    } finally {
      closeSync(fd) // the child holds its own copy
    }
    if (child.pid === undefined) {
      const err = await new Promise<Error>((resolve) => child.once('error', resolve))
      throw new ReboundError('INTERNAL', `could not start ${spec.name}: ${err.message}`)
    }
    const managed: Managed = { spec, child, pid: child.pid, generation, done: false, ending: false, exited: Promise.resolve() }
    managed.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        managed.done = true
        this.recordExit(managed, code, signal)
        resolve()
      })
    })
    child.on('error', (err) => { this.log.warn({ name: spec.name, err: err.message }, 'child process error') })
    this.procs.set(spec.name, managed)
    this.log.info({ name: spec.name, pid: managed.pid, generation }, 'started')
  }

  async kill (name: string, signal: DriverSignal): Promise<void> {
    const managed = this.procs.get(name)
    if (managed === undefined) throw new ReboundError('BAD_REQUEST', `no process named ${name}`)
    if (managed.done) return
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      managed.ending = true
      this.intervene(name)
    }
    managed.child.kill(signal)
    this.log.info({ name, pid: managed.pid, signal }, 'signalled')
    if (signal === 'SIGKILL') await this.waitExit(managed, KILL_WAIT_MS)
  }

  async restart (name: string): Promise<void> {
    const managed = this.procs.get(name)
    if (managed === undefined) throw new ReboundError('BAD_REQUEST', `no process named ${name}`)
    if (!managed.done) await this.kill(name, 'SIGKILL')
    if (!managed.done) throw new ReboundError('TIMEOUT', `${name} (pid ${managed.pid}) did not exit after SIGKILL`)
    await this.start(managed.spec)
  }

  isRunning (name: string): boolean {
    const managed = this.procs.get(name)
    return managed !== undefined && !managed.done
  }

  pid (name: string): number | undefined {
    const managed = this.procs.get(name)
    return managed === undefined || managed.done ? undefined : managed.pid
  }

  generation (name: string): number {
    return this.procs.get(name)?.generation ?? 0
  }

  interventions (name: string): number {
    return this.book.interventions(name)
  }

  runningCount (): number {
    let count = 0
    for (const managed of this.procs.values()) if (!managed.done) count++
    return count
  }

  exits (): readonly ExitRecord[] {
    return this.book.exits()
  }

  unexpectedExits (): readonly ExitRecord[] {
    return this.book.unexpectedExits()
  }

  logPath (name: string): string {
    return join(this.init.logsDir, `${name}.log`)
  }

  /**
   * `own`: each stopped process's --data-dir, removed and made again empty (identity, ticket,
   * backoff state, device store and inbox; a swarm's holds all its members'). `shared`: the
   * --store files of the named login servers, deleted under them (what they commit next goes to
   * files nobody will open again).
   */
  async wipeData (names: readonly string[], scope: WipeScope): Promise<string[]> {
    const erased = new Set<string>()
    for (const name of names) {
      const managed = this.procs.get(name)
      if (managed === undefined) throw new ReboundError('BAD_REQUEST', `no process named ${name}`)
      if (scope === 'own' && !managed.done) throw new ReboundError('BAD_REQUEST', `cannot erase the data of a running process: ${name}`)
      const flag = scope === 'own' ? '--data-dir' : '--store'
      const path = flagValue(managed.spec.args, flag)
      if (path === undefined) throw new ReboundError('BAD_CONFIG', `${name} was started without ${flag}: nothing of that kind to erase`)
      for (const suffix of scope === 'own' ? [''] : STORE_FILE_SUFFIXES) erased.add(`${path}${suffix}`)
    }
    for (const path of erased) {
      await rm(path, { recursive: true, force: true })
      if (scope === 'own') await mkdir(path, { recursive: true })
    }
    return [...erased]
  }

  async stopAll (): Promise<void> {
    this.stopping = true
    const live = [...this.procs.values()].filter((managed) => !managed.done)
    for (const managed of live) {
      managed.ending = true
      // A frozen (SIGSTOPped) process cannot act on SIGTERM until it is thawed.
      managed.child.kill('SIGCONT')
      managed.child.kill('SIGTERM')
    }
    await Promise.race([Promise.all(live.map(async (m) => await m.exited)), sleep(STOP_GRACE_MS)])
    const stubborn = live.filter((managed) => !managed.done)
    for (const managed of stubborn) {
      this.log.warn({ name: managed.spec.name, pid: managed.pid }, 'no exit after SIGTERM, sending SIGKILL')
      managed.child.kill('SIGKILL')
    }
    await Promise.race([Promise.all(stubborn.map(async (m) => await m.exited)), sleep(KILL_WAIT_MS)])
  }

  killAllNow (): void {
    this.stopping = true
    for (const managed of this.procs.values()) {
      if (managed.done) continue
      managed.ending = true
      managed.child.kill('SIGKILL')
    }
  }

  private intervene (name: string): void {
    this.book.intervened(name)
  }

  private async waitExit (managed: Managed, timeoutMs: number): Promise<void> {
    await Promise.race([managed.exited, sleep(timeoutMs)])
  }

  private recordExit (managed: Managed, code: number | null, signal: NodeJS.Signals | null): void {
    this.book.record({ name: managed.spec.name, pid: managed.pid, code, signal, atMs: Date.now(), expected: managed.ending || this.stopping })
  }

  private childEnv (): Record<string, string> {
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(this.init.baseEnv)) {
      if (value === undefined) continue
      if (key.startsWith('REBOUND_') && !INHERITED_REBOUND_ENV.has(key)) continue
      env[key] = value
    }
    return env
  }
}
