import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url))

function run (args: string[], env: Record<string, string> = {}): { status: number | null, stdout: string, stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

test('--help prints every option and exits 0', () => {
  const { status, stdout } = run(['--help'])
  assert.equal(status, 0)
  for (const flag of ['--listen', '--login-servers', '--supernode', '--orphan-window-ms']) assert.ok(stdout.includes(flag), flag)
})

test('bad flags and environment exit 2 naming what is wrong', () => {
  const bad = run(['--listen', '127.0.2.1', '--port', 'x'])
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /--port/)
  assert.match(bad.stderr, /--data-dir: is required/)
  const unknown = run(['--frobnicate'])
  assert.equal(unknown.status, 2)
  assert.match(unknown.stderr, /frobnicate/)
  const env = run([], { REBOUND_LISTEN: 'not-an-ip' })
  assert.equal(env.status, 2)
  assert.match(env.stderr, /--listen: must be an IPv4 address/)
})

test('a cluster key that is not a key fails start-up with exit 2', () => {
  const { status, stderr } = run(['--listen', '127.0.2.250', '--data-dir', '/tmp/rebound-main-test', '--cluster-pubkey', 'bm90LWEta2V5',
    '--login-servers', '/ip4/127.0.1.1/tcp/7401/p2p/12D3KooWabc', '--user', 'u1'], { REBOUND_PASSWORD: 'pw-1234' })
  assert.equal(status, 2)
  assert.match(stderr, /cluster public key/)
})
