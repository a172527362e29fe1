import { test } from 'node:test'
import assert from 'node:assert/strict'
import { addedSupernodes, layoutCluster } from '../../src/layout.js'
import { RunOptionsSchema } from '../../src/options.js'
import { recoveryFigures } from '../../src/recovery.js'
import { decapitate } from '../../src/scenarios/decapitate.js'
import { freeze } from '../../src/scenarios/freeze.js'
import type { RunFacts } from '../../src/scenarios/scenario.js'
import type { SupernodeFailureReport } from '../../src/scenarios/supernode-failure-report.js'
import { findOrphans, loadStats, victimCount } from '../../src/supernode-stats.js'
import { allSettled, countedOf } from '../../src/workload.js'

test('orphans are the attached peers whose last status names a lost supernode', () => {
  const lost = new Set(['SN-B', 'SN-C'])
  const orphans = findOrphans([
    { name: 'p001', supernode: 'SN-A', attached: true },
    { name: 'p002', supernode: 'SN-B', attached: true },
    // Not attached at the trigger (backing off, say): it was nobody's client, so nobody's orphan.
    { name: 'p003', supernode: 'SN-C', attached: false },
    { name: 'p004', supernode: null, attached: true },
    { name: 'p005', supernode: 'SN-C', attached: true }
  ], lost)
  assert.deepEqual(orphans, [{ name: 'p002', supernode: 'SN-B' }, { name: 'p005', supernode: 'SN-C' }])
  assert.deepEqual(findOrphans([{ name: 'p001', supernode: 'SN-A', attached: true }], new Set()), [])
})

test('load statistics of the live supernodes', () => {
  assert.equal(loadStats([]), null)
  const even = loadStats([{ name: 'sn1', clients: 10, capacity: 100 }, { name: 'sn2', clients: 20, capacity: 200 }])
  assert.deepEqual(even, { supernodes: 2, clients: 30, meanLoad: 0.1, maxLoad: 0.1, maxOverMean: 1, busiest: 'sn1' })
  const skewed = loadStats([{ name: 'sn1', clients: 30, capacity: 100 }, { name: 'sn2', clients: 10, capacity: 100 }, { name: 'sn3', clients: 20, capacity: 100 }])
  assert.equal(skewed?.busiest, 'sn1')
  assert.ok(Math.abs((skewed?.maxOverMean ?? 0) - 1.5) < 1e-9)
  // Nobody carries a client: nothing to spread, so no ratio (not a division by zero).
  assert.equal(loadStats([{ name: 'sn1', clients: 0, capacity: 10 }])?.maxOverMean, null)
  // A capacity of 0 counts as 1, like the registry's utilisation.
  assert.equal(loadStats([{ name: 'sn1', clients: 3, capacity: 0 }])?.maxLoad, 3)
})

test('victims: ceil(fraction x count), exact for decimal fractions, at most all', () => {
  assert.equal(victimCount(0.3, 6), 2)
  assert.equal(victimCount(0.34, 4), 2)
  assert.equal(victimCount(0.7, 10), 7)
  assert.equal(victimCount(1, 6), 6)
  assert.equal(victimCount(0, 6), 0)
  assert.equal(victimCount(0.01, 3), 1)
})

test('added supernodes follow the existing names and sit after the last peer', () => {
  const size = { loginServers: 2, supernodes: 4, peers: 300 }
  const members = layoutCluster(size, 63, 50)
  const added = addedSupernodes(size, 63, 3)
  assert.deepEqual(added.map((m) => m.name), ['sn5', 'sn6', 'sn7'])
  const taken = new Set(members.map((m) => m.ip))
  for (const m of added) {
    assert.equal(m.role, 'supernode')
    assert.ok(!taken.has(m.ip), `${m.name} ${m.ip} collides`)
  }
  // Node 304 (0-based) is the 55th address of the second node octet.
  assert.equal(added[0]?.ip, '127.63.3.55')
})

test('run options of the supernode scenarios: defaults and bounds', () => {
  const options = RunOptionsSchema.parse({})
  assert.equal(options.supernodeKillFraction, 0.3)
  assert.equal(options.freezeFraction, 0.3)
  assert.equal(options.freezeMs, 20_000)
  assert.equal(options.orphanWindowMs, 2000)
  assert.equal(options.addSupernodes, 0)
  assert.equal(options.restartSupernodes, false)
  assert.equal(RunOptionsSchema.safeParse({ supernodeKillFraction: '1.5' }).success, false)
  assert.equal(RunOptionsSchema.safeParse({ peers: '62000', supernodes: '1000', addSupernodes: '1000' }).success, false)
})

test('a workload window counts only its own sends', () => {
  const window = { sent: 5, delivered: 3, failed: 1, failedByCode: { RECIPIENT_OFFLINE: 1 }, skipped: 0 }
  assert.equal(countedOf(window), 4)
  assert.equal(allSettled(window), false)
  assert.equal(allSettled({ ...window, delivered: 4 }), true)
})

function report (over: Partial<SupernodeFailureReport> = {}): SupernodeFailureReport {
  const rehomeMs = [800, 1500, 2600]
  return {
    trigger: 'SIGKILL',
    fraction: 0.3,
    triggerAtMs: 1_000_000,
    orphanWindowMs: 2000,
    freezeRehomeBoundMs: null,
    freezeMs: null,
    supernodesBefore: 3,
    affected: [{ name: 'sn2', peerId: 'B', clientsBefore: 3, restartedAtMs: null, thawedAtMs: null, backAtMs: null }],
    survivors: [{ name: 'sn1', capacity: 18, clientsBefore: 4, maxClients: 6, clientsAfter: 6 }, { name: 'sn3', capacity: 18, clientsBefore: 5, maxClients: 6, clientsAfter: 6 }],
    orphans: rehomeMs.map((ms, i) => ({ name: `p00${i + 1}`, from: 'sn2', rehomedAtMs: 1_000_000 + ms, rehomeMs: ms, to: 'sn1' })),
    rehoming: recoveryFigures(rehomeMs),
    settledAtMs: 1_003_000,
    loadAfter: { supernodes: 2, clients: 12, meanLoad: 0.3333, maxLoad: 0.3333, maxOverMean: 1, busiest: 'sn1', atMs: 1_013_000 },
    survivorLoadAfter: { supernodes: 2, clients: 12, meanLoad: 0.3333, maxLoad: 0.3333, maxOverMean: 1, busiest: 'sn1', atMs: 1_013_000 },
    afterRecovery: { fromMs: 1_003_000, membershipChanges: 0, toMs: 1_013_000, sent: 40, delivered: 40, failed: 0, failedByCode: {}, counted: 40, deliveryRatio: 1 },
    lookups: { atMs: 1_013_000, online: 12, via: 2, correct: 12, wrong: 0, notFound: 0, unanswered: 0, ratio: 1, misses: [] },
    added: [],
    elected: [],
    registryLiveAtEnd: 2,
    ...over
  }
}

function facts (sf: SupernodeFailureReport | undefined, unexpectedExits = 0): RunFacts {
  return {
    options: RunOptionsSchema.parse({}),
    outcome: { recovery: sf?.rehoming ?? recoveryFigures([]), kills: [], ...(sf === undefined ? {} : { supernodeFailure: sf }) },
    messages: { sent: 0, delivered: 0, counted: 0 },
    unexpectedExits
  }
}

const verdicts = (objectives: ReadonlyArray<{ name: string, ok: boolean }>): Record<string, boolean> => Object.fromEntries(objectives.map((o) => [o.name, o.ok]))

test('decapitate objectives: W + 10 s, no survivor over cap, no exits, lookups >= 99.9%, max/mean <= 1.3, delivery >= 0.99', () => {
  assert.deepEqual(verdicts(decapitate.objectives(facts(report()))), {
    'orphans-rehomed-ms': true, 'survivors-over-cap': true, 'no-unexpected-exits': true, 'lookups-after-recovery': true, 'load-max-over-mean': true, 'delivery-after-recovery': true
  })
  // One wrong answer in 1000 online users is the limit; two are over it; nobody online is no measure.
  const sweep = (correct: number, online: number): SupernodeFailureReport => report({ lookups: { atMs: 0, online, via: 2, correct, wrong: online - correct, notFound: 0, unanswered: 0, ratio: online === 0 ? null : correct / online, misses: [] } })
  assert.equal(verdicts(decapitate.objectives(facts(sweep(999, 1000))))['lookups-after-recovery'], true)
  assert.equal(verdicts(decapitate.objectives(facts(sweep(998, 1000))))['lookups-after-recovery'], false)
  assert.equal(verdicts(decapitate.objectives(facts(sweep(0, 0))))['lookups-after-recovery'], false)
  const limit = decapitate.objectives(facts(report())).find((o) => o.name === 'orphans-rehomed-ms')
  assert.equal(limit?.limit, 12_000)
  // One orphan late, one never: T100 over W + 10 s, or not reached at all.
  assert.equal(verdicts(decapitate.objectives(facts(report({ rehoming: recoveryFigures([500, 12_001]) }))))['orphans-rehomed-ms'], false)
  assert.equal(verdicts(decapitate.objectives(facts(report({ rehoming: recoveryFigures([500, null]) }))))['orphans-rehomed-ms'], false)
  // A wider W moves the limit with it.
  assert.equal(verdicts(decapitate.objectives(facts(report({ orphanWindowMs: 5000, rehoming: recoveryFigures([14_000]) }))))['orphans-rehomed-ms'], true)
  const overCap = report({ survivors: [{ name: 'sn1', capacity: 18, clientsBefore: 4, maxClients: 19, clientsAfter: 12 }] })
  assert.equal(verdicts(decapitate.objectives(facts(overCap)))['survivors-over-cap'], false)
  assert.equal(verdicts(decapitate.objectives(facts(report(), 1)))['no-unexpected-exits'], false)
  const skewed = report({ survivorLoadAfter: { supernodes: 2, clients: 12, meanLoad: 0.3, maxLoad: 0.4, maxOverMean: 1.3334, busiest: 'sn1', atMs: 0 } })
  assert.equal(verdicts(decapitate.objectives(facts(skewed)))['load-max-over-mean'], false)
  assert.equal(verdicts(decapitate.objectives(facts(report({ survivorLoadAfter: null }))))['load-max-over-mean'], false)
  // An empty supernode elected after the re-homing skews the all-live figure, not the survivors'.
  const newcomer = report({ loadAfter: { supernodes: 3, clients: 12, meanLoad: 0.22, maxLoad: 0.3333, maxOverMean: 1.5, busiest: 'sn1', atMs: 0 } })
  assert.equal(verdicts(decapitate.objectives(facts(newcomer)))['load-max-over-mean'], true)
  const lossy = report({ afterRecovery: { fromMs: 0, membershipChanges: 0, toMs: 10_000, sent: 100, delivered: 98, failed: 2, failedByCode: { TIMEOUT: 2 }, counted: 100, deliveryRatio: 0.98 } })
  assert.equal(verdicts(decapitate.objectives(facts(lossy)))['delivery-after-recovery'], false)
  // Nothing sent between attached users while the workload ran: no overlay to speak of.
  const silent = report({ afterRecovery: { fromMs: 0, membershipChanges: 0, toMs: 10_000, sent: 0, delivered: 0, failed: 0, failedByCode: {}, counted: 0, deliveryRatio: null } })
  assert.equal(verdicts(decapitate.objectives(facts(silent)))['delivery-after-recovery'], false)
  assert.deepEqual(verdicts(decapitate.objectives(facts(undefined))), { 'supernode-failure-measured': false })
})

test('decapitate with every supernode gone: 99% attached again within 60 s instead', () => {
  const allGone = report({ survivors: [], loadAfter: null, survivorLoadAfter: null, rehoming: recoveryFigures([null, null, null]) })
  const objectives = decapitate.objectives(facts(allGone))
  assert.equal(objectives[0]?.name, 'attached-99pct-ms')
  assert.equal(objectives[0]?.ok, false)
  const elected = report({ survivors: [], rehoming: recoveryFigures(Array.from({ length: 100 }, (_, i) => (i === 99 ? null : 30_000 + i))) })
  assert.equal(decapitate.objectives(facts(elected))[0]?.ok, true)
  // The new layer's balance is reported, not judged: the target is the partial loss's.
  const uneven = report({ survivors: [], loadAfter: { supernodes: 6, clients: 200, meanLoad: 0.43, maxLoad: 0.57, maxOverMean: 1.32, busiest: 'p024', atMs: 0 } })
  assert.equal(decapitate.objectives(facts(uneven)).some((o) => o.name === 'load-max-over-mean'), false)
})

test('freeze objectives: re-homed within 5 s, every thawed supernode listed again, no exits', () => {
  const frozen = report({
    trigger: 'SIGSTOP',
    freezeMs: 20_000,
    freezeRehomeBoundMs: 5000,
    affected: [{ name: 'sn2', peerId: 'B', clientsBefore: 3, restartedAtMs: null, thawedAtMs: 1_020_000, backAtMs: 1_022_000 }],
    rehoming: recoveryFigures([3100, 4200, 4900])
  })
  assert.deepEqual(verdicts(freeze.objectives(facts(frozen))), { 'frozen-clients-rehomed-ms': true, 'thawed-listed-again': true, 'lookups-after-recovery': true, 'no-unexpected-exits': true })
  assert.equal(verdicts(freeze.objectives(facts({ ...frozen, rehoming: recoveryFigures([3100, 5200]) })))['frozen-clients-rehomed-ms'], false)
  const notBack = { ...frozen, affected: [{ name: 'sn2', peerId: 'B', clientsBefore: 3, restartedAtMs: null, thawedAtMs: 1_020_000, backAtMs: null }] }
  assert.equal(verdicts(freeze.objectives(facts(notBack)))['thawed-listed-again'], false)
})
