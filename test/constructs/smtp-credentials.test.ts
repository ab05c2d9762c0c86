import { CfnElement, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  iamLiteral,
  PLACEHOLDER_SECRET,
  SmtpCredentials,
  SmtpCredentialsProps,
} from '../../lib/constructs/smtp-credentials';
import rotationFailed from '../fixtures/eventbridge/secretsmanager-rotation-failed.json';
import labelUpdated from '../fixtures/eventbridge/secretsmanager-secret-label-updated.json';
import { testApp } from '../helpers';
import { ConfigError } from '../../lib/config/load';

/** EventBridge matching for patterns made of exact values: every key matches, a list is any-of. */
function matches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern)) {
    return (Array.isArray(event) ? event : [event]).some((v) => pattern.includes(v));
  }
  if (pattern && typeof pattern === 'object') {
    if (!event || typeof event !== 'object') return false;
    return Object.entries(pattern).every(([k, p]) => matches(p, (event as Record<string, unknown>)[k]));
  }
  throw new Error(`unsupported pattern ${JSON.stringify(pattern)}`);
}

let defaults: ReturnType<typeof buildWith> | undefined;
/**
 * The stack and template of these props; without any, the one default stack of this file, built
 * once: read it, never add to it (pass `extend` for that).
 */
function build(...args: Parameters<typeof buildWith>) {
  return args.length === 0 ? (defaults ??= buildWith()) : buildWith(...args);
}

function buildWith(
  props: Partial<SmtpCredentialsProps> | ((stack: Stack) => Partial<SmtpCredentialsProps>) = {},
  /** Adds to the stack before it is synthesized. */
  extend: (stack: Stack, credentials: SmtpCredentials) => void = () => {},
) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const identity = new ses.EmailIdentity(stack, 'Identity', { identity: ses.Identity.domain('example.com') });
  const credentials = new SmtpCredentials(stack, 'SmtpCredentials', {
    identity,
    fromAddress: 'no-reply@example.com',
    notificationKey: new kms.Key(stack, 'Key'),
    ...(typeof props === 'function' ? props(stack) : props),
  });
  extend(stack, credentials);
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
  test("the user's only permission is ses:SendRawEmail on the identity, from any address at the sender's domain (default)", () => {
    const { template } = build({ fromAddress: 'no-reply@mail.example.com' });
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
        Condition: { StringLike: { 'ses:FromAddress': ['*@mail.example.com'] } },
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

  test('exact addresses only (opt-in): StringEquals, so nothing but those addresses matches', () => {
    const { template } = build({ allowedFromAddresses: ['no-reply@example.com', 'billing@example.com'] });
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => p.Properties.Users,
    );
    expect(policy.Properties.PolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { 'ses:FromAddress': ['no-reply@example.com', 'billing@example.com'] },
    });
  });

  // IAM compares ses:FromAddress case-sensitively: a domain spelled "Example.COM" in the policy
  // or in the address apps send from would not match the other's "example.com". The entries as
  // written stay too: a secret written before the lower case (until the next rotation) holds them.
  test('the address apps send from spells its domain in lower case; the policy takes each entry so and as written', () => {
    const { template } = build({
      fromAddress: 'No-Reply@Example.COM',
      allowedFromAddresses: ['No-Reply@EXAMPLE.com', '*@*.Example.com'],
    });
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => p.Properties.Users,
    );
    expect(policy.Properties.PolicyDocument.Statement[0].Condition).toEqual({
      StringLike: {
        'ses:FromAddress': [
          'No-Reply@example.com',
          '*@*.example.com',
          'No-Reply@EXAMPLE.com',
          '*@*.Example.com',
        ],
      },
    });
    // Without a list: every address at the domain, in lower case (what the secret says).
    const plain = build({ fromAddress: 'No-Reply@Example.COM' }).template;
    const [own] = Object.values(plain.findResources('AWS::IAM::Policy')).filter((p) => p.Properties.Users);
    expect(own.Properties.PolicyDocument.Statement[0].Condition).toEqual({
      StringLike: { 'ses:FromAddress': ['*@example.com'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FROM_ADDRESS: 'No-Reply@example.com' }) },
    });
  });

  test.each<[string, string]>([
    ['*@example.com', '*@example.com'],
    ['*@*.example.com', '*@*.example.com'],
    ['no-reply@example.com', 'no-reply@example.com'],
    // Valid atext that IAM would read as a wildcard or a variable stays literal.
    ['who?@example.com', 'who${?}@example.com'],
    ['a*b@example.com', 'a${*}b@example.com'],
    ['${aws:username}@example.com', '${$}{aws:username}@example.com'],
  ])('sender entry %s is the IAM condition value %s', (entry, value) => {
    expect(iamLiteral(entry)).toBe(value);
  });

  // IAM refuses a user's inline policies past 2,048 characters (whitespace not counted), only at
  // deploy: each sandbox recipient adds its identity's ARN to the SMTP user's.
  test("a policy past IAM's 2,048 characters for a user is refused at synth, the longest that fits is not", () => {
    const recipients = (count: number) => (stack: Stack) => ({
      sandboxRecipients: Array.from(
        { length: count },
        (_, i) =>
          new ses.EmailIdentity(stack, `R${i}`, {
            identity: ses.Identity.email(`tester${String(i).padStart(2, '0')}@example.org`),
          }),
      ),
    });
    expect(() => buildWith(recipients(27))).toThrow(
      /^the SMTP user's policy would have 2068 characters at the longest, over IAM's 2048 for a user's inline policies: .*verifiedEmailAddresses/,
    );
    // 26 fit: the policy as IAM gets it (the partition and each identity's name filled in).
    const { stack, template } = buildWith(recipients(26));
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => p.Properties.Users,
    );
    const names = new Map(
      stack.node
        .findAll()
        .filter((c): c is ses.CfnEmailIdentity => c instanceof ses.CfnEmailIdentity)
        .map((c) => [stack.getLogicalId(c), c.emailIdentity]),
    );
    const fill = (value: unknown): unknown => {
      if (value === null || typeof value !== 'object') return value;
      if (Array.isArray(value)) return value.map(fill);
      const { Ref: ref, 'Fn::Join': join } = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
      if (ref === 'AWS::Partition') return 'aws';
      if (ref !== undefined) return names.get(ref) ?? value;
      if (join) return join[1].map(fill).join(join[0]);
      return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, fill(v)]));
    };
    const filled = JSON.stringify(fill(policy.Properties.PolicyDocument));
    expect(filled).not.toMatch(/Ref|Fn::/);
    // 26 recipients fit; one more ARN (its quotes and comma too) would not.
    expect(filled.length).toBe(2001);
    expect(
      filled.length + '"arn:aws:ses:eu-west-1:123456789012:identity/tester26@example.org",'.length,
    ).toBeGreaterThan(2048);
  });

  test('sandbox recipients: their identity ARNs join the resources, the sender condition stays', () => {
    const { template } = build((stack) => ({
      sandboxRecipients: ['dev@example.org', 'qa@example.net'].map(
        (address, i) =>
          new ses.EmailIdentity(stack, `Recipient${i}`, { identity: ses.Identity.email(address) }),
      ),
    }));
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => p.Properties.Users,
    );
    const recipientArn = (i: number) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':ses:eu-west-1:123456789012:identity/',
          { Ref: expect.stringMatching(new RegExp(`^Recipient${i}`)) },
        ],
      ],
    });
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'SendRawEmailAsTheIdentityOnly',
        Effect: 'Allow',
        Action: 'ses:SendRawEmail',
        Resource: [identityArn, recipientArn(0), recipientArn(1)],
        Condition: { StringLike: { 'ses:FromAddress': ['*@example.com'] } },
      },
    ]);
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
      // KMS's shortest wait before a deleted (DESTROY) key goes.
      PendingWindowInDays: 7,
    });
  });

  // The placeholder is the secret's template value: CloudFormation writes a changed SecretString
  // as a new AWSCURRENT version, over the rotated credentials every deployed environment holds
  // (every app would then fail to log in until the next rotation). Written out here, not taken
  // from PLACEHOLDER_SECRET, so that an edit of its text fails this test first.
  test('the placeholder text never changes: a new one would overwrite live credentials on deploy', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString:
        '{"placeholder":"No SMTP credentials yet: the rotation function creates them on the first rotation, which starts when the rotation schedule is created."}',
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

  // 1000: Secrets Manager's longest (AutomaticallyAfterDays, 1 to 1000).
  test.each([[30], [365], [1000]])('rotation interval of %i days from props', (days) => {
    build({ rotationInterval: Duration.days(days) }).template.hasResourceProperties(
      'AWS::SecretsManager::RotationSchedule',
      {
        RotationRules: { AutomaticallyAfterDays: days },
      },
    );
  });

  test('the schedule waits for the invoke permission (this secret only) and the function (its first rotation starts at once)', () => {
    const { template } = build();
    const [schedule] = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'));
    expect(schedule.DependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^SmtpCredentialsSecretsManagerInvoke/),
        expect.stringMatching(/^SmtpCredentialsRotationFunction[0-9A-F]{8}$/),
      ]),
    );
    // This secret only: any other secret pointed at the function is refused by Lambda.
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: '123456789012',
      SourceArn: { Ref: secretId },
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

  test("the rotation function's messages name the environment as the alarms do (CLI_OPTIONS)", () => {
    const cliOptionsOf = (props: Parameters<typeof build>[0]) =>
      Object.values(build(props).template.findResources('AWS::Lambda::Function'))
        .map((f) => f.Properties.Environment?.Variables?.CLI_OPTIONS)
        .filter((v) => v !== undefined);
    expect(cliOptionsOf({ environmentName: 'prod', cliOptions: '--env prod' })).toEqual(['--env prod']);
    expect(cliOptionsOf({ environmentName: 'prod' })).toEqual([
      expect.stringMatching(/^--stack \S+ --region eu-west-1$/),
    ]);
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

  // The guard's metric is published with the function's ENVIRONMENT_NAME: an alarm on any other
  // Environment would wait for data that never comes.
  test.each([
    [{}, 'Test'],
    [{ environmentName: 'prod' }, 'prod'],
  ])(
    'metricRotationBlocked() watches the Environment the rotation function publishes (%j)',
    (props, name) => {
      const { template } = build(props, (stack, credentials) => {
        credentials
          .metricRotationBlocked()
          .createAlarm(stack, 'Blocked', { threshold: 1, evaluationPeriods: 1 });
      });
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function')).filter(
        (f) => f.Properties.Environment?.Variables?.ENVIRONMENT_NAME !== undefined,
      );
      expect(fn.Properties.Environment.Variables.ENVIRONMENT_NAME).toBe(name);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'SesSmtp/Health',
        MetricName: 'RotationBlockedPreviousKeyInUse',
        Dimensions: [{ Name: 'Environment', Value: name }],
        Statistic: 'Sum',
        Period: 3600,
      });
    },
  );

  // The quiet period is how far back a use by SES counts; the hold (a key kept after it was
  // replaced, whatever its use) is at most the interval less a day: no scheduled rotation meets it.
  test.each([
    [90, 7, '7', '7'],
    [5, 7, '7', '4'],
    [2, 7, '7', '1'],
  ])(
    'rotating every %i days with a quiet period of %i: quiet %s, hold %s',
    (days, quiet, quietVar, holdVar) => {
      build({
        rotationInterval: Duration.days(days),
        previousKeyQuietPeriod: Duration.days(quiet),
      }).template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({ PREVIOUS_KEY_QUIET_DAYS: quietVar, REPLACED_KEY_HOLD_DAYS: holdVar }),
        },
      });
    },
  );

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
        'detail-type': ['Secret Label Updated'],
        resources: [{ Ref: Match.stringLikeRegexp('^SmtpCredentialsSecret') }],
        detail: { labelUpdated: ['AWSCURRENT'] },
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
    // EventBridge may use the key for the account's topics, with no Source* condition (AWS
    // documents those keys as not supported for EventBridge-to-encrypted-topic); the topic policy
    // names the rule.
    const keyStatements = Object.values(template.findResources('AWS::KMS::Key'))
      .flatMap((k) => k.Properties.KeyPolicy.Statement as Record<string, unknown>[])
      .filter((s) => JSON.stringify(s.Principal) === '{"Service":"events.amazonaws.com"}');
    expect(keyStatements).toEqual([
      {
        Sid: 'AllowEventBridgeToEncryptForTopics',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        Resource: '*',
        // No Source* keys: the topic ARN SNS encrypts for, any of the account's in the Region.
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:sns:topicArn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:eu-west-1:123456789012:*']],
            },
          },
        },
      },
    ]);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '123456789012' },
              ArnEquals: {
                'aws:SourceArn': {
                  'Fn::GetAtt': [Match.stringLikeRegexp('^SmtpCredentialsRotationSucceededRule'), 'Arn'],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  test('with an alarm topic, RotationFailed goes to it as a readable message (secret, time, error, what to do)', () => {
    const { template } = build((s) => ({ alarmTopic: new sns.Topic(s, 'Alarms') }));
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern.detail.eventName?.[0] === 'RotationFailed',
    );
    const [target] = rule.Properties.Targets;
    expect(target.Arn).toEqual({ Ref: expect.stringMatching(/^Alarms/) });
    expect(target.InputTransformer.InputPathsMap).toEqual({
      time: '$.time',
      'detail-errorMessage': '$.detail.errorMessage',
    });
    const text = JSON.stringify(target.InputTransformer.InputTemplate);
    for (const part of [
      'rotation FAILED at <time>',
      'SmtpCredentialsSecret',
      '<detail-errorMessage>',
      'The current credentials are unchanged',
      // The stack's default options (no cliOptions given): its name and Region.
      'npx --no -- ses-smtp rotate --stack ',
    ]) {
      expect(text).toContain(part);
    }
    // Every <placeholder> in the template is defined in InputPathsMap (EventBridge refuses others).
    const placeholders = [...text.matchAll(/<([^<>]+)>/g)].map((m) => m[1]);
    expect(new Set(placeholders)).toEqual(new Set(Object.keys(target.InputTransformer.InputPathsMap)));
  });

  const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SmtpCredentials-AbCdEf';
  /**
   * A matcher of the rule `isRule` picks: its pattern, with the secret's Ref as CloudFormation
   * resolves it (its ARN), against a copy of `sample` for this secret, changed by `changes`.
   */
  function eventMatcher<E>(
    isRule: (pattern: { 'detail-type': string[]; detail: { eventName?: string[] } }) => boolean,
    sample: E,
    forSecret: (event: E, secretArn: string) => void,
  ) {
    const { stack, credentials, template } = build();
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')).filter((r) =>
      isRule(r.Properties.EventPattern),
    );
    const pattern = JSON.parse(
      JSON.stringify(rule.Properties.EventPattern).replace(
        JSON.stringify({ Ref: stack.getLogicalId(credentials.secret.node.defaultChild as CfnElement) }),
        JSON.stringify(SECRET_ARN),
      ),
    );
    const event = (changes: (e: E) => void = () => {}) => {
      const e = structuredClone(sample);
      forSecret(e, SECRET_ARN);
      changes(e);
      return e;
    };
    /** Whether the pattern matches the sample for this secret, after `changes`. */
    return (changes: (e: E) => void = () => {}) => matches(pattern, event(changes));
  }

  // Secrets Manager sends this event itself: apps hear of new credentials without a CloudTrail trail.
  test('the rotated pattern matches the Secret Label Updated event AWS documents, for AWSCURRENT of this secret only', () => {
    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/event-detail-secret-label-updated-secretsmanager.html
    const matchesWith = eventMatcher(
      (p) => p['detail-type'][0] === 'Secret Label Updated',
      labelUpdated,
      (e, arn) => (e.resources = [arn]),
    );
    expect(matchesWith()).toBe(true);
    const others: ((e: typeof labelUpdated) => void)[] = [
      (e) => (e.detail.labelUpdated = 'MYLABEL'),
      (e) => (e.resources = [`${SECRET_ARN}x`]),
      (e) => (e['detail-type'] = 'AWS Service Event via CloudTrail'),
    ];
    expect(others.map((change) => matchesWith(change))).toEqual([false, false, false]);
  });

  test('the RotationFailed pattern matches the event AWS documents, for this secret only', () => {
    // Shape of a RotationFailed service event, per
    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html and
    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/monitoring-eventbridge.html
    const matchesWith = eventMatcher(
      (p) => p.detail.eventName?.[0] === 'RotationFailed',
      rotationFailed,
      (e, arn) => (e.detail.additionalEventData.SecretId = arn),
    );
    expect(matchesWith()).toBe(true);
    const others: ((e: typeof rotationFailed) => void)[] = [
      (e) => (e.detail.eventName = 'RotationSucceeded'),
      (e) => (e.detail.additionalEventData.SecretId = `${SECRET_ARN}x`),
      (e) => (e['detail-type'] = 'AWS API Call via CloudTrail'),
    ];
    expect(others.map((change) => matchesWith(change))).toEqual([false, false, false]);
  });

  test('without an alarm topic, the RotationFailed rule has no target (the alarm still counts it)', () => {
    const [rule] = Object.values(build().template.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern.detail.eventName?.[0] === 'RotationFailed',
    );
    expect(rule.Properties.Targets).toBeUndefined();
  });

  test.each([
    [undefined, 'RetainExceptOnCreate'],
    [RemovalPolicy.RETAIN, 'Retain'],
  ])(
    'retain policy %s: user, secret and key are kept, and so are the keys on a stack deletion',
    (removalPolicy, deletionPolicy) => {
      const { template } = build({ removalPolicy });
      for (const type of [
        'AWS::IAM::User',
        'AWS::IAM::Policy',
        'AWS::SecretsManager::Secret',
        'AWS::KMS::Key',
      ]) {
        const ids = Object.keys(template.findResources(type)).filter((k) => k.startsWith('SmtpCredentials'));
        const kept = ids.filter((id) => template.toJSON().Resources[id].DeletionPolicy === deletionPolicy);
        expect([type, kept.length]).toEqual([type, type === 'AWS::IAM::Policy' ? 1 : ids.length]);
      }
      // The rollback of the deploy that made the user deletes it (RetainExceptOnCreate), and its
      // keys first; plain Retain keeps the user then too, and its keys.
      template.hasResourceProperties('Custom::SmtpUserKeyCleanup', {
        KeepKeysOnStackDelete: 'true',
        KeepKeysOnRollback: deletionPolicy === 'Retain' ? 'true' : Match.absent(),
      });
    },
  );

  test('DESTROY: keys are deleted before the user, after the schedule is gone', () => {
    const { template } = build({ removalPolicy: RemovalPolicy.DESTROY });
    const [cleanupId, cleanup] = Object.entries(template.findResources('Custom::SmtpUserKeyCleanup'))[0];
    expect(cleanup.Properties.UserName).toEqual({ Ref: expect.stringMatching(/^SmtpCredentialsUser/) });
    // A function that crashes before it answers holds the deletion 5 minutes, not CloudFormation's hour.
    expect(cleanup.Properties.ServiceTimeout).toBe('300');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Deletes the SMTP user access keys when the stack deletes the user',
      Timeout: 60,
    });
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
    // It deletes keys only while the whole stack is deleted, which it reads from this stack alone.
    expect(statements).toContainEqual({
      Sid: 'ReadThisStacksStatus',
      Effect: 'Allow',
      Action: 'cloudformation:DescribeStacks',
      Resource: { Ref: 'AWS::StackId' },
    });
  });

  // The first deploy ends when apps can send: an app stack that reads the secret deploys after it.
  test('the first deploy waits for tested credentials, with a role that cannot read the password', () => {
    const { template } = build();
    const [readyId, ready] = Object.entries(template.findResources('Custom::SmtpCredentialsReady'))[0];
    const [scheduleId] = Object.keys(template.findResources('AWS::SecretsManager::RotationSchedule'));
    expect(ready.DependsOn).toContain(scheduleId);
    const logGroup = { Ref: expect.stringMatching(/^SmtpCredentialsRotationFunctionLogs/) };
    expect(ready.Properties).toEqual({
      ServiceToken: {
        'Fn::GetAtt': [expect.stringMatching(/^SmtpCredentialsCredentialsReadyFunction/), 'Arn'],
      },
      SecretId: { Ref: expect.stringMatching(/^SmtpCredentialsSecret/) },
      RotationLogGroupName: logGroup,
      ServiceTimeout: '1200',
    });
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) =>
      f.Properties.Role['Fn::GetAtt'][0].startsWith('SmtpCredentialsCredentialsReadyFunctionRole'),
    );
    // The function answers within the resource's service timeout, after up to 14.5 minutes of waiting.
    expect(fn.Properties.Timeout).toBe(900);
    const statements = rolePolicies(template, 'SmtpCredentialsCredentialsReadyFunctionRole');
    const granted = statements.filter((st) => st.Sid);
    expect(granted).toEqual([
      {
        Sid: 'DescribeOnlyThisSecret',
        Effect: 'Allow',
        Action: 'secretsmanager:DescribeSecret',
        Resource: { Ref: expect.stringMatching(/^SmtpCredentialsSecret/) },
      },
      {
        Sid: 'ReadOnlyTheRotationLog',
        Effect: 'Allow',
        Action: 'logs:FilterLogEvents',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SmtpCredentialsRotationFunctionLogs/), 'Arn'] },
      },
    ]);
    // Beyond those, only the writes to its own log group: no GetSecretValue, no kms:Decrypt.
    expect(JSON.stringify(statements)).not.toMatch(/GetSecretValue|kms:/);
    expect(readyId).toMatch(/^SmtpCredentialsCredentialsReady/);
  });

  // 60 hours: past the 2-day floor, but CloudFormation's AutomaticallyAfterDays is an integer.
  test.each([[Duration.hours(36)], [Duration.hours(60)], [Duration.days(1)], [Duration.days(1001)]])(
    'refuses rotation interval %s',
    (rotationInterval) => {
      expect(() => build({ rotationInterval })).toThrow(
        `rotationInterval must be a whole number of days from 2 to 1000 (Secrets Manager may run two daily rotations minutes apart, and the second would delete the key the first replaced while apps still hold it), got: ${rotationInterval.toHumanString()}`,
      );
    },
  );

  // Without aws-cdk-lib's flag that refuses it, SNAPSHOT reached the template: CloudFormation deletes
  // the user on a stack deletion, while the key cleanup kept its keys, and the deletion failed.
  test('refuses removalPolicy SNAPSHOT', () => {
    expect(() => build({ removalPolicy: RemovalPolicy.SNAPSHOT })).toThrow(
      'removalPolicy must be RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY, got: SNAPSHOT (CloudFormation snapshots no IAM user, secret or KMS key)',
    );
  });

  // A port SES does not listen on would fail every rotation's login, and no credentials would ever exist.
  test.each([0, 443, 2525, 99999])('refuses smtpPort %p', (smtpPort) => {
    expect(() => build({ smtpPort })).toThrow(
      `smtpPort must be a port of SES's SMTP interface (25, 587 or 2587 for STARTTLS; 465 or 2465 for TLS from the first byte), got: ${smtpPort}`,
    );
  });

  // AWS blocks outbound 25 from Lambda functions outside a VPC: the rotation logs in on 587 then.
  test.each([
    [25, 587],
    [587, 587],
    [2587, 2587],
    [465, 465],
    [2465, 2465],
  ])('takes smtpPort %p for the secret; the rotation logs in on %p', (smtpPort, loginPort) => {
    build({ smtpPort }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ SMTP_PORT: String(loginPort), PUBLISHED_SMTP_PORT: String(smtpPort) }),
      },
    });
  });

  // Identity policy alone: a role in another account would deploy, then get AccessDenied.
  test('grantRead to a role in another account: the secret and key policies name it too', () => {
    const { template } = build({}, (scope, creds) => {
      creds.grantRead(iam.Role.fromRoleArn(scope, 'Remote', 'arn:aws:iam::210987654321:role/app'));
    });
    template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      ResourcePolicy: {
        Statement: [
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Principal: { AWS: 'arn:aws:iam::210987654321:role/app' },
          }),
        ],
      },
    });
    const [key] = Object.values(template.findResources('AWS::KMS::Key')).filter((k) =>
      JSON.stringify(k).includes('210987654321'),
    );
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Principal: { AWS: 'arn:aws:iam::210987654321:role/app' },
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      }),
    );
  });

  // An ArnPrincipal or AccountPrincipal has no policy to add to: the identity-policy grant alone
  // was silently nothing (Grant.success false), while the secret's own grantRead names it in the
  // resource policies.
  test.each([
    [
      'an ArnPrincipal of this account',
      () => new iam.ArnPrincipal('arn:aws:iam::123456789012:role/app'),
      'arn:aws:iam::123456789012:role/app',
    ],
    [
      'an ArnPrincipal of another account',
      () => new iam.ArnPrincipal('arn:aws:iam::210987654321:role/app'),
      'arn:aws:iam::210987654321:role/app',
    ],
    [
      'an AccountPrincipal of this account',
      () => new iam.AccountPrincipal('123456789012'),
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:root']] },
    ],
  ])('grantRead to %s: the secret and key policies name it', (_, principal, aws) => {
    let success = false;
    const { template } = build({}, (_scope, creds) => {
      success = creds.grantRead(principal()).success;
    });
    expect(success).toBe(true);
    template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      ResourcePolicy: {
        Statement: [
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Principal: { AWS: aws },
          }),
        ],
      },
    });
    const keyStatements = Object.values(template.findResources('AWS::KMS::Key')).flatMap(
      (k) => k.Properties.KeyPolicy.Statement,
    );
    expect(keyStatements).toContainEqual(
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Principal: { AWS: aws },
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      }),
    );
  });

  // The same deep failure for the stack most apps already have (`cdk init` leaves env unset), or
  // one in another Region: said in one line naming both stacks' environments and what works.
  describe("grantRead to a role of another environment's stack", () => {
    const mailEnv = { account: '123456789012', region: 'eu-west-1' };
    function mailAndWeb(webProps: StackProps, mailProps: StackProps = {}) {
      const app = testApp();
      const mail = new Stack(app, 'Mail', { env: mailEnv, ...mailProps });
      const credentials = new SmtpCredentials(mail, 'SmtpCredentials', {
        identity: new ses.EmailIdentity(mail, 'Identity', { identity: ses.Identity.domain('example.com') }),
        fromAddress: 'no-reply@example.com',
        notificationKey: new kms.Key(mail, 'Key'),
      });
      const web = new Stack(app, 'Web', webProps);
      const role = new iam.Role(web, 'Worker', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      });
      return { app, mail, credentials, web, role };
    }

    test.each<[string, StackProps, string]>([
      [
        'environment-agnostic',
        {},
        "(any account, any Region), expected a role of the mail stack's environment (account 123456789012, Region eu-west-1): aws-cdk-lib cannot reference the secret's generated name from another environment's stack. Give stack Web the mail stack's env ({ account: '123456789012', region: 'eu-west-1' }), or grant a role imported into the mail stack (iam.Role.fromRoleArn)",
      ],
      [
        'of a Region only',
        { env: { region: 'eu-west-1' } },
        "(any account, Region eu-west-1), expected a role of the mail stack's environment",
      ],
      [
        'of another Region',
        { env: { ...mailEnv, region: 'us-east-1' } },
        "(account 123456789012, Region us-east-1), expected a role of the mail stack's environment (account 123456789012, Region eu-west-1): aws-cdk-lib cannot reference the secret's generated name from another environment's stack. Set crossRegionReferences: true on stack Web, or grant a role imported into the mail stack (iam.Role.fromRoleArn)",
      ],
    ])('%s: one line with what works, nothing granted', (_case, webProps, message) => {
      const { credentials, role } = mailAndWeb(webProps);
      let thrown: unknown;
      try {
        credentials.grantRead(role);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toContain(
        `SesSmtp grantRead: got Web/Worker of stack Web ${message}`,
      );
      expect((thrown as Error).message).not.toContain('\n');
      expect(role.node.tryFindChild('DefaultPolicy')).toBeUndefined();
    });

    test("another Region with crossRegionReferences on the role's stack: granted, and the synth works", () => {
      const { app, credentials, web, role } = mailAndWeb({
        env: { ...mailEnv, region: 'us-east-1' },
        crossRegionReferences: true,
      });
      credentials.grantRead(role);
      expect(() => app.synth()).not.toThrow();
      // Decrypting through Secrets Manager of the secret's Region, not the role's (the same
      // partition: the web stack's URL suffix).
      Template.fromStack(web).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'kms:Decrypt',
              Condition: {
                StringEquals: {
                  'kms:ViaService': {
                    'Fn::Join': ['', ['secretsmanager.eu-west-1.', { Ref: 'AWS::URLSuffix' }]],
                  },
                },
              },
            }),
          ]),
        },
      });
    });

    test('a mail stack of any account and a role of any account, one Region: granted, and the synth works', () => {
      const { app, credentials, role } = mailAndWeb(
        { env: { region: 'eu-west-1' } },
        { env: { region: 'eu-west-1' } },
      );
      credentials.grantRead(role);
      expect(() => app.synth()).not.toThrow();
    });

    test('a mail stack of any account, a role of another Region: the env to give names the Region only', () => {
      const { credentials, role } = mailAndWeb({}, { env: { region: 'eu-west-1' } });
      expect(() => credentials.grantRead(role)).toThrow(
        "Give stack Web the mail stack's env ({ region: 'eu-west-1' }), or grant",
      );
    });

    // What counts is the stack of the policy the grant writes (the role's), not the grantee's.
    test.each<[string, StackProps]>([
      ['environment-agnostic', {}],
      ['of another Region', { env: { ...mailEnv, region: 'us-east-1' } }],
    ])(
      'a function of a stack %s whose role is imported into the mail stack: granted, and the synth works',
      (_case, webProps) => {
        const { app, mail, credentials, web } = mailAndWeb(webProps);
        const fn = new lambda.Function(web, 'Job', {
          runtime: lambda.Runtime.NODEJS_22_X,
          handler: 'index.handler',
          code: lambda.Code.fromInline('exports.handler = async () => {}'),
          role: iam.Role.fromRoleArn(mail, 'JobRole', 'arn:aws:iam::123456789012:role/job'),
        });
        credentials.grantRead(fn);
        expect(() => app.synth()).not.toThrow();
        Template.fromStack(mail).hasResourceProperties('AWS::IAM::Policy', { Roles: ['job'] });
      },
    );

    test('a mail stack of any account and a role of any account in another Region, crossRegionReferences: granted', () => {
      const { app, credentials, role } = mailAndWeb(
        { env: { region: 'us-east-1' }, crossRegionReferences: true },
        { env: { region: 'eu-west-1' } },
      );
      credentials.grantRead(role);
      expect(() => app.synth()).not.toThrow();
    });

    test('a mail stack of any account, a role of an explicit account in its Region: the env to give, not crossRegionReferences', () => {
      const { credentials, role } = mailAndWeb({ env: mailEnv }, { env: { region: 'eu-west-1' } });
      expect(() => credentials.grantRead(role)).toThrow(
        "(account 123456789012, Region eu-west-1), expected a role of the mail stack's environment (any account, Region eu-west-1): aws-cdk-lib cannot reference the secret's generated name from another environment's stack. Give stack Web the mail stack's env ({ region: 'eu-west-1' }), or grant",
      );
    });

    test('the role imported into the mail stack, as the message says: granted, and the synth works', () => {
      const { app, mail, credentials } = mailAndWeb({});
      credentials.grantRead(iam.Role.fromRoleArn(mail, 'Worker', 'arn:aws:iam::123456789012:role/worker'));
      expect(() => app.synth()).not.toThrow();
      Template.fromStack(mail).hasResourceProperties('AWS::IAM::Policy', {
        Roles: ['worker'],
      });
    });
  });

  // aws-cdk-lib cannot reference the secret's generated name across accounts: it would fail deep in
  // the synth with CannotUseCrossEnvironment, naming a resource the app does not own.
  test("grantRead to a role another account's stack builds: one line with what works, nothing granted", () => {
    const app = testApp();
    const mail = new Stack(app, 'Mail', { env: { account: '123456789012', region: 'eu-west-1' } });
    const credentials = new SmtpCredentials(mail, 'SmtpCredentials', {
      identity: new ses.EmailIdentity(mail, 'Identity', { identity: ses.Identity.domain('example.com') }),
      fromAddress: 'no-reply@example.com',
      notificationKey: new kms.Key(mail, 'Key'),
    });
    const web = new Stack(app, 'Web', { env: { account: '210987654321', region: 'eu-west-1' } });
    const role = new iam.Role(web, 'Worker', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    expect(() => credentials.grantRead(role)).toThrow(
      new ConfigError([
        "SesSmtp grantRead: got Web/Worker of stack Web in account 210987654321, expected a grantee in account 123456789012 or one imported into this stack: a resource of another account's stack cannot reference this stack's secret (its name is generated). Import the role (or user) here, iam.Role.fromRoleArn(<the mail stack>, 'AppRole', 'arn:aws:iam::210987654321:role/NAME'), and grant that; in account 210987654321 allow it secretsmanager:GetSecretValue on the secret (stack output SmtpSecretArn) and kms:Decrypt",
      ]),
    );
    expect(role.node.tryFindChild('DefaultPolicy')).toBeUndefined();
    // Imported into the other account's stack, it would still add a policy there that reads the secret's ARN.
    const imported = iam.Role.fromRoleArn(web, 'Imported', 'arn:aws:iam::210987654321:role/worker');
    expect(() => credentials.grantRead(imported)).toThrow('SesSmtp grantRead: got Web/Imported of stack Web');
    // What the message says works: the role imported into the mail stack, granted there; both synthesize.
    credentials.grantRead(iam.Role.fromRoleArn(mail, 'Worker', 'arn:aws:iam::210987654321:role/worker'));
    expect(() => app.synth()).not.toThrow();
    expect(JSON.stringify(Template.fromStack(mail).toJSON())).toContain(
      'arn:aws:iam::210987654321:role/worker',
    );
  });

  test('grantRead: the grantee reads this secret only, and decrypts with its key only through Secrets Manager', () => {
    const { stack, credentials, template } = build({}, (scope, creds) => {
      const role = new iam.Role(scope, 'AppRole', {
        assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      });
      creds.grantRead(role);
    });
    const roleStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles ?? []).includes('AppRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const keyId = stack.getLogicalId(credentials.encryptionKey.node.defaultChild as CfnElement);
    expect(roleStatements).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: stack.getLogicalId(credentials.secret.node.defaultChild as CfnElement) },
      },
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] },
          },
        },
      },
    ]);
    // The grant lives in the grantee's policy only: no key policy names the role (so a role in
    // another stack makes no dependency cycle); the key policy's account statement lets IAM grant it.
    expect(JSON.stringify(template.findResources('AWS::KMS::Key'))).not.toContain('AppRole');
  });

  test('refuses an empty sender list', () => {
    expect(() => build({ allowedFromAddresses: [] })).toThrow(
      'allowedFromAddresses must name at least one address, got: []',
    );
  });

  test('refuses a default sender the sender list does not allow (the app could not send from it)', () => {
    expect(() => build({ allowedFromAddresses: ['billing@example.com'] })).toThrow(
      'fromAddress must be an address that allowedFromAddresses (billing@example.com) allows: the SMTP user may send only from those, and apps send from fromAddress by default (the secret holds it); add it to the list or use one of them, got: no-reply@example.com',
    );
  });
});
