import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  EncryptedTopicTarget,
  IMPORTED_KEY,
  IMPORTED_TARGET_TOPIC,
} from '../../lib/constructs/service-access';
import { testApp } from '../helpers';

function rules(masterKey: (stack: Stack) => kms.IKey | undefined) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const topic = new sns.Topic(stack, 'Topic', { masterKey: masterKey(stack) });
  for (const id of ['First', 'Second']) {
    new events.Rule(stack, id, {
      eventPattern: { source: ['test'] },
      targets: [new EncryptedTopicTarget(topic, events.RuleTargetInput.fromText(id))],
    });
  }
  return stack;
}

const build = (masterKey: (stack: Stack) => kms.IKey | undefined) => Template.fromStack(rules(masterKey));

describe('EncryptedTopicTarget', () => {
  test('the topic admits each rule by its ARN and this account only', () => {
    const template = build((s) => new kms.Key(s, 'Key'));
    const statements = Object.values(template.findResources('AWS::SNS::TopicPolicy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual(
      ['First', 'Second'].map((rule) =>
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sns:Publish',
          // This topic, not "*": the statement names what it grants.
          Resource: { Ref: expect.stringMatching(/^Topic/) },
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [expect.stringMatching(`^${rule}`), 'Arn'] } },
          },
        }),
      ),
    );
  });

  test("one key grant for EventBridge however many rules target the key's topics, for the account's topics, with no Source* condition", () => {
    const template = build((s) => new kms.Key(s, 'Key'));
    const [key] = Object.values(template.findResources('AWS::KMS::Key'));
    const forEvents = (key.Properties.KeyPolicy.Statement as Record<string, unknown>[]).filter(
      (s) => JSON.stringify(s.Principal) === '{"Service":"events.amazonaws.com"}',
    );
    expect(forEvents).toEqual([
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
  });

  test('an unencrypted topic gets the topic policy and no key statement', () => {
    const template = build(() => undefined);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'events.amazonaws.com' } })]),
      },
    });
  });

  test('the rule publishes the given message to the topic', () => {
    const template = build((s) => new kms.Key(s, 'Key'));
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [{ Arn: { Ref: Match.stringLikeRegexp('^Topic') }, Id: 'Target0', Input: '"First"' }],
    });
  });

  test('a topic imported from outside the app is a synth warning naming both grants its owner must write; one of the app is not', () => {
    const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const arn = 'arn:aws:sns:eu-west-1:123456789012:pager';
    new events.Rule(stack, 'Imported', {
      eventPattern: { source: ['test'] },
      targets: [
        new EncryptedTopicTarget(
          sns.Topic.fromTopicArn(stack, 'Pager', arn),
          events.RuleTargetInput.fromText('x'),
        ),
      ],
    });
    new events.Rule(stack, 'Own', {
      eventPattern: { source: ['test'] },
      targets: [
        new EncryptedTopicTarget(new sns.Topic(stack, 'Topic'), events.RuleTargetInput.fromText('y')),
      ],
    });
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp(IMPORTED_TARGET_TOPIC),
    );
    expect(warnings.map((w) => w.id)).toEqual(['/Test/Imported']);
    expect(warnings[0].entry.data).toMatch(
      new RegExp(
        `^the topic ${arn} is not defined in this app.*events\\.amazonaws\\.com.*sns:Publish.*kms:GenerateDataKey\\* and kms:Decrypt`,
      ),
    );
  });

  test("a key imported from outside the app is a synth warning, once, naming the grant its owner must write; the app's own key is not", () => {
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const imported = rules((s) => kms.Key.fromKeyArn(s, 'Key', arn));
    const warnings = Annotations.fromStack(imported).findWarning('*', Match.stringLikeRegexp(IMPORTED_KEY));
    expect(warnings.map((w) => w.id)).toEqual(['/Test/First']);
    expect(warnings[0].entry.data).toMatch(
      new RegExp(
        `^the KMS key ${arn} is not defined in this app.*events\\.amazonaws\\.com.*kms:GenerateDataKey\\* and kms:Decrypt.*AllowEventBridgeToEncryptForTopics.*reach no one`,
      ),
    );
    const own = rules((s) => new kms.Key(s, 'Key'));
    expect(Annotations.fromStack(own).findWarning('*', Match.stringLikeRegexp(IMPORTED_KEY))).toEqual([]);
  });
});
