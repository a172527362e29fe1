/**
 * Erasing a container's data (the docker driver's wipeData). A container's volume outlives its
 * restarts, which is the point of it (docker-compose.yml), so a wipe must empty the volume itself:
 * a short-lived helper container of the same image mounts the volumes and deletes their contents,
 * then is removed. Not `exec` in the victim: a device wipe happens while the victim is stopped,
 * and a stopped container runs nothing. The volume stays (compose owns it); only its contents go.
 *   - `own`: the read-write volumes no other member mounts (a peer's /data, a login server's
 *     identity); the member must be stopped.
 *   - `shared`: the read-write volumes another member mounts too (the login servers' store),
 *     emptied under the members while they run, as the process driver deletes the store's files.
 */
import { ReboundError, type Logger } from '@rebound/protocol'
import type { WipeScope } from './driver.js'
import type { EngineApi, Mount } from './engine-api.js'

/** The helper needs a second or two (create, start, delete, exit); 30 s on a loaded machine. */
export const WIPE_TIMEOUT_MS = 30_000
/** Marks helper containers, so one left behind by a killed run can be found (docker ps --filter). */
export const HELPER_LABEL = 'io.rebound.helper'
/** What is shown of a failed helper's output. */
const HELPER_OUTPUT_BYTES = 2000
/**
 * Every mount point emptied, dot files included, then checked empty. POSIX sh and the find and rm
 * of both bases (Debian's in node:22-slim, busybox in the local one).
 */
const ERASE_SCRIPT = [
  'set -e',
  'for d in /wipe/*; do',
  '  find "$d" -mindepth 1 -maxdepth 1 -exec rm -rf {} +',
  '  if [ -n "$(ls -A "$d")" ]; then echo "still not empty: $d" >&2; exit 1; fi',
  'done'
].join('\n')

export interface MountingMember {
  name: string
  mounts: readonly Mount[]
}

export interface WipeTarget {
  mount: Mount
  /** The named members that mount it. */
  members: string[]
}

/** A volume by its name, a bind mount by its host path: what identifies the same storage across containers. */
function storageOf (mount: Mount): string {
  return mount.Type === 'volume' && mount.Name !== undefined ? mount.Name : mount.Source
}

/** What `scope` erases for `names`, each storage once; fails when a named member has none of it. */
export function wipeTargets (members: readonly MountingMember[], names: readonly string[], scope: WipeScope): WipeTarget[] {
  const users = new Map<string, Set<string>>()
  for (const member of members) {
    for (const mount of member.mounts) users.set(storageOf(mount), (users.get(storageOf(mount)) ?? new Set()).add(member.name))
  }
  const targets = new Map<string, WipeTarget>()
  for (const name of names) {
    const member = members.find((m) => m.name === name)
    const mine = (member?.mounts ?? []).filter((mount) => mount.RW && ((users.get(storageOf(mount))?.size ?? 0) > 1) === (scope === 'shared'))
    if (mine.length === 0) {
      throw new ReboundError('BAD_CONFIG', scope === 'own'
        ? `${name} has no read-write volume of its own: its data would be in the container's own layer, which only removing the container erases`
        : `${name} shares no read-write volume with another member`)
    }
    for (const mount of mine) {
      const target = targets.get(storageOf(mount)) ?? { mount, members: [] }
      target.members.push(name)
      targets.set(storageOf(mount), target)
    }
  }
  return [...targets.values()]
}

/** How a target shows in the report: `volume <name> (<members>:<path>)`. */
export function describeTarget (target: WipeTarget): string {
  return `${target.mount.Type} ${storageOf(target.mount)} (${target.members.join(', ')}:${target.mount.Destination})`
}

/**
 * Empty `targets` with one helper container from `image` (root, no network), bounded by
 * `timeoutMs`; the helper is removed whatever happens.
 */
export async function eraseTargets (
  engine: EngineApi, init: { image: string, project: string, targets: readonly WipeTarget[], timeoutMs: number }, log: Logger
): Promise<void> {
  const binds = init.targets.map((target, i) => `${storageOf(target.mount)}:/wipe/${i}`)
  const id = await engine.create({
    Image: init.image,
    // Root: the files may belong to any user of the victim, and only their contents go.
    User: '0:0',
    Entrypoint: ['sh', '-c', ERASE_SCRIPT],
    Cmd: [],
    Labels: { [HELPER_LABEL]: 'wipe', 'io.rebound.project': init.project },
    NetworkDisabled: true,
    HostConfig: { Binds: binds, NetworkMode: 'none' }
  })
  try {
    await engine.start(id)
    const code = await engine.wait(id, init.timeoutMs)
    if (code !== 0) {
      const output = await engine.logs(id, false, HELPER_OUTPUT_BYTES).then((l) => l.text.toString('utf8').trim(), () => '')
      throw new ReboundError('INTERNAL', `wipe helper exited with ${code}: ${output}`)
    }
    log.info({ binds, helper: id.slice(0, 12) }, 'volumes emptied')
  } finally {
    await engine.remove(id).catch((err: Error) => { log.warn({ helper: id, err: err.message }, 'wipe helper not removed') })
  }
}
