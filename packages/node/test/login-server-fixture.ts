/**
 * Shared by the supernode integration tests: a real rebound-bootstrap process (login server and
 * registry) on a loopback address, with a fresh cluster key and store in a temporary directory.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateClusterKey, privateKeyToPem, type ClusterKeyPair } from '@rebound/protocol'

const BOOTSTRAP_BIN = fileURLToPath(new URL('../../../bootstrap/dist/src/main.js', import.meta.url))
export const OPERATOR_TOKEN = 'operator-secret-1'

export interface LoginServerFixture {
  key: ClusterKeyPair
  dir: string
  /** The login server's multiaddr, for --login-servers. */
  addr: string
  stop: () => Promise<void>
}

/** Start a login server on `${net}.1.1` (extra flags appended), waiting (bounded) for its /healthz. */
export async function startLoginServer (net: string, name: string, extraArgs: string[] = []): Promise<LoginServerFixture> {
  const key = generateClusterKey()
  const dir = await mkdtemp(join(tmpdir(), `rebound-${name}-`))
  await mkdir(join(dir, 'ls1'))
  await writeFile(join(dir, 'cluster.pem'), privateKeyToPem(key.privateKey), { mode: 0o600 })
  const child: ChildProcess = spawn(process.execPath, [BOOTSTRAP_BIN, '--listen', `${net}.1.1`, '--data-dir', join(dir, 'ls1'), '--store', join(dir, 'store.sqlite'),
    '--cluster-key-file', join(dir, 'cluster.pem'), '--operator-token', OPERATOR_TOKEN, '--scrypt-n', '1024', '--log-level', 'warn', ...extraArgs],
  { stdio: ['ignore', 'inherit', 'inherit'] })
  let peerId: string | undefined
  // Bounded: 200 tries of at most 600 ms.
  for (let i = 0; i < 200 && peerId === undefined; i++) {
    try {
      const res = await fetch(`http://${net}.1.1:7480/healthz`, { signal: AbortSignal.timeout(500) })
      if (res.ok) peerId = (await res.json() as { peerId: string }).peerId
    } catch { await new Promise((resolve) => setTimeout(resolve, 100)) }
  }
  assert.ok(peerId !== undefined, 'login server started')
  return {
    key,
    dir,
    addr: `/ip4/${net}.1.1/tcp/7401/p2p/${peerId}`,
    stop: async () => {
      child.kill('SIGTERM')
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Poll `fn` every 50 ms until it returns a value (bounded by `timeoutMs`). */
export async function waitFor<T> (what: string, fn: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = fn()
    if (value !== undefined) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}
