/**
 * libp2p wiring of a login-load client: the wire stack every rebound process speaks, no listener,
 * no services. Unlike a real peer (src/libp2p.ts) it has no connection monitor: its pings would
 * be measured as login-server load (a monitor pinging 200 connections every second costs the
 * server about a third of a core here), and the load generator measures logins only.
 */
import { createLibp2p, type Libp2p } from 'libp2p'
import type { PrivateKey } from '@libp2p/interface'
import { libp2pLogger, type Logger } from '@rebound/protocol'
import { wireStack } from '@rebound/protocol/wire-stack'

export type LoadNode = Libp2p

/** A load client talks to one login server; a few connections leave room for a redial. */
const MAX_CONNECTIONS = 4
const DIAL_TIMEOUT_MS = 10_000

export async function createLoadNode (ip: string, privateKey: PrivateKey, log: Logger, debugFilter?: RegExp): Promise<LoadNode> {
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: [] },
    ...wireStack(ip),
    connectionManager: { maxConnections: MAX_CONNECTIONS, dialTimeout: DIAL_TIMEOUT_MS },
    connectionMonitor: { enabled: false },
    logger: libp2pLogger(log.child({ component: 'libp2p' }), debugFilter)
  })
  await node.start()
  return node
}
