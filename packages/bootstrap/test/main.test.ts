/**
 * The program as the load generator runs it: a child process configured by flags and env.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LoginServerHealth, generateClusterKey, privateKeyToPem } from '@rebound/protocol'
import { OPERATOR_TOKEN, tempDir } from './helpers.js'

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url))
const START_DEADLINE_MS = 10_000

interface Run {
  child: ChildProcessWithoutNullStreams
  stdout: () => string
  stderr: () => string
  exited: Promise<number | null>
}

function run (args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH, ...env } })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  return { child, stdout: () => out, stderr: () => err, exited }
}

async function waitForLine (r: Run, pattern: RegExp): Promise<Record<string, unknown>> {
  const deadline = Date.now() + START_DEADLINE_MS
  while (Date.now() < deadline) {
    const line = r.stdout().split('\n').find((l) => pattern.test(l))
    if (line !== undefined) return JSON.parse(line) as Record<string, unknown>
    if (r.child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  assert.fail(`no line matching ${pattern} (stdout: ${r.stdout()} stderr: ${r.stderr()})`)
}

test('starts from flags and env, serves /healthz, and exits 0 on SIGTERM', async (t) => {
  const dir = await tempDir('main')
  t.after(dir.remove)
  const keyFile = join(dir.path, 'cluster.pem')
  await writeFile(keyFile, privateKeyToPem(generateClusterKey().privateKey))
  // A random high port: the schema (like the documented interface) does not allow port 0.
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const r = run(['--listen', '127.0.0.1', '--port', String(port), '--http-port', String(port + 1), '--scrypt-n', '1024'], {
    REBOUND_DATA_DIR: join(dir.path, 'data'),
    REBOUND_STORE: join(dir.path, 'store.db'),
    REBOUND_CLUSTER_KEY_FILE: keyFile,
    REBOUND_OPERATOR_TOKEN: OPERATOR_TOKEN
  })
  t.after(() => { if (r.child.exitCode === null) r.child.kill('SIGKILL') })
  const listening = await waitForLine(r, /"login server listening"/)
  assert.deepEqual(listening.addrs, [`/ip4/127.0.0.1/tcp/${port}/p2p/${String(listening.peerId)}`])
  const health = LoginServerHealth.parse(await (await fetch(`http://127.0.0.1:${port + 1}/healthz`)).json())
  assert.equal(health.peerId, listening.peerId)
  assert.equal(health.pid, r.child.pid)
  r.child.kill('SIGTERM')
  assert.equal(await r.exited, 0)
  assert.match(r.stdout(), /"login server stopped"/)
  assert.equal(r.stderr(), '', 'nothing on stderr (the SQLite ExperimentalWarning is filtered)')
})

test('refuses a store that is not a database (exit 1) and an unreadable key file (exit 2)', async (t) => {
  const dir = await tempDir('main')
  t.after(dir.remove)
  const keyFile = join(dir.path, 'cluster.pem')
  await writeFile(keyFile, privateKeyToPem(generateClusterKey().privateKey))
  const garbage = join(dir.path, 'garbage.db')
  await writeFile(garbage, 'not sqlite '.repeat(100))
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const base = ['--listen', '127.0.0.1', '--port', String(port), '--http-port', String(port + 1), '--data-dir', join(dir.path, 'data'), '--operator-token', OPERATOR_TOKEN]
  const corrupt = run([...base, '--store', garbage, '--cluster-key-file', keyFile], {})
  assert.equal(await corrupt.exited, 1)
  assert.match(corrupt.stderr(), /CORRUPT_STORE|not a valid SQLite database/)
  const noKey = run([...base, '--store', join(dir.path, 'store.db'), '--cluster-key-file', join(dir.path, 'missing.pem')], {})
  assert.equal(await noKey.exited, 2)
  assert.match(noKey.stderr(), /--cluster-key-file: cannot read/)
})
