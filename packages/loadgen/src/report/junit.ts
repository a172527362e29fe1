/**
 * junit.xml of one run, for CI test reporters: one testsuite (the run), one testcase per objective,
 * a <failure> naming the value and the limit for each failed one. A run that ended in an error
 * (the cluster never came up, Ctrl-C) gets one more testcase, `run`, with an <error>, so that the
 * file's verdict is always the exit code's. Attributes and elements follow the Ant/Surefire schema
 * most reporters read: https://github.com/windyroad/JUnit-Schema/blob/master/JUnit.xsd
 */
import type { Report } from '../report.js'
import { formatValue } from '../summary.js'
import { escapeMarkup as x } from './escape.js'

/** What a failed objective says, in one line: its name, value and limit. */
export function failureMessage (o: Report['objectives'][number]): string {
  return `objective ${o.name} failed: value ${formatValue(o.name, o.value)}, limit ${formatValue(o.name, o.limit)}`
}

function suiteName (report: Report): string {
  return `rebound.${report.scenario}.${report.profile}`
}

/** xs:dateTime without a zone, as the schema wants; startedAt is UTC. */
function junitTimestamp (iso: string): string | undefined {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)/.exec(iso)
  return match?.[1]
}

function testcases (report: Report): string[] {
  const classname = x(`rebound.${report.scenario}`)
  const cases = report.objectives.map((o) => {
    const open = `    <testcase classname="${classname}" name="${x(o.name)}" time="0"`
    if (o.ok) return `${open}/>`
    const message = x(failureMessage(o))
    return `${open}>\n      <failure type="objective" message="${message}">${message}</failure>\n    </testcase>`
  })
  if (report.error !== null) {
    const message = x(`run ended in error: ${report.error}`)
    cases.push(`    <testcase classname="${classname}" name="run" time="0">\n      <error type="run" message="${message}">${message}</error>\n    </testcase>`)
  }
  return cases
}

export function renderJunit (report: Report): string {
  const failures = report.objectives.filter((o) => !o.ok).length
  const errors = report.error === null ? 0 : 1
  const tests = report.objectives.length + errors
  const time = (report.durationMs / 1000).toFixed(3)
  const stamp = junitTimestamp(report.startedAt)
  const counts = `tests="${tests}" failures="${failures}" errors="${errors}" time="${time}"`
  const pairs: Array<[string, string]> = [['seed', String(report.seed)], ['profile', report.profile], ['driver', report.driver], ['reproduce', report.reproduce]]
  const properties = pairs.map(([name, value]) => `      <property name="${x(name)}" value="${x(value)}"/>`)
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="rebound" ${counts}>`,
    `  <testsuite name="${x(suiteName(report))}" ${counts}${stamp === undefined ? '' : ` timestamp="${stamp}"`}>`,
    '    <properties>',
    ...properties,
    '    </properties>',
    ...testcases(report),
    `    <system-out>${x(`reproduce: ${report.reproduce}\nlogs: ${report.logsDir}`)}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    ''
  ].join('\n')
}
