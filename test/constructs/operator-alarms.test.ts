import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { OperatorAlarms } from '../../lib/constructs/operator-alarms';
import { testApp } from '../helpers';

function build() {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const alarms = new OperatorAlarms(stack, 'OperatorAlarms', {
    encryptionKey: new kms.Key(stack, 'Key'),
    emails: ['ops@example.com'],
  });
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

  test('... and encrypt with the key, under the same conditions', () => {
    const [key] = Object.values(build().template.findResources('AWS::KMS::Key'));
    expect(key.Properties.KeyPolicy.Statement).toContainEqual({
      Sid: 'AllowCloudWatchAlarms',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Resource: '*',
      Condition: fromAlarmsHere,
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
