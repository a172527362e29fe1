import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { ReboundError } from '@rebound/protocol'
import type { DockerDriver } from '../../src/driver/docker-driver.js'
import { attachCompose, membersOfContainers, profileMismatch, sizeOfMembers } from '../../src/driver/docker-members.js'
import { composeLabels, fakeEngineEachTest } from '../helpers/docker-fixture.js'

const log = pino({ level: 'silent' })

const labels = (service: string, role: string, number = 1): Record<string, string> => composeLabels(service, role, number)

const fixture = fakeEngineEachTest((engine) => {
  engine.add({ id: 'c-login-1', labels: labels('login-1', 'login-server') })
  engine.add({ id: 'c-login-2', labels: labels('login-2', 'login-server') })
  engine.add({ id: 'c-sn-1', labels: labels('supernode-1', 'supernode') })
  for (let n = 1; n <= 3; n++) engine.add({ id: `c-peer-${n}`, labels: labels('peer', 'peer', n) })
})
const engineNow = fixture.engine

async function attach (): Promise<DockerDriver> {
  return await fixture.attach()
}

test('members of a compose project: one process each, addresses from the network, size from what is found', async () => {
  const members = membersOfContainers((await attach()).members())
  assert.deepEqual(members.map((m) => [m.name, m.role, m.process, m.user]), [
    ['login-1', 'login-server', 'login-1', null],
    ['login-2', 'login-server', 'login-2', null],
    ['supernode-1', 'supernode', 'supernode-1', null],
    ['peer-1', 'peer', 'peer-1', null],
    ['peer-2', 'peer', 'peer-2', null],
    ['peer-3', 'peer', 'peer-3', null]
  ])
  assert.equal(members.find((m) => m.name === 'peer-2')?.ip, engineNow().get('c-peer-2').ip)
  assert.deepEqual(sizeOfMembers(members), { loginServers: 2, supernodes: 1, peers: 3 })
})

test('a restarted container on a new address is reported, once, with that address', async () => {
  const d = await attach()
  const moves: Array<[string, string]> = []
  d.onAddressChange((name, ip) => { moves.push([name, ip]) })
  const before = engineNow().get('c-peer-2').ip
  await d.restart('peer-2')
  const after = engineNow().get('c-peer-2').ip
  assert.notEqual(after, before)
  assert.deepEqual(moves, [['peer-2', after]])
})

test('attachCompose: a project without members is a configuration error that names the project', async () => {
  await assert.rejects(
    attachCompose({ project: 'nothing', socketPath: engineNow().socketPath, logsDir: join(tmpdir(), `rebound-members-${process.pid}`), profile: 'defended', env: {}, signal: new AbortController().signal }, log),
    (err: unknown) => err instanceof ReboundError && err.code === 'BAD_CONFIG' && err.message.includes('nothing')
  )
})

test('profile: a run must name the profile the containers were created with', () => {
  assert.equal(profileMismatch('p', new Map([['peer-1', 'naive'], ['peer-2', 'naive']]), 'naive'), undefined)
  const message = profileMismatch('p', new Map([['peer-1', 'naive'], ['peer-2', 'defended']]), 'defended') ?? ''
  assert.match(message, /1 of 2 peers run the naive profile \(peer-1\), not defended: pass --profile naive/)
})
