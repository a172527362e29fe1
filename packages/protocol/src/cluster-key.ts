/**
 * The cluster key: an Ed25519 pair whose private half the login servers hold and whose public half
 * every node is given, so that tickets and certificates verify locally, without a login server.
 * The public key travels as base64 of its SPKI DER (short enough for a flag or an env var).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { ReboundError } from './errors.js'

export interface ClusterKeyPair {
  privateKey: KeyObject
  publicKey: KeyObject
}

export function generateClusterKey (): ClusterKeyPair {
  return generateKeyPairSync('ed25519')
}

export function privateKeyToPem (key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString()
}

export function privateKeyFromPem (pem: string): KeyObject {
  try {
    const key = createPrivateKey(pem)
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`key type ${key.asymmetricKeyType}`)
    return key
  } catch (err) {
    throw new ReboundError('BAD_CONFIG', `cluster private key is not an Ed25519 PEM key: ${(err as Error).message}`)
  }
}

export function publicKeyToBase64 (key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).toString('base64')
}

export function publicKeyFromBase64 (text: string): KeyObject {
  try {
    const key = createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' })
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`key type ${key.asymmetricKeyType}`)
    return key
  } catch (err) {
    throw new ReboundError('BAD_CONFIG', `cluster public key is not base64 SPKI Ed25519: ${(err as Error).message}`)
  }
}

export function publicKeyOf (privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey)
}
