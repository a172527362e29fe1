/**
 * The issue's "done when": report.html, opened in headless Chromium, shows its charts. A screenshot
 * of a rendered 60-second report is decoded and each series' colour counted in horizontal bands:
 * a colour must show in as many separate bands (charts) as it has lines, and the trigger's in every
 * chart. Chromium is required: without it this test fails and says how to install it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runCharts } from '../../src/report/charts.js'
import { renderRunHtml } from '../../src/report/run-html.js'
import { MARKER_COLOR } from '../../src/report/svg-chart.js'
import { fixtureReport } from '../helpers/report-fixture.js'
import { decodePng, type Image } from '../helpers/png.js'

const BROWSERS = ['chromium', 'chromium-browser']
const WINDOW = { width: 1200, height: 3200 }
const SCREENSHOT_TIMEOUT_MS = 60_000
/** Per channel: anti-aliased edges blend with white, a line's middle keeps its colour. */
const COLOR_TOLERANCE = 16
/** Rows without the colour that separate two charts (charts are 100+ px apart, lines within one are not). */
const BAND_GAP_PX = 40
/** Pixels of a colour a chart's line gives at least; a legend swatch alone is 48. */
const MIN_PIXELS_PER_CHART = 150

function findBrowser (): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of BROWSERS) {
      const path = join(dir, name)
      try {
        accessSync(path, constants.X_OK)
        return path
      } catch {}
    }
  }
  return undefined
}

function screenshot (browser: string, htmlPath: string, dir: string): Image {
  const png = join(dir, 'shot.png')
  const result = spawnSync(browser, [
    '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--force-device-scale-factor=1', '--force-color-profile=srgb',
    `--user-data-dir=${join(dir, 'profile')}`, `--screenshot=${png}`, `--window-size=${WINDOW.width},${WINDOW.height}`, pathToFileURL(htmlPath).href
  ], { encoding: 'utf8', timeout: SCREENSHOT_TIMEOUT_MS })
  assert.equal(result.status, 0, `${browser} failed: ${result.stderr}`)
  return decodePng(readFileSync(png))
}

function rgb (hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16)
  return [n >> 16, (n >> 8) & 0xff, n & 0xff]
}

/** Pixels of row `y` within COLOR_TOLERANCE of `hex`. */
function rowCount (image: Image, y: number, hex: string): number {
  const [r, g, b] = rgb(hex)
  let count = 0
  for (let x = 0; x < image.width; x++) {
    const i = (y * image.width + x) * 4
    if (Math.abs((image.rgba[i] ?? 0) - r) <= COLOR_TOLERANCE && Math.abs((image.rgba[i + 1] ?? 0) - g) <= COLOR_TOLERANCE &&
      Math.abs((image.rgba[i + 2] ?? 0) - b) <= COLOR_TOLERANCE) count++
  }
  return count
}

/** Matching pixels per band of rows, top to bottom, from row `fromY` on. */
function bands (image: Image, hex: string, fromY = 0): number[] {
  const out: number[] = []
  let lastRow = -Infinity
  for (let y = fromY; y < image.height; y++) {
    const row = rowCount(image, y, hex)
    if (row === 0) continue
    if (y - lastRow > BAND_GAP_PX) out.push(0)
    out[out.length - 1] = (out.at(-1) ?? 0) + row
    lastRow = y
  }
  return out
}

function firstRowOf (image: Image, hex: string): number {
  for (let y = 0; y < image.height; y++) if (rowCount(image, y, hex) > 0) return y
  return image.height
}

function tempDir (t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-shot-'))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

function requireBrowser (): string {
  const browser = findBrowser()
  assert.ok(browser !== undefined, `headless Chromium not found on PATH (${BROWSERS.join(' or ')}): install Debian's package, apt-get install --no-install-recommends chromium (.ci/run does)`)
  return browser
}

test('screenshot and PNG decoding: a block of known colour and size reads back exactly', (t) => {
  const browser = requireBrowser()
  const dir = tempDir(t)
  const page = join(dir, 'block.html')
  writeFileSync(page, '<!DOCTYPE html><body style="margin:0;background:#fff"><div style="margin:37px 0 0 53px;width:101px;height:43px;background:#1f77b4"></div>')
  const image = screenshot(browser, page, dir)
  assert.equal(image.width, WINDOW.width)
  assert.deepEqual(bands(image, '#1f77b4'), [101 * 43])
  const at = (x: number, y: number): number[] => [...image.rgba.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3)]
  assert.deepEqual(at(53, 37), rgb('#1f77b4'))
  assert.deepEqual(at(52, 37), [255, 255, 255])
})

test('report.html in headless Chromium: every chart drew its lines and the trigger', (t) => {
  const browser = requireBrowser()
  const dir = tempDir(t)
  const report = fixtureReport()
  const page = join(dir, 'report.html')
  writeFileSync(page, renderRunHtml(report))
  const image = screenshot(browser, page, dir)

  // Only from the first chart down (its trigger line's top): text above may share a series' hue.
  const trigger = bands(image, MARKER_COLOR)
  assert.equal(trigger.length, runCharts(report).length, `trigger drawn in ${trigger.length} bands`)
  const chartsTop = firstRowOf(image, MARKER_COLOR)
  const specs = runCharts(report)
  const chartsByColor = new Map<string, number>([[MARKER_COLOR, specs.length]])
  for (const spec of specs) {
    for (const color of new Set(spec.series.map((s) => s.color))) chartsByColor.set(color, (chartsByColor.get(color) ?? 0) + 1)
  }
  for (const [color, charts] of chartsByColor) {
    const found = bands(image, color, chartsTop)
    const drawn = found.filter((pixels) => pixels >= MIN_PIXELS_PER_CHART)
    assert.ok(drawn.length >= charts, `colour ${color}: drawn in ${drawn.length} charts (pixels per band ${found.join(', ')}), expected ${charts}`)
  }
})
