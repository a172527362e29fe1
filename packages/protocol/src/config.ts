/**
 * Program configuration from flags and environment, validated once by a zod schema. A flag wins
 * over its environment variable, which wins over the schema's default. Bad configuration throws
 * ReboundError('BAD_CONFIG') with a readable message; `runMain` turns that into exit code 2.
 */
import { parseArgs } from 'node:util'
import type { z } from 'zod'
import { ReboundError } from './errors.js'

export interface OptionSpec {
  type: 'string' | 'boolean'
  /** Environment variable read when the flag is absent. */
  env?: string
  description: string
  /** Shown in --help; the real default lives in the schema. */
  default?: string
}

export type OptionSpecs = Record<string, OptionSpec>

export function camelCase (flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

export function usage (program: string, summary: string, options: OptionSpecs): string {
  const lines = [`Usage: ${program} [options]`, '', summary, '', 'Options:']
  for (const [flag, spec] of Object.entries(options)) {
    const arg = spec.type === 'string' ? ` <value>` : ''
    const extra = [spec.env === undefined ? undefined : `env ${spec.env}`, spec.default === undefined ? undefined : `default ${spec.default}`]
      .filter((x) => x !== undefined).join(', ')
    lines.push(`  --${flag}${arg}`.padEnd(34) + spec.description + (extra === '' ? '' : ` (${extra})`))
  }
  lines.push('  --help'.padEnd(34) + 'show this help')
  return lines.join('\n')
}

/** Returns undefined when --help was asked for (the caller prints usage and exits 0). */
export function parseConfig<S extends z.ZodType> (
  argv: string[], env: NodeJS.ProcessEnv, options: OptionSpecs, schema: S
): z.infer<S> | undefined {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...Object.fromEntries(Object.entries(options).map(([k, v]) => [k, { type: v.type }])), help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false
    })
  } catch (err) {
    throw new ReboundError('BAD_CONFIG', (err as Error).message)
  }
  if (parsed.values.help === true) return undefined
  const raw: Record<string, unknown> = {}
  for (const [flag, spec] of Object.entries(options)) {
    const fromFlag = (parsed.values as Record<string, unknown>)[flag]
    const fromEnv = spec.env === undefined ? undefined : env[spec.env]
    const value = fromFlag ?? (fromEnv === undefined || fromEnv === '' ? undefined : (spec.type === 'boolean' ? fromEnv === '1' || fromEnv === 'true' : fromEnv))
    if (value !== undefined) raw[camelCase(flag)] = value
  }
  const result = schema.safeParse(raw)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '')
      const flag = Object.keys(options).find((f) => camelCase(f) === key)
      return `  --${flag ?? key}: ${issue.message}`
    })
    throw new ReboundError('BAD_CONFIG', `invalid configuration:\n${problems.join('\n')}`)
  }
  return result.data
}

/**
 * Run a program's main: BAD_CONFIG prints its message and exits 2; any other start-up failure
 * prints and exits 1.
 */
export function runMain (program: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof ReboundError && err.code === 'BAD_CONFIG') {
      process.stderr.write(`${program}: ${err.message}\nTry '${program} --help'.\n`)
      process.exit(2)
    }
    // Expected failures (a corrupt store, an unreadable key) read best as one line; bugs keep their stack.
    const text = err instanceof ReboundError && err.code !== 'INTERNAL' ? `${err.code}: ${err.message}` : (err instanceof Error ? (err.stack ?? err.message) : String(err))
    process.stderr.write(`${program}: ${text}\n`)
    process.exit(1)
  })
}

