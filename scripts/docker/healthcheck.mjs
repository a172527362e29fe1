/**
 * The compose services' health check, run by the entrypoint (`healthcheck PATH [FIELD=VALUE...]`):
 * GET http://$REBOUND_LISTEN:$REBOUND_HTTP_PORT<PATH>, healthy when it answers 200 with a JSON
 * body whose top-level FIELDs equal the VALUEs (compared as text: `ok=true`, `state=attached`).
 * In Node because node:22-slim has neither curl nor wget; a check costs a Node start (~40 ms of
 * CPU), which is why the compose file spaces the checks of its many peers widely.
 * Exit 0 healthy, 1 not (Docker's convention); the reason on stdout, which `docker inspect` shows.
 */
const TIMEOUT_MS = 2000
const DEFAULT_HTTP_PORT = '7480'

const [path, ...expected] = process.argv.slice(2)
if (path === undefined || !path.startsWith('/')) {
  process.stdout.write('usage: healthcheck PATH [FIELD=VALUE...]\n')
  process.exit(1)
}
const url = `http://${process.env.REBOUND_LISTEN}:${process.env.REBOUND_HTTP_PORT ?? DEFAULT_HTTP_PORT}${path}`

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
  const body = await res.json().catch(() => ({}))
  const wrong = expected.filter((pair) => {
    const [field, value] = pair.split('=', 2)
    return String(body?.[field]) !== value
  })
  if (res.status !== 200 || wrong.length > 0) {
    process.stdout.write(`unhealthy: ${url} answered ${res.status}${wrong.length > 0 ? `, expected ${wrong.join(' ')}` : ''}\n`)
    process.exit(1)
  }
  process.stdout.write(`healthy: ${url}\n`)
} catch (err) {
  process.stdout.write(`unhealthy: ${url}: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
