/**
 * Prometheus metrics of one login server (names in docs/interfaces.md). Each server has its own
 * Registry, so two servers in one test process never share or reset each other's counters.
 * Gauges are read at scrape time from their sources, so they are current without a timer.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { ADMISSION_CLASSES, type AdmissionClass } from './admission/policy.js'

export interface BootstrapMetrics {
  register: Registry
  loginOffered: Counter
  loginAccepted: Counter
  /** reason: an error code, or an admission reason (QUEUE_FULL, CODEL, QUEUE_TIMEOUT, DEADLINE). */
  loginRejected: Counter<'reason'>
  loginFailed: Counter
  registerTotal: Counter<'result'>
  loginDuration: Histogram
  queueDelay: Histogram<'class'>
  slotsIssued: Counter
  renewals: Counter<'result'>
  rejectionCpu: Counter
  connectionsRefused: Counter<'reason'>
  connectionsAdmitted: Counter
  heartbeats: Counter
  certificatesIssued: Counter
  liveSupernodes: Gauge
  supernodeUtilisation: Gauge
  promotions: Counter
  /** result: promoted, refused (bad ticket, already a supernode), or the not-now reason (no-need, not-best, budget). */
  candidates: Counter<'result'>
  demotions: Counter
  /** type: the data request's type; result: ok or the error code of the reply. */
  dataRequests: Counter<'type' | 'result'>
}

/** What the admission gauges read (the AdmissionController). */
export interface AdmissionView {
  queueLength: (cls: AdmissionClass) => number
  readonly inflight: number
  readonly concurrencyLimit: number
  capacityPerS: () => number
  overloaded: () => boolean
}

export interface MetricSources {
  countLiveSupernodes: () => number
  /** Sum of clients / sum of capacity over the live supernodes. */
  supernodeUtilisation: () => number
  /** Undefined until the server has built its admission controller. */
  admission: () => AdmissionView | undefined
}

export function createMetrics (sources: MetricSources): BootstrapMetrics {
  const register = new Registry()
  collectDefaultMetrics({ register })
  const registers = [register]
  const admissionGauge = (name: string, help: string, read: (a: AdmissionView) => number): Gauge => new Gauge({
    name,
    help,
    registers,
    collect () {
      const admission = sources.admission()
      if (admission !== undefined) this.set(read(admission))
    }
  })
  admissionGauge('rebound_login_inflight', 'password hashes running now', (a) => a.inflight)
  admissionGauge('rebound_login_concurrency_limit', 'adaptive (AIMD) limit on hashes running at once', (a) => a.concurrencyLimit)
  admissionGauge('rebound_login_capacity_per_second', 'measured login capacity mu = limit / mean hash time; the waiting room runs at 0.9 mu', (a) => a.capacityPerS())
  admissionGauge('rebound_login_overloaded', '1 while a CoDel queue is a standing queue (LIFO and shedding), else 0', (a) => a.overloaded() ? 1 : 0)
  new Gauge({
    name: 'rebound_login_queue_length',
    help: 'requests waiting for a hash, by priority class (slot, login, register)',
    labelNames: ['class'],
    registers,
    collect () {
      const admission = sources.admission()
      if (admission === undefined) return
      for (const cls of ADMISSION_CLASSES) this.set({ class: cls }, admission.queueLength(cls))
    }
  })
  return {
    register,
    loginOffered: new Counter({ name: 'rebound_login_offered_total', help: 'login requests received (password logins, not renewals)', registers }),
    loginAccepted: new Counter({ name: 'rebound_login_accepted_total', help: 'tickets issued for password logins', registers }),
    loginRejected: new Counter({
      name: 'rebound_login_rejected_total',
      help: 'login requests refused, by reason: admission (QUEUE_FULL, CODEL, QUEUE_TIMEOUT, DEADLINE) or error code',
      labelNames: ['reason'],
      registers
    }),
    loginFailed: new Counter({ name: 'rebound_login_failed_total', help: 'login requests that failed internally', registers }),
    registerTotal: new Counter({
      name: 'rebound_register_total', help: 'registrations by result (accepted, rejected, failed)', labelNames: ['result'], registers
    }),
    loginDuration: new Histogram({
      name: 'rebound_login_duration_seconds',
      help: 'time from request to ticket, accepted logins only',
      // One scrypt is ~0.05 s; the upper buckets show queueing behind other hashes in a storm.
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers
    }),
    queueDelay: new Histogram({
      name: 'rebound_login_queue_delay_seconds',
      help: 'time admitted requests waited for a hash, by class',
      labelNames: ['class'],
      // CoDel's target (5 ms) and interval (100 ms) sit on bucket bounds; the naive queue needs the tail.
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers
    }),
    slotsIssued: new Counter({ name: 'rebound_login_slots_issued_total', help: 'waiting-room slots handed out with refusals', registers }),
    renewals: new Counter({
      name: 'rebound_login_renewals_total',
      help: 'ticket renewals by result (accepted, failed, or the refusal code: TICKET_EXPIRED, TICKET_INVALID, TICKET_PEER_MISMATCH)',
      labelNames: ['result'],
      registers
    }),
    rejectionCpu: new Counter({
      name: 'rebound_login_rejection_cpu_seconds_total',
      help: 'main-thread CPU spent deciding and building admission refusals (slot included; stream and framing excluded)',
      registers
    }),
    connectionsRefused: new Counter({
      name: 'rebound_login_connections_refused_total',
      help: 'inbound connections refused before the Noise handshake, by reason (rate, pending)',
      labelNames: ['reason'],
      registers
    }),
    connectionsAdmitted: new Counter({
      name: 'rebound_login_connections_admitted_total', help: 'inbound connections let through to the Noise handshake', registers
    }),
    heartbeats: new Counter({ name: 'rebound_registry_heartbeats_total', help: 'supernode heartbeats received', registers }),
    certificatesIssued: new Counter({
      name: 'rebound_registry_certificates_issued_total', help: 'supernode certificates issued or renewed', registers
    }),
    liveSupernodes: new Gauge({
      name: 'rebound_registry_live_supernodes',
      help: 'supernodes heard from within the heartbeat timeout and holding a valid certificate',
      registers,
      collect () { this.set(sources.countLiveSupernodes()) }
    }),
    promotions: new Counter({ name: 'rebound_registry_promotions_total', help: 'candidates promoted to elected supernodes', registers }),
    candidates: new Counter({
      name: 'rebound_registry_candidates_total',
      help: 'candidate requests by result (promoted, no-need, not-best, budget, refused)',
      labelNames: ['result'],
      registers
    }),
    demotions: new Counter({ name: 'rebound_registry_demotions_total', help: 'elected supernodes told to demote', registers }),
    dataRequests: new Counter({
      name: 'rebound_data_requests_total',
      help: 'user-data requests (/rebound/data) by type and result (ok, or the error code: TICKET_*, NOT_AUTHORIZED, BAD_REQUEST, BUSY, ...)',
      labelNames: ['type', 'result'],
      registers
    }),
    supernodeUtilisation: new Gauge({
      name: 'rebound_registry_supernode_utilisation_ratio',
      help: 'mean utilisation of the live supernodes: sum of clients / sum of capacity (0 when none)',
      registers,
      collect () { this.set(sources.supernodeUtilisation()) }
    })
  }
}
