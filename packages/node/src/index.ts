/**
 * @packageDocumentation
 * rebound-node as a library: the Peer (client or supernode) and its parts, for tests and tools.
 */
export { Peer, type PeerDeps } from './peer.js'
export { NodeConfigSchema, OPTIONS, type NodeConfig } from './config.js'
export { Backoff, BACKOFF_BASE_MS, BACKOFF_CAP_MS } from './backoff.js'
export { rendezvousOwners } from './hrw.js'
export { attachOrder } from './client/supernode-choice.js'
export { Inbox } from './client/inbox.js'
export { ClientStateFile } from './client/client-state.js'
