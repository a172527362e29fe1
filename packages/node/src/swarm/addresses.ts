/**
 * Where the members of a swarm live: member i listens on the i-th usable loopback address after
 * `--first-ip`, carrying into the third octet. Last octets 0 and 255 are skipped (network- and
 * broadcast-looking addresses confuse people and some tools), so 254 members fit per third octet.
 */
import { isIPv4 } from 'node:net'

export const USABLE_PER_OCTET = 254
/** Third octets above this do not exist. */
const MAX_THIRD_OCTET = 255

interface Parsed { b: number, c: number, d: number }

function parse (ip: string): Parsed | undefined {
  if (!isIPv4(ip)) return undefined
  const [a, b, c, d] = ip.split('.').map(Number)
  if (a !== 127 || b === undefined || c === undefined || d === undefined) return undefined
  return { b, c, d }
}

/** Why `ip` cannot start a run of member addresses, or undefined when it can. */
export function firstIpProblem (ip: string): string | undefined {
  const parsed = parse(ip)
  if (parsed === undefined) return 'must be a loopback IPv4 address 127.B.C.D'
  if (parsed.d === 0 || parsed.d === 255) return 'must not end in .0 or .255'
  return undefined
}

/** The address of member `index` (0-based) of a swarm whose first member is at `firstIp`. */
export function memberIp (firstIp: string, index: number): string {
  const parsed = parse(firstIp)
  if (parsed === undefined || firstIpProblem(firstIp) !== undefined) throw new RangeError(`bad first address ${firstIp}`)
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`member index ${index} out of range`)
  const position = parsed.c * USABLE_PER_OCTET + (parsed.d - 1) + index
  const c = Math.floor(position / USABLE_PER_OCTET)
  if (c > MAX_THIRD_OCTET) throw new RangeError(`member ${index} after ${firstIp} runs past 127.${parsed.b}.255.254`)
  return `127.${parsed.b}.${c}.${(position % USABLE_PER_OCTET) + 1}`
}

/** How many members fit from `firstIp` to the end of its 127.B block. */
export function capacityFrom (firstIp: string): number {
  const parsed = parse(firstIp)
  if (parsed === undefined) return 0
  return (MAX_THIRD_OCTET + 1) * USABLE_PER_OCTET - (parsed.c * USABLE_PER_OCTET + (parsed.d - 1))
}
