import { test } from 'node:test'
import assert from 'node:assert/strict'
import { renderJunit } from '../../src/report/junit.js'
import { fixtureReport } from '../helpers/report-fixture.js'
import { findAll, parseXml } from '../helpers/xml.js'

test('junit: one suite, one testcase per objective, a failure naming value and limit', () => {
  const report = fixtureReport()
  const root = parseXml(renderJunit(report))
  assert.equal(root.name, 'testsuites')
  const suites = findAll(root, 'testsuite')
  assert.equal(suites.length, 1)
  const suite = suites[0]
  assert.equal(suite?.attrs.name, 'rebound.patch-tuesday.defended')
  assert.equal(suite?.attrs.tests, '3')
  assert.equal(suite?.attrs.failures, '1')
  assert.equal(suite?.attrs.errors, '0')
  assert.equal(suite?.attrs.time, '60.000')
  assert.equal(suite?.attrs.timestamp, '2024-05-14T10:00:00')
  const cases = findAll(root, 'testcase')
  assert.deepEqual(cases.map((c) => c.attrs.name), report.objectives.map((o) => o.name))
  const failed = cases.filter((c) => c.children.some((e) => e.name === 'failure'))
  assert.deepEqual(failed.map((c) => c.attrs.name), ['delivery-ratio-permille'])
  const failure = findAll(failed[0] ?? root, 'failure')[0]
  assert.equal(failure?.attrs.message, 'objective delivery-ratio-permille failed: value 888, limit 990')
  const seed = findAll(root, 'property').find((p) => p.attrs.name === 'seed')
  assert.equal(seed?.attrs.value, '1234')
})

test('junit: hostile names and errors stay well-formed and read back as written', () => {
  const name = `a<b>&"c"'d'`
  const report = fixtureReport({
    objectives: [{ name, ok: false, value: null, limit: 5 }],
    error: 'cluster did not come up: \u0007bell ]]> <tail>',
    reproduce: 'rebound run x --flag "<y>"'
  })
  const root = parseXml(renderJunit(report))
  const cases = findAll(root, 'testcase')
  assert.equal(cases[0]?.attrs.name, name)
  assert.match(findAll(root, 'failure')[0]?.attrs.message ?? '', /value -, limit 5/)
  // A run that ended in an error has one more testcase, with an <error>, and the suite counts it.
  assert.equal(cases[1]?.attrs.name, 'run')
  const error = findAll(root, 'error')[0]
  assert.equal(error?.attrs.message, 'run ended in error: cluster did not come up: \uFFFDbell ]]> <tail>')
  assert.equal(findAll(root, 'testsuite')[0]?.attrs.errors, '1')
  assert.equal(findAll(root, 'testsuite')[0]?.attrs.tests, '2')
})

test('xml check: rejects what is not well-formed', () => {
  const bad = [
    '<a>&</a>',
    '<a><b></a></b>',
    '<a x="1" x="2"/>',
    '<a x=1/>',
    '<a>unclosed',
    '<a/><b/>',
    '<a>\u0001</a>',
    '<a>&#1;</a>',
    '<a>&nbsp;</a>',
    '<a x="<"/>',
    '<a>]]></a>'
  ]
  for (const text of bad) assert.throws(() => parseXml(text), /not well-formed/, text)
  assert.deepEqual(parseXml('<?xml version="1.0"?>\n<a k=\'v&amp;\'>t&#x41;<b/></a>\n'), {
    name: 'a', attrs: { k: 'v&' }, text: 'tA', children: [{ name: 'b', attrs: {}, children: [], text: '' }]
  })
})
