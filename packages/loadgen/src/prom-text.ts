/**
 * Just enough of the Prometheus text exposition format to read counters: sum a metric's samples
 * over all its label sets. https://prometheus.io/docs/instrumenting/exposition_formats/
 */

/** Lines read from one page (prom-client's default process metrics are a few hundred). */
export const MAX_METRIC_LINES = 20_000

export interface Sample {
  name: string
  labels: string
  value: number
}

/** One sample line, or undefined for comments, blank or malformed lines. */
export function parseSampleLine (line: string): Sample | undefined {
  const text = line.trim()
  if (text === '' || text.startsWith('#')) return undefined
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text)
  if (nameMatch === null) return undefined
  const name = nameMatch[0]
  let rest = text.slice(name.length)
  let labels = ''
  if (rest.startsWith('{')) {
    const end = labelsEnd(rest)
    if (end < 0) return undefined
    labels = rest.slice(1, end)
    rest = rest.slice(end + 1)
  }
  const valueText = rest.trim().split(/\s+/)[0] ?? ''
  const value = Number(valueText)
  if (valueText === '' || Number.isNaN(value)) return undefined
  return { name, labels, value }
}

/** Index of the '}' closing the label set, skipping quoted values (which may hold '}'). */
function labelsEnd (text: string): number {
  let quoted = false
  for (let i = 1; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') {
      quoted = true
    } else if (c === '}') {
      return i
    }
  }
  return -1
}

/** Sum of every sample of each wanted metric name (0 for names that do not appear). */
export function sumMetrics<K extends string> (page: string, names: readonly K[]): Record<K, number> {
  const sums = Object.fromEntries(names.map((name) => [name, 0])) as Record<K, number>
  const wanted = new Set<string>(names)
  const lines = page.split('\n', MAX_METRIC_LINES)
  for (const line of lines) {
    const sample = parseSampleLine(line)
    if (sample === undefined || !wanted.has(sample.name) || !Number.isFinite(sample.value)) continue
    sums[sample.name as K] += sample.value
  }
  return sums
}

/**
 * Like sumMetrics, but a metric the page does not declare at all is absent (undefined), not 0. A
 * declared metric without samples (a labelled counter nothing has incremented yet) is 0.
 */
export function findMetrics<K extends string> (page: string, names: readonly K[]): Partial<Record<K, number>> {
  const found: Partial<Record<K, number>> = {}
  const wanted = new Set<string>(names)
  for (const line of page.split('\n', MAX_METRIC_LINES)) {
    const declared = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) /.exec(line)?.[1]
    if (declared !== undefined && wanted.has(declared)) {
      found[declared as K] ??= 0
      continue
    }
    const sample = parseSampleLine(line)
    if (sample === undefined || !wanted.has(sample.name) || !Number.isFinite(sample.value)) continue
    const name = sample.name as K
    found[name] = (found[name] ?? 0) + sample.value
  }
  return found
}
