"""Independent client check of the AWS fakes: boto3 (botocore's own SigV4 signer and JSON 1.1 /
REST-XML protocols) drives SageMaker, CloudWatch Logs and S3 and prints what it saw as JSON."""
import json, os, sys, time
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ep, s3ep, region, role = os.environ['FAKE_AWS'], os.environ['FAKE_S3'], os.environ['FAKE_REGION'], os.environ['FAKE_ROLE']
key, secret = os.environ['FAKE_KEY'], os.environ['FAKE_SECRET']
cfg = Config(retries={'mode': 'standard', 'max_attempts': 6})
sess = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=region)
sm = sess.client('sagemaker', endpoint_url=ep, config=cfg)
logs = sess.client('logs', endpoint_url=ep, config=cfg)
s3 = sess.client('s3', endpoint_url=s3ep, config=Config(s3={'addressing_style': 'path'}))
out = {}
mode = sys.argv[1] if len(sys.argv) > 1 else 'main'

def code_of(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['Error']['Message'], e.response['ResponseMetadata']['HTTPStatusCode']]

if mode == 'badsig':
    bad = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key='wrong' + secret, region_name=region)
    out['sagemaker'] = code_of(lambda: bad.client('sagemaker', endpoint_url=ep).list_training_jobs())
    out['logs'] = code_of(lambda: bad.client('logs', endpoint_url=ep).describe_log_streams(logGroupName='/aws/sagemaker/TrainingJobs'))
    print(json.dumps(out)); sys.exit(0)
if mode == 'throttled':
    # The test queued a short ThrottlingException storm; botocore's standard retries absorb it.
    out['listed'] = len(sm.list_training_jobs()['TrainingJobSummaries'])
    print(json.dumps(out)); sys.exit(0)
if mode == 'throttled-noretry':
    once = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=region)
    c = once.client('sagemaker', endpoint_url=ep, config=Config(retries={'mode': 'standard', 'total_max_attempts': 1}))
    out['error'] = code_of(lambda: c.list_training_jobs())
    print(json.dumps(out)); sys.exit(0)
if mode == 'endpoints':
    rt = sess.client('sagemaker-runtime', endpoint_url=ep, config=cfg)
    # the model data the endpoint serves: a trained model's model.tar.gz the test made
    s3.upload_file(os.environ['FAKE_MODEL_TGZ'], 'atelier-ml', 'm/model.tar.gz')
    sm.create_model(ModelName='probe-m', ExecutionRoleArn=role, PrimaryContainer={'Image': 'img', 'ModelDataUrl': 's3://atelier-ml/m/model.tar.gz'})
    sm.create_endpoint_config(EndpointConfigName='probe-c', ProductionVariants=[{'VariantName': 'a', 'ModelName': 'probe-m', 'InitialInstanceCount': 1, 'InstanceType': 'ml.m5.large', 'InitialVariantWeight': 1.0}])
    sm.create_endpoint(EndpointName='probe-e', EndpointConfigName='probe-c')
    out['first'] = sm.describe_endpoint(EndpointName='probe-e')['EndpointStatus']
    sm.get_waiter('endpoint_in_service').wait(EndpointName='probe-e', WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
    out['then'] = sm.describe_endpoint(EndpointName='probe-e')['EndpointStatus']
    r = rt.invoke_endpoint(EndpointName='probe-e', ContentType='application/json', Body=json.dumps({'dataframe_split': {'columns': ['amount', 'count'], 'data': [[3.0, 1], [10.0, 1]]}}).encode())
    out['invoke'] = [r['Body'].read().decode(), r['InvokedProductionVariant']]
    sm.delete_endpoint(EndpointName='probe-e')
    out['gone'] = code_of(lambda: sm.describe_endpoint(EndpointName='probe-e'))
    print(json.dumps(out)); sys.exit(0)
if mode == 'packages':
    # Model Registry: a group, a pending package, its approval with a description.
    out['no_group'] = code_of(lambda: sm.create_model_package(ModelPackageGroupName='absent', InferenceSpecification={
        'Containers': [{'Image': 'img'}], 'SupportedContentTypes': ['text/csv'], 'SupportedResponseMIMETypes': ['text/csv']}))
    out['group_arn'] = sm.create_model_package_group(ModelPackageGroupName='probe-model')['ModelPackageGroupArn']
    out['group_again'] = code_of(lambda: sm.create_model_package_group(ModelPackageGroupName='probe-model'))
    arn = sm.create_model_package(ModelPackageGroupName='probe-model', ModelApprovalStatus='PendingManualApproval', InferenceSpecification={
        'Containers': [{'Image': '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3', 'ModelDataUrl': 's3://atelier-ml/m/model.tar.gz'}],
        'SupportedContentTypes': ['text/csv'], 'SupportedResponseMIMETypes': ['text/csv']})['ModelPackageArn']
    out['package_arn'] = arn
    out['pending'] = [(m['ModelPackageArn'], m['ModelApprovalStatus']) for m in sm.list_model_packages(ModelPackageGroupName='probe-model', ModelApprovalStatus='PendingManualApproval')['ModelPackageSummaryList']]
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus='Approved', ApprovalDescription='looks good')
    d = sm.describe_model_package(ModelPackageName=arn)
    out['described'] = [d['ModelPackageGroupName'], d['ModelPackageVersion'], d['ModelApprovalStatus'], d['ApprovalDescription'],
                        d['InferenceSpecification']['Containers'][0]['ModelDataUrl'], type(d['CreationTime']).__name__]
    out['pending_after'] = len(sm.list_model_packages(ModelApprovalStatus='PendingManualApproval')['ModelPackageSummaryList'])
    out['approved'] = [m['ModelPackageArn'] for m in sm.list_model_packages(ModelApprovalStatus='Approved')['ModelPackageSummaryList']]
    out['bad_status'] = code_of(lambda: sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus='Maybe'))
    print(json.dumps(out)); sys.exit(0)

s3.put_object(Bucket='atelier-ml', Key='code/sourcedir.tar.gz', Body=b'hello tar')
out['s3_get'] = s3.get_object(Bucket='atelier-ml', Key='code/sourcedir.tar.gz')['Body'].read().decode()
out['s3_list'] = [o['Key'] for o in s3.list_objects_v2(Bucket='atelier-ml').get('Contents', [])]

def job_request(name, **extra):
    req = dict(
        TrainingJobName=name,
        AlgorithmSpecification={'TrainingImage': '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3',
                                'TrainingInputMode': 'File',
                                'MetricDefinitions': [{'Name': 'loss', 'Regex': 'loss=([0-9.]+)'}]},
        RoleArn=role,
        HyperParameters={'epochs': '3', 'lr': '0.1'},
        OutputDataConfig={'S3OutputPath': 's3://atelier-ml/out'},
        ResourceConfig={'InstanceType': 'ml.m5.large', 'InstanceCount': 2, 'VolumeSizeInGB': 10},
        StoppingCondition={'MaxRuntimeInSeconds': 3600})
    req.update(extra)
    return req

if mode == 'container':
    # Local container mode: boto3 packs and uploads a script, the fake runs it as SageMaker would.
    import io, tarfile
    TRAIN = """import argparse, json, os, sys, time
p = argparse.ArgumentParser()
p.add_argument('--epochs', type=int, default=1)
p.add_argument('--lr', type=float, default=0.1)
p.add_argument('--mode', default='ok')
a = p.parse_args()
print('host', os.environ['SM_CURRENT_HOST'], json.loads(os.environ['SM_HOSTS']), json.loads(os.environ['SM_HPS']), flush=True)
print('channel', open(os.path.join(os.environ['SM_CHANNEL_TRAIN'], 'part.csv')).read().strip(), flush=True)
print('config', sorted(json.load(open(os.path.join(os.environ['SM_INPUT_CONFIG_DIR'], 'hyperparameters.json')))), flush=True)
if a.mode == 'fail':
    print('about to fail', file=sys.stderr, flush=True)
    raise ValueError('lr %s is too high' % a.lr)
for e in range(a.epochs):
    print('epoch=%d loss=%.4f' % (e + 1, 1.0 / (e + 2)), flush=True)
    time.sleep(30 if a.mode == 'sleep' else 0)
open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w').write('lr=%s' % a.lr)
open(os.path.join(os.environ['SM_OUTPUT_DATA_DIR'], 'report.txt'), 'w').write('done')
"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as t:
        data = TRAIN.encode()
        info = tarfile.TarInfo('train.py'); info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    s3.put_object(Bucket='atelier-ml', Key='probe/sourcedir.tar.gz', Body=buf.getvalue())
    s3.put_object(Bucket='atelier-ml', Key='probe/data/train/part.csv', Body=b'1,2,3\n')
    def req(name, hp):
        r = job_request(name, HyperParameters=dict(hp, sagemaker_program='"train.py"', sagemaker_submit_directory='"s3://atelier-ml/probe/sourcedir.tar.gz"'),
                        ResourceConfig={'InstanceType': 'ml.m5.large', 'InstanceCount': 1, 'VolumeSizeInGB': 10},
                        InputDataConfig=[{'ChannelName': 'train', 'DataSource': {'S3DataSource': {'S3DataType': 'S3Prefix', 'S3Uri': 's3://atelier-ml/probe/data/train'}}}])
        return r
    sm.create_training_job(**req('run-ok', {'epochs': '3', 'lr': '0.5'}))
    sm.create_training_job(**req('run-fail', {'mode': 'fail', 'lr': '9'}))
    sm.create_training_job(**req('run-stop', {'mode': 'sleep', 'epochs': '5'}))
    w = sm.get_waiter('training_job_completed_or_stopped')
    for n in ('run-ok', 'run-fail'):
        try:
            w.wait(TrainingJobName=n, WaiterConfig={'Delay': 1, 'MaxAttempts': 60})
        except Exception:
            pass
    d = sm.describe_training_job(TrainingJobName='run-ok')
    out['ok'] = [d['TrainingJobStatus'], [t['Status'] for t in d['SecondaryStatusTransitions']], [[m['MetricName'], m['Value']] for m in d['FinalMetricDataList']]]
    model = s3.get_object(Bucket='atelier-ml', Key='out/run-ok/output/model.tar.gz')['Body'].read()
    with tarfile.open(fileobj=io.BytesIO(model), mode='r:gz') as t:
        out['model'] = d['ModelArtifacts']['S3ModelArtifacts'], {m.name: t.extractfile(m).read().decode() for m in t.getmembers() if m.isfile()}
    data = s3.get_object(Bucket='atelier-ml', Key='out/run-ok/output/output.tar.gz')['Body'].read()
    with tarfile.open(fileobj=io.BytesIO(data), mode='r:gz') as t:
        out['output'] = [m.name for m in t.getmembers()]
    streams = logs.describe_log_streams(logGroupName='/aws/sagemaker/TrainingJobs', logStreamNamePrefix='run-ok/')['logStreams']
    out['log'] = [e['message'] for e in logs.get_log_events(logGroupName='/aws/sagemaker/TrainingJobs', logStreamName=streams[0]['logStreamName'], startFromHead=True)['events']]
    f = sm.describe_training_job(TrainingJobName='run-fail')
    out['fail'] = [f['TrainingJobStatus'], f['FailureReason']]
    while sm.describe_training_job(TrainingJobName='run-stop')['SecondaryStatus'] != 'Training':
        time.sleep(0.1)
    time.sleep(0.5)
    sm.stop_training_job(TrainingJobName='run-stop')
    w.wait(TrainingJobName='run-stop', WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
    out['stop'] = sm.describe_training_job(TrainingJobName='run-stop')['TrainingJobStatus']
    print(json.dumps(out)); sys.exit(0)

if mode == 'main':
    out['arn'] = sm.create_training_job(**job_request('probe-1'))['TrainingJobArn']
out['duplicate'] = code_of(lambda: sm.create_training_job(**job_request('probe-1')))
out['bad_role'] = code_of(lambda: sm.create_training_job(**job_request('probe-2', RoleArn='arn:aws:iam::123456789012:role/Nope')))
if mode == 'limit':
    out['limit'] = code_of(lambda: sm.create_training_job(**job_request('probe-3', ResourceConfig={'InstanceType': 'ml.p3.2xlarge', 'InstanceCount': 1, 'VolumeSizeInGB': 10})))
    print(json.dumps(out)); sys.exit(0)
seen = []
deadline = time.time() + 20
while time.time() < deadline:
    d = sm.describe_training_job(TrainingJobName='probe-1')
    st = (d['TrainingJobStatus'], d['SecondaryStatus'])
    if not seen or seen[-1] != list(st):
        seen.append(list(st))
    if d['TrainingJobStatus'] in ('Completed', 'Failed', 'Stopped'):
        break
    time.sleep(0.05)
out['statuses'] = seen
out['metrics'] = [[m['MetricName'], m['Value']] for m in d['FinalMetricDataList']]
out['model'] = d['ModelArtifacts']['S3ModelArtifacts']
out['end_is_datetime'] = type(d['TrainingEndTime']).__name__
out['listed'] = [j['TrainingJobName'] for j in sm.list_training_jobs(MaxResults=10)['TrainingJobSummaries']]

streams = logs.describe_log_streams(logGroupName='/aws/sagemaker/TrainingJobs', logStreamNamePrefix='probe-1/')['logStreams']
out['streams'] = [s['logStreamName'] for s in streams]
out['events'] = [e['message'] for e in logs.get_log_events(logGroupName='/aws/sagemaker/TrainingJobs',
                                                           logStreamName=streams[0]['logStreamName'], startFromHead=True)['events']]

print(json.dumps(out))
