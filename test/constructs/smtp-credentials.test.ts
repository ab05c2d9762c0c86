import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ses from 'aws-cdk-lib/aws-ses';
import {
  PLACEHOLDER_SECRET,
  SmtpCredentials,
  SmtpCredentialsProps,
} from '../../lib/constructs/smtp-credentials';
import { testApp } from '../helpers';

function build(props: Partial<SmtpCredentialsProps> = {}) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const identity = new ses.EmailIdentity(stack, 'Identity', { identity: ses.Identity.domain('example.com') });
  const credentials = new SmtpCredentials(stack, 'SmtpCredentials', {
    identity,
    fromAddress: 'no-reply@example.com',
    notificationKey: new kms.Key(stack, 'Key'),
    ...props,
  });
  return { stack, credentials, template: Template.fromStack(stack) };
}

const identityArn = {
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':ses:eu-west-1:123456789012:identity/', { Ref: 'Identity2D60E2CC' }],
  ],
};

/** The policy documents attached to the role of the function whose logical id starts with `prefix`. */
function rolePolicies(template: Template, rolePrefix: string) {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles ?? []).includes(rolePrefix))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('SmtpCredentials', () => {
  test("the user's only permission is ses:SendRawEmail on the identity, from the allowed address", () => {
    const { template } = build();
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => p.Properties.Users,
    );
    expect(policies).toHaveLength(1);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'SendRawEmailAsTheIdentityOnly',
        Effect: 'Allow',
        Action: 'ses:SendRawEmail',
        Resource: identityArn,
        Condition: { StringEquals: { 'ses:FromAddress': ['no-reply@example.com'] } },
      },
    ]);
    template.hasResourceProperties(
      'AWS::IAM::User',
      Match.not(Match.objectLike({ ManagedPolicyArns: Match.anyValue() })),
    );
  });

  test('with a configuration set, its ARN is a resource too; wildcard senders use StringLike', () => {
    const { template } = build({
      configurationSet: ses.ConfigurationSet.fromConfigurationSetName(new Stack(), 'Set', 'smtp-default'),
      allowedFromAddresses: ['no-reply@example.com', '*@mail.example.com'],
    });
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => p.Properties.Users,
    );
    expect(policy.Properties.PolicyDocument.Statement[0]).toMatchObject({
      Action: 'ses:SendRawEmail',
      Resource: [
        identityArn,
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':ses:eu-west-1:123456789012:configuration-set/smtp-default'],
          ],
        },
      ],
      Condition: { StringLike: { 'ses:FromAddress': ['no-reply@example.com', '*@mail.example.com'] } },
    });
  });

  test('no access key resource, and no key material anywhere in the template', () => {
    const { template } = build();
    template.resourceCountIs('AWS::IAM::AccessKey', 0);
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(/SecretAccessKey|AKIA[0-9A-Z]{16}/);
    expect(
      Object.keys(template.toJSON().Parameters ?? {}).filter((p) => !p.startsWith('BootstrapVersion')),
    ).toEqual([]);
  });

  test('the secret is encrypted with a rotating customer-managed key and starts as a placeholder', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SmtpCredentialsSecretKey'), 'Arn'] },
      SecretString: JSON.stringify(PLACEHOLDER_SECRET),
    });
    expect(Object.keys(PLACEHOLDER_SECRET)).toEqual(['placeholder']);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: Match.stringLikeRegexp('SMTP credentials secret'),
    });
  });

  test('rotation every 90 days by default, immediately when the schedule is created', () => {
    build().template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: Match.stringLikeRegexp('^SmtpCredentialsSecret') },
      RotationLambdaARN: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^SmtpCredentialsRotationFunction'), 'Arn'],
      },
      RotationRules: { AutomaticallyAfterDays: 90 },
      RotateImmediatelyOnUpdate: true,
    });
  });

  test.each([[30], [365]])('rotation interval of %i days from props', (days) => {
    build({ rotationInterval: Duration.days(days) }).template.hasResourceProperties(
      'AWS::SecretsManager::RotationSchedule',
      {
        RotationRules: { AutomaticallyAfterDays: days },
      },
    );
  });

  test('the schedule waits for the invoke permission and the function (its first rotation starts at once)', () => {
    const { template } = build();
    const [schedule] = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'));
    expect(schedule.DependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SmtpCredentialsSecretsManagerInvoke/),
        expect.stringMatching(/^SmtpCredentialsRotationFunction[0-9A-F]{8}$/),
      ]),
    );
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: '123456789012',
    });
  });

  test('rotation function: Node LTS on ARM64, room for the 150 s login retry, SMTP endpoint from env', () => {
    build().template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          SES_REGION: 'eu-west-1',
          FROM_ADDRESS: 'no-reply@example.com',
          SMTP_HOST: 'email-smtp.eu-west-1.amazonaws.com',
          SMTP_PORT: '587',
          PUBLISHED_SMTP_PORT: '587',
          SMTP_USER_NAME: { Ref: Match.stringLikeRegexp('^SmtpCredentialsUser') },
          ENVIRONMENT_NAME: 'Test',
          PREVIOUS_KEY_QUIET_DAYS: '7',
          ROTATE_WHILE_PREVIOUS_KEY_IN_USE: 'false',
        }),
      },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^SmtpCredentialsRotationFunctionLogs') } },
    });
  });

  test('the stale-use guard settings reach the rotation function', () => {
    build({
      environmentName: 'prod',
      previousKeyQuietPeriod: Duration.days(14),
      rotateWhilePreviousKeyInUse: true,
    }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ENVIRONMENT_NAME: 'prod',
          PREVIOUS_KEY_QUIET_DAYS: '14',
          ROTATE_WHILE_PREVIOUS_KEY_IN_USE: 'true',
        }),
      },
    });
  });

  test.each([Duration.hours(36), Duration.days(366)])('previousKeyQuietPeriod %s is refused', (period) => {
    expect(() => build({ previousKeyQuietPeriod: period })).toThrow(
      /previousKeyQuietPeriod must be a whole number of days from 0 to 365, got: /,
    );
  });

  test("the rotation role touches only the user's keys, this secret, its key, and its own logs", () => {
    const statements = rolePolicies(build().template, 'SmtpCredentialsRotationFunctionRole');
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SmtpCredentialsRotationFunctionLogs/), 'Arn'] },
      },
      {
        Sid: 'ManageOnlyTheSmtpUsersKeys',
        Effect: 'Allow',
        Action: [
          'iam:ListAccessKeys',
          'iam:CreateAccessKey',
          'iam:DeleteAccessKey',
          'iam:GetAccessKeyLastUsed',
        ],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SmtpCredentialsUser/), 'Arn'] },
      },
      {
        Sid: 'RotateOnlyThisSecret',
        Effect: 'Allow',
        Action: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        Resource: { Ref: expect.stringMatching(/^SmtpCredentialsSecret/) },
      },
      {
        Sid: 'UseTheSecretKeyThroughSecretsManager',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SmtpCredentialsSecretKey/), 'Arn'] },
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] },
          },
        },
      },
    ]);
  });

  test('successful rotations reach the rotated topic; failures have their own rule', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationSucceeded'],
          additionalEventData: { SecretId: [{ Ref: Match.stringLikeRegexp('^SmtpCredentialsSecret') }] },
        },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^SmtpCredentialsRotatedTopic') } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: Match.objectLike({ eventName: ['RotationFailed'] }) }),
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      DisplayName: 'SES SMTP credentials rotated',
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowEventBridgeRules',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ]),
      },
    });
  });

  test('RETAIN (default): user, secret and key are kept, no key cleanup function', () => {
    const { template } = build();
    for (const type of ['AWS::IAM::User', 'AWS::SecretsManager::Secret', 'AWS::KMS::Key']) {
      const [id] = Object.keys(template.findResources(type)).filter((k) => k.startsWith('SmtpCredentials'));
      expect(template.toJSON().Resources[id].DeletionPolicy).toBe('Retain');
    }
    template.resourceCountIs('Custom::SmtpUserKeyCleanup', 0);
  });

  test('DESTROY: keys are deleted before the user, after the schedule is gone', () => {
    const { template } = build({ removalPolicy: RemovalPolicy.DESTROY });
    const [cleanupId, cleanup] = Object.entries(template.findResources('Custom::SmtpUserKeyCleanup'))[0];
    expect(cleanup.Properties.UserName).toEqual({ Ref: expect.stringMatching(/^SmtpCredentialsUser/) });
    expect(cleanup.DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/^SmtpCredentialsUser/)]),
    );
    const [schedule] = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'));
    expect(schedule.DependsOn).toContain(cleanupId);
    const statements = rolePolicies(template, 'SmtpCredentialsKeyCleanupFunctionRole');
    expect(statements).toContainEqual({
      Sid: 'DeleteOnlyTheSmtpUsersKeys',
      Effect: 'Allow',
      Action: ['iam:ListAccessKeys', 'iam:DeleteAccessKey'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SmtpCredentialsUser/), 'Arn'] },
    });
  });

  test.each([[Duration.hours(36)], [Duration.days(1001)]])(
    'refuses rotation interval %s',
    (rotationInterval) => {
      expect(() => build({ rotationInterval })).toThrow(
        /rotationInterval must be a whole number of days from 1 to 1000, got: /,
      );
    },
  );

  test('refuses an empty sender list', () => {
    expect(() => build({ allowedFromAddresses: [] })).toThrow(
      'allowedFromAddresses must name at least one address, got: []',
    );
  });
});
