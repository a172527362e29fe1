import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ReboundError, parseConfig, workloadPassword } from '@rebound/protocol'
import { NodeConfigSchema, OPTIONS } from '../src/config.js'
import { resolveAccount, userFromHostname } from '../src/derived-account.js'

const BASE = {
  REBOUND_LISTEN: '10.77.0.20',
  REBOUND_DATA_DIR: '/data',
  REBOUND_CLUSTER_PUBKEY: 'cHVia2V5',
  REBOUND_LOGIN_SERVERS: '/ip4/10.77.0.11/tcp/7401/p2p/12D3KooWAbc'
}

function parse (argv: string[], env: Record<string, string> = {}): ReturnType<typeof NodeConfigSchema.parse> {
  const config = parseConfig(argv, { ...BASE, ...env }, OPTIONS, NodeConfigSchema)
  assert.ok(config !== undefined)
  return config
}

function configError (argv: string[], env: Record<string, string> = {}): string {
  try {
    parse(argv, env)
  } catch (err) {
    assert.ok(err instanceof ReboundError)
    assert.equal(err.code, 'BAD_CONFIG')
    return err.message
  }
  assert.fail('expected BAD_CONFIG')
}

test('userFromHostname: a container id as is, the first label of a name, lower-cased', () => {
  assert.equal(userFromHostname('3f2a9c0d1e4b'), '3f2a9c0d1e4b')
  assert.equal(userFromHostname('Peer-7.rebound.internal'), 'peer-7')
  for (const bad of ['', '.x', '-lead', 'has space', 'x'.repeat(33)]) {
    assert.throws(() => userFromHostname(bad), (err: unknown) => err instanceof ReboundError && err.code === 'BAD_CONFIG', bad)
  }
})

test('replica flags: user from the hostname, password from the seed, state in <data-dir>/<user>', () => {
  const config = resolveAccount(parse(['--user-from-hostname', '--register'], { REBOUND_PASSWORD_SEED: '4242' }), () => 'a1b2c3d4e5f6')
  assert.equal(config.user, 'a1b2c3d4e5f6')
  // The load generator's derivePassword(seed, user) is this function with a numeric seed.
  assert.equal(config.password, workloadPassword(4242, 'a1b2c3d4e5f6'))
  assert.equal(config.dataDir, join('/data', 'a1b2c3d4e5f6'))
  assert.equal(config.register, true)
})

test('a seed with an explicit user derives that user\'s password and keeps --data-dir', () => {
  const config = resolveAccount(parse(['--user', 'u007', '--password-seed', 'abc']), () => 'ignored')
  assert.equal(config.user, 'u007')
  assert.equal(config.password, workloadPassword('abc', 'u007'))
  assert.equal(config.dataDir, '/data')
})

test('without the replica flags, and for supernodes, the configuration is unchanged', () => {
  const plain = parse(['--user', 'u001'], { REBOUND_PASSWORD: 'secret-1' })
  assert.equal(resolveAccount(plain, () => assert.fail('hostname read')), plain)
  const supernode = parse(['--supernode'], { REBOUND_OPERATOR_TOKEN: 'operator-token' })
  assert.equal(resolveAccount(supernode, () => assert.fail('hostname read')), supernode)
})

test('the schema refuses contradictions and still asks for a user and a password', () => {
  assert.match(configError(['--user', 'u001', '--user-from-hostname'], { REBOUND_PASSWORD: 'secret-1' }), /--user-from-hostname: cannot be combined with --user/)
  assert.match(configError(['--user', 'u001', '--password', 'secret-1', '--password-seed', 's']), /--password-seed: cannot be combined with --password/)
  const missing = configError([])
  assert.match(missing, /--user: is required/)
  assert.match(missing, /--password: is required/)
  assert.match(configError(['--user-from-hostname']), /--password: is required/)
})
