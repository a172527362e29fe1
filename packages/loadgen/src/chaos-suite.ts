/**
 * The short chaos suite CI runs on every submission (`npm run chaos`, called by .ci/run): a few
 * scenarios on small clusters, each exactly as a user runs it (the `rebound` command line in its
 * own process), one after the other. Every run keeps its report.json, report.html, junit.xml and
 * logs under `--out` (default ci-reports/), and the suite writes suite.json with one line per run.
 * Exit 0 when every run passed, 1 otherwise. Each run is bounded (SIGINT at its limit: it still
 * stops its cluster and writes its report), so the suite is too.
 */
import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { writeFileDurable } from '@rebound/protocol'

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url))
/** Longest one run may take: start-up, trigger, recovery, the history's settle (60 s), stop. */
export const RUN_LIMIT_MS = 240_000
/** Its own loopback range, apart from the tests' and a default run's. */
const NET = '33'
const SMALL = ['--peers', '16', '--supernodes', '3', '--login-servers', '2', '--warmup-ms', '5000', '--net', NET]

export interface SuiteRun {
  name: string
  args: string[]
}

/** One of each kind of trigger: a reboot wave, losing supernodes (killed, frozen), losing data, and a short soak. */
export const SUITE: readonly SuiteRun[] = [
  { name: 'patch-tuesday', args: ['run', 'patch-tuesday', ...SMALL, '--reboot-window-ms', '5000', '--seed', '3301'] },
  { name: 'decapitate', args: ['run', 'decapitate', ...SMALL, '--supernode-kill-fraction', '0.34', '--seed', '3302'] },
  { name: 'freeze', args: ['run', 'freeze', ...SMALL, '--freeze-fraction', '0.34', '--freeze-ms', '8000', '--seed', '3303'] },
  { name: 'wipe-store', args: ['run', 'wipe', '--target', 'store', ...SMALL, '--seed', '3304'] },
  { name: 'wipe-device', args: ['run', 'wipe', '--target', 'device', ...SMALL, '--reboot-window-ms', '5000', '--seed', '3305'] },
  { name: 'soak', args: ['run', 'soak', ...SMALL, '--duration', '90s', '--churn-interval-ms', '5000', '--observe-ms', '30000', '--seed', '3306'] }
]

interface RunResult {
  name: string
  exitCode: number | null
  ok: boolean
  durationMs: number
  out: string
}

async function runOne (run: SuiteRun, outDir: string): Promise<RunResult> {
  const out = join(outDir, run.name)
  const startMs = Date.now()
  const child = spawn(process.execPath, [MAIN, ...run.args, '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] })
  const timer = setTimeout(() => child.kill('SIGINT'), RUN_LIMIT_MS)
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  clearTimeout(timer)
  return { name: run.name, exitCode, ok: exitCode === 0, durationMs: Date.now() - startMs, out }
}

async function main (): Promise<number> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'ci-reports' }, only: { type: 'string' } } })
  const outDir = resolve(values.out)
  const chosen = values.only === undefined ? SUITE : SUITE.filter((run) => values.only?.split(',').includes(run.name))
  if (chosen.length === 0) {
    process.stderr.write(`no run named ${values.only ?? ''} (runs: ${SUITE.map((r) => r.name).join(', ')})\n`)
    return 2
  }
  await mkdir(outDir, { recursive: true })
  const results: RunResult[] = []
  for (const run of chosen) {
    process.stdout.write(`\n== chaos suite: ${run.name} (rebound ${run.args.join(' ')})\n`)
    results.push(await runOne(run, outDir))
  }
  const ok = results.every((r) => r.ok)
  await writeFileDurable(join(outDir, 'suite.json'), JSON.stringify({ ok, runs: results }, null, 2) + '\n', 0o644)
  process.stdout.write('\nchaos suite\n')
  for (const r of results) process.stdout.write(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(14)} exit ${String(r.exitCode).padEnd(4)} ${(r.durationMs / 1000).toFixed(1).padStart(6)} s  ${join(r.out, 'report.html')}\n`)
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'}: ${results.filter((r) => r.ok).length} of ${results.length} runs passed; reports in ${outDir}\n`)
  return ok ? 0 : 1
}

process.exitCode = await main()
