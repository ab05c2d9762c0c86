import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutSuppressedDestinationCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { SQSRecord } from 'aws-lambda';
import { CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { Construct } from 'constructs';
import { processBatch } from '../../lambda/ses-feedback/process';
import { createLogger } from '../../lambda/shared/logger';
import { FEEDBACK_NAMESPACE, MetricBatch } from '../../lambda/shared/metrics';
import { WEBHOOK_EVENT_DESTINATION } from '../../lambda/shared/ses-metric-names';
import { SendingFeedback, SendingFeedbackProps } from '../../lib/constructs/sending-feedback';
import { testApp } from '../helpers';

function build(props: Partial<SendingFeedbackProps> = {}) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const feedback = new SendingFeedback(stack, 'SendingFeedback', {
    encryptionKey: new kms.Key(stack, 'Key'),
    environmentName: 'test',
    ...props,
  });
  return { stack, feedback, template: Template.fromStack(stack) };
}

const keyStatements = (template: Template) =>
  Object.values(template.findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy.Statement as Record<
    string,
    unknown
  >[];

describe('SendingFeedback', () => {
  test('configuration set states every option: reputation metrics, suppression, TLS required, sending on', () => {
    build().template.hasResourceProperties('AWS::SES::ConfigurationSet', {
      ReputationOptions: { ReputationMetricsEnabled: true },
      SendingOptions: { SendingEnabled: true },
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    });
  });

  test.each<[SendingFeedbackProps['additionalEvents'], string[]]>([
    [undefined, ['bounce', 'complaint']],
    [['REJECT'], ['bounce', 'complaint', 'reject']],
    [
      ['REJECT', 'DELIVERY_DELAY', 'RENDERING_FAILURE'],
      ['bounce', 'complaint', 'reject', 'deliveryDelay', 'renderingFailure'],
    ],
  ])('event destination publishes exactly the listed events (%j)', (additionalEvents, expected) => {
    build({ additionalEvents }).template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: {
        Enabled: true,
        MatchingEventTypes: expected,
        SnsDestination: { TopicARN: { Ref: Match.stringLikeRegexp('^SendingFeedbackTopic') } },
      },
    });
  });

  test('topic: customer-managed key, SSL enforced, SES may publish from this configuration set only', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'ses.amazonaws.com' },
            Condition: { StringEquals: Match.objectLike({ 'AWS:SourceAccount': '123456789012' }) },
          }),
        ]),
      },
    });
  });

  test('key policy lets SES publish (scoped by its configuration set) and SNS deliver to the queues (from this account and Region)', () => {
    const statements = keyStatements(build().template);
    expect(statements).toContainEqual({
      Sid: 'AllowSesEventPublishing',
      Effect: 'Allow',
      Principal: { Service: 'ses.amazonaws.com' },
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Resource: '*',
      Condition: {
        ArnLike: {
          'aws:SourceArn': {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':ses:eu-west-1:123456789012:configuration-set/',
                { Ref: expect.stringMatching(/^SendingFeedbackConfigurationSet/) },
              ],
            ],
          },
        },
      },
    });
    expect(statements).toContainEqual(
      expect.objectContaining({
        Sid: 'AllowSnsDeliveryToQueues',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        Condition: {
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sns:eu-west-1:123456789012:*']],
            },
          },
        },
      }),
    );
  });

  test('SNS -> encrypted queue with a dead-letter queue after 5 receives -> handler reporting item failures', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      VisibilityTimeout: 540,
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^SendingFeedbackDeadLetterQueue'), 'Arn'],
        },
        maxReceiveCount: 5,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 1209600,
      KmsMasterKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'sqs', RawMessageDelivery: true });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SendingFeedbackQueue'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 90,
      Environment: { Variables: Match.objectLike({ ENVIRONMENT_NAME: 'test', MAX_RECEIVE_COUNT: '5' }) },
    });
  });

  // The handler spreads a large bounce's calls over the receives it has (suppressionOrder).
  test("the function is told its queue's receive limit", () => {
    const { template } = build({ maxReceiveCount: 2 });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 2 }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MAX_RECEIVE_COUNT: '2' }) },
    });
  });

  // appDeadLetterQueue: where the app queue's messages go after the app failed on them
  // maxReceiveCount times, as the handler's do.
  test('the app queue takes maxReceiveCount too', () => {
    const { template } = build({ appQueue: true, maxReceiveCount: 2 });
    const redrives = Object.values(template.findResources('AWS::SQS::Queue')).flatMap((q) =>
      q.Properties.RedrivePolicy ? [q.Properties.RedrivePolicy.maxReceiveCount] : [],
    );
    expect(redrives).toEqual([2, 2]);
  });

  // What the queue-age alarm waits beyond: the receives of a message the handler keeps failing.
  test('retrySeconds: the receives times the visibility timeout', () => {
    const { feedback, template } = build({ maxReceiveCount: 7 });
    const [queue] = Object.values(template.findResources('AWS::SQS::Queue')).filter(
      (q) => q.Properties.RedrivePolicy !== undefined,
    );
    expect(feedback.retrySeconds).toBe(7 * queue.Properties.VisibilityTimeout);
  });

  test.each([
    ['without the app queue', false, 2],
    ['with the app queue', true, 4],
  ])('every queue has a policy that refuses requests without TLS (%s)', (_name, appQueue, queueCount) => {
    const { template } = build({ appQueue });
    const queueIds = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queueIds).toHaveLength(queueCount);
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    for (const id of queueIds) {
      // The policy that names this queue, not just any policy: a queue left without one fails here.
      const own = policies.filter((p) =>
        (p.Properties.Queues as unknown[]).some((q) => JSON.stringify(q) === JSON.stringify({ Ref: id })),
      );
      expect({ queue: id, policies: own.length }).toEqual({ queue: id, policies: 1 });
      expect(own[0].Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    }
  });

  // A subscription that exists before its queue's policy lets SNS in loses what SNS delivers in
  // between (a client-side error, not retried): SES's first events, its set-up notice.
  test("each queue's subscription waits for the queue policy that admits the topic", () => {
    const { template } = build({ appQueue: true });
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; DependsOn?: string[]; Properties: Record<string, unknown> }
    >;
    const subscriptions = Object.values(resources).filter((r) => r.Type === 'AWS::SNS::Subscription');
    expect(subscriptions).toHaveLength(2);
    for (const subscription of subscriptions) {
      const queueId = (subscription.Properties.Endpoint as { 'Fn::GetAtt': [string, string] })[
        'Fn::GetAtt'
      ][0];
      const policyId = Object.keys(resources).find(
        (id) =>
          resources[id].Type === 'AWS::SQS::QueuePolicy' &&
          JSON.stringify(resources[id].Properties.Queues) === JSON.stringify([{ Ref: queueId }]),
      );
      expect(policyId).toBeDefined();
      expect(subscription.DependsOn ?? []).toContain(policyId);
    }
  });

  test('raw message delivery can be turned off', () => {
    build({ rawMessageDelivery: false }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      RawMessageDelivery: false,
    });
  });

  test('the handler may only put suppressions and read whether the account is in the sandbox (and use its queue and logs)', () => {
    const { template } = build();
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Properties.Roles).includes('SendingFeedbackHandlerRole'),
    )!;
    const statements = policy.Properties.PolicyDocument.Statement as {
      Action: string | string[];
      Resource: unknown;
    }[];
    const actions = statements.flatMap((s) => s.Action);
    expect(actions.filter((a) => a.startsWith('ses:'))).toEqual([
      'ses:PutSuppressedDestination',
      'ses:GetAccount',
    ]);
    expect(statements.filter((s) => s.Resource === '*').flatMap((s) => s.Action)).toEqual([
      'ses:PutSuppressedDestination',
      'ses:GetAccount',
    ]);
  });

  test('optional webhook and app queue get the same events', () => {
    const { template, feedback } = build({
      webhookUrl: 'https://app.example.com/ses/events',
      appQueue: true,
    });
    const webhook = template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'https' } });
    // The logical id UrlSubscription gives, pinned: under another, the deploy that changes it
    // unsubscribes the live subscription (SNS answers the new one's Subscribe with it). (The move
    // to the webhook's own topic changed it once: another topic, so a new subscription to confirm.)
    expect(Object.keys(webhook)).toEqual(['SendingFeedbackWebhookTopichttpsappexamplecomsesevents76F81584']);
    expect(Object.values(webhook)[0].Properties).toMatchObject({
      Endpoint: 'https://app.example.com/ses/events',
      TopicArn: {
        Ref: Stack.of(feedback).getLogicalId(feedback.webhookTopic!.node.defaultChild as CfnElement),
      },
    });
    // An app down for a deploy still gets its events: a retry a minute for 50 minutes (SNS's
    // default, 3 retries 20 s apart, loses them after a minute), within SNS's one-hour limit. No
    // backoffFunction: SNS documents only lower-case values, CDK's enum writes upper case, and
    // with equal delays the function changes nothing.
    const policy = Object.values(webhook)[0].Properties.DeliveryPolicy;
    expect(policy).toEqual({
      healthyRetryPolicy: { minDelayTarget: 60, maxDelayTarget: 60, numRetries: 50 },
    });
    const retries = policy.healthyRetryPolicy;
    expect(retries.numRetries * retries.maxDelayTarget).toBeLessThanOrEqual(3600);
    expect(Annotations.fromStack(Stack.of(feedback)).findWarning('*', Match.anyValue())).toEqual([]);
    template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'sqs' }, 2);
    template.resourceCountIs('AWS::SQS::Queue', 5);
    expect(feedback.appQueue).toBeDefined();
  });

  // SNS's NumberOfNotificationsFailed has no dimension per subscription and, for an HTTPS one,
  // counts every failed attempt, retries too (sns-monitoring-using-cloudwatch.html): with the
  // webhook on the feedback topic, each restart of the app raised the alarm whose meaning is "the
  // queues no longer take the events". Its own topic, fed by a second event destination.
  test("the webhook has a topic of its own, which SES publishes the same events to: the feedback topic's failures count the queues only", () => {
    const additionalEvents = ['REJECT', 'DELIVERY_DELAY'] as const;
    const { template, feedback, stack } = build({
      webhookUrl: 'https://app.example.com/ses/events',
      appQueue: true,
      additionalEvents: [...additionalEvents],
    });
    const id = (construct: Construct) =>
      Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
    const topic = id(feedback.topic);
    const webhookTopic = id(feedback.webhookTopic!);
    expect(webhookTopic).toMatch(/^SendingFeedbackWebhookTopic[0-9A-F]{8}$/);
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map((r) => [
      r.Properties.Protocol,
      r.Properties.TopicArn.Ref,
    ]);
    expect(subscriptions.sort()).toEqual([
      ['https', webhookTopic],
      ['sqs', topic],
      ['sqs', topic],
    ]);
    // The same events to both, from the same configuration set.
    const destinations = Object.values(template.findResources('AWS::SES::ConfigurationSetEventDestination'))
      .map((r) => r.Properties)
      .filter((p) => p.EventDestination.SnsDestination);
    expect(destinations.map((p) => p.EventDestination.SnsDestination.TopicARN.Ref).sort()).toEqual(
      [topic, webhookTopic].sort(),
    );
    for (const p of destinations) {
      expect(p.EventDestination).toMatchObject({
        Enabled: true,
        MatchingEventTypes: ['bounce', 'complaint', 'reject', 'deliveryDelay'],
      });
      expect(p.ConfigurationSetName).toEqual({ Ref: id(feedback.configurationSet) });
    }
    // The webhook's by the name the sending check tells it by; the queues' as CloudFormation names it.
    const named = (topicId: string) =>
      destinations.find((p) => p.EventDestination.SnsDestination.TopicARN.Ref === topicId)!.EventDestination
        .Name;
    expect(named(webhookTopic)).toBe(WEBHOOK_EVENT_DESTINATION);
    expect(named(topic)).toBeUndefined();
    // Encrypted with the same key, which lets SES in for this configuration set already.
    const topics = template.toJSON().Resources;
    expect(topics[webhookTopic].Properties.KmsMasterKeyId).toEqual(topics[topic].Properties.KmsMasterKeyId);
    // Its policy refuses publishing without TLS, as the feedback topic's does.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: webhookTopic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    // The queues' alarm reads the feedback topic; the webhook's attempts, its own.
    expect(stack.resolve(feedback.metricDeliveryFailures().dimensions)).toEqual({
      TopicName: { 'Fn::GetAtt': [topic, 'TopicName'] },
    });
    expect(stack.resolve(feedback.metricWebhookDeliveryFailures()?.dimensions)).toEqual({
      TopicName: { 'Fn::GetAtt': [webhookTopic, 'TopicName'] },
    });
    // Failed attempts added up over five minutes: an average of 1 per data point hid how many.
    expect(feedback.metricWebhookDeliveryFailures()).toMatchObject({
      metricName: 'NumberOfNotificationsFailed',
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
    // Without a webhook, neither the topic nor its event destination.
    const plain = build();
    expect(plain.feedback.webhookTopic).toBeUndefined();
    expect(plain.feedback.metricWebhookDeliveryFailures()).toBeUndefined();
    plain.template.resourceCountIs('AWS::SNS::Topic', 1);
    expect(
      Object.values(plain.template.findResources('AWS::SES::ConfigurationSetEventDestination')).filter(
        (r) => r.Properties.EventDestination.SnsDestination,
      ),
    ).toHaveLength(1);
  });

  // SNS drops an event once the webhook's retries are spent, unless the subscription has a
  // dead-letter queue: there the operator can hand it to the app.
  test("what the webhook does not take goes to its own encrypted dead-letter queue, which admits the topic only, and raises an alarm's metric", () => {
    const { template, feedback } = build({ webhookUrl: 'https://app.example.com/ses/events' });
    const id = (construct: Construct) =>
      Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
    const deadLetters = feedback.webhookDeadLetterQueue!;
    expect(id(deadLetters)).toMatch(/^SendingFeedbackWebhookDeadLetterQueue[0-9A-F]{8}$/);
    const webhook = Object.values(
      template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'https' } }),
    )[0];
    expect(webhook.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [id(deadLetters), 'Arn'] },
    });
    expect(template.toJSON().Resources[id(deadLetters)].Properties).toMatchObject({
      KmsMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
      MessageRetentionPeriod: 14 * 86400,
    });
    // SNS can send to it once its policy admits the topic: the subscription waits for that.
    const [policyId] = Object.keys(
      template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: id(deadLetters) }] } }),
    );
    expect(webhook.DependsOn).toContain(policyId);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id(deadLetters) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': { Ref: id(feedback.webhookTopic!) } } },
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Resource: { 'Fn::GetAtt': [id(deadLetters), 'Arn'] },
          },
        ]),
      },
    });
    expect(feedback.quietQueues).toContain(deadLetters);
    expect(feedback.metricWebhookDeadLetters()).toMatchObject({
      metricName: 'ApproximateNumberOfMessagesVisible',
      statistic: 'Maximum',
    });
    expect(build().feedback.metricWebhookDeadLetters()).toBeUndefined();
    expect(build().feedback.webhookDeadLetterQueue).toBeUndefined();
  });

  // SES publishes a plain-text notice when it sets up the event destination: the app's consumer
  // would fail on it. A body filter delivers only JSON objects with the property; every SES event
  // has eventType, so the sample events all pass.
  test("the app's webhook and queue get SES events only, not SES's set-up notice; the handler's queue everything", () => {
    const { template } = build({ webhookUrl: 'https://app.example.com/ses/events', appQueue: true });
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map(
      (s) => s.Properties,
    );
    const handlerQueue = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) =>
      id.startsWith('SendingFeedbackQueue'),
    );
    const forApp = subscriptions.filter(
      (p) => JSON.stringify(p.Endpoint) !== JSON.stringify({ 'Fn::GetAtt': [handlerQueue, 'Arn'] }),
    );
    expect(forApp).toHaveLength(2);
    for (const p of forApp) {
      expect(p).toMatchObject({
        FilterPolicyScope: 'MessageBody',
        FilterPolicy: { eventType: [{ exists: true }] },
      });
    }
    expect(subscriptions.filter((p) => p.FilterPolicy === undefined)).toHaveLength(1);
    const fixtures = path.join(__dirname, '..', 'fixtures', 'ses-events');
    for (const name of ['ses_event_bounce_permanent', 'ses_event_bounce_transient', 'ses_event_complaint']) {
      const event = JSON.parse(fs.readFileSync(path.join(fixtures, `${name}.json`), 'utf8')).payload;
      expect(typeof event.eventType).toBe('string');
    }
  });

  test.each([
    ['a query', 'https://app.example.com/ses?token=T0ken'],
    ['a fragment', 'https://app.example.com/ses#T0ken'],
  ])('a webhook URL with %s: a warning that the template and deploy logs show it', (_case, webhookUrl) => {
    const { feedback } = build({ webhookUrl });
    expect(Annotations.fromStack(Stack.of(feedback)).findWarning('*', Match.anyValue())).toEqual([
      expect.objectContaining({
        entry: expect.objectContaining({
          data: expect.stringMatching(
            /^feedback\.webhookUrl has a query or fragment: the URL is in the template, the subscription's logical id and every deploy's log, so a token there is no secret; verify the SNS signature .*\[ack: ses-smtp:webhook-url-query\]$/,
          ),
        }),
      }),
    ]);
  });

  // A standard queue's dead-letter queue expires a message by its first enqueue time: it must keep
  // messages longer than the queue it takes them from, or they vanish soon after they arrive.
  test('each dead-letter queue keeps messages longer than the queue it takes them from', () => {
    const { template, feedback } = build({ appQueue: true });
    const queues = template.findResources('AWS::SQS::Queue');
    const retention = (queue: sqs.IQueue | undefined) =>
      queues[Stack.of(queue!).getLogicalId(queue!.node.defaultChild as CfnElement)].Properties
        .MessageRetentionPeriod as number;
    for (const [source, deadLetters] of [
      [feedback.queue, feedback.deadLetterQueue],
      [feedback.appQueue, feedback.appDeadLetterQueue],
    ]) {
      expect(retention(deadLetters)).toBe(14 * 86400);
      expect(retention(source)).toBeLessThan(retention(deadLetters));
    }
    expect(feedback.metricAppDeadLetters()).toBeDefined();
    expect(build().feedback.metricAppDeadLetters()).toBeUndefined();
  });

  test('without them, no extra subscription or queue', () => {
    const { template, feedback } = build();
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    expect(() => feedback.grantConsumeAppQueue(feedback.handler)).toThrow(
      'grantConsumeAppQueue needs appQueue: true',
    );
  });

  // The key encrypts the topic and every queue: a consumer needs it only as SQS uses it for it.
  // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
  const THROUGH_SQS = {
    StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['sqs.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] } },
  };
  /** The statements of the identity policies attached to the role `roleId` (a logical id prefix). */
  const roleStatements = (template: Template, roleId: string) =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[]);
  const decrypts = (statements: Record<string, unknown>[]) =>
    statements.filter((st) => JSON.stringify(st.Action).includes('kms:'));

  test('the handler consumes its queue and decrypts with the key only through SQS', () => {
    const statements = roleStatements(build().template, 'SendingFeedbackHandlerRole');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']),
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^SendingFeedbackQueue/), 'Arn'] },
      }),
    );
    expect(decrypts(statements)).toEqual([
      {
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
        Condition: THROUGH_SQS,
      },
    ]);
  });

  test("grantConsumeAppQueue: the app's role decrypts only through SQS; another account's is named in the key policy", () => {
    const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const feedback = new SendingFeedback(stack, 'SendingFeedback', {
      encryptionKey: new kms.Key(stack, 'Key'),
      environmentName: 'test',
      appQueue: true,
    });
    const role = new iam.Role(stack, 'AppRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    expect(feedback.grantConsumeAppQueue(role).success).toBe(true);
    const other = new iam.ArnPrincipal('arn:aws:iam::210987654321:role/app');
    expect(feedback.grantConsumeAppQueue(other).success).toBe(true);
    const template = Template.fromStack(stack);
    expect(decrypts(roleStatements(template, 'AppRole'))).toEqual([
      expect.objectContaining({ Action: 'kms:Decrypt', Condition: THROUGH_SQS }),
    ]);
    expect(keyStatements(template)).toContainEqual(
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Principal: { AWS: 'arn:aws:iam::210987654321:role/app' },
      }),
    );
  });

  test.each([
    [undefined, 'RetainExceptOnCreate'],
    [RemovalPolicy.RETAIN, 'Retain'],
    [RemovalPolicy.DESTROY, 'Delete'],
  ])('removalPolicy %p applies to the configuration set only (%s)', (removalPolicy, expected) => {
    const resources = build({ removalPolicy }).template.toJSON().Resources as Record<
      string,
      { Type: string; DeletionPolicy?: string }
    >;
    const policies = Object.values(resources)
      .filter((r) => ['AWS::SES::ConfigurationSet', 'AWS::SNS::Topic', 'AWS::SQS::Queue'].includes(r.Type))
      .map((r) => `${r.Type} ${r.DeletionPolicy ?? 'Delete'}`);
    expect(policies.sort()).toEqual(
      [
        `AWS::SES::ConfigurationSet ${expected}`,
        'AWS::SNS::Topic Delete',
        'AWS::SQS::Queue Delete',
        'AWS::SQS::Queue Delete',
      ].sort(),
    );
  });

  test('a key imported from outside the app is a synth warning for each grant its owner must write', () => {
    const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    new SendingFeedback(stack, 'SendingFeedback', {
      encryptionKey: kms.Key.fromKeyArn(stack, 'Key', arn),
      environmentName: 'test',
    });
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('ses-smtp:imported-key'),
    );
    expect(warnings.map((w) => [w.id, w.entry.data])).toEqual([
      [
        '/Test/SendingFeedback',
        expect.stringMatching(/ses\.amazonaws\.com.*AllowSesEventPublishing.*SES cannot publish/),
      ],
      [
        '/Test/SendingFeedback',
        expect.stringMatching(/sns\.amazonaws\.com.*AllowSnsDeliveryToQueues.*SNS cannot deliver/),
      ],
    ]);
  });

  test.each([0, 1.5, 633, 1000])('refuses maxReceiveCount %p', (maxReceiveCount) => {
    expect(() => build({ maxReceiveCount })).toThrow(
      `maxReceiveCount must be a whole number from 1 to 632 (540 s a receive: with more, the queue-age alarm would wait as long as the queue's 4-day retention and never fire, and a few more would let a message the handler keeps failing expire before the dead-letter queue), got: ${maxReceiveCount}`,
    );
  });

  // SQS expires a message 4 days after it reached the queue, receives included: the receives and
  // the queue-age alarm's wait after them (whole hours, 10 minutes to spare) must end before that.
  test.each([1, 632])('maxReceiveCount %p ends its receives and the age alarm within the retention', (n) => {
    const { feedback, template } = build({ maxReceiveCount: n });
    const [queue] = Object.values(template.findResources('AWS::SQS::Queue')).filter(
      (q) => q.Properties.RedrivePolicy !== undefined,
    );
    const alarmWait = Math.ceil((feedback.retrySeconds + 600) / 3600) * 3600;
    expect(alarmWait).toBeLessThan(queue.Properties.MessageRetentionPeriod);
  });
});

/*
 * The handler writes the feedback metrics, the dashboard graphs them with SEARCH. A SEARCH schema
 * ({Namespace,Dim1,Dim2}) finds only metrics with exactly those dimensions, so a dimension the
 * handler adds and the schema lacks leaves the graph empty. This test runs the handler's batch
 * processing on SES events and checks every metric it wrote against the construct's expression.
 */

interface EmfDocument {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
}

const sesMock = mockClient(SESv2Client);

async function writtenByTheHandler(): Promise<EmfDocument[]> {
  sesMock.reset();
  sesMock.on(PutSuppressedDestinationCommand).resolves({});
  const events = [
    'ses_event_bounce_permanent.json',
    'ses_event_bounce_transient.json',
    'ses_event_complaint.json',
  ];
  const records = events.map((name, i) => {
    const fixture = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'ses-events', name), 'utf8');
    return { messageId: `m${i}`, body: JSON.stringify(JSON.parse(fixture).payload) } as SQSRecord;
  });
  const metrics = new MetricBatch(FEEDBACK_NAMESPACE, { Environment: 'test' });
  const failures = await processBatch(records, {
    ses: new SESv2Client({ region: 'eu-west-1' }),
    log: createLogger({}, () => undefined),
    metrics,
  });
  expect(failures).toEqual([]);
  return metrics.flush().map((line) => JSON.parse(line) as EmfDocument);
}

test("every feedback metric the handler writes is found by the dashboard's SEARCH for it", async () => {
  const docs = await writtenByTheHandler();
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const feedback = new SendingFeedback(stack, 'SendingFeedback', {
    encryptionKey: new kms.Key(stack, 'Key'),
    environmentName: 'test',
  });

  for (const name of ['Events', 'RecipientsSuppressed'] as const) {
    const expression = (feedback.metricHandled(name) as cloudwatch.MathExpression).expression;
    // The total over every dimension combination: SUM of the series, each the Sum of an hour's points
    // (MAX or Average would graph one combination's count, or a mean of them, as the total).
    const search =
      /^SUM\(SEARCH\('\{([^}]+)\} MetricName="([^"]+)" Environment="([^"]+)"', 'Sum', 3600\)\)$/.exec(
        expression,
      );
    expect(search).not.toBeNull();
    const [namespace, ...schema] = search![1].split(',');
    expect([namespace, search![2], search![3]]).toEqual([FEEDBACK_NAMESPACE, name, 'test']);
    const carrying = docs.filter((d) => d._aws.CloudWatchMetrics[0].Metrics.some((m) => m.Name === name));
    expect(carrying.length).toBeGreaterThan(0);
    for (const { _aws } of carrying) {
      const [{ Namespace, Dimensions }] = _aws.CloudWatchMetrics;
      expect(Namespace).toBe(namespace);
      // One dimension set per document, and it is exactly the schema's.
      expect(Dimensions).toHaveLength(1);
      expect([...Dimensions[0]].sort()).toEqual([...schema].sort());
    }
  }
});
