import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ReboundError } from '@rebound/protocol'
import { loadConfig } from '../src/index.js'

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url))

const GOOD = ['--listen', '127.0.1.1', '--data-dir', '/tmp/a', '--store', '/tmp/s.db', '--cluster-key-file', '/tmp/k.pem', '--operator-token', 'sekret-token']

function badConfig (argv: string[], env: NodeJS.ProcessEnv = {}): ReboundError {
  try {
    loadConfig(argv, env)
  } catch (err) {
    assert.ok(err instanceof ReboundError, `expected a ReboundError, got ${String(err)}`)
    assert.equal(err.code, 'BAD_CONFIG')
    return err
  }
  assert.fail(`configuration ${argv.join(' ')} was accepted`)
}

function without (flag: string): string[] {
  const i = GOOD.indexOf(flag)
  return [...GOOD.slice(0, i), ...GOOD.slice(i + 2)]
}

test('a complete configuration parses, with the documented defaults', () => {
  const config = loadConfig(GOOD, {})
  assert.deepEqual(config, {
    listen: '127.0.1.1',
    port: 7401,
    httpPort: 7480,
    dataDir: '/tmp/a',
    store: '/tmp/s.db',
    clusterKeyFile: '/tmp/k.pem',
    operatorToken: 'sekret-token',
    ticketTtlMs: 86_400_000,
    certTtlMs: 3_600_000,
    heartbeatTimeoutMs: 6000,
    scryptN: 16384,
    profile: 'defended',
    maxNewConnectionsPerS: 100,
    maxPendingConnections: 128,
    minSupernodes: 2,
    promoteAbove: 0.7,
    demoteBelow: 0.4,
    promotionRate: 2,
    electedCertTtlMs: 600_000,
    logLevel: 'info'
  })
})

test('environment variables fill in absent flags, and flags win over them', () => {
  const config = loadConfig(['--port', '9001'], {
    REBOUND_LISTEN: '127.0.1.2', REBOUND_PORT: '9000', REBOUND_HTTP_PORT: '9080', REBOUND_DATA_DIR: '/d', REBOUND_STORE: '/s',
    REBOUND_CLUSTER_KEY_FILE: '/k', REBOUND_OPERATOR_TOKEN: '12345678', REBOUND_SCRYPT_N: '2048', REBOUND_LOG_LEVEL: 'warn',
    REBOUND_PROFILE: 'naive', REBOUND_MAX_NEW_CONNECTIONS_PER_S: '250', REBOUND_MAX_PENDING_CONNECTIONS: '16',
    REBOUND_MIN_SUPERNODES: '0', REBOUND_PROMOTE_ABOVE: '0.8', REBOUND_DEMOTE_BELOW: '0.3', REBOUND_PROMOTION_RATE: '0.5',
    REBOUND_ELECTED_CERT_TTL_MS: '60000'
  })
  assert.equal(config?.listen, '127.0.1.2')
  assert.equal(config?.port, 9001)
  assert.equal(config?.httpPort, 9080)
  assert.equal(config?.scryptN, 2048)
  assert.equal(config?.logLevel, 'warn')
  assert.equal(config?.profile, 'naive')
  assert.equal(config?.maxNewConnectionsPerS, 250)
  assert.equal(config?.maxPendingConnections, 16)
  assert.deepEqual([config?.minSupernodes, config?.promoteAbove, config?.demoteBelow, config?.promotionRate, config?.electedCertTtlMs], [0, 0.8, 0.3, 0.5, 60_000])
})

test('--help returns undefined instead of a configuration', () => {
  assert.equal(loadConfig(['--help'], {}), undefined)
})

test('bad configurations are refused with BAD_CONFIG naming the flag', () => {
  assert.match(badConfig(without('--listen')).message, /--listen: is required/)
  assert.match(badConfig([...GOOD, '--listen', 'localhost']).message, /--listen: must be an IPv4 address/)
  assert.match(badConfig([...GOOD, '--port', 'x']).message, /--port:/)
  assert.match(badConfig([...GOOD, '--port', '70000']).message, /--port:/)
  assert.match(badConfig([...GOOD, '--http-port', '0']).message, /--http-port:/)
  assert.match(badConfig([...GOOD, '--scrypt-n', '3000']).message, /--scrypt-n: must be a power of two/)
  assert.match(badConfig([...GOOD, '--promote-above', '1.5']).message, /--promote-above:/)
  assert.match(badConfig([...GOOD, '--min-supernodes=-1']).message, /--min-supernodes:/)
  assert.match(badConfig([...GOOD, '--promotion-rate', '0']).message, /--promotion-rate:/)
  assert.match(badConfig([...GOOD, '--promote-above', '0.5', '--demote-below', '0.6']).message, /--demote-below: must be below --promote-above/)
  assert.match(badConfig([...GOOD, '--scrypt-n', '512']).message, /--scrypt-n:/)
  assert.match(badConfig([...GOOD, '--scrypt-n', String(1 << 21)]).message, /--scrypt-n:/)
  assert.match(badConfig([...GOOD, '--operator-token', 'short']).message, /--operator-token: must be at least 8 characters/)
  assert.match(badConfig(without('--store')).message, /--store: is required/)
  assert.match(badConfig([...GOOD, '--log-level', 'loud']).message, /--log-level:/)
  assert.match(badConfig([...GOOD, '--profile', 'paranoid']).message, /--profile:/)
  assert.match(badConfig([...GOOD, '--max-new-connections-per-s', '0']).message, /--max-new-connections-per-s:/)
  assert.match(badConfig([...GOOD, '--max-pending-connections', '1.5']).message, /--max-pending-connections:/)
  assert.match(badConfig([...GOOD, '--no-such-flag']).message, /no-such-flag/)
})

test('the program exits 2 with a readable message on bad configuration', async () => {
  const child = spawn(process.execPath, [MAIN, '--port', 'x'], { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  assert.equal(code, 2)
  assert.match(stderr, /^rebound-bootstrap: invalid configuration:/)
  assert.match(stderr, /--port:/)
  assert.match(stderr, /--listen: is required/)
  assert.doesNotMatch(stderr, /ExperimentalWarning/)
})
