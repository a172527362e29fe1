/**
 * `wipe --target device`: devices that lose everything (a reset phone, a dead disk, the Sidekicks
 * that lost power in 2009 and came back empty). A reboot wave (reboot-wave.ts) whose victims'
 * data directories are erased between the kill and the restart: each comes back with a new
 * identity and no ticket, logs in with its password, and must get its contacts and its inbox back
 * from the store (docs/durability.md) while the rest of the cluster keeps writing to it.
 */
import { HEALTH_TIMEOUT_MS } from '../cluster.js'
import { capabilityOf } from '../driver/driver.js'
import { httpUrl } from '../layout.js'
import { recoveryFigures } from '../recovery.js'
import { currentStoreId } from '../settle.js'
import { runRebootWave } from './reboot-wave.js'
import { RestoreWatch } from './restore-watch.js'
import type { ScenarioContext, ScenarioOutcome } from './scenario.js'

export async function runDeviceWipe (ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const { cluster } = ctx
  const wipeData = capabilityOf(ctx.driver, 'wipeData')
  const urls = cluster.byRole('login-server').map((m) => httpUrl(m.ip))
  const storeId = await currentStoreId(urls, HEALTH_TIMEOUT_MS)
  const erased: string[] = []
  let watch: RestoreWatch | undefined
  const wave = await runRebootWave(ctx, {
    fraction: ctx.options.wipeFraction,
    afterKill: async (victims) => {
      // Everything each victim keeps of its own: identity, ticket, backoff state, device store and
      // inbox (a process's data directory, a container's volume); all victims in one call.
      erased.push(...await wipeData(victims.map((v) => v.process), 'own'))
      ctx.log.warn({ erased }, 'device data erased')
      watch = new RestoreWatch(ctx.observer, victims.flatMap((v) => v.peers), { startedAfterMs: Date.now() })
    },
    doneAt: (peer) => {
      watch?.check(storeId, Date.now())
      return watch?.restoredAt(peer) ?? null
    }
  })
  const restore = recoveryFigures(watch?.timesSince(wave.killTimeMs) ?? [])
  return {
    triggerAtMs: wave.killTimeMs,
    recovery: recoveryFigures(wave.kills.map((k) => k.recoveryMs)),
    kills: wave.kills,
    wipe: {
      target: 'device', wipedAtMs: wave.killTimeMs, erased, storeIdBefore: storeId, storeIdAfter: await currentStoreId(urls, HEALTH_TIMEOUT_MS),
      loginServersBackMs: null, restore, writesAtTrigger: wave.writesAtKill
    }
  }
}
