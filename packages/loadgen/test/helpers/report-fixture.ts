/**
 * A synthetic report of a realistic patch-tuesday run, for the renderers' tests: 60 one-second
 * samples of a 40-peer cluster where half the peers are killed at t = 20 s and log in again in a
 * storm the login servers shed part of, with CPU and memory by role. Every series is non-zero and
 * apart from the others most of the time, so that each one's line shows in a screenshot.
 */
import { Tally } from '../../src/history/result.js'
import type { HistoryReport } from '../../src/history-run.js'
import { RunOptionsSchema } from '../../src/options.js'
import type { Report } from '../../src/report.js'
import type { TimelineSample } from '../../src/timeline.js'

export const FIXTURE_SECONDS = 60
export const FIXTURE_TRIGGER_S = 20
const STARTED_AT = '2024-05-14T10:00:00.000Z'
const PEERS = 40
const KILLED = 20
const STORM_S = 12

function sample (t: number): TimelineSample {
  const since = t - FIXTURE_TRIGGER_S
  const storm = since >= 0 && since < STORM_S
  // Peers come back over the storm; supernodes stay up.
  const peersOnline = since < 0 ? PEERS : Math.min(PEERS, PEERS - KILLED + Math.floor((since * KILLED) / STORM_S))
  const loginsOffered = storm ? 30 + 5 * (STORM_S - since) : 3
  const loginsAccepted = storm ? 8 : 2
  const loginsFailed = storm ? 2 : 1
  const messagesSent = 12
  const messagesFailed = storm ? 4 : 1
  return {
    t,
    peersOnline,
    supernodes: 4,
    loginsOffered,
    loginsAccepted,
    loginsRejected: loginsOffered - loginsAccepted - loginsFailed,
    loginsFailed,
    messagesSent,
    messagesDelivered: messagesSent - messagesFailed - 1,
    messagesFailed,
    killed: since < 0 ? 0 : KILLED,
    restarted: since < 0 ? 0 : Math.min(KILLED, since * 2),
    processesRunning: 6 + peersOnline,
    usage: {
      'login-server': { processes: 2, cpuCores: storm ? 1.6 : 0.2, rssMiB: 180 + (storm ? 40 : 0) },
      supernode: { processes: 4, cpuCores: storm ? 0.9 : 0.4, rssMiB: 320 },
      peer: { processes: peersOnline, cpuCores: peersOnline * 0.02 + (storm ? 2 : 0), rssMiB: peersOnline * 55 }
    }
  }
}

function history (): HistoryReport {
  const tally = new Tally()
  tally.problem({ kind: 'send', what: 'lost', where: 'device', user: 'u007', id: 'lg1-42', expected: 'in the inbox', got: 'missing' })
  return { ...tally.result(), operations: 700, settledMs: 4200, drained: true, left: { pending: 0, unarchived: 0, unfetched: 0, unanswered: 0, unsynced: 0 } }
}

/** The report; `over` replaces top-level fields. */
export function fixtureReport (over: Partial<Report> = {}): Report {
  const startMs = Date.parse(STARTED_AT)
  const killTimeMs = startMs + FIXTURE_TRIGGER_S * 1000
  return {
    scenario: 'patch-tuesday',
    seed: 1234,
    driver: 'process',
    profile: 'defended',
    startedAt: STARTED_AT,
    durationMs: FIXTURE_SECONDS * 1000,
    reproduce: 'rebound run patch-tuesday --peers 40 --seed 1234',
    options: RunOptionsSchema.parse({}),
    cluster: { loginServers: 2, supernodes: 4, peers: PEERS },
    peersPerProcess: 1,
    recovery: {
      killed: KILLED,
      reattached: KILLED,
      t50Ms: 5200,
      t90Ms: 10_400,
      t99Ms: 11_900,
      t100Ms: 11_900,
      kills: [{ name: 'p001', process: 'p001', killTimeMs, restartDelayMs: 300, restartedAtMs: killTimeMs + 300, reattachedAtMs: killTimeMs + 5200, recoveryMs: 5200, loginAttempts: 3 }],
      processKills: [],
      loginsOffered: 400,
      attemptsPerClient: 2.5
    },
    logins: { offered: 520, accepted: 140, rejected: 340, failed: 40 },
    messages: { sent: 720, delivered: 640, failed: 80, failedByCode: { NOT_ATTACHED: 80 }, counted: 720, skipped: 0 },
    history: history(),
    objectives: [
      { name: 't99-ms', ok: true, value: 11_900, limit: 30_000 },
      { name: 'delivery-ratio-permille', ok: false, value: 888, limit: 990 },
      { name: 'no-unexpected-exits', ok: true, value: 0, limit: 0 }
    ],
    ok: false,
    error: null,
    interrupted: false,
    triggerAtS: FIXTURE_TRIGGER_S,
    timeline: Array.from({ length: FIXTURE_SECONDS }, (_, i) => sample(i + 1)),
    timelineTruncated: false,
    unexpectedExits: [],
    logsDir: '/tmp/rebound-fixture/logs',
    ...over
  }
}
