/**
 * @packageDocumentation
 * The rebound load generator: cluster drivers, seeded workload, scenarios, timeline and report.
 * `rebound` (src/main.ts) is the command line over these modules.
 */
export * from './prng.js'
export * from './layout.js'
export * from './swarm-args.js'
export * from './users.js'
export * from './recovery.js'
export * from './prom-text.js'
export * from './http.js'
export * from './wait.js'
export * from './driver/driver.js'
export * from './driver/process-driver.js'
export * from './observer.js'
export * from './workload.js'
export * from './timeline.js'
export * from './cluster.js'
export * from './options.js'
export * from './report.js'
export * from './summary.js'
export * from './scenarios/scenario.js'
export * from './scenarios/index.js'
export { patchTuesday } from './scenarios/patch-tuesday.js'
export * from './run.js'
export * from './compare.js'
export { cli, PROGRAM, type CliIo } from './cli.js'
