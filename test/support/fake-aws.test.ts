import { FakeSecretsManager } from './fake-aws';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SmtpCredentials-AbCdEf';

describe('FakeSecretsManager', () => {
  // PutSecretValue's VersionStages: "If you specify AWSCURRENT, and it is already attached to
  // another version, then Secrets Manager also moves the staging label AWSPREVIOUS to the version
  // that AWSCURRENT was removed from." (the same without VersionStages, which means AWSCURRENT).
  test('a value put as AWSCURRENT leaves AWSPREVIOUS on the version it replaced', () => {
    const sm = new FakeSecretsManager(ARN, '{"v":1}');
    const stages = () => sm.describeSecret({ SecretId: ARN }).VersionIdsToStages;

    sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'v2', SecretString: '{"v":2}' });
    expect(stages()).toEqual({ 'initial-version': ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });

    sm.putSecretValue({
      SecretId: ARN,
      ClientRequestToken: 'v3',
      SecretString: '{"v":3}',
      VersionStages: ['AWSCURRENT'],
    });
    expect(stages()).toEqual({ v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT'] });

    // Any other label moves alone.
    sm.putSecretValue({
      SecretId: ARN,
      ClientRequestToken: 'v4',
      SecretString: '{"v":4}',
      VersionStages: ['AWSPENDING'],
    });
    expect(stages()).toEqual({ v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT'], v4: ['AWSPENDING'] });
  });
});
