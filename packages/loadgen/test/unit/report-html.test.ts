import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { CompareReport } from '../../src/compare.js'
import { compareCharts, runCharts } from '../../src/report/charts.js'
import { renderCompareHtml } from '../../src/report/compare-html.js'
import { escapeMarkup } from '../../src/report/escape.js'
import { renderRunHtml } from '../../src/report/run-html.js'
import { MARKER_COLOR, MAX_LINE_POINTS, downsample, niceStep, renderChart } from '../../src/report/svg-chart.js'
import { triggerAtS } from '../../src/report/trigger.js'
import { formatSummary } from '../../src/summary.js'
import { FIXTURE_TRIGGER_S, fixtureReport } from '../helpers/report-fixture.js'

const HOSTILE = `<script>alert("x")</script> & 'quotes'`

function count (text: string, needle: string): number {
  return text.split(needle).length - 1
}

test('escapeMarkup: the five markup characters become entities, characters XML forbids become U+FFFD', () => {
  assert.equal(escapeMarkup(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;')
  assert.equal(escapeMarkup('a\u0000b\u001bc\tok\n'), 'a\uFFFDb\uFFFDc\tok\n')
  // A lone surrogate is replaced; a valid pair (an emoji) is kept.
  assert.equal(escapeMarkup('x\uD800y \uD83D\uDE00'), 'x\uFFFDy \uD83D\uDE00')
  assert.equal(escapeMarkup('\uFFFE'), '\uFFFD')
})

test('run page: text from the report is escaped everywhere, and the page loads nothing from outside', () => {
  const html = renderRunHtml(fixtureReport({
    scenario: HOSTILE,
    error: HOSTILE,
    reproduce: HOSTILE,
    objectives: [{ name: HOSTILE, ok: false, value: 1, limit: 0 }]
  }))
  assert.doesNotMatch(html, /<script/i)
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;'))
  // Offline: no scripts, stylesheets, images or frames, and no URL but the SVG namespace.
  assert.doesNotMatch(html, /<(script|link|img|iframe|object|embed)\b/i)
  assert.doesNotMatch(html, /url\(/i)
  const urls = html.match(/https?:\/\/[^"'\s<]+/g) ?? []
  assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg'])
})

test('run page: a failed objective is named under the title and marked in the table', () => {
  const html = renderRunHtml(fixtureReport())
  assert.match(html, /<span class="verdict fail">FAIL<\/span>/)
  assert.match(html, /Failed objectives: delivery-ratio-permille/)
  assert.match(html, /<tr class="fail"><td>delivery-ratio-permille<\/td><td class="num">888<\/td><td class="num">990<\/td><td class="fail">FAIL<\/td><\/tr>/)
  // The passing ones are not marked.
  assert.match(html, /<tr><td>t99-ms<\/td><td class="num">11900 ms<\/td>/)
  assert.match(html, /rebound run patch-tuesday --peers 40 --seed 1234/)
  // The history's counts and its example.
  assert.match(html, /lg1-42/)
})

test('run page: five charts, every series a line, the trigger marked on each', () => {
  const report = fixtureReport()
  const specs = runCharts(report)
  assert.deepEqual(specs.map((s) => s.title), ['Peers online and supernodes', 'Logins', 'Messages', 'CPU by role', 'Memory by role'])
  assert.deepEqual(specs.map((s) => s.series.length), [2, 4, 3, 3, 3])
  const html = renderRunHtml(report)
  assert.equal(count(html, '<svg '), 5)
  assert.equal(count(html, '<polyline '), 2 + 4 + 3 + 3 + 3)
  assert.equal(count(html, `stroke="${MARKER_COLOR}"`), 5)
  // Legends name the series, the role charts name the roles.
  for (const label of ['peers online', 'shed (rejected)', 'delivered', 'login servers', 'supernodes', 'peers']) assert.ok(html.includes(`</span>${label}</li>`), label)
})

test('run page: a report without CPU samples or triggerAtS still renders, the trigger from its first kill', () => {
  const base = fixtureReport()
  const { triggerAtS: _dropped, ...old } = { ...base, timeline: base.timeline.map(({ usage: _usage, ...s }) => s) }
  assert.equal(triggerAtS(old), FIXTURE_TRIGGER_S)
  const html = renderRunHtml(old)
  assert.equal(count(html, '<svg '), 3)
  assert.equal(count(html, 'not measured: no /proc'), 2)
  // No trigger at all: no marker.
  const none = fixtureReport({ triggerAtS: null })
  assert.equal(count(renderRunHtml(none), `stroke="${MARKER_COLOR}"`), 0)
})

test('chart: gaps break a line, values up to the top tick, no data gives the note', () => {
  const svg = renderChart({ title: 't', unit: 'u', xLabel: 'x', markers: [], series: [{ label: 'a', color: '#123456', points: [[0, 1], [1, 2], null, [3, 7], [4, 3]] }] })
  assert.equal(count(svg, '<polyline '), 2)
  // The y axis reaches a nice number at or above the largest value.
  assert.match(svg, />8<\/text>/)
  const empty = renderChart({ title: 't', unit: 'u', xLabel: 'x', markers: [], series: [], emptyNote: 'nothing here' })
  assert.doesNotMatch(empty, /<svg/)
  assert.match(empty, /nothing here/)
})

test('niceStep: 1, 2 or 5 times a power of ten', () => {
  assert.equal(niceStep(10), 2)
  assert.equal(niceStep(60), 20)
  assert.equal(niceStep(3), 1)
  assert.equal(niceStep(0.9), 0.2)
  assert.equal(niceStep(2200), 500)
})

test('downsample: at most MAX_LINE_POINTS, in time order, and a one-point spike survives', () => {
  const points = Array.from({ length: 7200 }, (_, i) => [i, i === 4321 ? 1000 : 1] as const)
  const out = downsample(points)
  assert.ok(out.length <= MAX_LINE_POINTS, String(out.length))
  assert.ok(out.some(([t, v]) => t === 4321 && v === 1000))
  for (let i = 1; i < out.length; i++) assert.ok((out[i]?.[0] ?? 0) >= (out[i - 1]?.[0] ?? 0))
  assert.equal(downsample(points.slice(0, 10)).length, 10)
})

test('compare page: both profiles on every chart, aligned on their triggers, linked to their runs', () => {
  const naive = fixtureReport({ profile: 'naive', triggerAtS: 25 })
  const defended = fixtureReport({ profile: 'defended', ok: true, objectives: [{ name: 't99-ms', ok: true, value: 1, limit: 2 }] })
  const specs = compareCharts([naive, defended])
  assert.ok(specs.length >= 7)
  for (const spec of specs) {
    assert.deepEqual(spec.series.map((s) => s.label), ['naive', 'defended'], spec.title)
    assert.deepEqual(spec.series.map((s) => s.dashed === true), [true, false], spec.title)
    assert.deepEqual(spec.markers, [{ t: 0, label: 'trigger' }])
    assert.equal(spec.xLabel, 'seconds from the trigger')
  }
  // Each run's time is shifted by its own trigger.
  assert.equal(specs[0]?.series[0]?.points[0]?.[0], 1 - 25)
  assert.equal(specs[0]?.series[1]?.points[0]?.[0], 1 - FIXTURE_TRIGGER_S)
  assert.ok(specs.some((s) => s.title === 'CPU of the login servers'))
  const compare: CompareReport = {
    scenario: 'patch-tuesday', seed: 1234, profiles: ['naive', 'defended'], ok: true,
    runs: [{ profile: 'naive', reportPath: '/x/naive/report.json', ok: false, exitCode: 1 }, { profile: 'defended', reportPath: '/x/defended/report.json', ok: true, exitCode: 0 }],
    rows: [{ label: 'result', cells: ['FAIL', 'PASS'] }]
  }
  const html = renderCompareHtml(compare, [{ report: naive, htmlHref: 'naive/report.html' }, { report: defended, htmlHref: 'defended/report.html' }])
  assert.match(html, /<a href="naive\/report.html">naive run<\/a> \(failed: delivery-ratio-permille\)/)
  assert.match(html, /<td class="fail">FAIL<\/td><td>PASS<\/td>/)
  assert.equal(count(html, '<svg '), specs.length)
  assert.equal(count(html, '<polyline '), specs.length * 2)
})

test('compare page: a run that never reached its trigger keeps each run on its own clock', () => {
  const specs = compareCharts([fixtureReport({ profile: 'naive', triggerAtS: null, recovery: { ...fixtureReport().recovery, kills: [] } }), fixtureReport()])
  assert.equal(specs[0]?.xLabel, 'seconds since the run started')
  assert.deepEqual(specs[0]?.markers, [{ t: FIXTURE_TRIGGER_S, label: 'trigger (defended)' }])
})

test('summary: names the failed objective and the paths of report.html and junit.xml', () => {
  const text = formatSummary(fixtureReport(), '/out/report.json', { html: '/out/report.html', junit: '/out/junit.xml' })
  assert.match(text, /FAIL {2}delivery-ratio-permille/)
  assert.match(text, /\/out\/report.html/)
  assert.match(text, /\/out\/junit.xml/)
})

test('run page: a run that never came up renders its error, no recovery and charts without data', () => {
  const { history: _history, ...unchecked } = fixtureReport({
    error: 'cluster did not come up: p003 exited', timeline: [], triggerAtS: null,
    recovery: { ...fixtureReport().recovery, kills: [] },
    objectives: [{ name: 'cluster-ready', ok: false, value: 2, limit: 40 }]
  })
  const html = renderRunHtml(unchecked)
  assert.match(html, /Failed objectives: cluster-ready/)
  assert.match(html, /Run error: cluster did not come up: p003 exited/)
  assert.match(html, /Not measured: the run ended before its trigger/)
  assert.match(html, /Not checked: the run ended before its check/)
  assert.equal(count(html, '<svg '), 0)
  assert.equal(count(html, '<p class="empty">'), 5)
})
