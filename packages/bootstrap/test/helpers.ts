/**
 * Shared test fixtures: temporary directories, a login-server init with fast scrypt, and a plain
 * client libp2p node (tcp + noise + yamux) like the ones rebound-node builds.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p, type Libp2p } from 'libp2p'
import { PROTOCOL_PREFIX, createLogger, generateClusterKey, type ClusterKeyPair, type Logger } from '@rebound/protocol'
import type { LoginServerInit } from '../src/index.js'

export const OPERATOR_TOKEN = 'operator-secret-1'

export async function tempDir (prefix: string): Promise<{ path: string, remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `rebound-bootstrap-${prefix}-`))
  return { path, remove: async () => { await rm(path, { recursive: true, force: true }) } }
}

/** Silent unless TEST_LOG_LEVEL asks for output. */
export function testLogger (): Logger {
  return createLogger({ service: 'test', level: process.env.TEST_LOG_LEVEL ?? 'silent' })
}

export function serverInit (dir: string, name: string, clusterKey: ClusterKeyPair, storePath = join(dir, 'store.db')): LoginServerInit {
  return {
    listen: '127.0.0.1',
    port: 0,
    httpPort: 0,
    dataDir: join(dir, name),
    store: storePath,
    operatorToken: OPERATOR_TOKEN,
    ticketTtlMs: 3600_000,
    certTtlMs: 3600_000,
    heartbeatTimeoutMs: 6000,
    scryptN: 1024,
    clusterPrivateKey: clusterKey.privateKey
  }
}

export { generateClusterKey }

export async function clientNode (): Promise<Libp2p> {
  return await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: 1000 },
    connectionMonitor: { protocolPrefix: PROTOCOL_PREFIX },
    services: { ping: ping({ protocolPrefix: PROTOCOL_PREFIX }) }
  })
}
