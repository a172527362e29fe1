/**
 * node:sqlite prints "ExperimentalWarning: SQLite is an experimental feature" on stderr when it is
 * loaded (Node 22). It says nothing to an operator, so drop that one warning and pass every
 * other warning to Node's own handlers. Import this module before anything that loads the store.
 */
const handlers = process.listeners('warning')
process.removeAllListeners('warning')
process.on('warning', (warning: Error) => {
  if (warning.name === 'ExperimentalWarning' && warning.message.includes('SQLite')) return
  for (const handler of handlers) handler.call(process, warning)
})

export {}
