#!/usr/bin/env node
/**
 * rebound: the load generator. Parses the command line and runs it; everything else lives in
 * importable modules.
 */
import { runMain } from '@rebound/protocol'
import { PROGRAM, cli } from './cli.js'

/** After the run, lingering sockets may not hold the process open longer than this. */
const EXIT_GRACE_MS = 2000

runMain(PROGRAM, async () => {
  const code = await cli(process.argv.slice(2), process.env, {
    out: (text) => { process.stdout.write(text + '\n') },
    err: (text) => { process.stderr.write(text + '\n') },
    isTty: process.stdout.isTTY === true
  })
  process.exitCode = code
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref()
})
