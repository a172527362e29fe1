import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReboundError } from '@rebound/protocol'
import type { DockerDriver } from '../../src/driver/docker-driver.js'
import { HELPER_LABEL, wipeTargets } from '../../src/driver/docker-wipe.js'
import { capabilityOf } from '../../src/driver/driver.js'
import { composeLabels, fakeEngineEachTest } from '../helpers/docker-fixture.js'

const labels = (service: string, role: string, number = 1): Record<string, string> => composeLabels(service, role, number)
const volume = (name: string, destination: string, rw = true): { Type: string, Name: string, Source: string, Destination: string, RW: boolean } =>
  ({ Type: 'volume', Name: name, Source: `/var/lib/docker/volumes/${name}/_data`, Destination: destination, RW: rw })

// The compose file's layout: the keys volume read-only everywhere, one store shared by the login
// servers, a data volume of its own for every member.
const LAYOUT = {
  'login-1': [volume('keys', '/keys', false), volume('login-1-data', '/data'), volume('store', '/store')],
  'login-2': [volume('keys', '/keys', false), volume('login-2-data', '/data'), volume('store', '/store')],
  'peer-1': [volume('keys', '/keys', false), volume('anon1', '/data')],
  'peer-2': [volume('keys', '/keys', false), volume('anon2', '/data')]
}

const fixture = fakeEngineEachTest((engine) => {
  engine.add({ id: 'c-login-1', labels: labels('login-1', 'login-server'), mounts: LAYOUT['login-1'], image: 'sha256:abc' })
  engine.add({ id: 'c-login-2', labels: labels('login-2', 'login-server'), mounts: LAYOUT['login-2'], image: 'sha256:abc' })
  engine.add({ id: 'c-peer-1', labels: labels('peer', 'peer', 1), mounts: LAYOUT['peer-1'], image: 'sha256:abc' })
  engine.add({ id: 'c-peer-2', labels: labels('peer', 'peer', 2), mounts: LAYOUT['peer-2'], image: 'sha256:abc' })
})
const engineNow = fixture.engine

async function attach (wipeTimeoutMs?: number): Promise<DockerDriver> {
  return await fixture.attach(wipeTimeoutMs === undefined ? {} : { wipeTimeoutMs })
}

const members = Object.entries(LAYOUT).map(([name, mounts]) => ({ name, mounts }))

test('wipeTargets: own = read-write volumes no other member mounts; shared = those another mounts too, each once', () => {
  assert.deepEqual(wipeTargets(members, ['peer-1', 'login-1'], 'own').map((t) => [t.mount.Name, t.members]), [['anon1', ['peer-1']], ['login-1-data', ['login-1']]])
  assert.deepEqual(wipeTargets(members, ['login-1', 'login-2'], 'shared').map((t) => [t.mount.Name, t.members]), [['store', ['login-1', 'login-2']]])
  // A peer shares nothing writable (keys is read-only), and a member without a volume has no data to erase.
  assert.throws(() => wipeTargets(members, ['peer-1'], 'shared'), /shares no read-write volume/)
  assert.throws(() => wipeTargets([...members, { name: 'bare', mounts: [] }], ['bare'], 'own'), /no read-write volume of its own/)
})

test('device wipe: one helper (same image, root, no network) empties the stopped peers\' own volumes and is removed', async () => {
  const d = await attach()
  await Promise.all(['peer-1', 'peer-2'].map(async (name) => { await d.kill(name, 'SIGKILL') }))
  const wipe = capabilityOf(d, 'wipeData')
  const erased = await wipe(['peer-1', 'peer-2'], 'own')
  assert.deepEqual(erased, ['volume anon1 (peer-1:/data)', 'volume anon2 (peer-2:/data)'])
  assert.equal(engineNow().helpers.length, 1)
  const created = engineNow().helpers[0]?.created as { Image: string, User: string, HostConfig: { Binds: string[], NetworkMode: string }, Labels: Record<string, string> }
  assert.equal(created.Image, 'sha256:abc')
  assert.equal(created.User, '0:0')
  assert.equal(created.HostConfig.NetworkMode, 'none')
  assert.deepEqual(created.HostConfig.Binds, ['anon1:/wipe/0', 'anon2:/wipe/1'])
  assert.equal(created.Labels[HELPER_LABEL], 'wipe')
  assert.equal(engineNow().containers.has(engineNow().helpers[0]?.id ?? ''), false, 'helper removed')
  // Not members: the helper never shows among them.
  assert.deepEqual(d.members().map((m) => m.name), ['login-1', 'login-2', 'peer-1', 'peer-2'])
})

test('device wipe of a running container is refused, and no helper is made', async () => {
  const d = await attach()
  await assert.rejects(d.wipeData(['peer-1'], 'own'), (err: unknown) => err instanceof ReboundError && err.code === 'BAD_REQUEST' && err.message.includes('peer-1'))
  assert.equal(engineNow().helpers.length, 0)
})

test('store wipe: the shared store volume, under the running login servers', async () => {
  const d = await attach()
  assert.deepEqual(await d.wipeData(['login-1', 'login-2'], 'shared'), ['volume store (login-1, login-2:/store)'])
  assert.deepEqual((engineNow().helpers[0]?.created as { HostConfig: { Binds: string[] } }).HostConfig.Binds, ['store:/wipe/0'])
  assert.equal(d.isRunning('login-1'), true)
})

test('a failing helper fails the wipe and is removed; one that hangs times out and is removed', async () => {
  const d = await attach(300)
  await d.kill('peer-1', 'SIGKILL')
  engineNow().helperExitCode = 1
  await assert.rejects(d.wipeData(['peer-1'], 'own'), /wipe helper exited with 1/)
  engineNow().helperExitCode = 0
  engineNow().helperHangs = true
  await assert.rejects(d.wipeData(['peer-1'], 'own'), (err: unknown) => err instanceof ReboundError && err.code === 'TIMEOUT')
  assert.equal(engineNow().helpers.length, 2)
  for (const helper of engineNow().helpers) assert.equal(engineNow().containers.has(helper.id), false, `${helper.id} removed`)
})
