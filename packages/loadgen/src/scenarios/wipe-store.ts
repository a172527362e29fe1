/**
 * `wipe --target store`: the Sidekick outage of October 2009. The server copy of every user's data
 * was destroyed; devices told to resync replaced their copy with the server's empty one. Here: the
 * login servers' shared store is erased while they run (the driver's wipeData 'shared': the
 * process driver deletes the store's files, what they commit in the next moments going to files
 * nobody will open again; the docker driver empties the store volume), then every login server
 * is SIGKILLed and restarted on a new, empty store. Every device must notice the new storeId and push back what it
 * holds (docs/durability.md); the history check then finds every acknowledged write in both places.
 * Source: "Sidekick users lose data" (Microsoft/Danger, T-Mobile notices, 10-11 Oct 2009).
 */
import { LoginServerHealth, sleep } from '@rebound/protocol'
import { HEALTH_TIMEOUT_MS, LOGIN_SERVER_READY_TIMEOUT_MS } from '../cluster.js'
import { capabilityOf } from '../driver/driver.js'
import { getJson } from '../http.js'
import { httpUrl } from '../layout.js'
import { recoveryFigures } from '../recovery.js'
import { currentStoreId } from '../settle.js'
import { waitFor } from '../wait.js'
import { RECOVERY_CHECK_MS, WRITES_LEAD_MS } from './reboot-wave.js'
import { RestoreWatch } from './restore-watch.js'
import type { ScenarioContext, ScenarioOutcome } from './scenario.js'

/** From deleting the files to killing the login servers: writes acknowledged meanwhile are lost from the store. */
export const STORE_DOWN_AFTER_MS = 2000

export async function runStoreWipe (ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const { cluster, driver, options } = ctx
  const wipeData = capabilityOf(driver, 'wipeData')
  const servers = cluster.byRole('login-server')
  const urls = servers.map((m) => httpUrl(m.ip))
  const storeIdBefore = await currentStoreId(urls, HEALTH_TIMEOUT_MS)
  const clients = cluster.byRole('peer').map((m) => m.name)

  ctx.setPhase('wipe')
  const writesAtTrigger = ctx.burstWrites(clients)
  await sleep(WRITES_LEAD_MS, ctx.signal)
  const wipedAtMs = Date.now()
  const erased = await wipeData(servers.map((m) => m.name), 'shared')
  ctx.log.warn({ erased, storeIdBefore, writesAtTrigger }, 'store erased under the running login servers')
  await sleep(STORE_DOWN_AFTER_MS, ctx.signal)
  // Together, as a crashed storage tier takes every server with it; they re-create the store.
  await Promise.all(servers.map(async (m) => { await driver.restart(m.name) }))

  ctx.setPhase('restore')
  let loginServersBackMs: number | null = null
  const back = new Set<string>()
  try {
    await waitFor(async () => {
      await Promise.all(servers.filter((m) => !back.has(m.name)).map(async (m) => {
        const health = await getJson(`${httpUrl(m.ip)}/healthz`, LoginServerHealth, HEALTH_TIMEOUT_MS)
        if (health.ok && health.value.ok && health.value.storeId !== undefined && health.value.storeId !== storeIdBefore) back.add(m.name)
      }))
      return back.size === servers.length
    }, { what: 'login servers back on a new store', timeoutMs: LOGIN_SERVER_READY_TIMEOUT_MS, signal: ctx.signal })
    loginServersBackMs = Date.now() - wipedAtMs
  } catch (err) {
    ctx.log.error({ err: String(err), back: [...back] }, 'login servers did not come back')
  }
  const storeIdAfter = await currentStoreId(urls, HEALTH_TIMEOUT_MS)
  const watch = new RestoreWatch(ctx.observer, clients)
  const deadlineMs = wipedAtMs + options.observeMs
  // Bounded by the observation deadline (and the run's abort signal).
  while (!watch.check(storeIdAfter, Date.now()) && Date.now() < deadlineMs && !ctx.signal.aborted) {
    await sleep(Math.min(RECOVERY_CHECK_MS, Math.max(0, deadlineMs - Date.now())), ctx.signal)
  }
  const restore = recoveryFigures(watch.timesSince(wipedAtMs))
  ctx.log.info({ storeIdAfter, loginServersBackMs, restore }, 'store wipe: devices restored')
  return {
    triggerAtMs: wipedAtMs,
    recovery: recoveryFigures([]),
    kills: [],
    wipe: { target: 'store', wipedAtMs, erased, storeIdBefore, storeIdAfter, loginServersBackMs, restore, writesAtTrigger }
  }
}
