import { test } from 'node:test'
import assert from 'node:assert/strict'
import { hashPassword, verifyPassword } from '../src/index.js'

test('scrypt hashes verify for the right password only, with the stored cost', async () => {
  const stored = await hashPassword('correct horse', 1024)
  assert.equal(stored.salt.byteLength, 16)
  assert.equal(stored.hash.byteLength, 32)
  assert.equal(await verifyPassword('correct horse', stored), true)
  assert.equal(await verifyPassword('correct horsf', stored), false)
  assert.equal(await verifyPassword('correct horse', { ...stored, scryptN: 2048 }), false)
  const again = await hashPassword('correct horse', 1024)
  assert.notDeepEqual(again.salt, stored.salt, 'every hash gets its own salt')
})
