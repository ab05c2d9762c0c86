import { Annotations as CdkAnnotations, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { OperatorAlarms } from '../../lib/constructs/operator-alarms';
import { testApp } from '../helpers';

/** The stack of an OperatorAlarms with `emails`, before synth: a test may still add to it. */
function withEmails(emails: string[]) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const alarms = new OperatorAlarms(stack, 'OperatorAlarms', {
    encryptionKey: new kms.Key(stack, 'Key'),
    emails,
  });
  return { stack, alarms };
}

function build() {
  const { stack, alarms } = withEmails(['ops@example.com']);
  const alarm = alarms.alarmOnAny(
    'Any',
    new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }),
    'do this',
  );
  return { alarms, alarm, template: Template.fromStack(stack) };
}

const alarmsHere = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:eu-west-1:123456789012:alarm:*']],
};
const fromAlarmsHere = {
  StringEquals: { 'aws:SourceAccount': '123456789012' },
  ArnLike: { 'aws:SourceArn': alarmsHere },
};

describe('OperatorAlarms', () => {
  // Alarms that reach nobody: the suspension the product exists to announce is learnt of too late.
  test.each([
    ['no subscriber: warns', () => withEmails([]), true],
    ['an email subscriber: quiet', () => withEmails(['ops@example.com']), false],
    [
      'a subscriber the app adds to the topic: quiet',
      () => {
        const built = withEmails([]);
        built.alarms.topic.addSubscription(
          new subscriptions.UrlSubscription('https://pager.example.com/hook'),
        );
        return built;
      },
      false,
    ],
    [
      'an sns.Subscription elsewhere in the stack: quiet',
      () => {
        const built = withEmails([]);
        new sns.Subscription(built.stack, 'Pager', {
          topic: built.alarms.topic,
          protocol: sns.SubscriptionProtocol.HTTPS,
          endpoint: 'https://pager.example.com/hook',
        });
        return built;
      },
      false,
    ],
    [
      'a CfnSubscription elsewhere in the stack: quiet',
      () => {
        const built = withEmails([]);
        new sns.CfnSubscription(built.stack, 'Pager', {
          topicArn: built.alarms.topic.topicArn,
          protocol: 'https',
          endpoint: 'https://pager.example.com/hook',
        });
        return built;
      },
      false,
    ],
    [
      'a subscription to another topic: still warns',
      () => {
        const built = withEmails([]);
        new sns.Topic(built.stack, 'Other').addSubscription(
          new subscriptions.UrlSubscription('https://pager.example.com/hook'),
        );
        return built;
      },
      true,
    ],
    [
      'acknowledged, as the README says for a subscriber in another stack: quiet',
      () => {
        const built = withEmails([]);
        CdkAnnotations.of(built.alarms).acknowledgeWarning('ses-smtp:no-alarm-recipients');
        return built;
      },
      false,
    ],
  ])('%s', (_, make, warns) => {
    const { stack } = make();
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('no subscriber'));
    expect(warnings.map((w) => w.id)).toEqual(warns ? ['/Test/OperatorAlarms/Topic'] : []);
    if (warns) {
      expect(String(warnings[0].entry.data)).toContain(
        'List addresses in alarms.emails, or subscribe the topic (stack output OperatorAlarmTopicArn)',
      );
    }
  });

  test("a key imported from outside the app is a synth warning naming CloudWatch's grant; the app's own key is not", () => {
    const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    new OperatorAlarms(stack, 'OperatorAlarms', {
      encryptionKey: kms.Key.fromKeyArn(stack, 'Key', arn),
      emails: ['ops@example.com'],
    });
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('ses-smtp:imported-key'),
    );
    expect(warnings.map((w) => [w.id, w.entry.data])).toEqual([
      [
        '/Test/OperatorAlarms',
        expect.stringMatching(
          new RegExp(`^the KMS key ${arn} .*cloudwatch\\.amazonaws\\.com.*no alarm notification arrives`),
        ),
      ],
    ]);
    const { stack: own } = withEmails(['ops@example.com']);
    expect(
      Annotations.fromStack(own).findWarning('*', Match.stringLikeRegexp('ses-smtp:imported-key')),
    ).toEqual([]);
  });

  test('the email subscriptions synthesize the template they always did (topic.addSubscription of each)', () => {
    const emails = ['ops@example.com', 'a-b@example.org', 'a/b@example.org', "o'hara+x@example.net"];
    const before = withEmails([]);
    for (const email of emails)
      before.alarms.topic.addSubscription(new subscriptions.EmailSubscription(email));
    expect(Template.fromStack(withEmails(emails).stack).toJSON()).toEqual(
      Template.fromStack(before.stack).toJSON(),
    );
  });

  test('two addresses whose construct ids constructs would merge ("/" is "--") are two email subscriptions', () => {
    const template = Template.fromStack(withEmails(['a/b@gmail.com', 'a--b@gmail.com']).stack);
    const subscriptionsOf = Object.entries(template.findResources('AWS::SNS::Subscription')).map(
      ([id, r]) => [id, r.Properties],
    );
    const topic = { Ref: expect.stringMatching(/^OperatorAlarmsTopic/) };
    expect(subscriptionsOf).toEqual([
      [
        expect.stringMatching(/^OperatorAlarmsTopica2Fb40gmailcom[0-9A-F]{8}$/),
        { Protocol: 'email', TopicArn: topic, Endpoint: 'a/b@gmail.com' },
      ],
      [
        expect.stringMatching(/^OperatorAlarmsTopicabgmailcom[0-9A-F]{8}$/),
        { Protocol: 'email', TopicArn: topic, Endpoint: 'a--b@gmail.com' },
      ],
    ]);
  });

  test("CloudWatch may publish to the topic for this account's alarms in this Region (a topic policy replaces the default)", () => {
    const [policy] = Object.values(build().template.findResources('AWS::SNS::TopicPolicy'));
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: fromAlarmsHere,
      }),
    );
  });

  test('... and encrypt with the key, for those alarms (the source ARN only: no AWS page says the account reaches KMS)', () => {
    const [key] = Object.values(build().template.findResources('AWS::KMS::Key'));
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({
      Sid: 'AllowCloudWatchAlarms',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Resource: '*',
      Condition: { ArnLike: { 'aws:SourceArn': alarmsHere } },
    });
  });

  test('alarmOnAny: ALARM at one, nothing counted is not breaching, notifies on ALARM and OK, listed', () => {
    const { alarms, alarm, template } = build();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: 'do this',
      ActionsEnabled: true,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^OperatorAlarmsTopic') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^OperatorAlarmsTopic') }],
    });
    expect(alarms.alarms).toEqual([alarm]);
  });
});
