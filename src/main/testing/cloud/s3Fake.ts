/**
 * S3 for tests: `s3rver`, a real S3-protocol server (SigV4 checked), on loopback, accepting the
 * same fake credentials as the SageMaker/Logs fake. Path-style addressing. Test harness only.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FAKE_CREDENTIALS } from './awsFake'


export interface S3Fake {
  endpoint: string
  dir: string
  stop(): Promise<void>
}

export async function startS3Fake(buckets: string[]): Promise<S3Fake> {
  // s3rver ships no types; non-literal specifiers keep these imports untyped.
  const S3rver = (await import('s3rver' as string)).default
  const { DUMMY_ACCOUNT } = await import('s3rver/lib/models/account.js' as string)
  DUMMY_ACCOUNT.createKeyPair(FAKE_CREDENTIALS.accessKeyId, FAKE_CREDENTIALS.secretAccessKey)
  const dir = mkdtempSync(join(tmpdir(), 'atelier-s3-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name }))
  })
  const addr = (await server.run()) as { port: number }
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    dir,
    async stop() {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
