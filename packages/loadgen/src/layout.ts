/**
 * Who runs where: process names, roles, loopback addresses and user names of a cluster. Pure
 * functions of the sizes and `--net`, so the same flags always give the same layout.
 *
 * Addresses (docs/interfaces.md, DESIGN "Ports and addresses"): login servers on 127.B.1.N, nodes
 * on 127.B.2.N, 127.B.3.N, ... (supernodes first, then peers), 250 per third octet. Every process
 * binds its own address, so all share the same two ports.
 */

export type Role = 'login-server' | 'supernode' | 'peer'

export const LIBP2P_PORT = 7401
export const HTTP_PORT = 7480
export const NODES_PER_OCTET = 250
/** Third octets 2..254 hold nodes; 255 is left alone (broadcast-looking addresses confuse people). */
export const MAX_NODE_OCTETS = 253
export const MAX_LOGIN_SERVERS = NODES_PER_OCTET
export const MAX_NODES = NODES_PER_OCTET * MAX_NODE_OCTETS

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
}

export function loginServerIp (net: number, index: number): string {
  if (index < 0 || index >= MAX_LOGIN_SERVERS) throw new RangeError(`login server index ${index} out of range`)
  return `127.${net}.1.${index + 1}`
}

/** `index` counts supernodes first, then peers, from 0. */
export function nodeIp (net: number, index: number): string {
  if (index < 0 || index >= MAX_NODES) throw new RangeError(`node index ${index} out of range`)
  return `127.${net}.${2 + Math.floor(index / NODES_PER_OCTET)}.${1 + (index % NODES_PER_OCTET)}`
}

function padded (prefix: string, n: number, total: number): string {
  return `${prefix}${String(n).padStart(Math.max(3, String(total).length), '0')}`
}

export function userName (peerNumber: number, peers: number): string {
  return padded('u', peerNumber, peers)
}

export function layoutCluster (size: ClusterSize, net: number): Member[] {
  const members: Member[] = []
  for (let i = 0; i < size.loginServers; i++) {
    members.push({ name: `ls${i + 1}`, role: 'login-server', ip: loginServerIp(net, i), user: null })
  }
  for (let i = 0; i < size.supernodes; i++) {
    members.push({ name: `sn${i + 1}`, role: 'supernode', ip: nodeIp(net, i), user: null })
  }
  for (let i = 0; i < size.peers; i++) {
    members.push({
      name: padded('p', i + 1, size.peers),
      role: 'peer',
      ip: nodeIp(net, size.supernodes + i),
      user: userName(i + 1, size.peers)
    })
  }
  return members
}

export function httpUrl (ip: string): string {
  return `http://${ip}:${HTTP_PORT}`
}

export function libp2pAddr (ip: string, peerId: string): string {
  return `/ip4/${ip}/tcp/${LIBP2P_PORT}/p2p/${peerId}`
}
