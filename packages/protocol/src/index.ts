/**
 * @packageDocumentation
 * What crosses the wire in rebound: protocol ids, limits, messages and their codec, error codes,
 * tickets and certificates, the HTTP control API; plus the small runtime helpers (framed streams,
 * request/response, durable files, identity, logging, config) that every program shares.
 */
export * from './ids.js'
export * from './limits.js'
export * from './errors.js'
export * from './messages.js'
export * from './data-messages.js'
export * from './codec.js'
export * from './framed-stream.js'
export * from './cluster-key.js'
export * from './signed-token.js'
export * from './ticket.js'
export * from './certificate.js'
export * from './slot.js'
export * from './rpc.js'
export * from './request-channel.js'
export * from './http-api.js'
export * from './swarm-api.js'
export * from './http-server.js'
export * from './durable-file.js'
export * from './identity.js'
export * from './log.js'
export * from './config.js'
export * from './lifecycle.js'
export * from './token-bucket.js'
export * from './bounded.js'
export * from './workload-password.js'
export * from './loopback-range.js'
export * from './metric-names.js'
