/**
 * pino for every process: one JSON line per event, bound to {service, peer}. libp2p's own debug
 * logging goes through `libp2pLogger`, which stays silent unless REBOUND_LIBP2P_DEBUG names the
 * components to show (its output is large and printf-style).
 */
import { pino, type Logger } from 'pino'
import type { ComponentLogger, Logger as Libp2pLogger } from '@libp2p/interface'

export type { Logger } from 'pino'

export interface LoggerInit {
  service: string
  level?: string
  /** Extra bindings on every line, e.g. { addr }. */
  bindings?: Record<string, unknown>
}

export function createLogger (init: LoggerInit): Logger {
  return pino({
    level: init.level ?? 'info',
    base: { service: init.service, pid: process.pid, ...init.bindings },
    timestamp: pino.stdTimeFunctions.epochTime
  })
}

/** A libp2p ComponentLogger writing to pino; components not matching `filter` are disabled. */
export function libp2pLogger (log: Logger, filter: RegExp | undefined): ComponentLogger {
  const make = (component: string): Libp2pLogger => {
    const enabled = filter !== undefined && filter.test(component)
    const child = enabled ? log.child({ component }) : undefined
    const fn = ((formatter: unknown, ...args: unknown[]) => {
      child?.debug({ args: args.map(render) }, String(formatter))
    }) as Libp2pLogger
    fn.error = (formatter: unknown, ...args: unknown[]) => { child?.warn({ args: args.map(render) }, String(formatter)) }
    fn.trace = (formatter: unknown, ...args: unknown[]) => { child?.trace({ args: args.map(render) }, String(formatter)) }
    fn.enabled = enabled
    fn.newScope = (name: string) => make(`${component}:${name}`)
    return fn
  }
  return { forComponent: make }
}

function render (arg: unknown): unknown {
  if (arg instanceof Error) return `${arg.name}: ${arg.message}`
  if (arg instanceof Uint8Array) return `<${arg.byteLength} bytes>`
  if (arg !== null && typeof arg === 'object' && typeof (arg as { toString?: unknown }).toString === 'function') {
    const text = String(arg)
    if (text !== '[object Object]') return text
  }
  return arg
}
