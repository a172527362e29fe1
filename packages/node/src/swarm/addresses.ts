/**
 * Where the members of a swarm live: member i listens on the i-th usable loopback address after
 * `--first-ip`, carrying into the third octet, `--ips-per-octet` addresses per third octet (default
 * 254: only .0 and .255 skipped). The arithmetic is protocol's (loopback-range.ts), the same
 * function the load generator lays its peers out with, so a swarm it starts binds the addresses
 * its layout names; these are the swarm's names for it.
 */
export {
  MAX_PER_OCTET as USABLE_PER_OCTET,
  loopbackAddress as memberIp,
  loopbackCapacity as capacityFrom,
  loopbackRangeProblem as firstIpProblem
} from '@rebound/protocol'
