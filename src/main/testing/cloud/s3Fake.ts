/**
 * S3 for tests: `s3rver`, a real S3-protocol server, on loopback behind a small front that checks
 * every request's SigV4 signature (Authorization header or presigned query) against the same fake
 * credentials as the SageMaker/Logs fake, as S3 does, and answers S3's XML errors; s3rver itself
 * does not check signatures. Path-style addressing. Test harness only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FAKE_CREDENTIALS } from './awsFake'
import { verifyPresignedS3, verifySigV4, type FakeCredentials, type SigV4Failure } from './sigv4'

export interface S3Fake {
  endpoint: string
  dir: string
  /** Requests refused for their signature, with S3's error code. */
  refused: { method: string; path: string; code: string }[]
  stop(): Promise<void>
}

/** S3's own error codes for what the shared SigV4 check reports in JSON-protocol words. */
const S3_CODE: Record<string, string> = {
  MissingAuthenticationTokenException: 'AccessDenied',
  UnrecognizedClientException: 'InvalidAccessKeyId',
  InvalidSignatureException: 'SignatureDoesNotMatch',
  ExpiredTokenException: 'ExpiredToken'
}

/** Null when S3 would accept the request's signature, else its error. */
export function checkS3Signature(req: { method: string; url: string; headers: IncomingMessage['headers'] }, body: Buffer, known: FakeCredentials[], host: string): SigV4Failure | null {
  const url = new URL(req.url, `http://${host}`)
  if (url.searchParams.has('X-Amz-Signature')) return verifyPresignedS3({ url: url.href, known, method: req.method })
  const failure = verifySigV4({ method: req.method, url: req.url, headers: req.headers, body, service: 's3', known })
  if (failure) return { ...failure, type: S3_CODE[failure.type] ?? failure.type }
  const declared = String(req.headers['x-amz-content-sha256'] ?? '')
  if (/^[0-9a-f]{64}$/.test(declared) && declared !== createHash('sha256').update(body).digest('hex')) {
    return { status: 400, type: 'XAmzContentSHA256Mismatch', message: "The provided 'x-amz-content-sha256' header does not match what was computed." }
  }
  return null
}

export async function startS3Fake(buckets: string[], known: FakeCredentials[] = [FAKE_CREDENTIALS]): Promise<S3Fake> {
  // s3rver ships no types; non-literal specifiers keep these imports untyped.
  const S3rver = (await import('s3rver' as string)).default
  const { DUMMY_ACCOUNT } = await import('s3rver/lib/models/account.js' as string)
  for (const c of known) DUMMY_ACCOUNT.createKeyPair(c.accessKeyId, c.secretAccessKey)
  const dir = mkdtempSync(join(tmpdir(), 'atelier-s3-'))
  const inner = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name }))
  })
  const innerPort = ((await inner.run()) as { port: number }).port
  const refused: S3Fake['refused'] = []

  const front = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const failure = checkS3Signature({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, body, known, req.headers.host ?? '127.0.0.1')
      if (failure) {
        refused.push({ method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0], code: failure.type })
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${failure.type}</Code><Message>${failure.message.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</Message></Error>`
        res.writeHead(failure.status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) })
        return void res.end(req.method === 'HEAD' ? undefined : xml)
      }
      const fwd = request({ host: '127.0.0.1', port: innerPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
      })
      fwd.on('error', (e) => {
        res.writeHead(502)
        res.end(String(e))
      })
      fwd.end(body)
    })
  })
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  return {
    endpoint: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    dir,
    refused,
    async stop() {
      front.closeAllConnections()
      await new Promise<void>((resolve) => front.close(() => resolve()))
      await inner.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
