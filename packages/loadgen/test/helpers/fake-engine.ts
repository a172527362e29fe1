/**
 * A fake Docker Engine on a unix socket: the calls engine-api.ts makes, over an in-memory table
 * of containers, with the engine's status codes (204 done, 304 already started, 409 not running)
 * and its event stream. Each kill and start takes `actionDelayMs`, so a test can tell requests
 * sent together from requests sent one after another; `maxInFlight` records how many overlapped.
 * Created containers (a wipe's helpers) run no command: started, they exit with `helperExitCode`
 * (or never, with `helperHangs`), and `helpers` records how each was created.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface FakeContainer {
  id: string
  name: string
  hostname: string
  labels: Record<string, string>
  ip: string
  running: boolean
  paused: boolean
  pid: number
  exitCode: number
  /** Created with a TTY: its log is served raw, else multiplexed in 8-byte-header frames. */
  tty: boolean
  /** What the container wrote, in order (GET /containers/{id}/logs). */
  output: Array<{ stream: 'stdout' | 'stderr', text: string }>
  image: string
  mounts: Array<{ Type: string, Name?: string, Source: string, Destination: string, RW: boolean }>
  /** Set for a container made through POST /containers/create: what it was created with. */
  created?: Record<string, unknown>
  /** On the project's network (POST /networks/{id}/disconnect and connect change it). */
  connected: boolean
  aliases: string[]
}

/** The one network every fake container is on. */
export const FAKE_NETWORK_ID = 'net-rebound'

const SIGNAL_EXIT: Record<string, number> = { SIGKILL: 137, SIGTERM: 143 }

export class FakeEngine {
  readonly containers = new Map<string, FakeContainer>()
  /** Every call, as "METHOD path-without-query". */
  readonly calls: string[] = []
  maxInFlight = 0
  actionDelayMs = 50
  helperExitCode = 0
  helperHangs = false
  /** Every network connect, as "<container> <ip> <aliases,...>". */
  readonly connects: string[] = []
  /** Every container created through the API, as created (it is removed from `containers` on DELETE). */
  readonly helpers: FakeContainer[] = []
  socketPath = ''
  private inFlight = 0
  private nextPid = 1000
  private nextIp = 100
  private nextHelper = 1
  private server: Server | undefined
  private dir = ''
  private readonly listeners = new Set<ServerResponse>()

  add (c: Partial<FakeContainer> & { id: string, labels: Record<string, string> }): FakeContainer {
    const container: FakeContainer = { name: `/${c.id}`, hostname: c.id.slice(0, 12), ip: this.ip(), running: true, paused: false, pid: this.nextPid++, exitCode: 0, tty: false, output: [], image: 'sha256:rebound', mounts: [], connected: true, aliases: [c.id.slice(0, 12)], ...c }
    this.containers.set(container.id, container)
    return container
  }

  /** The container's process dies on its own (an unexpected exit). */
  crash (id: string, exitCode: number): void {
    const c = this.get(id)
    c.running = false
    c.exitCode = exitCode
    this.emit(c, 'die', { exitCode: String(exitCode) })
  }

  /** Emit an event without changing anything (a late or stale event). */
  emit (c: FakeContainer, action: string, attributes: Record<string, string> = {}): void {
    const line = JSON.stringify({ Type: 'container', Action: action, Actor: { ID: c.id, Attributes: { ...c.labels, ...attributes } }, timeNano: Date.now() * 1e6 }) + '\n'
    for (const res of this.listeners) res.write(line)
  }

  async start (): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'rebound-engine-'))
    this.socketPath = join(this.dir, 'docker.sock')
    this.server = createServer((req, res) => { void this.handle(req, res) })
    await new Promise<void>((resolve) => { this.server?.listen(this.socketPath, resolve) })
  }

  async stop (): Promise<void> {
    for (const res of this.listeners) res.end()
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => { this.server?.close(() => { resolve() }) })
    await rm(this.dir, { recursive: true, force: true })
  }

  get (id: string): FakeContainer {
    const c = this.containers.get(id)
    if (c === undefined) throw new Error(`no container ${id}`)
    return c
  }

  private ip (): string {
    return `10.77.128.${this.nextIp++}`
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://engine')
    this.calls.push(`${req.method} ${url.pathname}`)
    if (req.method === 'GET' && url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' })
      // As the engine does: the subscription is answered at once, events follow.
      res.flushHeaders()
      this.listeners.add(res)
      res.on('close', () => { this.listeners.delete(res) })
      return
    }
    if (req.method === 'GET' && url.pathname === '/containers/json') {
      const wanted = (JSON.parse(url.searchParams.get('filters') ?? '{}') as { label?: string[] }).label ?? []
      const list = [...this.containers.values()].filter((c) => wanted.every((l) => {
        const [key = '', value] = l.split('=', 2)
        return value === undefined ? key in c.labels : c.labels[key] === value
      }))
      this.json(res, 200, list.map((c) => ({ Id: c.id, Names: [c.name], Labels: c.labels, State: c.running ? 'running' : 'exited' })))
      return
    }
    if (req.method === 'POST' && url.pathname === '/containers/create') {
      const body = JSON.parse(await readAll(req)) as Record<string, unknown>
      const helper = this.add({ id: `helper-${this.nextHelper++}`, labels: (body.Labels ?? {}) as Record<string, string>, running: false, created: body })
      this.helpers.push(helper)
      this.json(res, 201, { Id: helper.id })
      return
    }
    const network = req.method === 'POST' ? /^\/networks\/([^/]+)\/(connect|disconnect)$/.exec(url.pathname) : null
    if (network !== null) {
      this.network(network[1] ?? '', network[2] ?? '', JSON.parse(await readAll(req)) as NetworkBody, res)
      return
    }
    const removal = req.method === 'DELETE' ? /^\/containers\/([^/]+)$/.exec(url.pathname) : null
    if (removal !== null) {
      const existed = this.containers.delete(decodeURIComponent(removal[1] ?? ''))
      return existed ? this.empty(res, 204) : this.json(res, 404, { message: 'No such container' })
    }
    const match = /^\/containers\/([^/]+)\/(json|kill|start|pause|unpause|wait|logs)$/.exec(url.pathname)
    const c = match === null ? undefined : this.containers.get(decodeURIComponent(match[1] ?? ''))
    if (match === null || c === undefined) {
      this.json(res, 404, { message: 'No such container' })
      return
    }
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      await this.act(match[2] ?? '', c, url, res)
    } finally {
      this.inFlight--
    }
  }

  private async act (verb: string, c: FakeContainer, url: URL, res: ServerResponse): Promise<void> {
    const delay = async (): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, this.actionDelayMs)) }
    if (verb === 'json') {
      this.json(res, 200, {
        Id: c.id,
        Image: c.image,
        Mounts: c.mounts,
        Name: c.name,
        State: { Status: c.paused ? 'paused' : (c.running ? 'running' : 'exited'), Running: c.running, Paused: c.paused, Pid: c.running ? c.pid : 0, ExitCode: c.exitCode },
        Config: { Hostname: c.hostname, Labels: c.labels, Tty: c.tty },
        NetworkSettings: { Networks: c.connected ? { rebound_rebound: { IPAddress: c.running ? c.ip : '', NetworkID: FAKE_NETWORK_ID, Aliases: c.aliases } } : {} }
      })
    } else if (verb === 'logs') {
      res.writeHead(200, { 'content-type': c.tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' })
      // Header and payload as separate writes, as the engine flushes them.
      for (const { stream, text } of c.output) {
        const payload = Buffer.from(text)
        if (!c.tty) {
          const header = Buffer.alloc(8)
          header.writeUInt8(stream === 'stdout' ? 1 : 2, 0)
          header.writeUInt32BE(payload.length, 4)
          res.write(header)
        }
        res.write(payload)
      }
      res.end()
    } else if (verb === 'kill') {
      if (!c.running) return this.json(res, 409, { message: 'is not running' })
      await delay()
      const signal = url.searchParams.get('signal') ?? 'SIGKILL'
      const exitCode = SIGNAL_EXIT[signal]
      if (exitCode !== undefined) {
        Object.assign(c, { running: false, paused: false, exitCode })
        this.emit(c, 'die', { exitCode: String(exitCode) })
      }
      this.empty(res, 204)
    } else if (verb === 'start') {
      if (c.running) return this.empty(res, 304)
      await delay()
      // Like an unpinned compose container: a new process, and a new address.
      Object.assign(c, { running: true, pid: this.nextPid++, ip: this.ip(), exitCode: 0 })
      this.emit(c, 'start')
      this.empty(res, 204)
      if (c.created !== undefined && !this.helperHangs) Object.assign(c, { running: false, exitCode: this.helperExitCode })
    } else if (verb === 'pause' || verb === 'unpause') {
      if (!c.running || c.paused === (verb === 'pause')) return this.json(res, 409, { message: `cannot ${verb}` })
      c.paused = verb === 'pause'
      this.emit(c, verb)
      this.empty(res, 204)
    } else {
      // condition=not-running: answers once the container has stopped (bounded for the tests).
      for (let i = 0; i < 500 && c.running; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      this.json(res, 200, { StatusCode: c.exitCode })
    }
  }

  /** As the engine: disconnect needs Force for nothing here; connect at a taken address is refused. */
  private network (id: string, verb: string, body: NetworkBody, res: ServerResponse): void {
    const c = this.containers.get(body.Container)
    if (id !== FAKE_NETWORK_ID || c === undefined) return this.json(res, 404, { message: 'No such network or container' })
    if (verb === 'disconnect') {
      if (!c.connected || body.Force !== true) return this.json(res, 400, { message: 'not connected, or not forced' })
      c.connected = false
      return this.json(res, 200, {})
    }
    if (c.connected) return this.json(res, 403, { message: 'already connected' })
    const ip = body.EndpointConfig?.IPAMConfig?.IPv4Address ?? this.ip()
    if ([...this.containers.values()].some((other) => other.connected && other.ip === ip)) return this.json(res, 403, { message: 'Address already in use' })
    Object.assign(c, { connected: true, ip, aliases: body.EndpointConfig?.Aliases ?? [] })
    this.connects.push(`${c.id} ${ip} ${c.aliases.join(',')}`)
    this.json(res, 200, {})
  }

  private json (res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }

  private empty (res: ServerResponse, status: number): void {
    res.writeHead(status)
    res.end()
  }
}

interface NetworkBody {
  Container: string
  Force?: boolean
  EndpointConfig?: { IPAMConfig?: { IPv4Address?: string }, Aliases?: string[] }
}

async function readAll (req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
