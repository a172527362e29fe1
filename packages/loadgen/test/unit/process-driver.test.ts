import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { createProcessDriver } from '../../src/driver/process-driver.js'
import type { ProcessSpec } from '../../src/driver/driver.js'
import { waitFor } from '../../src/wait.js'

const SLEEPER = `
console.log('up', process.argv.slice(2).join(' '), process.env.REBOUND_LOG_LEVEL, process.env.REBOUND_OPERATOR_TOKEN, process.env.EXTRA)
setInterval(() => {}, 1000)
process.on('SIGTERM', () => process.exit(0))
`
const CRASHER = 'setTimeout(() => process.exit(3), 50)'
const STUBBORN = `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('up')`
const WAIT_MS = 10_000

const log = pino({ level: 'silent' })
const signal = new AbortController().signal

async function setup (nodeScript: string, bootstrapScript: string): Promise<{ dir: string, bins: { node: string, bootstrap: string, swarm: string } }> {
  const dir = await mkdtemp(join(tmpdir(), 'rebound-driver-'))
  // The swarm is not started by these tests; its bin only has to be named.
  const bins = { node: join(dir, 'node.mjs'), bootstrap: join(dir, 'bootstrap.mjs'), swarm: join(dir, 'node.mjs') }
  await writeFile(bins.node, nodeScript)
  await writeFile(bins.bootstrap, bootstrapScript)
  return { dir, bins }
}

function spec (name: string, program: 'node' | 'bootstrap'): ProcessSpec {
  return { name, role: 'peer', program, ip: '127.0.0.1', args: ['--flag', name], env: { EXTRA: 'extra' } }
}

async function logHas (path: string, text: string): Promise<boolean> {
  return (await readFile(path, 'utf8').catch(() => '')).includes(text)
}

test('process driver: start, freeze, kill, restart, unexpected exits, stop', async () => {
  const { dir, bins } = await setup(SLEEPER, CRASHER)
  const baseEnv = { PATH: process.env.PATH, REBOUND_LOG_LEVEL: 'warn', REBOUND_OPERATOR_TOKEN: 'leaked-secret' }
  const driver = createProcessDriver({ logsDir: join(dir, 'logs'), bins, baseEnv }, log)
  try {
    await driver.start(spec('a', 'node'))
    assert.ok(driver.isRunning('a'))
    assert.equal(typeof driver.pid('a'), 'number')
    assert.equal(driver.generation('a'), 1)
    await assert.rejects(driver.start(spec('a', 'node')))
    await waitFor(async () => await logHas(driver.logPath('a'), 'up --flag a'), { what: 'a up', timeoutMs: WAIT_MS, signal })
    const firstLog = await readFile(driver.logPath('a'), 'utf8')
    // Our own REBOUND_* settings do not leak into children, except the pass-through ones.
    assert.match(firstLog, /up --flag a warn undefined extra/)

    assert.equal(driver.interventions('a'), 1)
    await driver.kill('a', 'SIGSTOP')
    assert.ok(driver.isRunning('a'))
    await driver.kill('a', 'SIGCONT')
    assert.equal(driver.interventions('a'), 1, 'freezing is not ending')

    const killed = driver.kill('a', 'SIGKILL')
    assert.equal(driver.interventions('a'), 2, 'counted as soon as the signal is sent')
    await killed
    assert.equal(driver.isRunning('a'), false)
    assert.equal(driver.pid('a'), undefined)
    assert.deepEqual(driver.exits().map((e) => [e.name, e.signal, e.expected]), [['a', 'SIGKILL', true]])

    await driver.restart('a')
    assert.ok(driver.isRunning('a'))
    assert.equal(driver.generation('a'), 2)
    assert.equal(driver.interventions('a'), 3)
    await waitFor(async () => (await readFile(driver.logPath('a'), 'utf8')).split('up --flag a').length === 3, { what: 'a up again', timeoutMs: WAIT_MS, signal })

    await driver.start(spec('b', 'bootstrap'))
    await waitFor(() => !driver.isRunning('b'), { what: 'b to crash', timeoutMs: WAIT_MS, signal })
    assert.deepEqual(driver.unexpectedExits().map((e) => [e.name, e.code]), [['b', 3]])
    assert.equal(driver.runningCount(), 1)

    await driver.stopAll()
    assert.equal(driver.runningCount(), 0)
    assert.equal(driver.unexpectedExits().length, 1)
    await assert.rejects(driver.start(spec('c', 'node')))
  } finally {
    driver.killAllNow()
    await rm(dir, { recursive: true, force: true })
  }
})

test('process driver: stopAll escalates to SIGKILL for a process that ignores SIGTERM, and thaws frozen ones', async () => {
  const { dir, bins } = await setup(STUBBORN, STUBBORN)
  const driver = createProcessDriver({ logsDir: join(dir, 'logs'), bins, baseEnv: { PATH: process.env.PATH } }, log)
  try {
    await driver.start(spec('s', 'node'))
    await driver.start(spec('f', 'bootstrap'))
    await waitFor(async () => await logHas(driver.logPath('s'), 'up') && await logHas(driver.logPath('f'), 'up'), { what: 'both up', timeoutMs: WAIT_MS, signal })
    await driver.kill('f', 'SIGSTOP')
    await driver.stopAll()
    assert.equal(driver.runningCount(), 0)
    assert.deepEqual(driver.exits().map((e) => e.signal).sort(), ['SIGKILL', 'SIGKILL'])
    assert.equal(driver.unexpectedExits().length, 0)
  } finally {
    driver.killAllNow()
    await rm(dir, { recursive: true, force: true })
  }
})

test('process driver: wipeData erases a stopped process\'s --data-dir (own) and the login servers\' --store files (shared)', async () => {
  const { dir, bins } = await setup(SLEEPER, SLEEPER)
  const driver = createProcessDriver({ logsDir: join(dir, 'logs'), bins, baseEnv: { PATH: process.env.PATH } }, log)
  const data = join(dir, 'data-p')
  const store = join(dir, 'store.sqlite')
  try {
    await mkdir(data, { recursive: true })
    await writeFile(join(data, 'identity.key'), 'secret')
    for (const suffix of ['', '-wal', '-shm']) await writeFile(`${store}${suffix}`, 'rows')
    await writeFile(join(dir, 'cluster-key.pem'), 'kept')
    await driver.start({ ...spec('p', 'node'), args: ['--data-dir', data] })
    await driver.start({ ...spec('l1', 'bootstrap'), args: ['--data-dir', join(dir, 'l1'), '--store', store] })
    await driver.start({ ...spec('l2', 'bootstrap'), args: ['--data-dir', join(dir, 'l2'), '--store', store] })
    // Own data only once the process is down.
    await assert.rejects(driver.wipeData?.(['p'], 'own') ?? Promise.resolve(), /running process: p/)
    assert.equal(await readFile(join(data, 'identity.key'), 'utf8'), 'secret')
    await driver.kill('p', 'SIGKILL')
    assert.deepEqual(await driver.wipeData?.(['p'], 'own'), [data])
    assert.deepEqual(await readdir(data), [])
    // The store under the running servers, each file once though both name it.
    assert.deepEqual(await driver.wipeData?.(['l1', 'l2'], 'shared'), [store, `${store}-wal`, `${store}-shm`])
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('store')), [])
    assert.equal(await readFile(join(dir, 'cluster-key.pem'), 'utf8'), 'kept')
    assert.equal(driver.isRunning('l1'), true)
    await assert.rejects(driver.wipeData?.(['p'], 'shared') ?? Promise.resolve(), /without --store/)
  } finally {
    await driver.stopAll()
    await rm(dir, { recursive: true, force: true })
  }
})
