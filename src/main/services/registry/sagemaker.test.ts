/** Registry ↔ SageMaker Model Registry against the loopback AWS fake (SigV4 checked) and s3rver. */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { UpdateModelPackageCommand } from '@aws-sdk/client-sagemaker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AwsFake, FAKE_CREDENTIALS, FAKE_ROLE } from '../../testing/cloud/awsFake'
import { startS3Fake, type S3Fake } from '../../testing/cloud/s3Fake'
import { SageMakerBackend } from '../jobs/SageMakerBackend'
import { PACKAGE_ARN_TAG, SageMakerRegistry, packageGroupName } from './sagemaker'
import { alice, bob, createRegistryHarness, type RegistryHarness } from './testing'

describe('SageMaker Model Registry sync', () => {
  let aws: AwsFake
  let s3: S3Fake
  let h: RegistryHarness
  let sync: SageMakerRegistry
  let backend: SageMakerBackend

  beforeAll(async () => {
    aws = await new AwsFake().start()
    s3 = await startS3Fake(['atelier-ml'])
    h = await createRegistryHarness()
    backend = new SageMakerBackend({ region: aws.region, roleArn: FAKE_ROLE, bucket: 'atelier-ml', prefix: 'team', endpoint: aws.endpoint, s3Endpoint: s3.endpoint, credentials: FAKE_CREDENTIALS, maxAttempts: 1 })
    sync = new SageMakerRegistry({
      registry: h.registry,
      artifactsRoot: join(h.dataDir, 'artifacts'),
      backend: async (id) => {
        if (id !== 'sm1') throw new Error(`no target ${id}`)
        return backend
      }
    })
  })
  afterAll(async () => {
    await h?.cleanup()
    await s3?.stop()
    await aws?.stop()
  })

  it('pushes a version as a pending model package, then approves it with the comment as ApprovalDescription', async () => {
    const { version } = await h.register('churn model')
    const pushed = await sync.push({ name: 'churn model', version, target: 'sm1' }, alice)
    expect(pushed.group).toBe('churn-model')
    expect(pushed.packageArn).toBe(`arn:aws:sagemaker:${aws.region}:123456789012:model-package/churn-model/1`)
    expect(pushed.modelDataUrl).toBe(`s3://atelier-ml/team/registry/churn-model/${version}/model.tar.gz`)

    // the uploaded archive holds the version's model folder
    const obj = await backend.s3.send(new GetObjectCommand({ Bucket: 'atelier-ml', Key: `team/registry/churn-model/${version}/model.tar.gz` }))
    const dir = mkdtempSync(join(tmpdir(), 'smreg-'))
    try {
      writeFileSync(join(dir, 'm.tgz'), Buffer.from(await obj.Body!.transformToByteArray()))
      const names = execFileSync('tar', ['-tzf', join(dir, 'm.tgz')], { encoding: 'utf8' }).split('\n').map((s) => s.replace(/^\.\//, '')).filter(Boolean)
      expect(names).toEqual(expect.arrayContaining(['MLmodel', 'model.pkl']))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }

    const create = aws.callsTo('CreateModelPackage')[0].body
    expect(create.ModelApprovalStatus).toBe('PendingManualApproval')
    expect(create.InferenceSpecification.Containers[0]).toEqual({
      Image: `141502667606.dkr.ecr.${aws.region}.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3`,
      ModelDataUrl: pushed.modelDataUrl
    })
    expect(aws.callsTo('CreateModelPackageGroup')).toHaveLength(1)
    expect(h.registry.getVersion('churn model', version).tags[PACKAGE_ARN_TAG]).toBe(pushed.packageArn)
    const pushAudit = h.audit.list({ entity: `churn model/${version}` }).events.find((e: any) => e.action === 'sagemaker.push')
    expect(pushAudit).toBeTruthy()

    // a second version reuses the group
    const second = await h.register('churn model')
    const p2 = await sync.push({ name: 'churn model', version: second.version, target: 'sm1' }, alice)
    expect(p2.packageArn).toMatch(/model-package\/churn-model\/2$/)
    expect(aws.callsTo('CreateModelPackageGroup')).toHaveLength(1)

    const pending = await sync.pending('sm1')
    expect(pending.map((p) => p.packageArn).sort()).toEqual([pushed.packageArn, p2.packageArn].sort())
    expect(pending[0].source).toBe('sagemaker')

    await expect(sync.decide({ target: 'sm1', packageArn: pushed.packageArn, decision: 'approve', comment: '  ' }, bob)).rejects.toMatchObject({ code: 'COMMENT_REQUIRED' })
    await expect(sync.decide({ target: 'sm1', packageArn: pushed.packageArn, decision: 'approve', comment: 'ok' }, alice)).rejects.toMatchObject({ code: 'FORBIDDEN' })
    const adminAlice = { ...alice, role: 'admin' as const }
    await expect(sync.decide({ target: 'sm1', packageArn: pushed.packageArn, decision: 'approve', comment: 'mine' }, adminAlice)).rejects.toMatchObject({ code: 'SELF_APPROVAL' })
    const out = await sync.decide({ target: 'sm1', packageArn: pushed.packageArn, decision: 'approve', comment: 'metrics hold on the holdout' }, bob)
    expect(out.approvalStatus).toBe('Approved')
    const update = aws.callsTo('UpdateModelPackage')[0].body
    expect(update).toEqual({ ModelPackageArn: pushed.packageArn, ModelApprovalStatus: 'Approved', ApprovalDescription: 'metrics hold on the holdout' })
    expect((await sync.pending('sm1')).map((p) => p.packageArn)).toEqual([p2.packageArn])
    await expect(sync.decide({ target: 'sm1', packageArn: pushed.packageArn, decision: 'reject', comment: 'again' }, bob)).rejects.toMatchObject({ code: 'INVALID_STATE' })

    await sync.decide({ target: 'sm1', packageArn: p2.packageArn, decision: 'reject', comment: 'drift on segment B' }, bob)
    const decisions = h.audit.list({ entityType: 'model_package' }).events.map((e: any) => [e.action, e.entity, e.comment])
    expect(decisions).toEqual(
      expect.arrayContaining([
        ['sagemaker.approve', pushed.packageArn, 'metrics hold on the holdout'],
        ['sagemaker.reject', p2.packageArn, 'drift on segment B']
      ])
    )
  })

  it('records where a version was pushed, in the named group, with the status SageMaker reports', async () => {
    const { version } = await h.register('fraud')
    expect(await sync.packages({ name: 'fraud', version })).toEqual([])
    const pushed = await sync.push({ name: 'fraud', version, target: 'sm1', group: 'fraud-eu' }, alice)
    expect(pushed).toMatchObject({ target: 'sm1', group: 'fraud-eu', approvalStatus: 'PendingManualApproval' })
    expect(pushed.packageArn).toMatch(/model-package\/fraud-eu\/1$/)
    expect(aws.callsTo('CreateModelPackage').at(-1)!.body.ModelPackageGroupName).toBe('fraud-eu')
    expect(await sync.packages({ name: 'fraud', version })).toEqual([pushed])

    // a decision in the Reviews room is recorded on the version
    await sync.decide({ target: 'sm1', packageArn: pushed.packageArn, decision: 'approve', comment: 'ship it' }, bob)
    expect(await sync.packages({ name: 'fraud', version })).toMatchObject([{ packageArn: pushed.packageArn, approvalStatus: 'Approved', approvalDescription: 'ship it' }])

    // a change made in SageMaker itself is seen on refresh, and kept
    await backend.sm.send(new UpdateModelPackageCommand({ ModelPackageArn: pushed.packageArn, ModelApprovalStatus: 'Rejected', ApprovalDescription: 'revoked in the console' }))
    expect((await sync.packages({ name: 'fraud', version }))[0].approvalStatus).toBe('Approved')
    expect(await sync.packages({ name: 'fraud', version, refresh: true })).toMatchObject([{ approvalStatus: 'Rejected', approvalDescription: 'revoked in the console' }])
    expect(await sync.packages({ name: 'fraud', version })).toMatchObject([{ approvalStatus: 'Rejected' }])
  })

  it('answers AWS errors in their words', async () => {
    await expect(sync.decide({ target: 'sm1', packageArn: 'arn:aws:sagemaker:eu-west-1:123456789012:model-package/none/9', decision: 'approve', comment: 'x' }, bob)).rejects.toMatchObject({
      code: 'CLOUD_ERROR',
      message: expect.stringContaining('ValidationException')
    })
    expect(packageGroupName('a b__c!')).toBe('a-b-c')
  })
})
