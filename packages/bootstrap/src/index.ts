/**
 * @packageDocumentation
 * rebound-bootstrap as a library: the login server and its configuration, for tests and for
 * programs that run a login server in-process.
 */
export { LoginServer, type LoginServerInit, type LoginServerDeps, type LoginServerTuning, type LoginServerHealthReply } from './login-server.js'
export { BootstrapConfigSchema, OPTIONS, PROGRAM, loadConfig, helpText, libp2pDebugFilter, type BootstrapConfig } from './config.js'
export { Store, type AccountRecord, type SupernodeRecord } from './store.js'
export { DataStore, MAX_CONTACTS_REPLY_BYTES, type Page, type WriteOptions } from './data-store.js'
export { dataService, userDataRoute } from './data-service.js'
export { AdmissionController, refusalReasonOf, type RefusalReason, type Scheduler } from './admission/controller.js'
export { admissionPolicy, ADMISSION_CLASSES, type AdmissionClass, type AdmissionPolicy } from './admission/policy.js'
export { AimdLimit, FixedLimit, type ConcurrencyLimit } from './admission/concurrency-limit.js'
export { CapacityEstimator } from './admission/capacity.js'
export { WaitingRoom } from './admission/waiting-room.js'
export { UsedSlots } from './admission/used-slots.js'
export { SlotDesk, type SlotCheck } from './slot-desk.js'
export { ConnectionGate } from './connection-gate.js'
export { hashPassword, verifyPassword, type PasswordHash } from './passwords.js'
export { LiveSupernodes } from './live-supernodes.js'
