/** Running the compiled `rebound` command line from unit tests, and their scratch directories. */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** dist/test/helpers/cli.js -> dist/src/main.js */
export const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))
/** One short command (list, report, a refused flag): no cluster is started. */
export const CLI_TIMEOUT_MS = 20_000

export function rebound (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: CLI_TIMEOUT_MS })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** A directory removed when the test ends. */
export function tempDir (t: { after: (fn: () => void) => void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}
