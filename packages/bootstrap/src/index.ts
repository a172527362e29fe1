/**
 * @packageDocumentation
 * rebound-bootstrap as a library: the login server and its configuration, for tests and for
 * programs that run a login server in-process.
 */
export { LoginServer, type LoginServerInit, type LoginServerDeps } from './login-server.js'
export { BootstrapConfigSchema, OPTIONS, PROGRAM, loadConfig, helpText, libp2pDebugFilter, type BootstrapConfig } from './config.js'
export { Store, type AccountRecord, type SupernodeRecord } from './store.js'
export { HashGate, type HashGateInit } from './hash-gate.js'
export { hashPassword, verifyPassword, type PasswordHash } from './passwords.js'
export { LiveSupernodes } from './live-supernodes.js'
