import { test } from 'node:test'
import assert from 'node:assert/strict'
import { z } from 'zod'
import { ReboundError, parseConfig, usage, type OptionSpecs } from '../src/index.js'

const OPTIONS: OptionSpecs = {
  port: { type: 'string', env: 'X_PORT', description: 'a port' },
  verbose: { type: 'boolean', env: 'X_VERBOSE', description: 'talk more' }
}
const Schema = z.object({ port: z.coerce.number().int().min(1).max(65535).default(7401), verbose: z.boolean().default(false) })

test('flags win over environment, which wins over defaults', () => {
  assert.deepEqual(parseConfig([], {}, OPTIONS, Schema), { port: 7401, verbose: false })
  assert.deepEqual(parseConfig([], { X_PORT: '9000', X_VERBOSE: '1' }, OPTIONS, Schema), { port: 9000, verbose: true })
  assert.deepEqual(parseConfig(['--port', '9001'], { X_PORT: '9000' }, OPTIONS, Schema), { port: 9001, verbose: false })
})

test('bad values and unknown flags are BAD_CONFIG naming the flag; --help returns undefined', () => {
  assert.throws(() => parseConfig(['--port', 'abc'], {}, OPTIONS, Schema), (err: ReboundError) => err.code === 'BAD_CONFIG' && err.message.includes('--port'))
  assert.throws(() => parseConfig(['--nope'], {}, OPTIONS, Schema), (err: ReboundError) => err.code === 'BAD_CONFIG' && err.message.includes('nope'))
  assert.equal(parseConfig(['--help'], {}, OPTIONS, Schema), undefined)
  assert.match(usage('prog', 'does things', OPTIONS), /--port <value>\s+a port \(env X_PORT\)/)
})
