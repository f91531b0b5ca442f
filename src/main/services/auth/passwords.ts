/**
 * Password hashing with scrypt (Node's crypto): a random salt per user, the parameters stored with the
 * hash so they can be raised later without breaking old passwords, and a constant-time comparison.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

export interface ScryptParams {
  N: number
  r: number
  p: number
  keylen: number
}

/** One of OWASP's equivalent scrypt minimums (N=2^16, r=8, p=2): 64 MiB per hash, a fraction of a second. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 16, r: 8, p: 2, keylen: 32 }

export interface PasswordHash {
  hash: string
  salt: string
  params: ScryptParams
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const opts: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 32 * 1024 * 1024 }
  return new Promise((res, rej) => scrypt(password.normalize('NFC'), salt, params.keylen, opts, (err, key) => (err ? rej(err) : res(key))))
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<PasswordHash> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, params)
  return { hash: key.toString('hex'), salt: salt.toString('hex'), params }
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const key = await derive(password, Buffer.from(stored.salt, 'hex'), stored.params)
  const want = Buffer.from(stored.hash, 'hex')
  return key.length === want.length && timingSafeEqual(key, want)
}

/** SHA-256 (hex) of a high-entropy secret (session ids, API tokens): what the database keeps. */
export function sha256(secret: string): string {
  return createHash('sha256').update(secret).digest('hex')
}

/** A new random secret with a recognisable prefix (`atl_…` for API tokens). */
export function newSecret(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url')
}
