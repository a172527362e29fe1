/**
 * Kept request streams over real libp2p (TCP + Noise + yamux on loopback).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLibp2p, type Libp2p } from 'libp2p'
import { z } from 'zod'
import { RequestChannel, createLogger, serveRequests } from '../src/index.js'
import { wireStack } from '../src/wire-stack.js'

const PROTO = '/rebound/test-echo/1.0.0'
const Req = z.strictObject({ n: z.number() })
const Res = z.strictObject({ n: z.number(), stream: z.string() })
const log = createLogger({ service: 'test', level: 'silent' })

async function node (ip: string): Promise<Libp2p> {
  const n = await createLibp2p({ privateKey: await generateKeyPair('Ed25519'), addresses: { listen: [`/ip4/${ip}/tcp/0`] }, ...wireStack(ip) })
  await n.start()
  return n
}

test('a channel carries many requests on one stream and survives the server closing it when idle', async () => {
  const server = await node('127.97.0.1')
  const client = await node('127.97.0.2')
  try {
    const streams = new Set<string>()
    await server.handle(PROTO, serveRequests(Req, async (req, connection) => {
      const id = [...connection.streams].find((s) => s.protocol === PROTO)?.id ?? '?'
      streams.add(id)
      return { n: req.n * 2, stream: id }
    }, { readTimeoutMs: 2000, idleTimeoutMs: 300, log }))
    const channel = new RequestChannel(client, server.getMultiaddrs(), PROTO)
    const first = await Promise.all([1, 2, 3, 4, 5].map(async (n) => await channel.request({ n }, Res, 3000)))
    assert.deepEqual(first.map((r) => r.n), [2, 4, 6, 8, 10], 'overlapping callers take turns and each gets its own reply')
    assert.equal(new Set(first.map((r) => r.stream)).size, 1, 'one stream for all five')
    // Past the server's idle timeout the kept stream is closed; the next request re-opens.
    await new Promise((resolve) => setTimeout(resolve, 600))
    const later = await channel.request({ n: 21 }, Res, 3000)
    assert.equal(later.n, 42)
    assert.notEqual(later.stream, first[0]?.stream)
  } finally {
    await client.stop()
    await server.stop()
  }
})
