/**
 * A minimal JSON HTTP server for control and observation endpoints. Request bodies are capped;
 * handlers return a status and a body; anything thrown becomes a JSON error with its code.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http'
import type { Logger } from 'pino'
import { ReboundError, errorCodeOf, describeError, type ErrorCode } from './errors.js'

export const MAX_HTTP_BODY_BYTES = 64 * 1024

export interface HttpReply {
  status: number
  body: unknown
  /** Defaults to JSON; `text/plain` bodies are sent as they are (Prometheus exposition). */
  contentType?: string
}

/** `headers` as Node parsed them (names lower-cased), e.g. for an `authorization` header. */
export type HttpHandler = (req: { body: unknown, query: URLSearchParams, headers: IncomingHttpHeaders }) => Promise<HttpReply> | HttpReply
/** Keys are 'METHOD /path'. */
export type HttpRoutes = Record<string, HttpHandler>

export interface HttpServerHandle {
  port: number
  close: () => Promise<void>
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400, NOT_AUTHORIZED: 403, TIMEOUT: 504, UNAVAILABLE: 503, OVERLOADED: 503, BUSY: 429, FRAME_TOO_LARGE: 413
}

export async function startHttpServer (host: string, port: number, routes: HttpRoutes, log: Logger): Promise<HttpServerHandle> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const handler = routes[`${req.method ?? 'GET'} ${url.pathname}`]
    const send = (reply: HttpReply): void => {
      const text = reply.contentType?.startsWith('text/') === true ? String(reply.body) : JSON.stringify(reply.body)
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json', connection: 'close' })
      res.end(text)
    }
    if (handler === undefined) {
      send({ status: 404, body: { code: 'BAD_REQUEST', message: `no route ${req.method} ${url.pathname}` } })
      return
    }
    readJsonBody(req)
      .then(async (body) => await handler({ body, query: url.searchParams, headers: req.headers }))
      .then(send, (err: unknown) => {
        const code = errorCodeOf(err)
        if (code === 'INTERNAL') log.error({ err: describeError(err), path: url.pathname }, 'http handler failed')
        send({ status: STATUS_OF[code] ?? 500, body: { code, message: (err as Error).message } })
      })
  })
  server.headersTimeout = 5000
  server.requestTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

async function readJsonBody (req: IncomingMessage): Promise<unknown> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength
    if (size > MAX_HTTP_BODY_BYTES) throw new ReboundError('FRAME_TOO_LARGE', `request body over ${MAX_HTTP_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ReboundError('BAD_REQUEST', 'request body is not JSON')
  }
}
