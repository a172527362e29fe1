/**
 * Who runs where: process names, roles, loopback addresses and user names of a cluster. Pure
 * functions of the sizes and `--net`, so the same flags always give the same layout.
 *
 * Addresses (docs/interfaces.md, DESIGN "Ports and addresses"): login servers on 127.B.1.N, nodes
 * on 127.B.2.N, 127.B.3.N, ... (supernodes first, then peers), 250 per third octet, computed with
 * protocol's loopback-range arithmetic (the one rebound-swarm places its members with). Every
 * process binds its own address, so all share the same two ports.
 *
 * Processes: login servers and supernodes are one process each. Peers are one rebound-node process
 * each, or (peersPerProcess K > 1) K consecutive peers share one rebound-swarm process `swNN`,
 * each peer still on its own address; the swarm's control port is on its first peer's address.
 */
import { MAX_SWARM_MEMBERS, loopbackAddress } from '@rebound/protocol'

export type Role = 'login-server' | 'supernode' | 'peer'

export const LIBP2P_PORT = 7401
export const HTTP_PORT = 7480
/**
 * Node addresses per third octet. 250 rather than the 254 usable: node i reads off its address as
 * 127.B.(2 + i div 250).(1 + i mod 250). The swarms the load generator starts are told this packing
 * (rebound-swarm --ips-per-octet), so they bind what the layout says.
 */
export const NODES_PER_OCTET = 250
/** Third octets 2..254 hold nodes; 255 is left alone (broadcast-looking addresses confuse people). */
export const MAX_NODE_OCTETS = 253
export const MAX_LOGIN_SERVERS = NODES_PER_OCTET
export const MAX_NODES = NODES_PER_OCTET * MAX_NODE_OCTETS
/** Peers one process may host: rebound-swarm's --count limit. */
export const MAX_PEERS_PER_PROCESS = MAX_SWARM_MEMBERS
export const USER_PREFIX = 'u'

export interface ClusterSize {
  loginServers: number
  supernodes: number
  peers: number
}

export interface Member {
  name: string
  role: Role
  ip: string
  /** Account name; peers only. */
  user: string | null
  /** The OS process that runs this member: the member itself, or the swarm hosting the peer. */
  process: string
}

/** One OS process that hosts peers: a rebound-node (one peer) or a rebound-swarm (several). */
export interface PeerProcess {
  name: string
  swarm: boolean
  /** The process's own address: its (first) peer's; a swarm's control port listens there. */
  ip: string
  /** In layout order: consecutive peers, so consecutive users. */
  peers: Member[]
  /** Number of its first peer (and user): p012 and u012 are 12. */
  firstPeer: number
}

export function loginServerIp (net: number, index: number): string {
  if (index < 0 || index >= MAX_LOGIN_SERVERS) throw new RangeError(`login server index ${index} out of range`)
  return `127.${net}.1.${index + 1}`
}

/** `index` counts supernodes first, then peers, from 0. */
export function nodeIp (net: number, index: number): string {
  if (index < 0 || index >= MAX_NODES) throw new RangeError(`node index ${index} out of range`)
  return loopbackAddress(`127.${net}.2.1`, index, NODES_PER_OCTET)
}

/** Digits of peer and user numbers in a cluster of `total` peers (at least 3: p001, u001). */
export function numberDigits (total: number): number {
  return Math.max(3, String(total).length)
}

function padded (prefix: string, n: number, total: number, minDigits = numberDigits(total)): string {
  return `${prefix}${String(n).padStart(minDigits, '0')}`
}

export function userName (peerNumber: number, peers: number): string {
  return padded(USER_PREFIX, peerNumber, peers)
}

/** Swarm processes are sw01, sw02, ... (more digits when there are over 99). */
export function swarmName (index: number, swarms: number): string {
  return padded('sw', index + 1, swarms, Math.max(2, String(swarms).length))
}

export function layoutCluster (size: ClusterSize, net: number, peersPerProcess = 1): Member[] {
  if (!Number.isInteger(peersPerProcess) || peersPerProcess < 1 || peersPerProcess > MAX_PEERS_PER_PROCESS) {
    throw new RangeError(`peers per process must be 1..${MAX_PEERS_PER_PROCESS}, got ${peersPerProcess}`)
  }
  const members: Member[] = []
  for (let i = 0; i < size.loginServers; i++) {
    const name = `ls${i + 1}`
    members.push({ name, role: 'login-server', ip: loginServerIp(net, i), user: null, process: name })
  }
  for (let i = 0; i < size.supernodes; i++) {
    const name = `sn${i + 1}`
    members.push({ name, role: 'supernode', ip: nodeIp(net, i), user: null, process: name })
  }
  const swarms = Math.ceil(size.peers / peersPerProcess)
  for (let i = 0; i < size.peers; i++) {
    const name = padded('p', i + 1, size.peers)
    members.push({
      name,
      role: 'peer',
      ip: nodeIp(net, size.supernodes + i),
      user: userName(i + 1, size.peers),
      process: peersPerProcess === 1 ? name : swarmName(Math.floor(i / peersPerProcess), swarms)
    })
  }
  return members
}

/**
 * Supernodes a scenario adds during a run (the mega-supernode lever): named on from the cluster's
 * (sn5, sn6, ... after sn1..sn4) and placed on the node addresses after the last peer's, so they
 * collide with no member of the layout.
 */
export function addedSupernodes (size: ClusterSize, net: number, count: number): Member[] {
  const added: Member[] = []
  for (let i = 0; i < count; i++) {
    const name = `sn${size.supernodes + i + 1}`
    added.push({ name, role: 'supernode', ip: nodeIp(net, size.supernodes + size.peers + i), user: null, process: name })
  }
  return added
}

/** The processes that host the peers, in layout order, each with its peers. */
export function peerProcesses (members: readonly Member[]): PeerProcess[] {
  const processes: PeerProcess[] = []
  let number = 0
  for (const member of members) {
    if (member.role !== 'peer') continue
    number++
    const last = processes.at(-1)
    if (last !== undefined && last.name === member.process) {
      last.peers.push(member)
    } else {
      processes.push({ name: member.process, swarm: member.process !== member.name, ip: member.ip, peers: [member], firstPeer: number })
    }
  }
  return processes
}

export function httpUrl (ip: string): string {
  return `http://${ip}:${HTTP_PORT}`
}

export function libp2pAddr (ip: string, peerId: string): string {
  return `/ip4/${ip}/tcp/${LIBP2P_PORT}/p2p/${peerId}`
}
