import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ReboundError } from '@rebound/protocol'
import type { DockerDriver } from '../../src/driver/docker-driver.js'
import { createProcessDriver } from '../../src/driver/process-driver.js'
import { partitioningDriver } from '../../src/scenarios/network-freeze.js'
import { composeLabels, fakeEngineEachTest } from '../helpers/docker-fixture.js'
import { rebound, tempDir } from '../helpers/cli.js'

const log = pino({ level: 'silent' })

const labels = (service: string, role: string): Record<string, string> => composeLabels(service, role)

const fixture = fakeEngineEachTest((engine) => {
  engine.add({ id: 'c-sn-1', labels: labels('supernode-1', 'supernode'), ip: '10.77.0.21', aliases: ['c-sn-1', 'supernode-1'] })
  engine.add({ id: 'c-sn-2', labels: labels('supernode-2', 'supernode'), ip: '10.77.0.22' })
})
const engineNow = fixture.engine

async function attach (): Promise<DockerDriver> {
  return await fixture.attach()
}

test('cut: off the network but running; restore: back at the same address with the same names', async () => {
  const d = await attach()
  await d.network.cut('supernode-1')
  assert.equal(engineNow().get('c-sn-1').connected, false)
  assert.equal(engineNow().get('c-sn-1').running, true)
  assert.equal(d.isRunning('supernode-1'), true)
  await d.network.restore('supernode-1')
  assert.deepEqual(engineNow().connects, ['c-sn-1 10.77.0.21 c-sn-1,supernode-1'])
  assert.equal(engineNow().get('c-sn-1').connected, true)
  // Idempotent both ways: a second restore does nothing, a second cut of a cut member neither.
  await d.network.restore('supernode-1')
  await d.network.cut('supernode-2')
  await d.network.cut('supernode-2')
  assert.equal(engineNow().calls.filter((c) => c === 'POST /networks/net-rebound/disconnect').length, 2)
  assert.deepEqual(d.exits(), [])
})

test('stopAll connects again what was left cut off', async () => {
  const d = await attach()
  await d.network.cut('supernode-2')
  await d.stopAll()
  fixture.forget()
  assert.equal(engineNow().get('c-sn-2').connected, true)
  assert.equal(engineNow().get('c-sn-2').ip, '10.77.0.22')
})

test('the freeze view of the driver: SIGSTOP cuts, SIGCONT restores, SIGKILL still kills', async () => {
  const d = partitioningDriver(await attach())
  await d.kill('supernode-1', 'SIGSTOP')
  assert.equal(engineNow().get('c-sn-1').connected, false)
  assert.equal(engineNow().get('c-sn-1').paused, false)
  await d.kill('supernode-1', 'SIGCONT')
  assert.equal(engineNow().get('c-sn-1').connected, true)
  await d.kill('supernode-2', 'SIGKILL')
  assert.equal(engineNow().get('c-sn-2').running, false)
  assert.equal(d.isRunning('supernode-2'), false)
})

test('the process driver has no network: the freeze view is refused as bad usage', () => {
  const processes = createProcessDriver({ logsDir: tmpdir(), bins: { node: 'n', bootstrap: 'b', swarm: 's' }, baseEnv: {} }, log)
  assert.throws(() => partitioningDriver(processes), (err: unknown) => err instanceof ReboundError && err.code === 'BAD_CONFIG' && err.message.includes('process driver cannot'))
})

test('rebound run freeze --freeze-mode network with the process driver: exit 2 before anything starts', (t) => {
  const out = join(tempDir(t, 'rebound-freeze-net-'), 'run')
  const result = rebound('run', 'freeze', '--freeze-mode', 'network', '--out', out)
  assert.equal(result.status, 2, result.stderr)
  assert.match(result.stderr, /the process driver cannot cut a member off the network/)
  assert.equal(rebound('run', 'freeze', '--freeze-mode', 'sideways').status, 2)
})
