/**
 * A reboot wave on a running compose cluster through the load generator's docker driver (the
 * real check of packages/loadgen/src/driver/docker-driver.ts): attach to project P's members,
 * SIGKILL a share of the peer containers at once, then start them all at once. Prints the times
 * and one line per victim (`victim <name> <new address>`), so the caller can wait for them to
 * attach again (wait-attached.mjs). Exit 0 when every victim is running again and no member
 * exited without being told to, 1 otherwise, 2 on bad usage.
 * At the end every member's log is copied into --logs-dir (as a run copies them into DIR/logs).
 * Needs the workspace built (npm run build). Usage:
 *   mass-restart.mjs --project P [--fraction 0.5] [--socket /var/run/docker.sock] [--logs-dir DIR]
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { attachDockerDriver } from '../../packages/loadgen/dist/src/driver/docker-driver.js'
import { DEFAULT_ENGINE_SOCKET, createEngineApi } from '../../packages/loadgen/dist/src/driver/engine-api.js'

const { values } = parseArgs({
  options: {
    project: { type: 'string' },
    fraction: { type: 'string', default: '0.5' },
    socket: { type: 'string', default: DEFAULT_ENGINE_SOCKET },
    'logs-dir': { type: 'string', default: join(tmpdir(), `rebound-mass-restart-${process.pid}`) }
  }
})
const fraction = Number(values.fraction)
if (values.project === undefined || !(fraction > 0 && fraction <= 1)) {
  process.stderr.write('usage: mass-restart.mjs --project P [--fraction (0,1]] [--socket PATH] [--logs-dir DIR]\n')
  process.exit(2)
}

const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2))
const driver = await attachDockerDriver({ engine: createEngineApi({ socketPath: values.socket }), project: values.project, logsDir: values['logs-dir'] }, log)
let ok = false
try {
  const peers = driver.members().filter((m) => m.role === 'peer')
  // Every other peer first, so a wave of half the peers hits the replicas evenly.
  const order = [...peers.filter((_, i) => i % 2 === 0), ...peers.filter((_, i) => i % 2 === 1)]
  const victims = order.slice(0, Math.ceil(fraction * peers.length)).map((m) => m.name)
  if (victims.length === 0) throw new Error(`no peer containers in compose project ${values.project}`)

  const killStart = Date.now()
  await Promise.all(victims.map(async (name) => { await driver.kill(name, 'SIGKILL') }))
  const killMs = Date.now() - killStart
  const down = victims.filter((name) => !driver.isRunning(name)).length
  const startStart = Date.now()
  await Promise.all(victims.map(async (name) => { await driver.restart(name) }))
  const startMs = Date.now() - startStart

  const members = new Map(driver.members().map((m) => [m.name, m]))
  for (const name of victims) process.stdout.write(`victim ${name} ${members.get(name)?.ip ?? '-'}\n`)
  const running = victims.filter((name) => driver.isRunning(name)).length
  const unexpected = driver.unexpectedExits()
  process.stdout.write(`mass-restart: ${victims.length} of ${peers.length} peer containers; SIGKILL at once ${killMs} ms (${down} down), ` +
    `start at once ${startMs} ms (${running} running); unexpected exits ${unexpected.length}\n`)
  for (const exit of unexpected) process.stdout.write(`unexpected exit: ${exit.name} code ${exit.code}\n`)
  ok = down === victims.length && running === victims.length && unexpected.length === 0
} catch (err) {
  process.stderr.write(`mass-restart: ${err instanceof Error ? err.message : String(err)}\n`)
} finally {
  await driver.stopAll()
}
process.exit(ok ? 0 : 1)
