/**
 * A job's code as `sourcedir.tar.gz` in S3, handed to a pod as a presigned GET URL: the pod needs no
 * AWS credentials, only something that can download and unpack (curl or wget, and tar). Signed with
 * the SDK's own SigV4 signer and the S3 client's credentials and hash.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { fromNodeProviderChain } from '@aws-sdk/credential-providers'
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types'
import { SignatureV4 } from '@smithy/signature-v4'
import { awsError } from './SageMakerBackend'

export interface S3CodeConfig {
  bucket: string
  /** Key prefix (no leading slash; default `atelier`). */
  prefix?: string
  region: string
  /** AWS profile from ~/.aws (default: the SDK's default chain). */
  profile?: string
  /** S3-compatible endpoint (path-style addressing). */
  endpoint?: string
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider
}

/** The longest a SigV4 presigned URL may live (7 days). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600

export class S3Code {
  readonly s3: S3Client

  constructor(readonly cfg: S3CodeConfig) {
    const credentials = cfg.credentials ?? fromNodeProviderChain(cfg.profile ? { profile: cfg.profile } : {})
    this.s3 = new S3Client({ region: cfg.region, credentials, ...(cfg.endpoint ? { endpoint: cfg.endpoint, forcePathStyle: true } : {}) })
  }

  key(folderId: string): string {
    return `${(this.cfg.prefix ?? 'atelier').replace(/^\/+|\/+$/g, '')}/${folderId}/sourcedir.tar.gz`
  }

  /** Uploads the archive and returns its key and a GET URL valid for `expiresIn` seconds. */
  async upload(folderId: string, body: Buffer, expiresIn = MAX_PRESIGN_SECONDS): Promise<{ key: string; url: string }> {
    const key = this.key(folderId)
    try {
      await this.s3.send(new PutObjectCommand({ Bucket: this.cfg.bucket, Key: key, Body: body, ContentType: 'application/gzip' }))
    } catch (e) {
      throw awsError(e, `Uploading the source to s3://${this.cfg.bucket}/${key}`)
    }
    return { key, url: await this.presignGet(key, expiresIn) }
  }

  /** A presigned GET URL (query-string SigV4, UNSIGNED-PAYLOAD, only the host header signed). */
  async presignGet(key: string, expiresIn = MAX_PRESIGN_SECONDS): Promise<string> {
    const path = '/' + key.split('/').map(encodeURIComponent).join('/')
    const base = this.cfg.endpoint ? new URL(this.cfg.endpoint) : new URL(`https://${this.cfg.bucket}.s3.${this.cfg.region}.amazonaws.com`)
    const fullPath = (this.cfg.endpoint ? `${base.pathname.replace(/\/+$/, '')}/${encodeURIComponent(this.cfg.bucket)}` : '') + path
    const host = base.host
    const signer = new SignatureV4({
      credentials: this.s3.config.credentials,
      region: this.cfg.region,
      service: 's3',
      sha256: this.s3.config.sha256,
      uriEscapePath: false
    })
    const signed = await signer.presign(
      {
        method: 'GET',
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port ? Number(base.port) : undefined,
        path: fullPath,
        query: {},
        headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
      },
      { expiresIn: Math.min(Math.max(1, Math.round(expiresIn)), MAX_PRESIGN_SECONDS), unsignableHeaders: new Set(['x-amz-content-sha256']), unhoistableHeaders: new Set(['x-amz-content-sha256']) }
    )
    const query = Object.entries(signed.query ?? {})
      .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : v == null ? [] : [[k, v]]))
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v as string)}`)
      .join('&')
    return `${base.protocol}//${host}${fullPath}?${query}`
  }
}
