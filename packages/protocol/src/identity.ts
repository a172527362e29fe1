/**
 * A process's libp2p identity, persisted in its data directory so that its peer id survives
 * restarts (tickets are bound to it). A key file that exists but does not parse is an error:
 * silently minting a new identity would orphan the peer's ticket and presence.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { join } from 'node:path'
import { readFileIfExists, writeFileDurable } from './durable-file.js'
import { ReboundError } from './errors.js'

export const IDENTITY_FILE = 'identity.key'

export async function loadOrCreateIdentity (dataDir: string): Promise<PrivateKey> {
  const path = join(dataDir, IDENTITY_FILE)
  const existing = await readFileIfExists(path)
  if (existing !== undefined) {
    try {
      return privateKeyFromProtobuf(existing)
    } catch (err) {
      throw new ReboundError('CORRUPT_STORE', `identity key ${path} is corrupt: ${(err as Error).message}`, { path })
    }
  }
  const key = await generateKeyPair('Ed25519')
  await writeFileDurable(path, privateKeyToProtobuf(key))
  return key
}
