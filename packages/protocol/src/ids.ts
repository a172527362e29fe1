/**
 * Protocol ids. The version is part of the id so that a later incompatible change can be served
 * side by side with this one during a rolling upgrade.
 */
export const PROTOCOL_PREFIX = 'rebound'

/** Client <-> login server: register, log in (request/response, one exchange per stream). */
export const LOGIN_PROTOCOL = '/rebound/login/1.0.0'
/** Supernode <-> registry (on the login servers): certify, heartbeat. */
export const REGISTRY_PROTOCOL = '/rebound/registry/1.0.0'
/** Client <-> its supernode: one long-lived stream per session carrying sends and deliveries. */
export const SESSION_PROTOCOL = '/rebound/session/1.0.0'
/** Supernode <-> supernode: presence publish/lookup and message routing (request/response). */
export const MESH_PROTOCOL = '/rebound/mesh/1.0.0'
/** Client <-> login server: its contacts and mailbox in the server store (request/response). */
export const DATA_PROTOCOL = '/rebound/data/1.0.0'
/**
 * Supernode membership and load, disseminated by gossipsub among the supernodes (its own protocol
 * id keeps rebound's gossip apart from any other pubsub on the same hosts); one topic.
 */
export const GOSSIP_PROTOCOL = '/rebound/meshsub/1.1.0'
export const MEMBERSHIP_TOPIC = 'rebound/supernodes/1'
