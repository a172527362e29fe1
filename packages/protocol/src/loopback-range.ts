/**
 * The one address arithmetic of rebound's loopback layouts: the i-th address of a run that starts
 * at 127.B.C.D and carries into the third octet, using the last octets 1..perOctet of each third
 * octet. rebound-swarm places member i with it (`--first-ip`, `--ips-per-octet`) and the load
 * generator places node i of a cluster with it; so when the load generator starts a swarm for a
 * run of its peers, the address its layout gives a peer is the address the swarm binds for it.
 *
 * Why `perOctet` is a parameter and not one constant: the two users want different packings. A
 * stand-alone swarm packs 254 per third octet (only .0 and .255 skipped: network- and
 * broadcast-looking addresses confuse people and some tools); the load generator's cluster layout
 * uses 250, so node i is readable from its address (127.B.(2 + i div 250).(1 + i mod 250)) and the
 * addresses of earlier runs, reports and tests stay what they were. The load generator passes its
 * 250 to the swarms it starts (`--ips-per-octet`), so both sides run this same function.
 */
import { isIPv4 } from 'node:net'

/** Usable last octets per third octet at most: 1..254. */
export const MAX_PER_OCTET = 254
/** Third octets above this do not exist. */
const MAX_THIRD_OCTET = 255
/**
 * Peers one rebound-swarm process hosts at most (its `--count`), so also the most peers per process
 * the load generator asks for: ~0.5 MiB of RSS and a few ms of CPU per second each.
 */
export const MAX_SWARM_MEMBERS = 1000

interface Parsed { b: number, c: number, d: number }

function parse (ip: string): Parsed | undefined {
  if (!isIPv4(ip)) return undefined
  const [a, b, c, d] = ip.split('.').map(Number)
  if (a !== 127 || b === undefined || c === undefined || d === undefined) return undefined
  return { b, c, d }
}

function checkPerOctet (perOctet: number): void {
  if (!Number.isInteger(perOctet) || perOctet < 1 || perOctet > MAX_PER_OCTET) throw new RangeError(`addresses per octet must be 1..${MAX_PER_OCTET}, got ${perOctet}`)
}

/** Why `ip` cannot start a run of addresses with `perOctet` per third octet, or undefined when it can. */
export function loopbackRangeProblem (ip: string, perOctet: number = MAX_PER_OCTET): string | undefined {
  checkPerOctet(perOctet)
  const parsed = parse(ip)
  if (parsed === undefined) return 'must be a loopback IPv4 address 127.B.C.D'
  if (parsed.d === 0 || parsed.d === 255) return 'must not end in .0 or .255'
  if (parsed.d > perOctet) return `must end in .1 to .${perOctet} (${perOctet} addresses per third octet)`
  return undefined
}

/** Position of `ip` counted in usable addresses from 127.B.0.1. */
function positionOf (ip: string, perOctet: number): { b: number, position: number } {
  const parsed = parse(ip)
  if (parsed === undefined || loopbackRangeProblem(ip, perOctet) !== undefined) throw new RangeError(`bad first address ${ip}`)
  return { b: parsed.b, position: parsed.c * perOctet + (parsed.d - 1) }
}

/** The address `index` (0-based) places after `firstIp`, `perOctet` addresses per third octet. */
export function loopbackAddress (firstIp: string, index: number, perOctet: number = MAX_PER_OCTET): string {
  const { b, position: first } = positionOf(firstIp, perOctet)
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`address index ${index} out of range`)
  const position = first + index
  const c = Math.floor(position / perOctet)
  if (c > MAX_THIRD_OCTET) throw new RangeError(`address ${index} after ${firstIp} runs past 127.${b}.255.${perOctet}`)
  return `127.${b}.${c}.${(position % perOctet) + 1}`
}

/** How many addresses fit from `firstIp` to the end of its 127.B block (0 for a bad start). */
export function loopbackCapacity (firstIp: string, perOctet: number = MAX_PER_OCTET): number {
  if (loopbackRangeProblem(firstIp, perOctet) !== undefined) return 0
  return (MAX_THIRD_OCTET + 1) * perOctet - positionOf(firstIp, perOctet).position
}
