/**
 * Scenario files (docs/scenarios.md): the shipped ones load, bad ones are refused naming the file
 * and the field, the layers of options apply in order, and objectives and limits reach the verdict.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ReboundError, parseConfig } from '@rebound/protocol'
import { MAX_NODES } from '../../src/layout.js'
import { RUN_OPTIONS, RunFlagsSchema, RunOptionsSchema, type RunOptions } from '../../src/options.js'
import { recoveryFigures } from '../../src/recovery.js'
import { reproduceCommand } from '../../src/report.js'
import { bindScenario, resolveRun, scenarioArgOf } from '../../src/scenario-file/bind.js'
import { parseScenarioFile, type LoadedScenario } from '../../src/scenario-file/load.js'
import {
  CLUSTER_FIELDS, OBSERVE_FIELDS, TRIGGER_FIELDS, TRIGGER_TYPES, WARMUP_FIELDS, WORKLOAD_FIELDS, type TriggerType
} from '../../src/scenario-file/schema.js'
import { loadShipped, findScenario, isScenarioPath } from '../../src/scenario-file/shipped.js'
import { TRIGGERS } from '../../src/scenario-file/triggers.js'
import type { RunFacts } from '../../src/scenarios/scenario.js'
import type { SupernodeFailureReport } from '../../src/scenarios/supernode-failure-report.js'
import type { WipeReport } from '../../src/scenarios/wipe-report.js'

const SHIPPED_NAMES = ['decapitate', 'decapitate-all', 'freeze', 'patch-tuesday', 'soak', 'wipe', 'wipe-device', 'wipe-store']

function parse (json: unknown, path = '/tmp/user/storm.json'): LoadedScenario {
  return parseScenarioFile(JSON.stringify(json), path, false)
}

/** The BAD_CONFIG message of loading `json`; fails the test when it loads. */
function refusal (json: unknown, path = '/tmp/user/storm.json'): string {
  try {
    parse(json, path)
  } catch (err) {
    assert.ok(err instanceof ReboundError, String(err))
    assert.equal(err.code, 'BAD_CONFIG')
    return err.message
  }
  assert.fail(`loaded: ${JSON.stringify(json)}`)
}

const minimal = (trigger: Record<string, unknown>, more: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ description: 'a storm', phases: { trigger, ...more } })

test('every shipped scenario loads, with a description and a source, and the names are the documented ones', async () => {
  const shipped = await loadShipped()
  assert.deepEqual(shipped.map((s) => s.ref.name), SHIPPED_NAMES)
  for (const s of shipped) {
    assert.ok(s.ref.shipped)
    assert.ok(s.file.description.length > 20, s.ref.name)
    assert.ok((s.file.source ?? '').length > 20, `${s.ref.name}: source`)
  }
  const byName = new Map(shipped.map((s) => [s.ref.name, s]))
  assert.equal(byName.get('decapitate-all')?.options.supernodeKillFraction, 1)
  assert.equal(byName.get('wipe-store')?.options.target, 'store')
  assert.equal(byName.get('wipe-device')?.options.target, 'device')
  assert.equal(byName.get('patch-tuesday')?.options.killFraction, 0.5)
})

test('the shipped scenarios keep the behaviour of the built-in ones they replace (same effective options as the defaults)', async () => {
  const defaults = RunOptionsSchema.parse({})
  for (const s of await loadShipped()) {
    const { options } = resolveRun(s, {})
    // decapitate-all and wipe-store differ from the defaults in their trigger only; soak is new (its own restart window and bound).
    const expected: RunOptions = {
      ...defaults,
      ...(s.ref.name === 'decapitate-all' ? { supernodeKillFraction: 1 } : {}),
      ...(s.ref.name === 'wipe-store' ? { target: 'store' as const } : {}),
      ...(s.ref.name === 'soak' ? { rebootWindowMs: 5000, observeMs: 60_000 } : {})
    }
    assert.deepEqual(options, expected, s.ref.name)
  }
})

test('a name finds a shipped scenario; a path (a "/" or .json) is a user file; an unknown name lists the known ones', async () => {
  const shipped = await loadShipped()
  assert.equal((await findScenario('freeze', shipped)).ref.name, 'freeze')
  assert.equal(isScenarioPath('./storm.json'), true)
  assert.equal(isScenarioPath('storm.json'), true)
  assert.equal(isScenarioPath('dir/storm'), true)
  assert.equal(isScenarioPath('patch-tuesday'), false)
  await assert.rejects(findScenario('no-such', shipped), (err: Error) => /unknown scenario 'no-such'.*patch-tuesday/.test(err.message))
  await assert.rejects(findScenario('/nonexistent/storm.json', shipped), (err: Error) => /\/nonexistent\/storm\.json:\n {2}no such file/.test(err.message))
})

test('bad files are refused naming the file and the field', () => {
  const path = '/tmp/user/storm.json'
  const unknownField = refusal(minimal({ type: 'kill-peers', fractoin: 0.2 }), path)
  assert.match(unknownField, /scenario file \/tmp\/user\/storm\.json:/)
  assert.match(unknownField, /phases\.trigger\.fractoin: unknown field/)
  assert.match(refusal({ ...minimal({ type: 'freeze' }), colour: 'red' }), /colour: unknown field/)
  assert.match(refusal(minimal({ type: 'explode' })), /phases\.trigger\.type: unknown trigger "explode" \(one of kill-peers \| decapitate \| freeze \| wipe \| soak\)/)
  assert.match(refusal(minimal({})), /phases\.trigger\.type: missing/)
  assert.match(refusal(minimal({ type: 'kill-peers' }, { objectives: ['t100-ms', 'frozen-clients-rehomed-ms'] })),
    /phases\.objectives\[1\]: "frozen-clients-rehomed-ms" is not an objective of trigger kill-peers/)
  assert.match(refusal({ ...minimal({ type: 'kill-peers' }), cluster: { peers: '8' } }), /cluster\.peers: Invalid input: expected number, received string/)
  assert.match(refusal({ ...minimal({ type: 'kill-peers' }), cluster: { peers: 2.5 } }), /cluster\.peers: /)
  assert.match(refusal(minimal({ type: 'kill-peers', fraction: 1.5 })), /phases\.trigger\.fraction: Too big/)
  assert.match(refusal({ phases: { trigger: { type: 'freeze' } } }), /description: /)
  assert.match(refusal(minimal({ type: 'wipe', target: 'store', fraction: 0.2 })), /phases\.trigger\.fraction: only with target "device"/)
  // A lever only the supernode triggers have.
  assert.match(refusal(minimal({ type: 'kill-peers', addSupernodes: 2 })), /phases\.trigger\.addSupernodes: unknown field/)
})

test('objective lists: a limit only where the limit is a number of its own, each name once', () => {
  assert.match(refusal(minimal({ type: 'kill-peers' }, { objectives: [{ name: 'all-killed-reattached', limit: 3 }] })),
    /phases\.objectives\[0\]\.limit: "all-killed-reattached" has no limit of its own to set \(settable: t100-ms, message-delivery-ratio\)/)
  assert.match(refusal(minimal({ type: 'kill-peers' }, { objectives: ['t100-ms', 't100-ms'] })), /phases\.objectives\[1\]: "t100-ms" is listed twice/)
  assert.match(refusal(minimal({ type: 'kill-peers' }, { objectives: [42] })), /phases\.objectives\[0\]: expected an objective name/)
  assert.match(refusal(minimal({ type: 'kill-peers' }, { objectives: [{ name: 't100-ms', limit: -1 }] })), /phases\.objectives\[0\]\.limit: /)
  // Always judged; naming it is allowed.
  assert.doesNotThrow(() => parse(minimal({ type: 'kill-peers' }, { objectives: ['no-lost-writes'] })))
})

test('precedence: built-in defaults < scenario file < flags', () => {
  const loaded = parse({ ...minimal({ type: 'kill-peers', fraction: 0.2 }), cluster: { peers: 8, supernodes: 2 }, workload: { messageRate: 2 } })
  const flags = parseConfig(['--peers', '10', '--message-rate', '1'], {}, RUN_OPTIONS, RunFlagsSchema)
  assert.ok(flags !== undefined)
  const { options } = resolveRun(loaded, flags)
  assert.equal(options.peers, 10, 'a flag wins over the file')
  assert.equal(options.messageRate, 1, 'a flag wins over the file')
  assert.equal(options.supernodes, 2, 'the file wins over the default')
  assert.equal(options.killFraction, 0.2, 'the file wins over the default')
  assert.equal(options.loginServers, 2, 'the default where neither says')
  assert.equal(options.observeMs, 90_000)
  // A flag left out stays out: no default may hide the file's value.
  assert.deepEqual(parseConfig([], {}, RUN_OPTIONS, RunFlagsSchema), {})
  // The cross-field bound is judged on the layers together.
  const big = parse({ ...minimal({ type: 'kill-peers' }), cluster: { peers: MAX_NODES - 10 } })
  assert.doesNotThrow(() => resolveRun(big, { supernodes: 10 }))
  assert.throws(() => resolveRun(big, { supernodes: 11 }), /peers \+ supernodes \+ add-supernodes must be at most/)
})

test('wipe keeps --target: the flag picks the store wipe, and its objectives', async () => {
  const wipe = await findScenario('wipe', await loadShipped())
  const { scenario, options } = resolveRun(wipe, { target: 'store' })
  assert.equal(options.target, 'store')
  const verdict = scenario.objectives(wipeFacts(options, 'store')).map((o) => o.name)
  assert.deepEqual(verdict, ['login-servers-back-ms', 'new-store-id', 'all-devices-restored', 'restore-t100-ms', 'no-unexpected-exits'])
  // A file that lists store objectives cannot be turned into a device wipe by a flag.
  const store = await findScenario('wipe-store', await loadShipped())
  assert.throws(() => resolveRun(store, { target: 'device' }), /"login-servers-back-ms" is not an objective of trigger wipe \(target device\)/)
})

test('the file\'s objectives are judged with its limits, the others left out; defaults unchanged', () => {
  const loaded = parse(minimal({ type: 'kill-peers', rebootWindowMs: 5000 }, { objectives: [{ name: 't100-ms', limit: 4000 }, 'all-killed-reattached'] }))
  const { scenario, options } = resolveRun(loaded, {})
  const objectives = scenario.objectives(killFacts(options, 4500))
  assert.deepEqual(objectives.map((o) => o.name), ['all-killed-reattached', 't100-ms'])
  assert.deepEqual(objectives.find((o) => o.name === 't100-ms'), { name: 't100-ms', ok: false, value: 4500, limit: 4000 })
  // Without a list: every objective, the default limit (reboot window + 30 s).
  const all = resolveRun(parse(minimal({ type: 'kill-peers', rebootWindowMs: 5000 })), {})
  const t100 = all.scenario.objectives(killFacts(all.options, 4500)).find((o) => o.name === 't100-ms')
  assert.deepEqual(t100, { name: 't100-ms', ok: true, value: 4500, limit: 35_000 })
  // A trigger that could not measure says so, whatever the file lists.
  const decapitate = resolveRun(parse(minimal({ type: 'decapitate' }, { objectives: ['survivors-over-cap'] })), {})
  const unmeasured = decapitate.scenario.objectives({ ...killFacts(decapitate.options, null), outcome: { recovery: recoveryFigures([]), kills: [] } })
  assert.deepEqual(unmeasured.map((o) => o.name), ['supernode-failure-measured'])
})

test('every trigger\'s catalogue names exactly what its objectives function produces, and every settable limit is in it', () => {
  const cases: Array<{ type: TriggerType, options: RunOptions, facts: RunFacts[] }> = [
    { type: 'kill-peers', options: defaults(), facts: [killFacts(defaults(), 1000)] },
    { type: 'decapitate', options: defaults(), facts: [supernodeFacts(true), supernodeFacts(false)] },
    { type: 'freeze', options: defaults(), facts: [supernodeFacts(true)] },
    { type: 'wipe', options: defaults({ target: 'store' }), facts: [wipeFacts(defaults({ target: 'store' }), 'store')] },
    { type: 'wipe', options: defaults({ target: 'device' }), facts: [wipeFacts(defaults({ target: 'device' }), 'device')] },
    { type: 'soak', options: defaults(), facts: [soakFacts(defaults())] }
  ]
  assert.deepEqual([...new Set(cases.map((c) => c.type))].sort(), [...TRIGGER_TYPES].sort())
  for (const c of cases) {
    const spec = TRIGGERS[c.type]
    const catalogue = spec.objectives(c.options).map((o) => o.name)
    const produced = new Set(c.facts.flatMap((f) => spec.judge(f, {}).map((o) => o.name)))
    assert.deepEqual([...produced].sort(), [...catalogue].sort(), `${c.type} ${c.options.target}`)
    const limits = spec.limits(c.options, {})
    for (const name of Object.keys(limits)) assert.ok(catalogue.includes(name), `${c.type}: settable ${name}`)
    // Each settable limit reaches the verdict when set.
    for (const name of Object.keys(limits).filter((n) => produced.has(n))) {
      const judged = c.facts.flatMap((f) => spec.judge(f, { [name]: 0.5 })).find((o) => o.name === name)
      assert.equal(judged?.limit, 0.5, `${c.type}: ${name}`)
    }
  }
})

test('decapitate and decapitate-all judge the objective of whichever case the run ends in (a flag may turn one into the other)', async () => {
  const shipped = await loadShipped()
  for (const name of ['decapitate', 'decapitate-all']) {
    const loaded = shipped.find((s) => s.ref.name === name)
    assert.ok(loaded !== undefined)
    for (const [fraction, survivors, expected] of [[1, false, 'attached-99pct-ms'], [0.3, true, 'orphans-rehomed-ms']] as const) {
      const { scenario } = resolveRun(loaded, { supernodeKillFraction: fraction })
      const judged = scenario.objectives(supernodeFacts(survivors)).map((o) => o.name)
      assert.ok(judged.includes(expected), `${name} --supernode-kill-fraction ${fraction}: ${judged.join(', ')}`)
    }
  }
})

test('a user file is replayed by its absolute path, a shipped one by name', async () => {
  const user = bindScenario(parse(minimal({ type: 'freeze' }), '/tmp/my runs/storm.json'), defaults())
  assert.equal(user.name, 'storm')
  assert.equal(scenarioArgOf(user), "'/tmp/my runs/storm.json'")
  assert.equal(reproduceCommand(scenarioArgOf(user), ['--peers', '8', '--seed', '3'], 3), "rebound run '/tmp/my runs/storm.json' --peers 8 --seed 3")
  const shipped = (await loadShipped()).find((s) => s.ref.name === 'freeze')
  assert.ok(shipped !== undefined)
  assert.equal(scenarioArgOf(bindScenario(shipped, defaults())), 'freeze')
})

test('docs/scenarios.md: its example loads, and it names every field, trigger and objective', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../../../../docs/scenarios.md', import.meta.url)), 'utf8')
  const example = /## An example\s+```json\n([\s\S]*?)```/.exec(doc)?.[1]
  assert.ok(example !== undefined, 'the example block')
  const loaded = parseScenarioFile(example, '/tmp/storm.json', false)
  assert.equal(resolveRun(loaded, {}).options.peersPerProcess, 50)
  const fields = [
    ...Object.keys(CLUSTER_FIELDS).map((f) => `cluster.${f}`), ...Object.keys(WORKLOAD_FIELDS).map((f) => `workload.${f}`),
    ...Object.keys(WARMUP_FIELDS).map((f) => `phases.warmup.${f}`), ...Object.keys(OBSERVE_FIELDS).map((f) => `phases.observe.${f}`),
    ...TRIGGER_TYPES.flatMap((type) => Object.keys(TRIGGER_FIELDS[type]))
  ]
  for (const field of fields) assert.ok(doc.includes(`\`${field}\``), `docs name ${field}`)
  const options = [defaults({ target: 'store' }), defaults({ target: 'device' })]
  for (const type of TRIGGER_TYPES) {
    assert.ok(doc.includes(`\`${type}\``), `docs name trigger ${type}`)
    for (const name of options.flatMap((o) => TRIGGERS[type].objectives(o).map((spec) => spec.name))) assert.ok(doc.includes(`\`${name}\``), `docs name ${name}`)
  }
})

function defaults (over: Partial<RunOptions> = {}): RunOptions {
  return { ...RunOptionsSchema.parse({}), ...over }
}

function killFacts (options: RunOptions, t100Ms: number | null): RunFacts {
  return {
    options,
    outcome: { recovery: { killed: 2, reattached: 2, t50Ms: 1, t90Ms: 2, t99Ms: 3, t100Ms }, kills: [] },
    messages: { sent: 10, delivered: 10, counted: 10 },
    unexpectedExits: 0
  }
}

function wipeFacts (options: RunOptions, target: WipeReport['target']): RunFacts {
  const restore = recoveryFigures([1000, 2000])
  const wipe: WipeReport = {
    target, wipedAtMs: 1, erased: [], storeIdBefore: 'a', storeIdAfter: 'b', loginServersBackMs: 3000, restore, writesAtTrigger: { sends: 0, contacts: 0 }
  }
  return { ...killFacts(options, 2000), outcome: { recovery: restore, kills: [], wipe } }
}

/** A soak with one role measured in both windows. */
function soakFacts (options: RunOptions): RunFacts {
  const recovery = recoveryFigures([1000])
  const growth = [{ role: 'peer' as const, rssEarlyMiB: 80, rssLateMiB: 84, rssRatio: 1.05, fdsEarly: 40, fdsLate: 41, fdRatio: 0.63 }]
  return { ...killFacts(options, 1000), outcome: { recovery, kills: [], soak: { durationMs: 60_000, churnIntervalMs: 10_000, churned: 1, growth, samples: 12 } } }
}

/** A supernode failure with survivors (every objective of a partial loss) or none (a total loss). */
function supernodeFacts (survivors: boolean): RunFacts {
  const rehoming = recoveryFigures([800, 1500])
  const load = { supernodes: 1, clients: 4, meanLoad: 0.2, maxLoad: 0.2, maxOverMean: 1, busiest: 'sn1', atMs: 2 }
  const sf: SupernodeFailureReport = {
    trigger: 'SIGKILL',
    fraction: 0.5,
    triggerAtMs: 1,
    orphanWindowMs: 2000,
    freezeRehomeBoundMs: null,
    freezeMs: null,
    supernodesBefore: 2,
    affected: [{ name: 'sn2', peerId: 'B', clientsBefore: 2, restartedAtMs: null, thawedAtMs: 5, backAtMs: 6 }],
    survivors: survivors ? [{ name: 'sn1', capacity: 20, clientsBefore: 2, maxClients: 4, clientsAfter: 4 }] : [],
    orphans: [],
    rehoming,
    settledAtMs: 2,
    loadAfter: load,
    survivorLoadAfter: survivors ? load : null,
    afterRecovery: { fromMs: 2, membershipChanges: 0, toMs: 3, sent: 4, delivered: 4, failed: 0, failedByCode: {}, counted: 4, deliveryRatio: 1 },
    lookups: { atMs: 3, online: 4, via: 1, correct: 4, wrong: 0, notFound: 0, unanswered: 0, ratio: 1, misses: [] },
    added: [],
    elected: [],
    registryLiveAtEnd: 1
  }
  return { ...killFacts(defaults(), null), outcome: { recovery: rehoming, kills: [], supernodeFailure: sf } }
}
