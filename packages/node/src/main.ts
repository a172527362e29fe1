#!/usr/bin/env node
/**
 * rebound-node: parse configuration, start the peer, stop gracefully on SIGTERM/SIGINT.
 */
// Before anything loads node:sqlite (the inbox), so its experimental warning is filtered.
import '@rebound/protocol/quiet-sqlite-warning'
import { hostname } from 'node:os'
import { createLogger, parseConfig, runMain, stopOnSignals, usage } from '@rebound/protocol'
import { NodeConfigSchema, OPTIONS } from './config.js'
import { resolveAccount } from './derived-account.js'
import { Peer } from './peer.js'

const PROGRAM = 'rebound-node'

runMain(PROGRAM, async () => {
  const parsed = parseConfig(process.argv.slice(2), process.env, OPTIONS, NodeConfigSchema)
  if (parsed === undefined) {
    process.stdout.write(usage(PROGRAM, 'A rebound peer: a client attached to a supernode, or (--supernode) an operator supernode.', OPTIONS) + '\n')
    return
  }
  const config = resolveAccount(parsed, hostname)
  const log = createLogger({ service: PROGRAM, level: config.logLevel, bindings: config.user === undefined ? { addr: config.listen, role: 'supernode' } : { addr: config.listen, user: config.user } })
  const peer = new Peer(config, config.libp2pDebug === undefined ? { log } : { log, debugFilter: config.libp2pDebug })
  stopOnSignals(log, async () => { await peer.stop() })
  await peer.start()
})
