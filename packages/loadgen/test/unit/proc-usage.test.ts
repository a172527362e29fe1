import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addedSupernodes, layoutCluster } from '../../src/layout.js'
import type { Observer } from '../../src/observer.js'
import {
  MAX_USAGE_PROCESSES, ProcUsage, clockTicksPerS, parseRssKiB, parseStatTicks, usageProcesses, type UsageProcess
} from '../../src/proc-usage.js'
import { Timeline } from '../../src/timeline.js'

/** A /proc/<pid>/stat line with utime and stime as given, and a command name that has spaces and parentheses. */
function statLine (pid: number, utime: number, stime: number): string {
  return `${pid} (node (x) y) S 1 ${pid} ${pid} 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 11 0 500 1000 30 0\n`
}

function writeProc (root: string, pid: number, utime: number, stime: number, rssKiB?: number, fds = 0): void {
  mkdirSync(join(root, String(pid)), { recursive: true })
  if (fds > 0) {
    mkdirSync(join(root, String(pid), 'fd'), { recursive: true })
    for (let fd = 0; fd < fds; fd++) writeFileSync(join(root, String(pid), 'fd', String(fd)), '')
  }
  writeFileSync(join(root, String(pid), 'stat'), statLine(pid, utime, stime))
  writeFileSync(join(root, String(pid), 'status'), `Name:\tnode\nVmPeak:\t 999 kB\n${rssKiB === undefined ? '' : `VmRSS:\t ${rssKiB} kB\n`}Threads:\t11\n`)
}

test('parse: utime + stime after an awkward command name, VmRSS in KiB', () => {
  assert.equal(parseStatTicks(statLine(42, 120, 30)), 150)
  assert.equal(parseStatTicks('42 (x'), undefined)
  assert.equal(parseRssKiB('Name:\tnode\nVmRSS:\t   51200 kB\n'), 51200)
  assert.equal(parseRssKiB('Name:\tzombie\n'), undefined)
})

test('sample: CPU is the ticks since the last sample over the time between, summed by role; gone processes are skipped', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rebound-proc-'))
  t.after(() => { rmSync(root, { recursive: true, force: true }) })
  const pids: Record<string, number | undefined> = { ls1: 101, sn1: 201, sn2: 202, p001: 301, p002: undefined }
  const processes: UsageProcess[] = [
    { name: 'ls1', role: 'login-server' }, { name: 'sn1', role: 'supernode' }, { name: 'sn2', role: 'supernode' },
    { name: 'p001', role: 'peer' }, { name: 'p002', role: 'peer' }
  ]
  const usage = new ProcUsage({ procRoot: root, ticksPerS: () => 100, startMs: 0 }, { processes: () => processes, pid: (name) => pids[name] })
  writeProc(root, 101, 10, 0, 1024 * 100, 7)
  writeProc(root, 201, 5, 5, 2048)
  writeProc(root, 202, 0, 0, 2048)
  // p001's process died between listing and reading: no /proc entry.
  const first = usage.sample(1000)
  assert.deepEqual(first['login-server'], { processes: 1, cpuCores: 0.1, rssMiB: 100, fds: 7 })
  assert.deepEqual(first.supernode, { processes: 2, cpuCores: 0.1, rssMiB: 4, fds: 0 })
  assert.equal(first.peer, undefined)

  writeProc(root, 101, 160, 10, 1024 * 100, 7) // +160 ticks in 2 s: 0.8 cores
  writeProc(root, 201, 5, 5, 2048)
  pids.sn2 = 203 // restarted: a new pid, all of its ticks are new
  writeProc(root, 203, 30, 10, 1024)
  writeProc(root, 301, 20, 0) // a zombie: ticks but no VmRSS
  const second = usage.sample(3000)
  assert.deepEqual(second['login-server'], { processes: 1, cpuCores: 0.8, rssMiB: 100, fds: 7 })
  assert.deepEqual(second.supernode, { processes: 2, cpuCores: 0.2, rssMiB: 3, fds: 0 })
  assert.deepEqual(second.peer, { processes: 1, cpuCores: 0.1, rssMiB: 0, fds: 0 })
  assert.equal(usage.skipped, 0)
})

test('sample: at most MAX_USAGE_PROCESSES are read, the rest counted as skipped', () => {
  let asked = 0
  const processes = Array.from({ length: MAX_USAGE_PROCESSES + 7 }, (_, i): UsageProcess => ({ name: `p${i}`, role: 'peer' }))
  const usage = new ProcUsage({ procRoot: '/nonexistent-proc', startMs: 0 }, { processes: () => processes, pid: () => { asked++; return 1 } })
  assert.deepEqual(usage.sample(1000), {})
  assert.equal(asked, MAX_USAGE_PROCESSES)
  assert.equal(usage.skipped, 7)
})

test('sample: this very process, from the real /proc', { skip: process.platform !== 'linux' }, () => {
  const usage = new ProcUsage({ startMs: Date.now() }, { processes: () => [{ name: 'me', role: 'peer' }], pid: () => process.pid })
  const startMs = Date.now()
  usage.sample(startMs)
  const cpuBefore = process.cpuUsage()
  // Busy for a while, so that the next sample sees CPU time.
  while (Date.now() - startMs < 300) Math.sqrt(Math.random())
  const cpu = process.cpuUsage(cpuBefore)
  const endMs = Date.now()
  const me = usage.sample(endMs).peer
  assert.equal(me?.processes, 1)
  assert.ok((me?.rssMiB ?? 0) > 10, `rss ${me?.rssMiB}`)
  // What Node says this process used over the same interval; /proc counts in clock ticks (10 ms), so a few ticks apart.
  const expectedCores = (cpu.user + cpu.system) / 1e6 / ((endMs - startMs) / 1000)
  const toleranceCores = (4 / clockTicksPerS()) / ((endMs - startMs) / 1000)
  assert.ok((me?.cpuCores ?? 0) > 0, `cpu ${me?.cpuCores}`)
  assert.ok(Math.abs((me?.cpuCores ?? 0) - expectedCores) <= toleranceCores, `cpu ${me?.cpuCores}, process.cpuUsage says ${expectedCores.toFixed(2)}`)
})

test('usageProcesses: login servers, supernodes (added ones too), then the peers\' processes as peer or swarm', () => {
  const size = { loginServers: 2, supernodes: 1, peers: 5 }
  assert.deepEqual(usageProcesses(layoutCluster(size, 1), addedSupernodes(size, 1, 1)).map((p) => `${p.name}:${p.role}`),
    ['ls1:login-server', 'ls2:login-server', 'sn1:supernode', 'sn2:supernode', 'p001:peer', 'p002:peer', 'p003:peer', 'p004:peer', 'p005:peer'])
  assert.deepEqual(usageProcesses(layoutCluster(size, 1, 3)).map((p) => `${p.name}:${p.role}`),
    ['ls1:login-server', 'ls2:login-server', 'sn1:supernode', 'sw01:swarm', 'sw02:swarm'])
})

test('timeline: a sample carries usage by role when it has processes to measure, none otherwise', () => {
  const observer = { loginTotals: () => ({ offered: 0, accepted: 0, rejected: 0, failed: 0 }), isAttached: () => true, nodes: () => [] } as unknown as Observer
  const base = { observer, peerNames: [], messages: () => undefined, chaos: { killed: 0, restarted: 0 }, processesRunning: () => 1 }
  const measured = new Timeline({ ...base, usage: { processes: () => [{ name: 'me', role: 'swarm' }], pid: () => process.pid } }, Date.now())
  const sample = measured.sample(Date.now() + 1000)
  if (process.platform === 'linux') assert.equal(sample.usage?.swarm?.processes, 1)
  assert.equal(sample.usageSkipped, undefined)
  assert.equal(new Timeline(base, Date.now()).sample(Date.now()).usage, undefined)
})
