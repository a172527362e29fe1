import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { compareRows, formatCompare } from '../../src/compare.js'
import { loginsOfferedSince, meanAttempts } from '../../src/recovery.js'
import type { Report } from '../../src/report.js'
import { derivePassword } from '../../src/users.js'
import { CompareOptionsSchema, RunOptionsSchema } from '../../src/options.js'
import { rebound, tempDir } from '../helpers/cli.js'

function report (over: Partial<Report>, recovery: Partial<Report['recovery']> = {}): Report {
  return {
    scenario: 'patch-tuesday', seed: 1, driver: 'process', profile: 'defended', startedAt: '', durationMs: 1, reproduce: '',
    options: RunOptionsSchema.parse({}), cluster: { loginServers: 1, supernodes: 1, peers: 4 },
    recovery: { killed: 2, reattached: 2, t50Ms: 1200, t90Ms: 2500, t99Ms: 2500, t100Ms: 2500, kills: [], loginsOffered: 0, attemptsPerClient: 0, ...recovery },
    logins: { offered: 4, accepted: 4, rejected: 0, failed: 0 },
    messages: { sent: 10, delivered: 9, failed: 1, failedByCode: {}, counted: 10, skipped: 0 },
    objectives: [{ name: 't100-ms', ok: true, value: 2500, limit: 50_000 }, { name: 'no-unexpected-exits', ok: true, value: 0, limit: 0 }],
    ok: true, error: null, interrupted: false, timeline: [], timelineTruncated: false, unexpectedExits: [], logsDir: '',
    ...over
  }
}

test('compare rows: one cell per profile, recovery times, logins, attempts and every objective', () => {
  const naive = report({ profile: 'naive', ok: false, objectives: [{ name: 't100-ms', ok: false, value: null, limit: 50_000 }] },
    { reattached: 1, t99Ms: null, t100Ms: null, loginsOffered: 37, attemptsPerClient: 18.5 })
  const defended = report({}, { loginsOffered: 0, attemptsPerClient: 0 })
  const rows = compareRows([naive, defended])
  const cells = (label: string): string[] | undefined => rows.find((r) => r.label === label)?.cells
  assert.deepEqual(cells('result'), ['FAIL', 'PASS'])
  assert.deepEqual(cells('recovery T99'), ['never', '2.50 s'])
  assert.deepEqual(cells('killed / re-attached'), ['2 / 1', '2 / 2'])
  assert.deepEqual(cells('logins during recovery'), ['37', '0'])
  assert.deepEqual(cells('attempts per client'), ['18.50', '0.00'])
  assert.deepEqual(cells('delivery ratio'), ['0.9000', '0.9000'])
  assert.deepEqual(cells('objective t100-ms'), ['FAIL -', 'PASS 2500 ms'])
  // An objective only one run has still gets a row, '-' where missing.
  assert.deepEqual(cells('objective no-unexpected-exits'), ['-', 'PASS 0'])
})

test('compare table: aligned columns headed by the profiles', () => {
  const text = formatCompare(['naive', 'defended'], [{ label: 'recovery T99', cells: ['never', '2.50 s'] }, { label: 'result', cells: ['FAIL', 'PASS'] }])
  const lines = text.split('\n').filter((l) => l !== '')
  assert.equal(lines.length, 4)
  assert.match(lines[0] ?? '', /^\s+naive\s+defended$/)
  assert.match(lines[1] ?? '', /^-+ {2}-+ {2}-+$/)
  assert.equal(lines[2], 'recovery T99  never  2.50 s')
  assert.equal(lines[3], 'result        FAIL   PASS')
  assert.equal((lines[0] ?? '').indexOf('defended'), (lines[2] ?? '').indexOf('2.50 s'))
})

test('storm statistics: logins offered since the kill, mean attempts of clients seen again', () => {
  const samples = [{ t: 1, loginsOffered: 5 }, { t: 2, loginsOffered: 3 }, { t: 3, loginsOffered: 7 }]
  assert.equal(loginsOfferedSince(samples, 10_000, 11_500), 10)
  assert.equal(loginsOfferedSince(samples, 10_000, 0), 15)
  assert.equal(loginsOfferedSince([], 10_000, 0), 0)
  assert.equal(meanAttempts([1, 3, null]), 2)
  assert.equal(meanAttempts([null]), null)
})

test('profiles: run takes --profile (default defended), compare has none; passwords match the swarm', () => {
  assert.equal(RunOptionsSchema.parse({}).profile, 'defended')
  assert.equal(RunOptionsSchema.parse({ profile: 'naive' }).profile, 'naive')
  assert.equal(RunOptionsSchema.safeParse({ profile: 'reckless' }).success, false)
  assert.equal('profile' in CompareOptionsSchema.parse({}), false)
  // Pinned in packages/node/test/swarm-units.test.ts too (swarmPassword): the two must agree.
  assert.equal(derivePassword(7, 'u000001'), '2tfQn76DHhEBFv_UaWuPBoIC')
})

test('compare --driver docker is refused before anything runs (exit 2), saying why', (t) => {
  const out = join(tempDir(t, 'rebound-compare-docker-'), 'cmp')
  const result = rebound('compare', 'patch-tuesday', '--driver', 'docker', '--engine-socket', '/nonexistent.sock', '--out', out)
  assert.equal(result.status, 2, result.stderr)
  assert.match(result.stderr, /profile is fixed in each container's environment/)
  assert.equal(existsSync(out), false)
})
