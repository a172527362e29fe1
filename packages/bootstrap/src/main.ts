#!/usr/bin/env node
/**
 * rebound-bootstrap: parse the configuration, start a login server, stop on SIGTERM/SIGINT.
 */
import '@rebound/protocol/quiet-sqlite-warning'
import { readFile } from 'node:fs/promises'
import { ReboundError, createLogger, privateKeyFromPem, runMain, stopOnSignals } from '@rebound/protocol'
import { PROGRAM, helpText, libp2pDebugFilter, loadConfig } from './config.js'
import { LoginServer } from './login-server.js'

async function main (): Promise<void> {
  const config = loadConfig(process.argv.slice(2), process.env)
  if (config === undefined) {
    process.stdout.write(`${helpText()}\n`)
    return
  }
  const libp2pDebug = libp2pDebugFilter(process.env)
  let pem: string
  try {
    pem = await readFile(config.clusterKeyFile, 'utf8')
  } catch (err) {
    throw new ReboundError('BAD_CONFIG', `--cluster-key-file: cannot read ${config.clusterKeyFile}: ${(err as Error).message}`)
  }
  const clusterPrivateKey = privateKeyFromPem(pem)
  const log = createLogger({ service: PROGRAM, level: config.logLevel, bindings: { addr: config.listen } })
  const { clusterKeyFile: _file, logLevel: _level, ...init } = config
  const server = new LoginServer({ ...init, clusterPrivateKey, libp2pDebug }, { log })
  await server.start()
  log.info({ peerId: server.peerId, addrs: server.multiaddrs.map(String), httpPort: server.httpPort, profile: config.profile }, 'login server listening')
  stopOnSignals(log, async () => { await server.stop() })
}

runMain(PROGRAM, main)
