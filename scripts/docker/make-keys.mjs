/**
 * The compose cluster's one-shot `keys` service (docker-compose.yml): everything the containers
 * must agree on before any of them starts, written once into volumes and kept on later runs
 * (an `up` after a `down` without -v finds the same keys, so tickets and accounts stay valid).
 *
 *   <keys-dir>/cluster-key.pem   Ed25519 key the login servers sign tickets and certificates with
 *   <keys-dir>/cluster-pubkey    its public half, base64 SPKI DER (rebound-node --cluster-pubkey)
 *   <keys-dir>/operator-token    the secret operator supernodes show (and the load generator reads the store with)
 *   <keys-dir>/password-seed     peers' passwords are workloadPassword(seed, user) (rebound-node --password-seed)
 *   <keys-dir>/login-servers     the login servers' multiaddrs, /ip4/<ip>/tcp/<port>/p2p/<id>, comma-separated
 *   <data-dir>/identity.key      each login server's libp2p identity, in its own data volume
 *
 * The login servers' identities are made here, in the files rebound-bootstrap loads from its
 * --data-dir, so their peer ids (hence the multiaddrs every node needs) are known before they start.
 *
 * Usage: make-keys.mjs --keys-dir DIR --login-server NAME=IP:DATA_DIR ... [--port 7401] [--owner UID:GID]
 */
import { createPublicKey, randomBytes, randomInt } from 'node:crypto'
import { chown, mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateClusterKey, loadOrCreateIdentity, privateKeyToPem, publicKeyToBase64, writeFileDurable } from '@rebound/protocol'

/** rebound-bootstrap's default libp2p port (docs/interfaces.md). */
const DEFAULT_PORT = '7401'
/** The load generator's seeds are 0..2^32-1 (packages/loadgen/src/prng.ts MAX_SEED). */
const MAX_SEED = 0xffff_ffff
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

function usageError (message) {
  process.stderr.write(`make-keys: ${message}\nUsage: make-keys.mjs --keys-dir DIR --login-server NAME=IP:DATA_DIR ... [--port N] [--owner UID:GID]\n`)
  process.exit(2)
}

/** `login-1=10.77.0.11:/init/login-1` -> { name, ip, dataDir } */
function parseLoginServer (text) {
  const match = /^([a-z0-9][a-z0-9_-]*)=([0-9.]+):(\/.+)$/.exec(text)
  if (match === null || !IPV4.test(match[2])) usageError(`--login-server ${text}: expected NAME=IP:/DATA_DIR`)
  return { name: match[1], ip: match[2], dataDir: match[3] }
}

async function readIfExists (path) {
  return await readFile(path, 'utf8').catch((err) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
}

/** Write `path` only when it does not exist yet, so a later `up` keeps the cluster's secrets. */
async function keep (path, make, mode) {
  const existing = await readIfExists(path)
  if (existing !== undefined) return existing
  const value = make()
  await writeFileDurable(path, value, mode)
  return value
}

async function main () {
  const { values } = parseArgs({
    options: {
      'keys-dir': { type: 'string' },
      'login-server': { type: 'string', multiple: true },
      port: { type: 'string', default: DEFAULT_PORT },
      owner: { type: 'string' }
    },
    strict: true
  })
  const keysDir = values['keys-dir'] ?? usageError('--keys-dir is required')
  const servers = (values['login-server'] ?? []).map(parseLoginServer)
  if (servers.length === 0) usageError('at least one --login-server is required')
  if (!/^\d{1,5}$/.test(values.port)) usageError('--port must be a port number')
  const owner = values.owner === undefined ? undefined : values.owner.split(':').map(Number)
  if (owner !== undefined && (owner.length !== 2 || owner.some((id) => !Number.isInteger(id) || id < 0))) usageError('--owner must be UID:GID')

  await mkdir(keysDir, { recursive: true })
  const pem = await keep(join(keysDir, 'cluster-key.pem'), () => privateKeyToPem(generateClusterKey().privateKey), 0o600)
  // Derived from the key on every run, so the two files can never disagree.
  await writeFileDurable(join(keysDir, 'cluster-pubkey'), publicKeyToBase64(createPublicKey(pem)))
  await keep(join(keysDir, 'operator-token'), () => randomBytes(24).toString('base64url'), 0o600)
  await keep(join(keysDir, 'password-seed'), () => String(randomInt(0, MAX_SEED)))

  const addrs = []
  for (const server of servers) {
    await mkdir(server.dataDir, { recursive: true })
    const key = await loadOrCreateIdentity(server.dataDir)
    addrs.push(`/ip4/${server.ip}/tcp/${values.port}/p2p/${peerIdFromPrivateKey(key).toString()}`)
  }
  await writeFileDurable(join(keysDir, 'login-servers'), addrs.join(','))

  // Run as root only to hand volumes that were mounted on paths the image lacks (so created
  // root-owned) to the unprivileged user the services run as.
  if (owner !== undefined) {
    for (const dir of [keysDir, ...servers.map((s) => s.dataDir)]) await chownTree(dir, owner[0], owner[1])
  }
  process.stdout.write(`make-keys: ${keysDir} ready; login servers ${servers.map((s, i) => `${s.name} ${addrs[i]}`).join(', ')}\n`)
}

/** The directory and its direct entries: all this script writes is one level deep. */
async function chownTree (dir, uid, gid) {
  await chown(dir, uid, gid)
  for (const entry of await readdir(dir)) await chown(join(dir, entry), uid, gid)
}

main().catch((err) => {
  process.stderr.write(`make-keys: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
