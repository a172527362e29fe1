import { test } from 'node:test'
import assert from 'node:assert/strict'
import { layoutCluster, loginServerIp, nodeIp, libp2pAddr } from '../../src/layout.js'
import { buildContactGraph, derivePassword, MAX_CONTACTS, MIN_CONTACTS } from '../../src/users.js'
import { createPrng } from '../../src/prng.js'

test('addresses: login servers on 127.B.1.N, nodes from 127.B.2.1, 250 per third octet', () => {
  assert.equal(loginServerIp(77, 0), '127.77.1.1')
  assert.equal(nodeIp(77, 0), '127.77.2.1')
  assert.equal(nodeIp(77, 249), '127.77.2.250')
  assert.equal(nodeIp(77, 250), '127.77.3.1')
  assert.throws(() => nodeIp(0, -1), RangeError)
  assert.equal(libp2pAddr('127.0.1.1', '12D3Koo'), '/ip4/127.0.1.1/tcp/7401/p2p/12D3Koo')
})

test('layout: supernodes first, then peers with one user each', () => {
  const members = layoutCluster({ loginServers: 2, supernodes: 2, peers: 3 }, 5)
  assert.deepEqual(members.map((m) => [m.name, m.role, m.ip, m.user]), [
    ['ls1', 'login-server', '127.5.1.1', null],
    ['ls2', 'login-server', '127.5.1.2', null],
    ['sn1', 'supernode', '127.5.2.1', null],
    ['sn2', 'supernode', '127.5.2.2', null],
    ['p001', 'peer', '127.5.2.3', 'u001'],
    ['p002', 'peer', '127.5.2.4', 'u002'],
    ['p003', 'peer', '127.5.2.5', 'u003']
  ])
  assert.equal(layoutCluster({ loginServers: 1, supernodes: 1, peers: 1200 }, 0).at(-1)?.name, 'p1200')
})

test('users: seeded passwords and a 3-5 contact graph without self-loops', () => {
  assert.equal(derivePassword(1, 'u001'), derivePassword(1, 'u001'))
  assert.notEqual(derivePassword(1, 'u001'), derivePassword(2, 'u001'))
  assert.ok(derivePassword(1, 'u001').length >= 8)
  const users = Array.from({ length: 40 }, (_, i) => `u${i}`)
  const graph = buildContactGraph(users, createPrng(3))
  assert.deepEqual(graph, buildContactGraph(users, createPrng(3)))
  for (const [user, contacts] of graph) {
    assert.ok(contacts.length >= MIN_CONTACTS && contacts.length <= MAX_CONTACTS)
    assert.ok(!contacts.includes(user))
    assert.equal(new Set(contacts).size, contacts.length)
  }
  const tiny = buildContactGraph(['a', 'b'], createPrng(3))
  assert.deepEqual(tiny.get('a'), ['b'])
  assert.deepEqual(buildContactGraph(['a'], createPrng(3)).get('a'), [])
})
