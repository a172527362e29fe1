import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CompareReport } from '../../src/compare.js'
import { fixtureReport } from '../helpers/report-fixture.js'
import { findAll, parseXml } from '../helpers/xml.js'
import { rebound, tempDir as scratchDir } from '../helpers/cli.js'

const tempDir = (t: { after: (fn: () => void) => void }): string => scratchDir(t, 'rebound-report-')

test('report --help: usage, exit 0; top-level help lists the command', () => {
  const help = rebound('report', '--help')
  assert.equal(help.status, 0)
  assert.match(help.stdout, /Usage: rebound report <dir>/)
  assert.match(rebound('--help').stdout, /report <dir>/)
})

test('report DIR: writes report.html and junit.xml from report.json; exit 1 for a failed run, 0 for a passed one', (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'report.json'), JSON.stringify(fixtureReport()))
  const failed = rebound('report', dir)
  assert.equal(failed.status, 1, failed.stderr)
  assert.match(failed.stdout, /report\.html/)
  assert.match(failed.stdout, /run: FAIL/)
  assert.match(readFileSync(join(dir, 'report.html'), 'utf8'), /Failed objectives: delivery-ratio-permille/)
  const junit = parseXml(readFileSync(join(dir, 'junit.xml'), 'utf8'))
  assert.equal(findAll(junit, 'failure').length, 1)

  writeFileSync(join(dir, 'report.json'), JSON.stringify(fixtureReport({ ok: true, objectives: [{ name: 't99-ms', ok: true, value: 1, limit: 2 }] })))
  assert.equal(rebound('report', dir).status, 0)
  assert.equal(findAll(parseXml(readFileSync(join(dir, 'junit.xml'), 'utf8')), 'failure').length, 0)
})

test('report DIR: no report, bad JSON, the wrong shape or bad usage exit 2 with a message saying which', (t) => {
  const dir = tempDir(t)
  const missing = rebound('report', join(dir, 'nowhere'))
  assert.equal(missing.status, 2)
  assert.match(missing.stderr, /no report\.json or compare\.json in .*nowhere/)

  writeFileSync(join(dir, 'report.json'), '{"scenario": "x", ')
  const bad = rebound('report', dir)
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /report\.json is not valid JSON/)

  writeFileSync(join(dir, 'report.json'), JSON.stringify({ ...fixtureReport(), objectives: [{ name: 'x', ok: 'yes' }] }))
  const shape = rebound('report', dir)
  assert.equal(shape.status, 2)
  assert.match(shape.stderr, /is not a rebound report at objectives\.0\.ok/)

  assert.equal(rebound('report').status, 2)
  assert.equal(rebound('report', dir, dir).status, 2)
  assert.equal(rebound('report', '--frobnicate', dir).status, 2)
})

test('report DIR of a compare: each run re-rendered, and one page with both profiles', (t) => {
  const dir = tempDir(t)
  const runs = [fixtureReport({ profile: 'naive' }), fixtureReport({ ok: true, objectives: [{ name: 't99-ms', ok: true, value: 1, limit: 2 }] })]
  for (const report of runs) {
    mkdirSync(join(dir, report.profile))
    writeFileSync(join(dir, report.profile, 'report.json'), JSON.stringify(report))
  }
  const compare: CompareReport = {
    scenario: 'patch-tuesday', seed: 1234, profiles: ['naive', 'defended'], ok: true, rows: [{ label: 'result', cells: ['FAIL', 'PASS'] }],
    // Paths from another machine: the runs are found under DIR.
    runs: runs.map((r) => ({ profile: r.profile, reportPath: `/elsewhere/${r.profile}/report.json`, ok: r.ok, exitCode: r.ok ? 0 : 1 }))
  }
  writeFileSync(join(dir, 'compare.json'), JSON.stringify(compare))
  const result = rebound('report', dir)
  assert.equal(result.status, 0, result.stderr)
  assert.match(result.stdout, /compare: PASS/)
  const html = readFileSync(join(dir, 'report.html'), 'utf8')
  assert.match(html, /rebound compare patch-tuesday/)
  assert.match(html, /<\/span>naive<\/li>/)
  assert.match(html, /<\/span>defended<\/li>/)
  assert.match(readFileSync(join(dir, 'naive', 'report.html'), 'utf8'), /Failed objectives/)
  parseXml(readFileSync(join(dir, 'defended', 'junit.xml'), 'utf8'))

  rmSync(join(dir, 'naive', 'report.json'))
  const lost = rebound('report', dir)
  assert.equal(lost.status, 2)
  assert.match(lost.stderr, /lists a naive run but .*naive\/report\.json is missing/)
})
