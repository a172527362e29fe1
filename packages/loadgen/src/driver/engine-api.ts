/**
 * A small client of the Docker Engine API over its unix socket (podman's Docker-compatible socket
 * serves the same calls): only what the docker driver needs, every answer checked with zod.
 *
 * Not `dockerode`: it depends on ssh2, whose optional native addon (cpu-features) is compiled at
 * install time, and the image copies node_modules from the host, so it must hold no native code
 * (scripts/docker/stage.sh); the calls below are plain HTTP.
 * Reference: https://docs.docker.com/reference/api/engine/ . Paths carry no API version: the
 * engine answers in its own, and recent engines refuse versions older than their minimum.
 */
import { Agent, request, type IncomingMessage } from 'node:http'
import { z } from 'zod'
import { ReboundError } from '@rebound/protocol'
import { LogTail } from './engine-logs.js'

export const DEFAULT_ENGINE_SOCKET = '/var/run/docker.sock'
export const ENGINE_REQUEST_TIMEOUT_MS = 30_000
/**
 * Engine requests in flight at most; more wait in the agent's queue. A mass kill of hundreds of
 * containers is still sent at once from our side, and the engine serialises much of it anyway.
 */
export const MAX_ENGINE_REQUESTS = 32
/** Bytes of one answer read at most (a list of thousands of containers fits). */
const MAX_BODY_BYTES = 32 * 1024 * 1024
/** Bytes of one event line at most (events are a few hundred bytes). */
const MAX_EVENT_LINE_BYTES = 64 * 1024

const Labels = z.record(z.string(), z.string()).nullable().transform((labels) => labels ?? {})
/** A container's place on one network: what a reconnect needs to put it back where it was. */
const Endpoint = z.object({
  IPAddress: z.string(),
  NetworkID: z.string().optional().transform((id) => id ?? ''),
  Aliases: z.array(z.string()).nullable().optional().transform((aliases) => aliases ?? [])
})
const Networks = z.record(z.string(), Endpoint)
/** Name is a volume's name (Type volume); Source its path on the host (or a bind mount's). */
const Mount = z.object({ Type: z.string(), Name: z.string().optional(), Source: z.string(), Destination: z.string(), RW: z.boolean() })
export type Mount = z.infer<typeof Mount>

export const ContainerSummary = z.object({ Id: z.string(), Names: z.array(z.string()), Labels, State: z.string() })
export type ContainerSummary = z.infer<typeof ContainerSummary>

export const ContainerInspect = z.object({
  Id: z.string(),
  /** The image's id (sha256:...), exact even when its tag has moved since. */
  Image: z.string(),
  /** With a leading slash: "/rebound_peer_3". */
  Name: z.string(),
  State: z.object({ Status: z.string(), Running: z.boolean(), Paused: z.boolean(), Pid: z.number(), ExitCode: z.number() }),
  /** Tty: whether the log comes multiplexed (no TTY) or raw (engine-logs.ts). */
  Config: z.object({ Hostname: z.string(), Labels, Tty: z.boolean().optional().transform((tty) => tty === true) }),
  NetworkSettings: z.object({ Networks: Networks.nullable().transform((n) => n ?? {}) }),
  Mounts: z.array(Mount).nullable().optional().transform((mounts) => mounts ?? [])
})
export type ContainerInspect = z.infer<typeof ContainerInspect>

export const EngineEvent = z.object({
  Type: z.string(),
  Action: z.string(),
  Actor: z.object({ ID: z.string(), Attributes: z.record(z.string(), z.string()).optional() }),
  timeNano: z.number().optional()
})
export type EngineEvent = z.infer<typeof EngineEvent>

export interface EngineApiInit {
  socketPath?: string
  timeoutMs?: number
}

export interface EngineApi {
  /** Containers (running or not) carrying every one of `labels` ("key=value"). */
  list: (labels: readonly string[]) => Promise<ContainerSummary[]>
  inspect: (id: string) => Promise<ContainerInspect>
  /** False when the container was not running (HTTP 409). */
  kill: (id: string, signal: string) => Promise<boolean>
  /** False when it was already running (HTTP 304). */
  start: (id: string) => Promise<boolean>
  /** Freeze (cgroup freezer) and thaw; false when not running, or not paused (HTTP 409). */
  pause: (id: string) => Promise<boolean>
  unpause: (id: string) => Promise<boolean>
  /**
   * The container's stdout and stderr as one text, its last `maxBytes` bytes (`tty`: Config.Tty,
   * whether the engine multiplexes them); `dropped` bytes were cut off the front.
   */
  logs: (id: string, tty: boolean, maxBytes: number) => Promise<{ text: Buffer, dropped: number }>
  /** Resolves once the container is not running (at once if it is not), or throws TIMEOUT. */
  waitStopped: (id: string, timeoutMs: number) => Promise<void>
  /** waitStopped, and the container's exit code. */
  wait: (id: string, timeoutMs: number) => Promise<number>
  /** Create a container (POST /containers/create, `body` as the API takes it); returns its id. */
  create: (body: Record<string, unknown>) => Promise<string>
  /** Remove a container, killing it first if it runs; false when there is none. */
  remove: (id: string) => Promise<boolean>
  /** Take a container off a network (forced: also when its endpoint is in a bad state). */
  disconnect: (networkId: string, containerId: string) => Promise<void>
  /** Put a container on a network at `ip` (empty: any) with `aliases` (its names in the network's DNS). */
  connect: (networkId: string, containerId: string, ip: string, aliases: readonly string[]) => Promise<void>
  /**
   * Calls `onEvent` for each container event matching `labels` until `signal` aborts; `onOpen`
   * once the engine has accepted the subscription (no later event is missed). Resolves when the
   * stream ends.
   */
  events: (labels: readonly string[], onEvent: (event: EngineEvent) => void, signal: AbortSignal, onOpen?: () => void) => Promise<void>
  close: () => void
}

interface Answer { status: number, body: Buffer }

export function createEngineApi (init: EngineApiInit = {}): EngineApi {
  const socketPath = init.socketPath ?? DEFAULT_ENGINE_SOCKET
  const timeoutMs = init.timeoutMs ?? ENGINE_REQUEST_TIMEOUT_MS
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_ENGINE_REQUESTS })

  const call = async (method: string, path: string, callTimeoutMs = timeoutMs, json?: unknown): Promise<Answer> => await new Promise((resolve, reject) => {
    const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json))
    const headers = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(payload.length) }
    const req = request({ socketPath, path, method, agent, headers, signal: AbortSignal.timeout(callTimeoutMs) }, (res) => {
      readBody(res).then((body) => { resolve({ status: res.statusCode ?? 0, body }) }, reject)
    })
    req.on('error', (err) => { reject(engineError(err, method, path, callTimeoutMs)) })
    req.end(payload)
  })

  const expect = (answer: Answer, ok: readonly number[], what: string): void => {
    if (!ok.includes(answer.status)) {
      throw new ReboundError(answer.status === 404 ? 'BAD_REQUEST' : 'UNAVAILABLE', `engine: ${what}: HTTP ${answer.status} ${messageOf(answer.body)}`, { status: answer.status })
    }
  }
  const json = <T>(answer: Answer, schema: z.ZodType<T>, what: string): T => {
    const parsed = schema.safeParse(parseJson(answer.body.toString('utf8')))
    if (!parsed.success) throw new ReboundError('INTERNAL', `engine: unexpected answer to ${what}: ${parsed.error.message}`)
    return parsed.data
  }
  /** 204 done, `noop` (304/409): nothing to do in that state; anything else fails. */
  const action = async (id: string, verb: string, noop: number, query = ''): Promise<boolean> => {
    const answer = await call('POST', `/containers/${encodeURIComponent(id)}/${verb}${query}`)
    if (answer.status === noop) return false
    expect(answer, [204], `${verb} ${id}`)
    return true
  }

  /** condition=not-running: answers at once for a container that is not running. */
  const waitExit = async (id: string, waitMs: number): Promise<number> => {
    const answer = await call('POST', `/containers/${encodeURIComponent(id)}/wait?condition=not-running`, waitMs)
    expect(answer, [200], `wait for ${id}`)
    return json(answer, z.object({ StatusCode: z.number() }), `wait for ${id}`).StatusCode
  }

  return {
    list: async (labels) => {
      const filters = encodeURIComponent(JSON.stringify({ label: labels }))
      const answer = await call('GET', `/containers/json?all=1&filters=${filters}`)
      expect(answer, [200], 'list containers')
      return json(answer, z.array(ContainerSummary), 'list containers')
    },
    inspect: async (id) => {
      const answer = await call('GET', `/containers/${encodeURIComponent(id)}/json`)
      expect(answer, [200], `inspect ${id}`)
      return json(answer, ContainerInspect, `inspect ${id}`)
    },
    kill: async (id, signal) => await action(id, 'kill', 409, `?signal=${encodeURIComponent(signal)}`),
    start: async (id) => await action(id, 'start', 304),
    pause: async (id) => await action(id, 'pause', 409),
    unpause: async (id) => await action(id, 'unpause', 409),
    logs: async (id, tty, maxBytes) => {
      const tail = new LogTail(maxBytes, tty)
      const path = `/containers/${encodeURIComponent(id)}/logs?stdout=1&stderr=1`
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ socketPath, path, method: 'GET', agent, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
          res.on('data', (chunk: Buffer) => { if (res.statusCode === 200) tail.push(chunk) })
          res.on('end', () => { resolve(res.statusCode ?? 0) })
          res.on('error', (err) => { reject(engineError(err, 'GET', path, timeoutMs)) })
        })
        req.on('error', (err) => { reject(engineError(err, 'GET', path, timeoutMs)) })
        req.end()
      })
      if (status !== 200) throw new ReboundError(status === 404 ? 'BAD_REQUEST' : 'UNAVAILABLE', `engine: logs of ${id}: HTTP ${status}`, { status })
      return { text: tail.bytes(), dropped: tail.dropped }
    },
    waitStopped: async (id, waitMs) => { await waitExit(id, waitMs) },
    wait: async (id, waitMs) => await waitExit(id, waitMs),
    create: async (body) => {
      const answer = await call('POST', '/containers/create', timeoutMs, body)
      expect(answer, [201], 'create a container')
      return json(answer, z.object({ Id: z.string() }), 'create a container').Id
    },
    remove: async (id) => {
      const answer = await call('DELETE', `/containers/${encodeURIComponent(id)}?force=1`)
      if (answer.status === 404) return false
      expect(answer, [204], `remove ${id}`)
      return true
    },
    disconnect: async (networkId, containerId) => {
      const answer = await call('POST', `/networks/${encodeURIComponent(networkId)}/disconnect`, timeoutMs, { Container: containerId, Force: true })
      expect(answer, [200], `disconnect ${containerId} from ${networkId}`)
    },
    connect: async (networkId, containerId, ip, aliases) => {
      const EndpointConfig = { ...(ip === '' ? {} : { IPAMConfig: { IPv4Address: ip } }), Aliases: aliases }
      const answer = await call('POST', `/networks/${encodeURIComponent(networkId)}/connect`, timeoutMs, { Container: containerId, EndpointConfig })
      expect(answer, [200], `connect ${containerId} to ${networkId}`)
    },
    events: async (labels, onEvent, signal, onOpen) => {
      const filters = encodeURIComponent(JSON.stringify({ type: ['container'], label: labels }))
      await streamLines(socketPath, `/events?filters=${filters}`, signal, (line) => {
        const parsed = EngineEvent.safeParse(parseJson(line))
        if (parsed.success) onEvent(parsed.data)
      }, onOpen)
    },
    close: () => { agent.destroy() }
  }
}

async function readBody (res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) {
      res.destroy()
      throw new ReboundError('INTERNAL', `engine answer over ${MAX_BODY_BYTES} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/**
 * A long-lived GET whose body is one JSON document per line (the events stream). Its own
 * connection, outside the agent, so it never holds one of the bounded request slots.
 */
async function streamLines (socketPath: string, path: string, signal: AbortSignal, onLine: (line: string) => void, onOpen?: () => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', agent: false, signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume()
        reject(new ReboundError('UNAVAILABLE', `engine: events: HTTP ${res.statusCode}`))
        return
      }
      onOpen?.()
      let pending = ''
      res.setEncoding('utf8')
      res.on('data', (text: string) => {
        pending += text
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        if (pending.length > MAX_EVENT_LINE_BYTES) pending = ''
        for (const line of lines) if (line.trim() !== '') onLine(line)
      })
      res.on('end', () => { resolve() })
      res.on('error', () => { resolve() })
    })
    req.on('error', (err) => {
      if (signal.aborted) resolve()
      else reject(engineError(err, 'GET', path, 0))
    })
    req.end()
  })
}

function engineError (err: Error, method: string, path: string, timeoutMs: number): ReboundError {
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return new ReboundError('TIMEOUT', `engine: ${method} ${path}: no answer within ${timeoutMs} ms`)
  return new ReboundError('UNAVAILABLE', `engine: ${method} ${path}: ${err.message}`, { code: (err as NodeJS.ErrnoException).code })
}

/** undefined for text that is not JSON, which the schema then refuses. */
function parseJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function messageOf (body: Buffer): string {
  try {
    const message = (JSON.parse(body.toString('utf8')) as { message?: unknown }).message
    return typeof message === 'string' ? message : ''
  } catch {
    return body.toString('utf8').slice(0, 200)
  }
}
