/**
 * The members of a compose cluster, as the run needs them: what the docker driver found (name,
 * role, address), plus each peer's user, which only the peer knows (rebound-node
 * --user-from-hostname takes it from its container's hostname) and tells in GET /status.
 */
import { NodeStatus, ReboundError, type Logger, type Profile } from '@rebound/protocol'
import { getJson } from '../http.js'
import { httpUrl, type ClusterSize, type Member } from '../layout.js'
import { waitFor } from '../wait.js'
import { ROLE_LABEL, attachDockerDriver, type ContainerMember, type DockerDriver } from './docker-driver.js'
import { createEngineApi } from './engine-api.js'

/** A peer answers /status with its user within seconds of its start; compose up waited for it already. */
export const USERS_READ_TIMEOUT_MS = 60_000
const STATUS_TIMEOUT_MS = 2000

/** One process per member (no swarms in a compose cluster); users are not known yet. */
export function membersOfContainers (containers: readonly ContainerMember[]): Member[] {
  return containers.map((c) => ({ name: c.name, role: c.role, ip: c.ip, user: null, process: c.name }))
}

/** The cluster's size is what was found. */
export function sizeOfMembers (members: readonly Member[]): ClusterSize {
  const count = (role: Member['role']): number => members.filter((m) => m.role === role).length
  return { loginServers: count('login-server'), supernodes: count('supernode'), peers: count('peer') }
}

/**
 * `members` with each peer's user read from its own /status, and each peer's profile; waits
 * (bounded) until every peer has told it.
 */
export async function withPeerUsers (members: readonly Member[], signal: AbortSignal, profiles = new Map<string, Profile>()): Promise<Member[]> {
  const users = new Map<string, string>()
  const peers = members.filter((m) => m.role === 'peer')
  await waitFor(async () => {
    await Promise.all(peers.filter((m) => !users.has(m.name)).map(async (m) => {
      const status = await getJson(`${httpUrl(m.ip)}/status`, NodeStatus, STATUS_TIMEOUT_MS)
      if (status.ok && status.value.user !== null) {
        users.set(m.name, status.value.user)
        profiles.set(m.name, status.value.profile)
      }
    }))
    return users.size === peers.length
  }, {
    what: `the users of ${peers.length} peer containers (GET /status)`,
    timeoutMs: USERS_READ_TIMEOUT_MS,
    signal,
    progress: () => `no user from: ${peers.filter((m) => !users.has(m.name)).slice(0, 10).map((m) => m.name).join(', ')}`
  })
  return members.map((m) => (m.role === 'peer' ? { ...m, user: users.get(m.name) ?? null } : m))
}

/**
 * Why the run would misreport its profile, or undefined: the containers' profile was fixed when
 * compose created them (REBOUND_PROFILE), and the report must name the one they run.
 */
export function profileMismatch (project: string, profiles: ReadonlyMap<string, Profile>, expected: Profile): string | undefined {
  const other = [...profiles].filter(([, profile]) => profile !== expected)
  if (other.length === 0) return undefined
  const [, theirs] = other[0] ?? []
  return `compose project ${project}: ${other.length} of ${profiles.size} peers run the ${theirs ?? '?'} profile (${other.slice(0, 5).map(([name]) => name).join(', ')}), not ${expected}: ` +
    `pass --profile ${theirs ?? '?'}, or bring the project up again with REBOUND_PROFILE=${expected} (down -v, then up)`
}

/** What a run needs of a compose project it attaches to. */
export interface ComposeCluster {
  driver: DockerDriver
  members: Member[]
  /** From REBOUND_OPERATOR_TOKEN (the keys service's operator-token); undefined when not given. */
  operatorToken: string | undefined
}

/**
 * Attach the docker driver to `project` and read its members (with their users). Fails with
 * BAD_CONFIG when the project has no member container, so a wrong --compose-project says so.
 */
export async function attachCompose (
  init: { project: string, socketPath: string, logsDir: string, profile: Profile, env: NodeJS.ProcessEnv, signal: AbortSignal }, log: Logger
): Promise<ComposeCluster> {
  const driver = await attachDockerDriver({ engine: createEngineApi({ socketPath: init.socketPath }), project: init.project, logsDir: init.logsDir }, log)
  try {
    const found = membersOfContainers(driver.members())
    const size = sizeOfMembers(found)
    if (size.loginServers === 0 || size.supernodes === 0 || size.peers === 0) {
      throw new ReboundError('BAD_CONFIG', `compose project ${init.project}: expected login servers, supernodes and peers (label ${ROLE_LABEL}), found ${size.loginServers}, ${size.supernodes} and ${size.peers}; is it up (docker-compose -p ${init.project} up -d)?`)
    }
    const token = init.env.REBOUND_OPERATOR_TOKEN
    const profiles = new Map<string, Profile>()
    const members = await withPeerUsers(found, init.signal, profiles)
    const mismatch = profileMismatch(init.project, profiles, init.profile)
    if (mismatch !== undefined) throw new ReboundError('BAD_CONFIG', mismatch)
    return { driver, members, operatorToken: token === undefined || token === '' ? undefined : token }
  } catch (err) {
    await driver.stopAll()
    throw err
  }
}
