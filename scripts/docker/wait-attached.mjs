/**
 * Waits until every given node reports `state: "attached"` on its control port (GET
 * http://IP:7480/status), polling each once a second, at most --timeout-s. Prints one line per
 * node at the end (user, state, supernode) and exits 0 when all are attached, 1 otherwise, 2 on
 * bad usage. Used by ci-stage.sh with the peer containers' addresses.
 * Usage: wait-attached.mjs [--timeout-s 120] [--port 7480] IP...
 */
import { parseArgs } from 'node:util'

const POLL_MS = 1000
const REQUEST_TIMEOUT_MS = 2000
/** A CI stage must end: no wait longer than this, whatever is asked. */
const MAX_TIMEOUT_S = 1800

const { values, positionals: ips } = parseArgs({
  options: { 'timeout-s': { type: 'string', default: '120' }, port: { type: 'string', default: '7480' } },
  allowPositionals: true
})
const timeoutS = Number(values['timeout-s'])
if (ips.length === 0 || !Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > MAX_TIMEOUT_S) {
  process.stderr.write(`usage: wait-attached.mjs [--timeout-s 1..${MAX_TIMEOUT_S}] [--port N] IP...\n`)
  process.exit(2)
}

/** The last answer (or error) of each node. */
const last = new Map()

async function poll (ip) {
  try {
    const res = await fetch(`http://${ip}:${values.port}/status`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    last.set(ip, res.ok ? await res.json() : { state: `HTTP ${res.status}` })
  } catch (err) {
    last.set(ip, { state: err?.cause?.code ?? (err instanceof Error ? err.message : String(err)) })
  }
}

const attached = () => ips.filter((ip) => last.get(ip)?.state === 'attached').length
const startMs = Date.now()
const deadlineMs = startMs + timeoutS * 1000
while (true) {
  await Promise.all(ips.filter((ip) => last.get(ip)?.state !== 'attached').map(poll))
  if (attached() === ips.length || Date.now() >= deadlineMs) break
  await new Promise((resolve) => setTimeout(resolve, POLL_MS))
}
for (const ip of ips) {
  const status = last.get(ip) ?? {}
  process.stdout.write(`${ip.padEnd(15)} ${String(status.user ?? '-').padEnd(14)} ${String(status.state).padEnd(12)} ${status.supernode ?? '-'}\n`)
}
const seconds = ((Date.now() - startMs) / 1000).toFixed(1)
process.stdout.write(`wait-attached: ${attached()}/${ips.length} attached after ${seconds} s\n`)
process.exit(attached() === ips.length ? 0 : 1)
