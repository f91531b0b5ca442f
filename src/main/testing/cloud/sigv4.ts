/**
 * Server-side AWS Signature Version 4 check, as AWS services do it: rebuild the canonical request
 * from what arrived, derive the signing key from the secret the server knows for the access key,
 * and compare signatures. Used by the loopback fakes only.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

export interface FakeCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export type SigV4Failure = { status: number; type: string; message: string }

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()

function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
}

function canonicalQuery(search: string): string {
  const params = new URLSearchParams(search)
  return [...params.entries()]
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

function canonicalUri(path: string): string {
  // Non-S3 services encode each path segment once more after normalisation.
  return path
    .split('/')
    .map((seg) => encode(decodeURIComponent(seg)))
    .join('/') || '/'
}

/**
 * Verify a request's SigV4 Authorization header. Returns null when it is valid for one of `known`,
 * otherwise the error AWS itself would answer (type and message as AWS words them).
 */
export function verifySigV4(opts: {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
  service: string
  known: FakeCredentials[]
  expiredSessionTokens?: Set<string>
}): SigV4Failure | null {
  const auth = String(opts.headers['authorization'] ?? '')
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
    auth
  )
  if (!m) {
    return { status: 400, type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' }
  }
  const [, accessKeyId, date, region, service, signedHeadersRaw, signature] = m
  const token = opts.headers['x-amz-security-token']
  if (typeof token === 'string' && opts.expiredSessionTokens?.has(token)) {
    return { status: 400, type: 'ExpiredTokenException', message: 'The security token included in the request is expired' }
  }
  const cred = opts.known.find((c) => c.accessKeyId === accessKeyId)
  if (!cred || (cred.sessionToken && cred.sessionToken !== token)) {
    return { status: 400, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' }
  }
  if (service !== opts.service) {
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message: `Credential should be scoped to correct service: '${opts.service}'. `
    }
  }
  const amzDate = String(opts.headers['x-amz-date'] ?? '')
  if (!amzDate.startsWith(date)) {
    return { status: 403, type: 'InvalidSignatureException', message: 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.' }
  }
  const signedHeaders = signedHeadersRaw.split(';')
  const headerLines = signedHeaders.map((h) => {
    const v = opts.headers[h]
    const value = Array.isArray(v) ? v.join(',') : String(v ?? '')
    return `${h}:${value.trim().replace(/\s+/g, ' ')}\n`
  })
  const u = new URL(opts.url, 'http://fake')
  const payloadHash = typeof opts.headers['x-amz-content-sha256'] === 'string' ? opts.headers['x-amz-content-sha256'] : sha256(opts.body)
  const canonical = [
    opts.method.toUpperCase(),
    canonicalUri(u.pathname),
    canonicalQuery(u.search),
    headerLines.join(''),
    signedHeaders.join(';'),
    payloadHash
  ].join('\n')
  const scope = `${date}/${region}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n')
  let key = hmac('AWS4' + cred.secretAccessKey, date)
  key = hmac(key, region)
  key = hmac(key, service)
  key = hmac(key, 'aws4_request')
  const expected = createHmac('sha256', key).update(stringToSign).digest()
  const got = Buffer.from(signature, 'hex')
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
    }
  }
  return null
}
