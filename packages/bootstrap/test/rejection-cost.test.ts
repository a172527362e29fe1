/**
 * The steady-overload rule (overload.md section 5): goodput at 10x load stays above 90% only if a
 * rejection costs at most ~1% of a login. This measures both in-process, through the real login
 * handler: 2000 refusals (queue full, and shed by CoDel after queueing) against 20 logins at the
 * production scrypt cost, all CPU of the process counted (scrypt runs on libuv's pool threads).
 * Set REBOUND_COST_REPORT=1 to print the numbers.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import {
  LoginRequest, LoginResponse, decodeFrame, deriveSlotKey, encodeFrame, generateClusterKey, publicKeyOf
} from '@rebound/protocol'
import {
  AdmissionController, CapacityEstimator, FixedLimit, LiveSupernodes, SlotDesk, Store, UsedSlots, WaitingRoom,
  admissionPolicy, hashPassword
} from '../src/index.js'
import { REJECTION_CPU_SAMPLE_EVERY, threadCpuMicros } from '../src/cpu-clock.js'
import { loginService } from '../src/login-service.js'
import { createMetrics } from '../src/metrics.js'
import { tempDir, testLogger } from './helpers.js'

const PRODUCTION_SCRYPT_N = 16_384
const LOGINS = 20
const REJECTIONS = 2000
const WARM_UP = 200
/** overload.md: R <= 1.1% keeps 90% goodput at 10x offered load. */
const MAX_RATIO = 0.01

function cpuMicros (): number {
  const u = process.cpuUsage()
  return u.user + u.system
}

test('a rejection costs well under 1% of a login', async (t) => {
  const dir = await tempDir('cost')
  t.after(dir.remove)
  const store = Store.open(join(dir.path, 'store.db'))
  t.after(() => { store.close() })
  store.insertAccount({ user: 'alice', ...await hashPassword('pw-alice', PRODUCTION_SCRYPT_N), createdAtMs: 0 })
  const cluster = generateClusterKey()
  const connection = { remotePeer: peerIdFromPrivateKey(await generateKeyPair('Ed25519')) } as unknown as Connection
  const serverPeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
  const supernodes = new LiveSupernodes({ heartbeatTimeoutMs: 6000 }, { store, clock: Date.now })

  let nowMs = 0
  let controller: AdmissionController | undefined
  const metrics = createMetrics({ countLiveSupernodes: () => 0, supernodeUtilisation: () => 0, admission: () => controller })
  const build = (loginCapacity: number, limit: number, cpu: () => number = threadCpuMicros): { handler: ReturnType<typeof loginService>, admission: AdmissionController } => {
    const policy = admissionPolicy('defended')
    policy.queues.login = { ...policy.queues.login, capacity: loginCapacity }
    const admission = controller = new AdmissionController({ policy, limit: new FixedLimit(limit), capacity: new CapacityEstimator(50) },
      { clock: () => nowMs, schedule: () => () => {} })
    const desk = new SlotDesk({ key: deriveSlotKey(cluster.privateKey), serverPeerId: () => serverPeerId },
      { room: new WaitingRoom({ maxAheadMs: 3600_000 }), used: new UsedSlots(), capacityPerS: () => 20 })
    const handler = loginService(
      { ticketTtlMs: 3600_000, scryptN: PRODUCTION_SCRYPT_N, clusterPrivateKey: cluster.privateKey, clusterPublicKey: publicKeyOf(cluster.privateKey) },
      { store, admission, desk, supernodes, metrics, clock: Date.now, cpu, log: testLogger() })
    return { handler, admission }
  }
  const request = { type: 'login', user: 'alice', password: 'pw-alice', deadlineMs: 10_000 } as const
  const wire = encodeFrame(request)

  // Logins: an idle server, one at a time, everything a login costs (SQLite, scrypt, Ed25519).
  const idle = build(512, 4)
  assert.equal((await idle.handler(request, connection)).type, 'logged-in') // warm-up
  const loginStart = cpuMicros()
  for (let i = 0; i < LOGINS; i++) {
    const reply = await idle.handler(request, connection)
    assert.equal(reply.type, 'logged-in')
  }
  const loginUs = (cpuMicros() - loginStart) / LOGINS

  // Refusals because the queue is full: the one hash slot is held, the login queue holds nobody.
  const full = build(0, 1)
  void full.admission.run('register', 60_000, async () => await new Promise<never>(() => {}))
  const refuse = async (): Promise<LoginResponse> => await full.handler(request, connection)
  for (let i = 0; i < WARM_UP; i++) await refuse()
  const rejectionCpuBefore = (await metrics.rejectionCpu.get()).values[0]?.value ?? 0
  const fullStart = cpuMicros()
  for (let i = 0; i < REJECTIONS; i++) {
    const reply = await refuse()
    assert.ok(reply.type === 'error' && reply.code === 'OVERLOADED' && reply.slot !== undefined)
  }
  const queueFullUs = (cpuMicros() - fullStart) / REJECTIONS
  const meteredUs = (((await metrics.rejectionCpu.get()).values[0]?.value ?? 0) - rejectionCpuBefore) * 1e6 / REJECTIONS

  // Refusals after queueing: a standing queue, shed by CoDel, answered with slots.
  const shedding = build(512, 1)
  void shedding.admission.run('register', 60_000, async () => await new Promise<never>(() => {}))
  const shedStart = cpuMicros()
  for (let done = 0; done < REJECTIONS; done += 500) {
    const replies = Array.from({ length: 500 }, async () => await shedding.handler(request, connection))
    nowMs += 1000 // a second of standing queue: all of them are stale
    shedding.admission.sweep()
    for (const reply of await Promise.all(replies)) assert.ok(reply.type === 'error' && reply.slot !== undefined)
  }
  const shedUs = (cpuMicros() - shedStart) / REJECTIONS

  // What every request costs besides the handler: decoding the frame, encoding the reply.
  const sample = await refuse()
  const framingStart = cpuMicros()
  for (let i = 0; i < REJECTIONS; i++) {
    decodeFrame(LoginRequest, wire)
    encodeFrame(sample)
  }
  const framingUs = (cpuMicros() - framingStart) / REJECTIONS

  const report = {
    loginUs: Math.round(loginUs),
    queueFullUs: +queueFullUs.toFixed(1),
    shedUs: +shedUs.toFixed(1),
    meteredUs: +meteredUs.toFixed(1),
    framingUs: +framingUs.toFixed(1),
    ratioQueueFull: +(queueFullUs / loginUs).toFixed(5),
    ratioShed: +(shedUs / loginUs).toFixed(5),
    ratioShedWithFraming: +((shedUs + framingUs) / loginUs).toFixed(5)
  }
  if (process.env.REBOUND_COST_REPORT === '1') console.log(JSON.stringify(report))
  assert.ok(loginUs > 10_000, `a login at 2^14 costs milliseconds of CPU (${loginUs} us)`)
  assert.ok(report.ratioQueueFull < MAX_RATIO, JSON.stringify(report))
  assert.ok(report.ratioShedWithFraming < MAX_RATIO, JSON.stringify(report))
  // The exported metric (meteredUs) is reported, not judged here: the thread clock's resolution is
  // the kernel's (on this VM often a scheduler tick, so a 60 us refusal mostly reads 0 and now and
  // then a whole tick); its accounting is checked below with a clock that moves by known steps.

  // Accounting of rejectionCpu: one refusal in REJECTION_CPU_SAMPLE_EVERY is timed and counted that
  // many times. A clock that advances 10 us per reading makes every timed refusal cost a known,
  // non-zero number of steps.
  let fakeUs = 0
  const stepped = build(0, 1, () => { fakeUs += 10; return fakeUs })
  void stepped.admission.run('register', 60_000, async () => await new Promise<never>(() => {}))
  const before = (await metrics.rejectionCpu.get()).values[0]?.value ?? 0
  const SAMPLED_REFUSALS = 8 * REJECTION_CPU_SAMPLE_EVERY
  for (let i = 0; i < SAMPLED_REFUSALS; i++) await stepped.handler(request, connection)
  const countedUs = (((await metrics.rejectionCpu.get()).values[0]?.value ?? 0) - before) * 1e6
  // 8 timed refusals x EVERY x (at least one 10 us step each), and no more than the clock moved x EVERY.
  assert.ok(countedUs >= 8 * REJECTION_CPU_SAMPLE_EVERY * 10, `rejection CPU counted: ${countedUs} us`)
  assert.ok(countedUs <= fakeUs * REJECTION_CPU_SAMPLE_EVERY, `rejection CPU counted: ${countedUs} us of ${fakeUs} us`)
})
