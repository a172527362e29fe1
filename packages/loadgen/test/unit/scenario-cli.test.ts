/**
 * The scenario files on the command line: `rebound list` (text and --json) describes every shipped
 * one, and a bad user file is bad usage (exit 2) with the file and the field on stderr.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ScenarioDescription } from '../../src/scenario-file/describe.js'
import { loadShipped } from '../../src/scenario-file/shipped.js'
import { rebound, tempDir as scratchDir } from '../helpers/cli.js'

const tempDir = (t: { after: (fn: () => void) => void }): string => scratchDir(t, 'rebound-scenario-')

test('rebound list describes every shipped scenario: description, trigger, objectives with limits, source', async () => {
  const result = rebound('list')
  assert.equal(result.status, 0, result.stderr)
  const shipped = await loadShipped()
  for (const s of shipped) {
    assert.match(result.stdout, new RegExp(`^${s.ref.name}: `, 'm'), s.ref.name)
    assert.ok(result.stdout.includes(s.file.description), `${s.ref.name}: description`)
    assert.ok(result.stdout.includes(s.file.source ?? '-'), `${s.ref.name}: source`)
  }
  assert.match(result.stdout, /trigger {5}kill-peers: fraction 0\.5, rebootWindowMs 20000/)
  assert.match(result.stdout, /t100-ms: the last killed peer attached again within 50000 ms of the kill/)
  assert.match(result.stdout, /trigger {5}decapitate: fraction 1,/)
})

test('rebound list --json: one entry per shipped scenario, the limits as numbers', async () => {
  const result = rebound('list', '--json')
  assert.equal(result.status, 0, result.stderr)
  const list = JSON.parse(result.stdout) as ScenarioDescription[]
  assert.deepEqual(list.map((d) => d.name), (await loadShipped()).map((s) => s.ref.name))
  const patchTuesday = list.find((d) => d.name === 'patch-tuesday')
  assert.deepEqual(patchTuesday?.trigger, { type: 'kill-peers', fraction: 0.5, rebootWindowMs: 20_000 })
  assert.deepEqual(patchTuesday?.objectives.map((o) => [o.name, o.limit]), [
    ['all-killed-reattached', null], ['t100-ms', 50_000], ['no-unexpected-exits', null], ['message-delivery-ratio', 0.9], ['no-lost-writes', null]
  ])
  assert.equal(list.find((d) => d.name === 'wipe-store')?.objectives.find((o) => o.name === 'restore-t100-ms')?.limit, 45_000)
})

test('a bad scenario file is bad usage: exit 2, the file and the field on stderr', (t) => {
  const dir = tempDir(t)
  const cases: Array<{ json: unknown, field: RegExp }> = [
    { json: { description: 'x', phases: { trigger: { type: 'kill-peers', fractoin: 0.2 } } }, field: /phases\.trigger\.fractoin: unknown field/ },
    { json: { description: 'x', phases: { trigger: { type: 'nuke' } } }, field: /phases\.trigger\.type: unknown trigger "nuke"/ },
    { json: { description: 'x', phases: { trigger: { type: 'freeze' }, objectives: ['t100-ms'] } }, field: /phases\.objectives\[0\]: "t100-ms" is not an objective of trigger freeze/ },
    { json: { description: 'x', workload: { messageRate: 'fast' }, phases: { trigger: { type: 'freeze' } } }, field: /workload\.messageRate: Invalid input: expected number/ }
  ]
  cases.forEach(({ json, field }, i) => {
    const path = join(dir, `bad${i}.json`)
    writeFileSync(path, JSON.stringify(json))
    const result = rebound('run', path)
    assert.equal(result.status, 2, `${path}: ${result.stderr}`)
    assert.ok(result.stderr.includes(path), `names the file: ${result.stderr}`)
    assert.match(result.stderr, field)
  })
  // Not JSON at all, and no file there.
  writeFileSync(join(dir, 'torn.json'), '{ "description": ')
  assert.match(rebound('run', join(dir, 'torn.json')).stderr, /torn\.json:\n {2}not valid JSON/)
  const missing = rebound('compare', join(dir, 'missing.json'))
  assert.equal(missing.status, 2)
  assert.match(missing.stderr, /missing\.json:\n {2}no such file/)
})

test('list takes --json and --help only', () => {
  assert.match(rebound('list', '--help').stdout, /Usage: rebound list \[--json\]/)
  assert.equal(rebound('list', '--verbose').status, 2)
  assert.equal(rebound('list', 'extra').status, 2)
})
