#!/usr/bin/env node
/**
 * rebound-swarm: many rebound peers in one process (each a full libp2p node with its own identity),
 * or with --login-load a login load generator. Parses configuration, starts the members and the
 * one HTTP control port, stops on SIGTERM/SIGINT. A SIGKILL of this process takes every member
 * down at once: that is how a load generator stages a mass restart.
 */
// Before anything loads node:sqlite (the members' inboxes), so its experimental warning is filtered.
import '@rebound/protocol/quiet-sqlite-warning'
import { createLogger, parseConfig, runMain, startHttpServer, stopOnSignals, usage } from '@rebound/protocol'
import { loadRoutes } from './load-api.js'
import { LoginLoad } from './login-load.js'
import { Swarm } from './swarm.js'
import { swarmRoutes } from './swarm-api.js'
import { PROGRAM, SWARM_OPTIONS, SwarmConfigSchema, controlIpOf, memberIdentity, type SwarmConfig } from './swarm-config.js'
import { SwarmMetrics } from './swarm-metrics.js'

/** Stopping hundreds of libp2p nodes takes a while on a busy machine; then the process exits anyway. */
export const STOP_DEADLINE_MS = 20_000

const SUMMARY = 'Many rebound peers (clients) in one process, each its own libp2p node; or, with --login-load, a login load generator.'

async function runSwarm (config: SwarmConfig): Promise<void> {
  const controlIp = controlIpOf(config)
  const log = createLogger({ service: PROGRAM, level: config.logLevel, bindings: { addr: controlIp } })
  const swarm = new Swarm(config, config.libp2pDebug === undefined ? { log } : { log, debugFilter: config.libp2pDebug })
  const metrics = new SwarmMetrics(swarm)
  // The control port first, so an observer sees members appear as they start.
  const http = await startHttpServer(controlIp, config.httpPort, swarmRoutes(swarm, metrics), log)
  stopOnSignals(log, async () => { await http.close(); await swarm.stop() }, STOP_DEADLINE_MS)
  log.info({ count: config.count, firstIp: config.firstIp, httpPort: http.port, startSpreadMs: config.startSpreadMs }, 'swarm starting')
  await swarm.start()
}

async function runLoginLoad (config: SwarmConfig): Promise<void> {
  const controlIp = controlIpOf(config)
  const log = createLogger({ service: PROGRAM, level: config.logLevel, bindings: { addr: controlIp, role: 'login-load' } })
  const target = config.loginServers[0] ?? ''
  const members = Array.from({ length: config.count }, (_, i) => memberIdentity(config, i))
  const load = new LoginLoad({ target, members, passwordSeed: config.passwordSeed, register: config.register }, log, config.libp2pDebug)
  const http = await startHttpServer(controlIp, config.httpPort, loadRoutes(load), log)
  stopOnSignals(log, async () => { await http.close(); await load.stop() }, STOP_DEADLINE_MS)
  log.info({ connections: config.count, target, httpPort: http.port }, 'login load starting')
  await load.prepare()
}

runMain(PROGRAM, async () => {
  const config = parseConfig(process.argv.slice(2), process.env, SWARM_OPTIONS, SwarmConfigSchema)
  if (config === undefined) {
    process.stdout.write(usage(PROGRAM, SUMMARY, SWARM_OPTIONS) + '\n')
    return
  }
  await (config.loginLoad ? runLoginLoad(config) : runSwarm(config))
})
