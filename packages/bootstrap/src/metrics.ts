/**
 * Prometheus metrics of one login server (names in docs/interfaces.md). Each server has its own
 * Registry, so two servers in one test process never share or reset each other's counters.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface BootstrapMetrics {
  register: Registry
  loginOffered: Counter
  loginAccepted: Counter
  loginRejected: Counter<'reason'>
  loginFailed: Counter
  registerTotal: Counter<'result'>
  loginDuration: Histogram
  heartbeats: Counter
  certificatesIssued: Counter
  liveSupernodes: Gauge
}

/** `countLive` is read at scrape time, so the gauge is current without a timer. */
export function createMetrics (countLive: () => number): BootstrapMetrics {
  const register = new Registry()
  collectDefaultMetrics({ register })
  const registers = [register]
  return {
    register,
    loginOffered: new Counter({ name: 'rebound_login_offered_total', help: 'login requests received', registers }),
    loginAccepted: new Counter({ name: 'rebound_login_accepted_total', help: 'tickets issued', registers }),
    loginRejected: new Counter({
      name: 'rebound_login_rejected_total', help: 'login requests refused, by error code', labelNames: ['reason'], registers
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
    heartbeats: new Counter({ name: 'rebound_registry_heartbeats_total', help: 'supernode heartbeats received', registers }),
    certificatesIssued: new Counter({
      name: 'rebound_registry_certificates_issued_total', help: 'supernode certificates issued or renewed', registers
    }),
    liveSupernodes: new Gauge({
      name: 'rebound_registry_live_supernodes',
      help: 'supernodes heard from within the heartbeat timeout and holding a valid certificate',
      registers,
      collect () { this.set(countLive()) }
    })
  }
}
