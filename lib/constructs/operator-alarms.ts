import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface OperatorAlarmsProps {
  /** Customer-managed key that encrypts the topic. */
  readonly encryptionKey: kms.Key;
  /** Addresses subscribed to the topic (each confirms by email). @default - none */
  readonly emails?: string[];
}

/**
 * The one place operators hear from: an encrypted SNS topic that every alarm of the environment
 * notifies when it goes into ALARM and back to OK.
 */
export class OperatorAlarms extends Construct {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperatorAlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'SES SMTP operator alarms',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    for (const email of props.emails ?? [])
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    // CloudWatch publishes alarm notifications to the encrypted topic with this key.
    allowServiceToUseKey(props.encryptionKey, 'cloudwatch.amazonaws.com', 'AllowCloudWatchAlarms');
  }

  /** An alarm for a count that should stay zero: ALARM as soon as one period counts one or more. */
  public alarmOnAny(id: string, metric: cloudwatch.IMetric, alarmDescription: string) {
    return this.addAlarm(id, metric, {
      alarmDescription,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Creates an alarm on `metric` that notifies the topic on ALARM and OK. */
  public addAlarm(
    id: string,
    metric: cloudwatch.IMetric,
    props: Omit<cloudwatch.CreateAlarmOptions, 'actionsEnabled'>,
  ) {
    const alarm = new cloudwatch.Alarm(this, id, { ...props, metric, actionsEnabled: true });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}

/**
 * Lets an AWS service principal encrypt messages with `key` for this account only
 * (SNS and SQS need GenerateDataKey and Decrypt from whoever publishes to them).
 */
export function allowServiceToUseKey(
  key: kms.Key,
  service: string,
  sid: string,
  conditions: Record<string, Record<string, unknown>> = {},
): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid,
      principals: [new iam.ServicePrincipal(service)],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      // In a key policy "*" is the key itself.
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(key).account }, ...conditions },
    }),
  );
}
