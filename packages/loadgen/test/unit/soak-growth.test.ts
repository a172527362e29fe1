/** The soak's growth verdict: a warm-up is forgiven, a leak is not, and a short soak says nothing. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { UsageByRole } from '../../src/proc-usage.js'
import { FD_SLACK_PER_PROCESS, growthByRole, type UsagePoint } from '../../src/scenarios/soak-growth.js'

const MINUTE = 60_000

/** A point a minute for `minutes`, per role from `at(minute)`. */
function series (minutes: number, at: (minute: number) => UsageByRole): UsagePoint[] {
  return Array.from({ length: minutes }, (_, m) => ({ atMs: m * MINUTE, usage: at(m) }))
}

test('flat after a warm-up: ratios about 1 (the first 20% is left out)', () => {
  // Memory doubles in the first 10 minutes of 60, then stays: a warm-up, not a leak.
  const points = series(60, (m) => ({ supernode: { processes: 4, cpuCores: 0.1, rssMiB: 4 * (m < 10 ? 100 + 10 * m : 200), fds: 4 * 40 } }))
  const [g] = growthByRole(points, 60 * MINUTE)
  assert.equal(g?.role, 'supernode')
  assert.equal(g?.rssRatio, 1)
  assert.equal(g?.rssEarlyMiB, 200)
  assert.equal(g?.fdRatio, 0.6, '(40 - slack) / 40: flat descriptors are under 1')
})

test('a leak: memory and descriptors growing all along fail the ratio, per role, per process', () => {
  const points = series(60, (m) => ({
    'login-server': { processes: 2, cpuCores: 0.1, rssMiB: 2 * 150, fds: 2 * 30 },
    swarm: { processes: 4, cpuCores: 1, rssMiB: 4 * (300 + 10 * m), fds: 4 * (100 + 5 * m) }
  }))
  const growth = growthByRole(points, 60 * MINUTE)
  assert.deepEqual(growth.map((g) => g.role), ['login-server', 'swarm'])
  const swarm = growth[1]
  assert.ok(swarm !== undefined)
  // Early window minutes 12..23 (mean 17.5), late 48..59 (mean 53.5).
  assert.equal(swarm.rssEarlyMiB, 475)
  assert.equal(swarm.rssLateMiB, 835)
  assert.equal(swarm.rssRatio, 1.76)
  assert.equal(swarm.fdRatio, Math.round(((100 + 5 * 53.5 - FD_SLACK_PER_PROCESS) / (100 + 5 * 17.5)) * 100) / 100)
  assert.ok(swarm.fdRatio > 1.5)
  assert.equal(growth[0]?.rssRatio, 1)
})

test('processes that come and go (churn) are averaged per process seen; a role missing from a window is not judged', () => {
  const points = series(10, (m) => ({
    peer: { processes: m % 2 === 0 ? 10 : 9, cpuCores: 0.5, rssMiB: (m % 2 === 0 ? 10 : 9) * 80, fds: 0 },
    ...(m < 5 ? { supernode: { processes: 1, cpuCores: 0, rssMiB: 100, fds: 10 } } : {})
  }))
  const growth = growthByRole(points, 10 * MINUTE)
  assert.deepEqual(growth.map((g) => [g.role, g.rssRatio]), [['peer', 1]])
  assert.deepEqual(growthByRole([], 10 * MINUTE), [], 'no samples: nothing to judge')
})
