/**
 * Cluster tests of issue 5 (docs/durability.md): the real programs, as a user runs them.
 * - `wipe --target store`: the store is deleted under the running login servers; every device
 *   restores it and nothing acknowledged is lost.
 * - `wipe --target device`: half the peers lose their data directory; each gets its data back.
 * - The checker checks itself in a real run: during patch-tuesday this test removes, behind the
 *   system's back, one acknowledged message from a device's inbox and another from the store's
 *   mailbox (chosen so that nothing in the system would put them back); the run must fail
 *   no-lost-writes and name both.
 * One address range, so the runs go one after the other. Skipped, saying so, when not built.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { DatabaseSync } from 'node:sqlite'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sleep } from '@rebound/protocol'
import { DEFAULT_BINS } from '../../src/driver/process-driver.js'
import type { Report } from '../../src/report.js'
import { runRebound } from './run-rebound.js'

/** Start-up (~20 s), warm-up, trigger and restoration (< 45 s), settle and check, stop. */
const RUN_TIMEOUT_MS = 180_000
/** A /8 of its own, apart from the other cluster tests' (77, 61, 63) and a default run's (0). */
const NET = 57
const COMMON = ['--peers', '8', '--supernodes', '2', '--login-servers', '2', '--warmup-ms', '5000', '--reboot-window-ms', '3000', '--net', String(NET)]

const missing = Object.values(DEFAULT_BINS).filter((path) => !existsSync(path))
const skip = missing.length > 0 ? `not built: ${missing.join(', ')}` : false

interface ScenarioRun { report: Report, html: string, junit: string, code: number | null, output: string, out: string }

async function runScenario (args: readonly string[], during?: (out: string) => Promise<void>): Promise<ScenarioRun> {
  const out = await mkdtemp(join(tmpdir(), 'rebound-durability-'))
  const running = runRebound([...args, ...COMMON, '--out', out], RUN_TIMEOUT_MS)
  await during?.(out)
  const { code, output } = await running
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as Report
  const [html, junit] = await Promise.all([readFile(join(out, 'report.html'), 'utf8'), readFile(join(out, 'junit.xml'), 'utf8')])
  return { report, html, junit, code, output, out }
}

/** Keep the run directory for a post-mortem and say where it is; remove it when all held. */
async function checked (run: { out: string, output: string }, check: () => void): Promise<void> {
  try {
    check()
  } catch (err) {
    throw new Error(`${String(err)}\nrun directory kept: ${run.out}\noutput:\n${run.output}`)
  }
  await rm(run.out, { recursive: true, force: true })
}

function assertNothingLost (report: Report): void {
  const h = report.history
  assert.ok(h !== undefined, 'report.history')
  assert.equal(h.lost + h.duplicated + h.unexpected + h.unreadable, 0, JSON.stringify(h.examples))
  assert.ok(h.perKind.send.ok > 0 && h.perKind.contact.ok > 0, 'acknowledged sends and contact changes were checked')
  const t = h.atTrigger
  assert.ok(t !== undefined && t.send + t.contact > 0, `writes in flight at the trigger: ${JSON.stringify(t)}`)
}

test('wipe --target store: the devices restore a deleted store; nothing acknowledged is lost', { timeout: RUN_TIMEOUT_MS + 10_000, skip }, async () => {
  const run = await runScenario(['run', 'wipe', '--target', 'store', '--seed', '5701'])
  await checked(run, () => {
    const { report } = run
    assert.equal(run.code, 0, `exit ${run.code}`)
    for (const o of report.objectives) assert.ok(o.ok, `objective ${o.name}: ${JSON.stringify(o)}`)
    const w = report.wipe
    assert.ok(w !== undefined && w.target === 'store', 'report.wipe')
    assert.notEqual(w.storeIdAfter, w.storeIdBefore, 'a new store')
    assert.equal(w.restore.reattached, 8, 'every device restored into it')
    assertNothingLost(report)
  })
})

test('wipe --target device: wiped peers log in again and get their contacts and inbox back', { timeout: RUN_TIMEOUT_MS + 10_000, skip }, async () => {
  const run = await runScenario(['run', 'wipe', '--target', 'device', '--wipe-fraction', '0.5', '--seed', '5702'])
  await checked(run, () => {
    const { report } = run
    assert.equal(run.code, 0, `exit ${run.code}`)
    for (const o of report.objectives) assert.ok(o.ok, `objective ${o.name}: ${JSON.stringify(o)}`)
    assert.equal(report.wipe?.erased.length, 4)
    assert.equal(report.wipe.restore.reattached, 4)
    assert.ok((report.recovery.attemptsPerClient ?? 0) >= 1, 'a wiped peer has no ticket: it logged in')
    assertNothingLost(report)
  })
})

test('a loss planted behind the system\'s back in a real run is reported: no-lost-writes fails and names it', { timeout: RUN_TIMEOUT_MS + 10_000, skip }, async () => {
  let planted: Planted | undefined
  const run = await runScenario(['run', 'patch-tuesday', '--kill-fraction', '0.25', '--seed', '5703'], async (out) => { planted = await plantLosses(out) })
  await checked(run, () => {
    const { report } = run
    const p = planted
    assert.ok(p !== undefined, 'losses planted')
    assert.equal(run.code, 1, 'a lost write fails the run')
    const objective = report.objectives.find((o) => o.name === 'no-lost-writes')
    assert.equal(objective?.ok, false)
    const h = report.history
    assert.ok(h !== undefined)
    assert.ok(h.lost >= 2, `lost ${h.lost}`)
    const lost = h.examples.filter((e) => e.what === 'lost')
    assert.ok(lost.some((e) => e.where === 'device' && e.id === p.device.id && e.user === p.device.user), `device loss ${JSON.stringify(p.device)} in ${JSON.stringify(lost)}`)
    assert.ok(lost.some((e) => e.where === 'store' && e.id === p.store.id && e.user === p.store.user), `store loss ${JSON.stringify(p.store)} in ${JSON.stringify(lost)}`)
    // Issue 6: a failed objective is named in all three outputs and in the exit code.
    assert.match(run.html, /Failed objectives: [^<]*no-lost-writes/, 'report.html names it')
    assert.match(run.junit, /<testcase [^>]*name="no-lost-writes"[^>]*>\s*<failure /, 'junit.xml fails its test case')
  })
})

interface Planted {
  device: { user: string, id: string }
  store: { user: string, id: string }
}

/** Bounded: the run's warm-up and observation; polls until both losses could be planted. */
async function plantLosses (out: string): Promise<Planted> {
  const deadlineMs = Date.now() + 90_000
  let device: Planted['device'] | undefined
  let store: Planted['store'] | undefined
  while ((device === undefined || store === undefined) && Date.now() < deadlineMs) {
    await sleep(1000)
    try {
      device ??= plantDeviceLoss(out, await peerDirs(out))
      store ??= plantStoreLoss(out, device?.id)
    } catch {
      // Files not created yet, or busy: look again.
    }
  }
  if (device === undefined || store === undefined) throw new Error(`could not plant both losses (device ${String(device)}, store ${String(store)})`)
  return { device, store }
}

async function peerDirs (out: string): Promise<string[]> {
  return (await readdir(join(out, 'data'))).filter((name) => /^p\d+$/.test(name)).sort()
}

const userOf = (peer: string): string => `u${peer.slice(1)}`

/** One statement on a live database file (WAL: the running process keeps its own connection). */
function onDb<T> (path: string, use: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path)
  try {
    db.exec('PRAGMA busy_timeout=2000')
    return use(db)
  } finally {
    db.close()
  }
}

function query<T> (path: string, sql: string, ...params: Array<string | number>): T[] {
  return onDb(path, (db) => db.prepare(sql).all(...params) as T[])
}

function remove (path: string, table: 'inbox' | 'mailbox', id: string): void {
  onDb(path, (db) => db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id))
}

/**
 * Delete from a device's inbox a message its mailbox cursor is already past in the store (so the
 * mailbox fetch cannot bring it back) and that the store holds (so it was delivered long enough ago
 * to be acknowledged and archived).
 */
function plantDeviceLoss (out: string, peers: readonly string[]): Planted['device'] | undefined {
  const storePath = join(out, 'cluster', 'store.sqlite')
  for (const peer of peers) {
    const dir = join(out, 'data', peer)
    const user = userOf(peer)
    const [cursor] = query<{ seq: number }>(join(dir, 'device.sqlite'), 'SELECT mailbox_seq AS seq FROM meta WHERE id = 1')
    if (cursor === undefined || cursor.seq === 0) continue
    const fetched = new Set(query<{ id: string }>(storePath, 'SELECT id FROM mailbox WHERE to_user = ? AND seq <= ?', user, cursor.seq).map((r) => r.id))
    const inbox = query<{ id: string }>(join(dir, 'inbox.sqlite'), 'SELECT id FROM inbox WHERE archived_store_id IS NOT NULL ORDER BY received_at_ms')
    const victim = inbox.find((r) => fetched.has(r.id))
    if (victim === undefined) continue
    remove(join(dir, 'inbox.sqlite'), 'inbox', victim.id)
    return { user, id: victim.id }
  }
  return undefined
}

/**
 * Delete from the store's mailbox a message that both its sender's outbox and its recipient's
 * inbox mark as archived in this store (so neither puts it again).
 */
function plantStoreLoss (out: string, notId: string | undefined): Planted['store'] | undefined {
  const storePath = join(out, 'cluster', 'store.sqlite')
  const rows = query<{ id: string, to_user: string, from_user: string }>(storePath, 'SELECT id, to_user, from_user FROM mailbox ORDER BY seq')
  for (const row of rows) {
    if (row.id === notId) continue
    const sender = join(out, 'data', `p${row.from_user.slice(1)}`, 'device.sqlite')
    const recipient = join(out, 'data', `p${row.to_user.slice(1)}`, 'inbox.sqlite')
    const sent = query(sender, 'SELECT 1 FROM outbox WHERE id = ? AND archived_store_id IS NOT NULL', row.id)
    const received = query(recipient, 'SELECT 1 FROM inbox WHERE id = ? AND archived_store_id IS NOT NULL', row.id)
    if (sent.length === 0 || received.length === 0) continue
    remove(storePath, 'mailbox', row.id)
    return { user: row.to_user, id: row.id }
  }
  return undefined
}
