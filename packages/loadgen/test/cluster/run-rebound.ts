/**
 * Cluster tests' helper: run the compiled `rebound` command line as a child process to its end, as
 * a user would, and collect its output. Sent SIGINT at the time limit (it then stops its cluster
 * and still writes its report), so a hung run cannot outlive the test.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** dist/test/cluster/run-rebound.js -> dist/src/main.js */
export const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))

export async function runRebound (args: readonly string[], timeoutMs: number): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  clearTimeout(timer)
  return { code, output }
}
