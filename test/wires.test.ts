import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { CfnRole } from 'aws-cdk-lib/aws-iam';
import { buildSync } from 'esbuild';
import { NodeFunction } from '../lib/constructs/node-function';
import { BASE_ENV, synthStack } from './helpers';
import {
  arnLike,
  brokenWires,
  CfnTemplate,
  describe as describeStatement,
  findWires,
  followAll,
  followWire,
  pointsAt,
  StatementRef,
  withoutStatement,
  withoutStatements,
} from './support/wires';

const ROOT = path.join(__dirname, '..');

const ENV = {
  partition: 'aws',
  region: 'eu-west-1',
  account: '123456789012',
  fromAddress: BASE_ENV.fromAddress,
};
const WEB_SERVICE = 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web';
const WORKER_SERVICE = 'arn:aws:ecs:eu-west-1:123456789012:service/prod/worker';
const EVERYTHING_ON = {
  feedback: {
    appQueue: true,
    webhookUrl: 'https://app.example.com/ses',
    additionalEvents: ['REJECT', 'DELIVERY_DELAY'],
  },
  alarms: { emails: ['ops@example.com', 'oncall@example.com'] },
  verifiedEmailAddresses: ['dev@example.com'],
  credentials: { restartEcsServices: [WEB_SERVICE, WORKER_SERVICE] },
};

const synth = (env: Record<string, unknown>) => synthStack(env).template.toJSON() as CfnTemplate;

describe.each([
  ['removalPolicy retain, every option on', { ...EVERYTHING_ON, removalPolicy: 'retain' }],
  ['removalPolicy destroy, every option on', { ...EVERYTHING_ON, removalPolicy: 'destroy' }],
  ['defaults', {}],
])('every wire of the template works (%s)', (_, config) => {
  let t: CfnTemplate;
  beforeAll(() => {
    t = synth(config);
  });

  test('the walk finds wires of every kind in the template', () => {
    const wires = findWires(t, ENV);
    const count = (kind: string) => wires.filter((w) => w.kind === kind).length;
    const alarms = Object.values(t.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    // Each alarm notifies on ALARM and on OK; the watchers of the health runs on INSUFFICIENT_DATA too.
    const watchers = alarms.filter((a) => a.Properties?.InsufficientDataActions);
    expect(watchers).toHaveLength(2);
    expect(count('alarm')).toBe(2 * alarms.length + watchers.length);
    expect(alarms.length).toBeGreaterThan(0);
    // Secret Label Updated (AWSCURRENT) -> rotated topic, RotationFailed -> operator topic.
    expect(count('rule')).toBe(2);
    // SES to the feedback topic, and to the webhook's own topic (the same events), with a webhook.
    const prefix = (id: string) => id.replace(/[0-9A-F]{8}$/, '');
    expect(wires.filter((w) => w.kind === 'ses').map((w) => prefix(w.target))).toEqual(
      'feedback' in config
        ? ['SendingFeedbackTopic', 'SendingFeedbackWebhookTopic']
        : ['SendingFeedbackTopic'],
    );
    // The feedback queue's; the app queue's and the webhook's dead-letter queue's, this one from
    // the webhook's topic.
    expect(count('subscription')).toBe('feedback' in config ? 3 : 1);
    expect(
      wires
        .filter((w) => w.kind === 'subscription')
        .map((w) => `${prefix(w.target)} from ${prefix(w.sourceArn.replace(/^.*:/, ''))}`)
        .sort(),
    ).toEqual(
      'feedback' in config
        ? [
            'SendingFeedbackAppQueue from SendingFeedbackTopic',
            'SendingFeedbackQueue from SendingFeedbackTopic',
            'SendingFeedbackWebhookDeadLetterQueue from SendingFeedbackWebhookTopic',
          ]
        : ['SendingFeedbackQueue from SendingFeedbackTopic'],
    );
    const results = followAll(t, ENV);
    const followed = results.map((r) => r.wire.kind);
    // The feedback handler polls its queue; Secrets Manager invokes the rotation function, and
    // each rule that targets a function (the health checks' schedules) invokes it; the rotation
    // function rotates the secret and the health check reads it.
    const functionTargets = Object.values(t.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .flatMap((r) => (r.Properties?.Targets as { Arn: { 'Fn::GetAtt'?: string[] } }[]) ?? [])
      .filter((tg) => t.Resources[tg.Arn['Fn::GetAtt']?.[0] ?? '']?.Type === 'AWS::Lambda::Function');
    expect(functionTargets.length).toBeGreaterThan(0);
    expect(followed.filter((k) => k === 'consumer')).toHaveLength(1);
    expect(followed.filter((k) => k === 'invoke')).toHaveLength(1 + functionTargets.length);
    // The SMTP user sends as fromAddress; the feedback handler suppresses recipients.
    expect(followed.filter((k) => k === 'send')).toHaveLength(1);
    expect(followed.filter((k) => k === 'suppress')).toHaveLength(1);
    expect(
      results.filter((r) => r.wire.kind === 'secret').map((r) => r.wire.name.replace(/[0-9A-F]{8}\b/g, '')),
    ).toEqual([
      'SmtpCredentialsRotationFunction rotates secret SmtpCredentialsSecret',
      'HealthChecksFunction reads secret SmtpCredentialsSecret',
    ]);
    // The functions' own calls: the rotation on the user's keys, the health check's reads, and
    // the key cleanup's.
    const user = `arn:aws:iam::123456789012:user/${Object.keys(t.Resources).find((id) => t.Resources[id].Type === 'AWS::IAM::User')}`;
    const calls = results
      .filter((r) => r.wire.kind === 'call')
      .map(
        (r) => `${r.wire.principal.replace(/[0-9A-F]{8}$/, '')} ${r.wire.name.replace(/^\S+ calls /, '')}`,
      );
    const ses = 'arn:aws:ses:eu-west-1:123456789012';
    const idOf = (type: string, prefix = '') =>
      Object.keys(t.Resources).find((id) => t.Resources[id].Type === type && id.startsWith(prefix));
    const secret = idOf('AWS::SecretsManager::Secret');
    const rotationLog = idOf('AWS::Logs::LogGroup', 'SmtpCredentialsRotationFunctionLogs');
    const configurationSet = Object.keys(t.Resources).find(
      (id) => t.Resources[id].Type === 'AWS::SES::ConfigurationSet',
    );
    expect(calls).toEqual([
      ...['ListAccessKeys', 'CreateAccessKey', 'DeleteAccessKey', 'GetAccessKeyLastUsed'].map(
        (a) => `SmtpCredentialsRotationFunctionRole iam:${a} on ${user}`,
      ),
      `HealthChecksFunctionRole ses:GetEmailIdentity on ${ses}:identity/example.com`,
      `HealthChecksFunctionRole ses:GetConfigurationSet on ${ses}:configuration-set/${configurationSet}`,
      `HealthChecksFunctionRole ses:GetConfigurationSetEventDestinations on ${ses}:configuration-set/${configurationSet}`,
      'HealthChecksFunctionRole ses:GetAccount on *',
      'HealthChecksFunctionRole cloudwatch:GetMetricData on *',
      `HealthChecksFunctionRole iam:GetAccessKeyLastUsed on ${user}`,
      `HealthChecksFunctionRole iam:ListAccessKeys on ${user}`,
      `HealthChecksFunctionRole iam:ListUserPolicies on ${user}`,
      `HealthChecksFunctionRole iam:ListAttachedUserPolicies on ${user}`,
      `HealthChecksFunctionRole iam:ListGroupsForUser on ${user}`,
      `SmtpCredentialsKeyCleanupFunctionRole iam:ListAccessKeys on ${user}`,
      `SmtpCredentialsKeyCleanupFunctionRole iam:DeleteAccessKey on ${user}`,
      'SmtpCredentialsKeyCleanupFunctionRole cloudformation:DescribeStacks on arn:aws:cloudformation:eu-west-1:123456789012:stack/Stack/5f0c1a60-0000-4000-8000-000000000000',
      `SmtpCredentialsCredentialsReadyFunctionRole secretsmanager:DescribeSecret on arn:aws:secretsmanager:eu-west-1:123456789012:secret:${secret}-AbCdEf`,
      `SmtpCredentialsCredentialsReadyFunctionRole logs:FilterLogEvents on arn:aws:logs:eu-west-1:123456789012:log-group:${rotationLog}:*`,
      // After each rotation: a forced new deployment of exactly the listed services.
      ...('credentials' in config
        ? [WEB_SERVICE, WORKER_SERVICE].map(
            (arn) => `SmtpCredentialsServiceRestartFunctionRole ecs:UpdateService on ${arn}`,
          )
        : []),
      // The queues nothing else touches while all is well: the read keeps SQS reporting them.
      ...[
        'SendingFeedbackDeadLetterQueue',
        'SendingFeedbackQueue',
        ...('feedback' in config
          ? [
              'SendingFeedbackWebhookDeadLetterQueue',
              'SendingFeedbackAppDeadLetterQueue',
              'SendingFeedbackAppQueue',
            ]
          : []),
      ].map(
        (queue) =>
          `HealthChecksFunctionRole sqs:GetQueueAttributes on arn:aws:sqs:eu-west-1:123456789012:${idOf('AWS::SQS::Queue', queue)}`,
      ),
    ]);
  });

  test('at every hop the publishing service (or the calling role or user) is allowed: resource, identity and key policy', () => {
    expect(brokenWires(t, ENV)).toEqual([]);
  });

  test('the grants admit only the wire’s own source: another account is refused at every hop', () => {
    for (const wire of findWires(t, ENV)) {
      const foreign = {
        sourceAccount: '999999999999',
        sourceArn: wire.sourceArn.replace(ENV.account, '999999999999'),
      };
      const result = followWire(t, ENV, wire, foreign);
      expect([wire.name, result.resourcePolicy.allowed]).toEqual([wire.name, false]);
      // EventBridge's KMS requests carry no source to check (see findWires): its topic policy is the guard.
      if (wire.kmsCarriesSource) expect([wire.name, result.keyPolicy?.allowed]).toEqual([wire.name, false]);
    }
  });

  test('each key encrypts only for topics and queues of this account and Region', () => {
    const wires = findWires(t, ENV).filter((w) => t.Resources[w.target].Properties?.KmsMasterKeyId);
    expect(wires.some((w) => w.kind === 'rule')).toBe(true);
    for (const wire of wires) {
      const own = followWire(t, ENV, wire);
      expect([wire.name, own.keyPolicy?.allowed]).toEqual([wire.name, true]);
      // Another account's topic or queue that names this key, published to by its own source.
      const elsewhere = (arn: string) => arn.replace(ENV.account, '999999999999');
      const ownArn = own.wire.target;
      const foreign = followWire(t, ENV, wire, {
        sourceArn: elsewhere(wire.sourceArn),
        sourceAccount: '999999999999',
        encryptedFor: elsewhere(
          `arn:${ENV.partition}:${t.Resources[ownArn].Type === 'AWS::SNS::Topic' ? 'sns' : 'sqs'}:${ENV.region}:${ENV.account}:${ownArn}`,
        ),
      });
      expect([wire.name, foreign.keyPolicy?.allowed]).toEqual([wire.name, false]);
    }
  });

  test('... and another source in this account is refused where the wire names one source', () => {
    for (const wire of findWires(t, ENV)) {
      const other = {
        sourceAccount: ENV.account,
        sourceArn: wire.sourceArn.replace(/[^:/]+$/, 'SomethingElse'),
      };
      const result = followWire(t, ENV, wire, other);
      // Alarm notifications are admitted from any alarm of this account and Region, by design.
      expect([wire.name, result.resourcePolicy.allowed]).toEqual([wire.name, wire.kind === 'alarm']);
    }
  });

  test('removing any granting statement (from a copy of the template) breaks a wire, or, where one policy grants a hop twice, removing both does', () => {
    const grants = new Map<string, StatementRef>();
    const hops: StatementRef[][] = [];
    for (const result of followAll(t, ENV)) {
      for (const hop of [result.resourcePolicy, result.keyPolicy]) {
        if (!hop) continue;
        hops.push(hop.grants);
        for (const ref of hop.grants) grants.set(describeStatement(ref), ref);
      }
    }
    // Resource and key grants for each publisher: cloudwatch, events (2 topics), ses, sns (queues);
    // the handler role's SQS and KMS statements and the key's delegation; the rotation permission;
    // the secret users' Secrets Manager and KMS statements and the secret key's delegation.
    expect(grants.size).toBeGreaterThanOrEqual(16);
    const survivors = [...grants.values()].filter(
      (ref) => brokenWires(withoutStatement(t, ref), ENV).length === 0,
    );
    // The secret's key has two statements that delegate to the account (the default one and the
    // ViaService one CDK's Secret adds): each grants the secret users' KMS hop on its own.
    for (const ref of survivors) {
      const sameHop = hops.filter((hop) => hop.some((g) => describeStatement(g) === describeStatement(ref)));
      const samePolicy = new Map(
        sameHop
          .flat()
          .filter((g) => g.resource === ref.resource && g.path === ref.path)
          .map((g) => [describeStatement(g), g]),
      );
      expect([describeStatement(ref), samePolicy.size > 1]).toEqual([describeStatement(ref), true]);
      expect(brokenWires(withoutStatements(t, [...samePolicy.values()]), ENV)).not.toEqual([]);
    }
  });

  test('every service principal statement is scoped to a source; EventBridge on a key (where AWS does not support it) to this account’s topics', () => {
    const unscoped: string[] = [];
    for (const [id, r] of Object.entries(t.Resources)) {
      const doc = (r.Properties?.PolicyDocument ?? r.Properties?.KeyPolicy) as
        | { Statement: Record<string, unknown>[] }
        | undefined;
      if (!doc || !['AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy', 'AWS::KMS::Key'].includes(r.Type))
        continue;
      for (const s of doc.Statement) {
        const service = (s.Principal as { Service?: string } | undefined)?.Service;
        if (s.Effect !== 'Allow' || !service) continue;
        if (r.Type === 'AWS::KMS::Key' && service === 'events.amazonaws.com') {
          // No aws:SourceArn / aws:SourceAccount (every delivery would fail); the topic SNS
          // encrypts for instead.
          expect(s.Condition).toEqual({
            ArnLike: {
              'kms:EncryptionContext:aws:sns:topicArn': {
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:sns:${ENV.region}:${ENV.account}:*`]],
              },
            },
          });
          continue;
        }
        const keys = Object.values((s.Condition ?? {}) as Record<string, object>).flatMap((c) =>
          Object.keys(c).map((k) => k.toLowerCase()),
        );
        if (!keys.includes('aws:sourcearn') && !keys.includes('aws:sourceaccount'))
          unscoped.push(`${id}: ${service}`);
      }
    }
    expect(unscoped).toEqual([]);
  });

  test('every topic and queue refuses requests without TLS: a Deny for everyone on aws:SecureTransport false', () => {
    // What enforceSSL writes (sns:Publish on a topic, sqs:* on a queue), in the policy that names
    // the resource: a topic or queue created without it has no other guard against plain HTTP.
    const guards = {
      'AWS::SNS::Topic': ['AWS::SNS::TopicPolicy', 'Topics', 'sns:Publish'],
      'AWS::SQS::Queue': ['AWS::SQS::QueuePolicy', 'Queues', 'sqs:*'],
    } as const;
    const targets = Object.entries(t.Resources).filter(([, r]) => r.Type in guards);
    expect(targets.length).toBeGreaterThanOrEqual(3);
    const unguarded = targets.flatMap(([id, r]) => {
      const [policyType, prop, action] = guards[r.Type as keyof typeof guards];
      const statements = Object.values(t.Resources)
        .filter(
          (p) =>
            p.Type === policyType &&
            ((p.Properties?.[prop] ?? []) as unknown[]).some((x) => pointsAt(x) === id),
        )
        .flatMap((p) => (p.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
      const guarded = statements.some(
        (s) =>
          s.Effect === 'Deny' &&
          (s.Principal === '*' || JSON.stringify(s.Principal) === '{"AWS":"*"}') &&
          [s.Action].flat().includes(action) &&
          JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
      );
      return guarded ? [] : [id];
    });
    expect(unguarded).toEqual([]);
  });

  test('each dead-letter queue named by a redrive policy is a queue of this template', () => {
    for (const r of Object.values(t.Resources).filter((x) => x.Properties?.RedrivePolicy)) {
      const dlq = (r.Properties!.RedrivePolicy as { deadLetterTargetArn: { 'Fn::GetAtt': string[] } })
        .deadLetterTargetArn['Fn::GetAtt'][0];
      expect(t.Resources[dlq].Type).toBe('AWS::SQS::Queue');
    }
  });
});

describe('the wire checker itself', () => {
  let t: CfnTemplate;
  beforeAll(() => {
    t = synth({});
  });
  const keyId = () => Object.keys(t.Resources).find((id) => id.startsWith('MessagingKey'))!;
  const keyStatements = (tt: CfnTemplate) =>
    (tt.Resources[keyId()].Properties!.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;

  test('refuses EventBridge a key grant conditioned on aws:SourceAccount (what this stack used to do)', () => {
    const copy = structuredClone(t);
    const events = keyStatements(copy).find((s) => s.Sid === 'AllowEventBridgeToEncryptForTopics')!;
    events.Condition = { StringEquals: { 'aws:SourceAccount': ENV.account } };
    expect(brokenWires(copy, ENV)).toEqual([
      expect.stringMatching(/^rule SmtpCredentialsRotationSucceededRule.*key policy: key MessagingKey/),
      expect.stringMatching(/^rule SmtpCredentialsRotationFailedRule.*key policy: key MessagingKey/),
    ]);
  });

  test("refuses a service's key grant conditioned on aws:SourceAccount, which no AWS page says reaches KMS", () => {
    const copy = structuredClone(t);
    for (const sid of ['AllowCloudWatchAlarms', 'AllowSesEventPublishing', 'AllowSnsDeliveryToQueues']) {
      const statement = keyStatements(copy).find((s) => s.Sid === sid)!;
      statement.Condition = {
        ...(statement.Condition as object),
        StringEquals: { 'aws:SourceAccount': ENV.account },
      };
    }
    const broken = brokenWires(copy, ENV);
    expect(broken.length).toBeGreaterThan(0);
    expect(broken.every((line) => line.includes('key policy: key MessagingKey'))).toBe(true);
    for (const kind of [/^alarm /, /^SES event destination /, /^subscription /])
      expect([kind, broken.some((line) => kind.test(line))]).toEqual([kind, true]);
  });

  test('a topic with no policy, or a Deny that matches, breaks its wires', () => {
    const noPolicy = structuredClone(t);
    for (const [id, r] of Object.entries(noPolicy.Resources)) {
      if (r.Type === 'AWS::SNS::TopicPolicy' && id.startsWith('OperatorAlarms'))
        delete noPolicy.Resources[id];
    }
    expect(brokenWires(noPolicy, ENV).every((line) => line.includes('has no resource policy'))).toBe(true);
    expect(brokenWires(noPolicy, ENV).length).toBeGreaterThan(0);

    const denied = structuredClone(t);
    keyStatements(denied).push({ Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*' });
    // Every wire through an encrypted topic or queue: the publishers and the queue's consumer.
    expect(brokenWires(denied, ENV)).toHaveLength(
      followAll(denied, ENV).filter((r) => r.key === keyId()).length,
    );
    expect(brokenWires(denied, ENV).some((line) => line.startsWith('event source'))).toBe(true);
  });

  /** The policy documents attached to a role or user (by reference: a test edits them in its copy). */
  const policyDocumentsOf = (tt: CfnTemplate, principal: string) =>
    Object.values(tt.Resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          [...asArray(r.Properties!.Roles), ...asArray(r.Properties!.Users)].some(
            (x) => pointsAt(x) === principal,
          ),
      )
      .map((r) => r.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] });
  /** Removes (in place) the statements of `principal`'s policies that `which` picks; returns how many. */
  const removeStatements = (
    tt: CfnTemplate,
    principal: string,
    which: (s: Record<string, unknown>) => boolean,
  ) => {
    let removed = 0;
    for (const doc of policyDocumentsOf(tt, principal)) {
      const kept = doc.Statement.filter((statement) => !which(statement));
      removed += doc.Statement.length - kept.length;
      doc.Statement = kept;
    }
    return removed;
  };
  const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

  /** The queue the feedback handler polls, its queue policy's statements and the handler's role. */
  const consumer = (tt: CfnTemplate) => {
    const mapping = Object.values(tt.Resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping')!;
    const queue = pointsAt(mapping.Properties!.EventSourceArn)!;
    const role = pointsAt(tt.Resources[pointsAt(mapping.Properties!.FunctionName)!].Properties!.Role)!;
    const queuePolicy = Object.values(tt.Resources).find(
      (r) =>
        r.Type === 'AWS::SQS::QueuePolicy' &&
        (r.Properties!.Queues as unknown[]).some((q) => pointsAt(q) === queue),
    )!;
    const queueStatements = (
      queuePolicy.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }
    ).Statement;
    return { queue, role, queueStatements };
  };

  test('a Deny in the queue policy stops the consumer (the TLS-only Deny does not: Lambda polls over HTTPS)', () => {
    const copy = structuredClone(t);
    consumer(copy).queueStatements.push({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sqs:ReceiveMessage',
      Resource: '*',
    });
    expect(brokenWires(copy, ENV)).toEqual([
      expect.stringMatching(
        /^event source .*: permissions: role .*: sqs:ReceiveMessage denied by SendingFeedbackQueuePolicy/,
      ),
    ]);
  });

  test('a key-policy Deny naming the consumer role stops it; one naming another role does not', () => {
    const denyTo = (principal: unknown) => {
      const copy = structuredClone(t);
      keyStatements(copy).push({
        Effect: 'Deny',
        Principal: { AWS: principal },
        Action: 'kms:Decrypt',
        Resource: '*',
      });
      return brokenWires(copy, ENV);
    };
    const { role } = consumer(t);
    expect(denyTo({ 'Fn::GetAtt': [role, 'Arn'] })).toEqual([
      expect.stringMatching(
        new RegExp(`^event source .*: key policy: key MessagingKey.*: kms:Decrypt denied by`),
      ),
    ]);
    const otherRole = Object.keys(t.Resources).find(
      (id) => t.Resources[id].Type === 'AWS::IAM::Role' && id !== role,
    )!;
    expect(denyTo({ 'Fn::GetAtt': [otherRole, 'Arn'] })).toEqual([]);
  });

  test('a queue policy that names the consumer role grants it without an identity statement (one account)', () => {
    const copy = structuredClone(t);
    const { queue, role, queueStatements } = consumer(copy);
    expect(removeStatements(copy, role, (s) => JSON.stringify(s.Action).includes('sqs:ReceiveMessage'))).toBe(
      1,
    );
    expect(brokenWires(copy, ENV)).toEqual([
      expect.stringMatching(/^event source .*: role .*: no statement allows/),
    ]);
    queueStatements.push({
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::GetAtt': [role, 'Arn'] } },
      Action: [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
      ],
      Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
    });
    expect(brokenWires(copy, ENV)).toEqual([]);
  });

  /** The rotation function's role, the role of the function whose environment names the secret, and its key. */
  const secretUsers = (tt: CfnTemplate) => {
    const roleOf = (fn: string) => pointsAt(tt.Resources[fn].Properties!.Role)!;
    const schedule = Object.values(tt.Resources).find(
      (r) => r.Type === 'AWS::SecretsManager::RotationSchedule',
    )!;
    const secret = pointsAt(schedule.Properties!.SecretId)!;
    const reader = Object.keys(tt.Resources).find(
      (id) =>
        tt.Resources[id].Type === 'AWS::Lambda::Function' &&
        JSON.stringify(tt.Resources[id].Properties!.Environment ?? {}).includes(`"${secret}"`),
    )!;
    const key = pointsAt(tt.Resources[secret].Properties!.KmsKeyId)!;
    return {
      rotator: roleOf(pointsAt(schedule.Properties!.RotationLambdaARN)!),
      reader: roleOf(reader),
      key,
    };
  };
  const bySid =
    (...sids: string[]) =>
    (s: Record<string, unknown>) =>
      sids.includes(s.Sid as string);

  test.each([
    [
      'RotateOnlyThisSecret',
      /rotates secret .*: permissions: role .*: no statement allows .* secretsmanager:DescribeSecret/,
    ],
    [
      'UseTheSecretKeyThroughSecretsManager',
      /rotates secret .*: key policy: key SmtpCredentialsSecretKey.*: no identity policy of .* allows kms:Decrypt/,
    ],
  ])('the rotation function without its %s statement cannot rotate the secret', (sid, reported) => {
    const copy = structuredClone(t);
    expect(removeStatements(copy, secretUsers(copy).rotator, bySid(sid))).toBe(1);
    expect(brokenWires(copy, ENV)).toEqual([expect.stringMatching(reported)]);
  });

  test('the health check without DecryptTheSecretThroughSecretsManager cannot read the secret', () => {
    const copy = structuredClone(t);
    expect(
      removeStatements(copy, secretUsers(copy).reader, bySid('DecryptTheSecretThroughSecretsManager')),
    ).toBe(1);
    expect(brokenWires(copy, ENV)).toEqual([
      expect.stringMatching(
        /^HealthChecksFunction.* reads secret .*: key policy: key SmtpCredentialsSecretKey.*kms:Decrypt/,
      ),
    ]);
  });

  test('a rotation role allowed to read but not to store a version, or to decrypt but not to encrypt, cannot rotate', () => {
    const narrowed = (sid: string, keep: string[]) => {
      const copy = structuredClone(t);
      const { rotator } = secretUsers(copy);
      const statement = policyDocumentsOf(copy, rotator)
        .flatMap((doc) => doc.Statement)
        .find(bySid(sid))!;
      statement.Action = keep;
      return brokenWires(copy, ENV);
    };
    expect(
      narrowed('RotateOnlyThisSecret', ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']),
    ).toEqual([expect.stringMatching(/rotates secret .*secretsmanager:PutSecretValue/)]);
    expect(narrowed('UseTheSecretKeyThroughSecretsManager', ['kms:Decrypt'])).toEqual([
      expect.stringMatching(/rotates secret .*: key policy: .*kms:GenerateDataKey/),
    ]);
  });

  test('a secret key policy emptied of its statements breaks every secret user (nothing delegates to IAM policies)', () => {
    const emptied = structuredClone(t);
    const keyPolicy = (tt: CfnTemplate) =>
      tt.Resources[secretUsers(tt).key].Properties!.KeyPolicy as { Statement: Record<string, unknown>[] };
    keyPolicy(emptied).Statement = [];
    expect(brokenWires(emptied, ENV)).toEqual([
      expect.stringMatching(
        /rotates secret .*: key policy: .*neither names .* nor lets IAM policies grant kms:Decrypt/,
      ),
      expect.stringMatching(
        /reads secret .*: key policy: .*neither names .* nor lets IAM policies grant kms:Decrypt/,
      ),
    ]);
  });

  test('the secret key policy: a Deny naming a reader stops it, a Deny outside Secrets Manager does not', () => {
    const withStatement = (statement: Record<string, unknown>) => {
      const copy = structuredClone(t);
      (
        copy.Resources[secretUsers(copy).key].Properties!.KeyPolicy as { Statement: unknown[] }
      ).Statement.push(statement);
      return brokenWires(copy, ENV);
    };
    const { reader } = secretUsers(t);
    expect(
      withStatement({
        Effect: 'Deny',
        Principal: { AWS: { 'Fn::GetAtt': [reader, 'Arn'] } },
        Action: 'kms:Decrypt',
        Resource: '*',
      }),
    ).toEqual([
      expect.stringMatching(/^HealthChecksFunction.* reads secret .*: key policy: .*kms:Decrypt denied by/),
    ]);
    expect(
      withStatement({
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:*',
        Resource: '*',
        Condition: { StringNotEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      }),
    ).toEqual([]);
    // Secrets Manager names the secret in the encryption context: a Deny for this secret matches,
    // one for another secret does not.
    const secret = Object.keys(t.Resources).find(
      (id) => t.Resources[id].Type === 'AWS::SecretsManager::Secret',
    )!;
    const denyDecryptFor = (secretArn: unknown) =>
      withStatement({
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { StringEquals: { 'kms:EncryptionContext:SecretARN': secretArn } },
      });
    expect(denyDecryptFor({ Ref: secret })).toHaveLength(2);
    expect(denyDecryptFor('arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf')).toEqual([]);
  });

  test('the feedback handler without ses:PutSuppressedDestination, or with it on a resource ARN only, cannot suppress', () => {
    const withoutIt = structuredClone(t);
    const { role } = consumer(withoutIt);
    expect(
      removeStatements(withoutIt, role, (s) =>
        JSON.stringify(s.Action).includes('ses:PutSuppressedDestination'),
      ),
    ).toBe(1);
    expect(brokenWires(withoutIt, ENV)).toEqual([
      expect.stringMatching(
        /^SendingFeedbackHandler.* suppresses recipients: .*no statement allows .* ses:PutSuppressedDestination/,
      ),
    ]);
    const scoped = structuredClone(t);
    const statement = policyDocumentsOf(scoped, role)
      .flatMap((doc) => doc.Statement)
      .find((s) => JSON.stringify(s.Action).includes('ses:PutSuppressedDestination'))!;
    statement.Resource = 'arn:aws:ses:eu-west-1:123456789012:*';
    expect(brokenWires(scoped, ENV)).toHaveLength(1);
  });

  /** The SMTP user's statement that lets it send, and that statement's resources. */
  const smtpUser = (tt: CfnTemplate) => {
    const user = Object.keys(tt.Resources).find((id) => tt.Resources[id].Type === 'AWS::IAM::User')!;
    const send = policyDocumentsOf(tt, user)
      .flatMap((doc) => doc.Statement)
      .find((s) => JSON.stringify(s.Action).includes('ses:SendRawEmail'))!;
    return { send, resources: send.Resource as unknown[] };
  };

  test.each([
    ['the default configuration set', 'configuration-set/'],
    ['the sending identity', 'identity/'],
  ])('an SMTP user not allowed to send through %s cannot send', (_, resourceType) => {
    const copy = structuredClone(t);
    const { send, resources } = smtpUser(copy);
    send.Resource = resources.filter((r) => !JSON.stringify(r).includes(resourceType));
    expect((send.Resource as unknown[]).length).toBe(resources.length - 1);
    expect(brokenWires(copy, ENV)).toEqual([
      expect.stringMatching(
        new RegExp(`^SmtpCredentialsUser.* sends as no-reply@example.com: .*:${resourceType}`),
      ),
    ]);
  });

  test('in the sandbox an SMTP user must be allowed to send to each verified recipient identity', () => {
    const withRecipients = structuredClone(synth({ ...EVERYTHING_ON, removalPolicy: 'retain' }));
    expect(brokenWires(withRecipients, ENV)).toEqual([]);
    const { send, resources } = smtpUser(withRecipients);
    send.Resource = resources.filter((r) => !JSON.stringify(r).includes('VerifiedAddress'));
    expect((send.Resource as unknown[]).length).toBe(resources.length - 1);
    expect(brokenWires(withRecipients, ENV)).toEqual([
      expect.stringMatching(
        /^SmtpCredentialsUser.* sends as .*:identity\/dev@example.com: no statement allows/,
      ),
    ]);
  });

  test('the ses:FromAddress condition is evaluated, and the From address must be covered by an identity', () => {
    // sub.example.com is covered by the example.com identity, but the condition allows *@example.com only.
    expect(brokenWires(t, { ...ENV, fromAddress: 'no-reply@sub.example.com' })).toEqual([
      expect.stringMatching(
        /^SmtpCredentialsUser.* sends as no-reply@sub.example.com: .*identity\/example.com: no statement allows/,
      ),
    ]);
    expect(brokenWires(t, { ...ENV, fromAddress: 'no-reply@example.org' })).toEqual([
      expect.stringMatching(
        /sends as no-reply@example.org: .*no email identity of this template covers no-reply@example.org/,
      ),
    ]);
  });

  test.each([
    ['another secret', false, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:other-AbCdEf'],
    ['another account', false, 'arn:aws:secretsmanager:eu-west-1:999999999999:secret:*'],
    ['this secret', true, { Ref: 'SECRET' }],
    ['any secret of this account', true, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:*'],
  ])(
    'a rotation permission whose SourceArn names %s lets Secrets Manager invoke the function: %s',
    (_, works, sourceArn) => {
      const copy = structuredClone(t);
      const secret = Object.keys(copy.Resources).find(
        (id) => copy.Resources[id].Type === 'AWS::SecretsManager::Secret',
      )!;
      const permission = Object.values(copy.Resources).find(
        (r) =>
          r.Type === 'AWS::Lambda::Permission' && r.Properties!.Principal === 'secretsmanager.amazonaws.com',
      )!;
      permission.Properties!.SourceArn = JSON.parse(JSON.stringify(sourceArn).replace('SECRET', secret));
      expect(brokenWires(copy, ENV)).toEqual(
        works
          ? []
          : [expect.stringMatching(/^rotation schedule .*: no Lambda permission lets Secrets Manager/)],
      );
    },
  );

  test.each([
    ['arn:aws:sns:eu-west-1:123456789012:*', 'arn:aws:sns:eu-west-1:123456789012:Topic', true],
    ['arn:aws:sns:*:123456789012:Topic', 'arn:aws:sns:eu-west-1:123456789012:Topic', true],
    ['arn:aws:sns:eu-west-?:123456789012:Topic', 'arn:aws:sns:eu-west-1:123456789012:Topic', true],
    // A `*` matches within one part only: it cannot stand for the Region, the account and the resource.
    ['arn:aws:sns:*', 'arn:aws:sns:eu-west-1:123456789012:Topic', false],
    ['arn:aws:sns:*:Topic', 'arn:aws:sns:eu-west-1:123456789012:Topic', false],
    ['arn:aws:*:123456789012:Topic', 'arn:aws:sns:eu-west-1:123456789012:Topic', false],
    ['arn:aws:sns:eu-west-1:123456789012:Topic', 'arn:aws:sns:eu-west-1:123456789012:topic', false],
  ])('ArnLike %s against %s: %s (each colon-separated part on its own)', (pattern, arn, matches) => {
    expect(arnLike(pattern, arn)).toBe(matches);
  });

  test('an ArnLike condition whose `*` would run across colons grants nothing', () => {
    const copy = structuredClone(t);
    const sns = keyStatements(copy).find((s) => s.Sid === 'AllowSnsDeliveryToQueues')!;
    sns.Condition = { ...(sns.Condition as object), ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*' } };
    expect(brokenWires(copy, ENV)).toEqual([
      expect.stringMatching(/^subscription SendingFeedbackQueue.*key policy: key MessagingKey/),
    ]);
  });

  test('a target outside the template is reported, not skipped', () => {
    const copy = structuredClone(t);
    const alarm = Object.values(copy.Resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm')!;
    alarm.Properties!.AlarmActions = ['arn:aws:sns:eu-west-1:123456789012:elsewhere'];
    expect(() => findWires(copy, ENV)).toThrow(/is not a topic or queue of this template/);
  });
});

/*
 * SMTP mail names no configuration set: SES applies the default set of the identity that covers the
 * From address, and a verified address is its own identity, whose settings win over its domain's:
 * "A default configuration set at the domain level applies to all email addresses for that domain
 * (unless you verify specific addresses for the domain)". Mail from every address the SMTP user may
 * send from must go through a set that publishes its bounces and complaints to SNS, or the feedback
 * handler never suppresses its bouncing recipients (and the set's TLS policy does not apply).
 * https://docs.aws.amazon.com/ses/latest/DeveloperGuide/managing-configuration-sets-default.html
 */
describe('mail from every address the SMTP user may send from publishes its bounces and complaints', () => {
  // dev@example.com (a sandbox recipient) is at the sending domain: the user may send from it.
  const t = synth({ ...EVERYTHING_ON, removalPolicy: 'retain' });
  const ofType = (type: string) => Object.keys(t.Resources).filter((id) => t.Resources[id].Type === type);
  /** The configuration sets with an enabled SNS event destination for BOUNCE and COMPLAINT. */
  const publishing = new Set(
    ofType('AWS::SES::ConfigurationSetEventDestination')
      .map((id) => t.Resources[id].Properties!)
      .filter((p) => {
        const d = p.EventDestination as {
          Enabled?: boolean;
          MatchingEventTypes?: string[];
          SnsDestination?: unknown;
        };
        return (
          d.Enabled === true &&
          d.SnsDestination !== undefined &&
          ['bounce', 'complaint'].every((e) => d.MatchingEventTypes?.includes(e))
        );
      })
      .map((p) => pointsAt(p.ConfigurationSetName)),
  );
  /** An address each identity covers, and the identity SES sends such mail as, when the user may. */
  const senders = ofType('AWS::SES::EmailIdentity')
    .map((id) => String(t.Resources[id].Properties!.EmailIdentity))
    .map((name) => (name.includes('@') ? name : `no-reply@${name}`))
    .flatMap((address) =>
      followAll(t, { ...ENV, fromAddress: address })
        .filter((r) => r.wire.kind === 'send' && r.resourcePolicy.allowed)
        .map((r) => ({ address, identity: r.wire.target })),
    );

  test('the SMTP user may send from the sending domain and from the verified address there', () => {
    expect(senders.map((s) => s.address)).toEqual(['no-reply@example.com', 'dev@example.com']);
  });

  test.each(senders)("mail from $address: its identity's default configuration set publishes", (sender) => {
    const attributes = t.Resources[sender.identity].Properties!.ConfigurationSetAttributes as
      | { ConfigurationSetName?: unknown }
      | undefined;
    expect({
      address: sender.address,
      publishes: publishing.has(pointsAt(attributes?.ConfigurationSetName)),
    }).toEqual({
      address: sender.address,
      publishes: true,
    });
  });
});

/*
 * Every AWS API call a function's code can make is one its role allows. The wire walker
 * (test/support/wires.ts) follows the calls it was told of; this reads them from the code: each
 * `new <Name>Command(` in the files esbuild bundles for the function, with the client package it
 * is imported from. A call added to the code without its permission fails here, not in AWS.
 */

/** The IAM service prefix of each AWS SDK client package the functions use. */
const SERVICE_PREFIX: Record<string, string> = {
  'client-cloudformation': 'cloudformation',
  'client-cloudwatch': 'cloudwatch',
  'client-cloudwatch-logs': 'logs',
  'client-ecs': 'ecs',
  'client-iam': 'iam',
  'client-secrets-manager': 'secretsmanager',
  'client-sesv2': 'ses',
  'client-sns': 'sns',
  'client-sqs': 'sqs',
};

/** The IAM actions the code of lambda/<dir>/index.ts can call, as `service:Action`. */
function actionsInCode(dir: string): string[] {
  const { metafile } = buildSync({
    entryPoints: [path.join(ROOT, 'lambda', dir, 'index.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
  });
  const actions = new Set<string>();
  for (const file of Object.keys(metafile.inputs)) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const clientOf = new Map<string, string>();
    for (const [, names, client] of source.matchAll(
      /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/(client-[a-z0-9-]+)'/g,
    ))
      for (const name of names.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]))
        if (name.endsWith('Command')) clientOf.set(name, client);
    for (const [, command] of source.matchAll(/new\s+(\w+Command)\s*\(/g)) {
      const client = clientOf.get(command);
      if (client === undefined)
        throw new Error(`${file}: ${command} is not imported from an @aws-sdk client`);
      const prefix = SERVICE_PREFIX[client];
      if (prefix === undefined) throw new Error(`${file}: no IAM service prefix for @aws-sdk/${client}`);
      actions.add(`${prefix}:${command.slice(0, -'Command'.length)}`);
    }
  }
  return [...actions].sort();
}

/** Whether `pattern` (an IAM action, with * and ?) covers `action` (case-insensitive, as IAM). */
const covers = (pattern: string, action: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(action);

describe('each function may call what its code calls', () => {
  // Every option that adds a function or a call on (the wires above synthesized it already).
  const { stack, template } = synthStack({ ...EVERYTHING_ON, removalPolicy: 'retain' });
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const functions = stack.node.findAll().filter((c): c is NodeFunction => c instanceof NodeFunction);

  /** The Allow statements' actions of every policy on the role with logical id `role`. */
  function allowedActions(role: string): string[] {
    const statements = [
      ...Object.values(resources)
        .filter(
          (r) =>
            r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles ?? []).includes(`"${role}"`),
        )
        .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement),
      ...(
        (resources[role].Properties.Policies ?? []) as {
          PolicyDocument: { Statement: Record<string, unknown>[] };
        }[]
      ).flatMap((p) => p.PolicyDocument.Statement),
    ];
    return statements.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat() as string[]);
  }

  test('the stack has each function of lambda/', () => {
    const dirs = fs
      .readdirSync(path.join(ROOT, 'lambda'))
      .filter((d) => fs.existsSync(path.join(ROOT, 'lambda', d, 'index.ts')))
      .sort();
    expect([...new Set(functions.map((f) => f.handlerDir))].sort()).toEqual(dirs);
  });

  test.each([...new Set(functions.map((f) => f.handlerDir))].sort())(
    'lambda/%s: every call its code makes is allowed by its role',
    (dir) => {
      const calls = actionsInCode(dir);
      expect(calls.length).toBeGreaterThan(0);
      for (const fn of functions.filter((f) => f.handlerDir === dir)) {
        const role = Stack.of(fn).getLogicalId(fn.role!.node.defaultChild as CfnRole);
        const allowed = allowedActions(role);
        expect({ role, missing: calls.filter((a) => !allowed.some((p) => covers(p, a))) }).toEqual({
          role,
          missing: [],
        });
      }
    },
  );
});
