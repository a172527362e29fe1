import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** dist/test/unit/cli.test.js -> dist/src/main.js */
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))
const TIMEOUT_MS = 20_000

function rebound (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: TIMEOUT_MS })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

test('--help on every command exits 0 with usage', () => {
  for (const args of [['--help'], ['run', '--help'], ['run', 'patch-tuesday', '--help'], ['list', '--help'], ['compare', '--help'], ['compare', 'patch-tuesday', '--help']]) {
    const result = rebound(...args)
    assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`)
    assert.match(result.stdout, /Usage: rebound/)
  }
  assert.match(rebound('run', 'patch-tuesday', '--help').stdout, /--kill-fraction/)
  assert.match(rebound('run', 'patch-tuesday', '--help').stdout, /--profile/)
  assert.doesNotMatch(rebound('compare', 'patch-tuesday', '--help').stdout, /--profile/)
})

test('list names patch-tuesday', () => {
  const result = rebound('list')
  assert.equal(result.status, 0)
  assert.match(result.stdout, /patch-tuesday/)
})

test('an unknown scenario is bad usage: exit 2, named on stderr', () => {
  const result = rebound('run', 'no-such-scenario')
  assert.equal(result.status, 2)
  assert.match(result.stderr, /no-such-scenario/)
})

test('bad option values are bad usage: exit 2 naming the flag', () => {
  const peers = rebound('run', 'patch-tuesday', '--peers', 'x')
  assert.equal(peers.status, 2)
  assert.match(peers.stderr, /--peers/)
  const fraction = rebound('run', 'patch-tuesday', '--kill-fraction', '1.5')
  assert.equal(fraction.status, 2)
  assert.match(fraction.stderr, /--kill-fraction/)
  const net = rebound('run', 'patch-tuesday', '--net', '256')
  assert.equal(net.status, 2)
  assert.equal(rebound('run', 'patch-tuesday', '--no-such-flag').status, 2)
  assert.equal(rebound('run', 'patch-tuesday', '--profile', 'reckless').status, 2)
  assert.equal(rebound('compare', 'patch-tuesday', '--profile', 'naive').status, 2)
  assert.equal(rebound('compare').status, 2)
})

test('a missing or unknown command is bad usage', () => {
  assert.equal(rebound().status, 2)
  assert.equal(rebound('frobnicate').status, 2)
  assert.equal(rebound('run').status, 2)
})
