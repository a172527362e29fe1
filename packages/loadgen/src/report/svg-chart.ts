/**
 * A line chart as inline SVG, drawn here rather than in the browser so that report.html needs no
 * script and no library, and reads the same offline years later. Time runs along x, values from 0
 * up along y; vertical markers (the trigger) cross the whole plot. The legend is HTML under it.
 */
import { escapeMarkup } from './escape.js'

/** A point [t in seconds, value]; null is a gap (nothing was measured there) that breaks the line. */
export type Point = readonly [number, number] | null

export interface Series {
  label: string
  color: string
  points: readonly Point[]
  /**
   * For a total whose parts are drawn too (logins offered, messages sent): dashed lines are drawn
   * over the solid ones, so the total still shows where it equals a part.
   */
  dashed?: boolean
}

export interface Marker {
  t: number
  label: string
}

export interface ChartSpec {
  title: string
  /** What a y value is, e.g. `per second`, `cores`. */
  unit: string
  xLabel: string
  series: Series[]
  markers: Marker[]
  /** Shown instead of the plot when no series has a point. */
  emptyNote?: string
}

export const CHART_WIDTH_PX = 1080
export const CHART_HEIGHT_PX = 240
/** The trigger's colour: used by no series, so a reader (and the screenshot test) can tell it apart. */
export const MARKER_COLOR = '#e377c2'
/**
 * Points drawn per line: a plot about a thousand pixels wide shows no more. A longer series is cut
 * into buckets drawn as their minimum and maximum, so a one-second storm spike still shows.
 */
export const MAX_LINE_POINTS = 2000
const MARGIN = { left: 60, right: 20, top: 22, bottom: 34 }
/** About this many labelled values up the y axis, and along the (wider) x axis. */
const Y_TICKS_WANTED = 5
const X_TICKS_WANTED = 10
const GRID_COLOR = '#e6e6e6'
const AXIS_COLOR = '#9a9a9a'
const TEXT_COLOR = '#444'

interface Frame {
  tMin: number
  tMax: number
  yMax: number
  x: (t: number) => number
  y: (v: number) => number
}

export function renderChart (spec: ChartSpec): string {
  const points = spec.series.flatMap((s) => s.points.filter((p): p is readonly [number, number] => p !== null))
  const caption = `<figcaption>${escapeMarkup(spec.title)} <span class="unit">(${escapeMarkup(spec.unit)})</span></figcaption>`
  if (points.length === 0) {
    return `<figure class="chart">${caption}<p class="empty">${escapeMarkup(spec.emptyNote ?? 'no data')}</p></figure>`
  }
  const frame = frameOf(points.map((p) => p[0]).concat(spec.markers.map((m) => m.t)), points.reduce((max, p) => Math.max(max, p[1]), 0))
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH_PX}" height="${CHART_HEIGHT_PX}" viewBox="0 0 ${CHART_WIDTH_PX} ${CHART_HEIGHT_PX}" role="img" aria-label="${escapeMarkup(spec.title)}">`,
    axes(frame, spec.xLabel),
    ...spec.series.filter((s) => s.dashed !== true).map((s) => line(s, frame)),
    ...spec.series.filter((s) => s.dashed === true).map((s) => line(s, frame)),
    ...spec.markers.map((m) => marker(m, frame)),
    '</svg>'
  ].join('\n')
  return `<figure class="chart">${caption}\n${svg}\n${legend(spec.series)}</figure>`
}

function frameOf (ts: readonly number[], maxValue: number): Frame {
  // From 0 (the start, or the trigger) at the latest. reduce, not Math.min(...ts): an hour of
  // samples over many series is too many arguments for one call.
  const tMin = ts.reduce((min, t) => Math.min(min, t), 0)
  const tMax = ts.reduce((max, t) => Math.max(max, t), tMin + 1)
  const yMax = niceCeil(Math.max(maxValue, 1))
  const plotW = CHART_WIDTH_PX - MARGIN.left - MARGIN.right
  const plotH = CHART_HEIGHT_PX - MARGIN.top - MARGIN.bottom
  return {
    tMin,
    tMax,
    yMax,
    x: (t) => MARGIN.left + ((t - tMin) / (tMax - tMin)) * plotW,
    y: (v) => MARGIN.top + plotH - (v / yMax) * plotH
  }
}

/** 1, 2 or 5 times a power of ten: the step of about `wanted` ticks over `range`. */
export function niceStep (range: number, wanted = Y_TICKS_WANTED): number {
  const raw = range / wanted
  const power = 10 ** Math.floor(Math.log10(raw))
  const multiple = [1, 2, 5, 10].find((m) => m * power >= raw) ?? 10
  return multiple * power
}

function niceCeil (value: number): number {
  const step = niceStep(value)
  return Math.ceil(value / step) * step
}

/** Ticks from the first multiple of the step at or after `from`, to `to`: about `wanted` of them. */
function ticks (from: number, to: number, wanted: number): number[] {
  const step = niceStep(to - from, wanted)
  const out: number[] = []
  for (let v = Math.ceil(from / step) * step; v <= to + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

export function formatTick (value: number): string {
  if (Math.abs(value) >= 10_000) return `${Number((value / 1000).toPrecision(4))}k`
  return String(Number(value.toPrecision(4)))
}

function axes (f: Frame, xLabel: string): string {
  const left = MARGIN.left
  const right = CHART_WIDTH_PX - MARGIN.right
  const bottom = CHART_HEIGHT_PX - MARGIN.bottom
  const parts: string[] = []
  for (const v of ticks(0, f.yMax, Y_TICKS_WANTED)) {
    const y = px(f.y(v))
    parts.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="${GRID_COLOR}"/>`)
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${formatTick(v)}</text>`)
  }
  for (const t of ticks(f.tMin, f.tMax, X_TICKS_WANTED)) {
    const x = px(f.x(t))
    parts.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="${AXIS_COLOR}"/>`)
    parts.push(`<text x="${x}" y="${bottom + 18}" text-anchor="middle">${formatTick(t)}</text>`)
  }
  parts.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="${AXIS_COLOR}"/>`)
  parts.push(`<line x1="${left}" y1="${MARGIN.top}" x2="${left}" y2="${bottom}" stroke="${AXIS_COLOR}"/>`)
  parts.push(`<text x="${right}" y="${CHART_HEIGHT_PX - 2}" text-anchor="end">${escapeMarkup(xLabel)}</text>`)
  return `<g font-family="sans-serif" font-size="11" fill="${TEXT_COLOR}">${parts.join('')}</g>`
}

function line (s: Series, f: Frame): string {
  const dash = s.dashed === true ? ' stroke-dasharray="7 4"' : ''
  return segments(s.points)
    .map((segment) => downsample(segment).map(([t, v]) => `${px(f.x(t))},${px(f.y(v))}`).join(' '))
    .map((coords) => `<polyline fill="none" stroke="${escapeMarkup(s.color)}" stroke-width="2" stroke-linejoin="round"${dash} points="${coords}"/>`)
    .join('\n')
}

/** The runs of consecutive points between gaps. */
function segments (points: readonly Point[]): Array<Array<readonly [number, number]>> {
  const out: Array<Array<readonly [number, number]>> = [[]]
  for (const p of points) {
    if (p === null) out.push([])
    else out.at(-1)?.push(p)
  }
  return out.filter((s) => s.length > 0)
}

/** At most MAX_LINE_POINTS points: each bucket of consecutive points drawn as its low and its high. */
export function downsample (points: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
  if (points.length <= MAX_LINE_POINTS) return [...points]
  const buckets = MAX_LINE_POINTS / 2
  const out: Array<readonly [number, number]> = []
  for (let b = 0; b < buckets; b++) {
    const bucket = points.slice(Math.floor((b * points.length) / buckets), Math.floor(((b + 1) * points.length) / buckets))
    if (bucket.length === 0) continue
    let low = bucket[0] as readonly [number, number]
    let high = low
    for (const p of bucket) {
      if (p[1] < low[1]) low = p
      if (p[1] > high[1]) high = p
    }
    // In time order, so the line does not double back.
    out.push(...(low[0] <= high[0] ? [low, high] : [high, low]))
  }
  return out
}

function marker (m: Marker, f: Frame): string {
  // On a whole pixel: the 2-pixel line is then two full pixel columns, crisp rather than blurred over three.
  const x = Math.round(f.x(m.t))
  const bottom = CHART_HEIGHT_PX - MARGIN.bottom
  return `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${bottom}" stroke="${MARKER_COLOR}" stroke-width="2" stroke-dasharray="6 4"/>` +
    `<text x="${x + 4}" y="${MARGIN.top - 8}" font-family="sans-serif" font-size="11" fill="${TEXT_COLOR}">${escapeMarkup(m.label)}</text>`
}

function legend (series: readonly Series[]): string {
  const items = series.map((s) => {
    const style = `border-top: 3px ${s.dashed === true ? 'dashed' : 'solid'} ${escapeMarkup(s.color)}`
    return `<li><span class="swatch" style="${style}"></span>${escapeMarkup(s.label)}</li>`
  })
  return `<ul class="legend">${items.join('')}</ul>`
}

/** One decimal of a pixel is finer than any screen draws, and keeps the file small. */
function px (value: number): number {
  return Math.round(value * 10) / 10
}
