import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HostCpu, countCores, hostLine, hostReport, parseCpuTimes } from '../../src/host-cpu.js'
import type { TimelineSample } from '../../src/timeline.js'

/** /proc/stat of a 2-core machine: user nice system idle iowait irq softirq steal guest guest_nice. */
function procStat (busy: number, idle: number): string {
  return [
    `cpu  ${busy} 0 0 ${idle} 0 0 0 0 7 0`,
    'cpu0 1 0 0 1 0 0 0 0 0 0',
    'cpu1 1 0 0 1 0 0 0 0 0 0',
    'intr 123', 'ctxt 456', 'btime 1', 'processes 9', 'procs_running 3'
  ].join('\n') + '\n'
}

function sample (t: number, hostBusy?: number): TimelineSample {
  const s: TimelineSample = {
    t, peersOnline: 0, supernodes: 0, loginsOffered: 0, loginsAccepted: 0, loginsRejected: 0, loginsFailed: 0,
    messagesSent: 0, messagesDelivered: 0, messagesFailed: 0, killed: 0, restarted: 0, processesRunning: 0
  }
  if (hostBusy !== undefined) s.hostBusy = hostBusy
  return s
}

test('/proc/stat: busy is everything but idle and iowait (guest is inside user), cores are the cpuN lines', () => {
  assert.deepEqual(parseCpuTimes('cpu  10 1 2 100 5 1 1 0 3 0\ncpu0 1 2 3 4 5\n'), { busy: 15, total: 120 })
  assert.equal(parseCpuTimes('intr 1\n'), undefined)
  assert.equal(parseCpuTimes('cpu  x y z\n'), undefined)
  assert.equal(countCores(procStat(1, 1)), 2)
})

test('host CPU: the busy share since the previous sample, undefined without /proc/stat', () => {
  const root = mkdtempSync(join(tmpdir(), 'rebound-hostcpu-'))
  try {
    writeFileSync(join(root, 'stat'), procStat(100, 100))
    const host = new HostCpu(root)
    assert.equal(host.cores, 2)
    writeFileSync(join(root, 'stat'), procStat(175, 125))
    assert.equal(host.sample(), 0.75)
    writeFileSync(join(root, 'stat'), procStat(175, 225))
    assert.equal(host.sample(), 0)
    assert.equal(new HostCpu(join(root, 'absent')).sample(), undefined)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('host report: from the trigger on; the summary warns when a quarter of those seconds were saturated', () => {
  const samples = [sample(1, 0.2), sample(9, 0.99), sample(10, 0.96), sample(11, 0.5), sample(12), sample(13, 0.97)]
  const report = hostReport(samples, 10, 2)
  assert.deepEqual(report, { cores: 2, samples: 3, meanBusyShare: 0.81, saturatedSamples: 2 })
  assert.match(hostLine(report, true), /2 cores, 81% busy from the trigger on; saturated \(>= 95%\) 2 of 3 s\n.*warning: the machine was saturated/)
  const calm = hostReport([sample(0, 0.3), sample(1, 0.96), sample(2, 0.4), sample(3, 0.5), sample(4, 0.5)], null, 2)
  assert.equal(calm.saturatedSamples, 1)
  assert.doesNotMatch(hostLine(calm, false), /warning/)
  assert.match(hostLine(hostReport([], 5, 4), true), /4 cores; load not sampled/)
})
