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

/**
 * Verify an S3 presigned URL (query-string SigV4) as S3 does for a GET: the credential scope, the
 * expiry, and the signature over the canonical request with UNSIGNED-PAYLOAD (S3 does not encode
 * the path a second time). Returns null when valid, else S3's error code and message.
 */
export function verifyPresignedS3(opts: { url: string; known: FakeCredentials[]; now?: number; method?: string }): SigV4Failure | null {
  const u = new URL(opts.url)
  const q = u.searchParams
  const fail = (type: string, message: string, status = 403): SigV4Failure => ({ status, type, message })
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return fail('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', 400)
  const credential = q.get('X-Amz-Credential') ?? ''
  const m = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(credential)
  if (!m) return fail('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter: ${credential}`, 400)
  const [, accessKeyId, date, region] = m
  const cred = opts.known.find((c) => c.accessKeyId === accessKeyId)
  if (!cred) return fail('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.')
  const amzDate = q.get('X-Amz-Date') ?? ''
  const expires = Number(q.get('X-Amz-Expires'))
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || !amzDate.startsWith(date)) return fail('AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format and match the credential date', 400)
  if (!Number.isInteger(expires) || expires < 1 || expires > 604800) return fail('AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds', 400)
  const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15))
  if ((opts.now ?? Date.now()) > signedAt + expires * 1000) return fail('AccessDenied', 'Request has expired')
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';')
  const headers: Record<string, string> = { host: u.host }
  const rest = new URLSearchParams(q)
  rest.delete('X-Amz-Signature')
  const canonical = [
    (opts.method ?? 'GET').toUpperCase(),
    u.pathname.split('/').map((seg) => encode(decodeURIComponent(seg))).join('/') || '/',
    canonicalQuery(rest.toString()),
    signedHeaders.map((h) => `${h}:${headers[h] ?? ''}\n`).join(''),
    signedHeaders.join(';'),
    'UNSIGNED-PAYLOAD'
  ].join('\n')
  const scope = `${date}/${region}/s3/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n')
  let key = hmac('AWS4' + cred.secretAccessKey, date)
  key = hmac(key, region)
  key = hmac(key, 's3')
  key = hmac(key, 'aws4_request')
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex')
  if (expected !== q.get('X-Amz-Signature')) {
    return fail('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.')
  }
  return null
}
