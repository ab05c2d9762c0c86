import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { cdkCommand, cdkStackPath, REVERT_DRIFT_CLI } from '../../stack-name';
import { alarmCliOptions, IAlarmSink } from '../operator-alarms';
import { APP_QUEUE_RETENTION_DAYS, IFeedbackMonitoring } from '../sending-feedback';
import { IRotationMonitoring } from '../smtp-credentials';
import {
  metricReputationRate,
  percentToFraction,
  RateThresholds,
  REPUTATION_RATES,
  ReputationRate,
} from './ses-metrics';

export interface SendingAlarmsProps {
  /** Name of the environment, in alarm descriptions and the rotate command they give. */
  readonly environmentName: string;
  /**
   * The `ses-smtp` options that pick this environment in the commands alarm texts give.
   * @default - the Stack's name and Region: "--stack NAME --region REGION" (see cliOptions())
   */
  readonly cliOptions?: string;
  /** Where every alarm goes. */
  readonly alarms: IAlarmSink;
  /** The feedback pipeline whose configuration set, queues and handler are watched. */
  readonly feedback: IFeedbackMonitoring;
  /** The credentials whose rotation is watched. */
  readonly credentials: IRotationMonitoring;
  /**
   * Bounce rate levels, percent. AWS reviews an account at 5 % and may pause sending at 10 %.
   * @default { warning: 2, critical: 5 }
   */
  readonly bounceRatePercent?: RateThresholds;
  /**
   * Complaint rate levels, percent. AWS reviews an account at 0.1 % and may pause sending at 0.5 %.
   * @default { warning: 0.05, critical: 0.1 }
   */
  readonly complaintRatePercent?: RateThresholds;
  /**
   * Also alarm on the account-wide rates. Turn off in every environment but one of an account and
   * Region, or each alert arrives once per environment. The configuration set's alarms stay.
   * @default true
   */
  readonly accountAlarms?: boolean;
}

/** The rate levels in effect, after defaults and validation. */
export function rateThresholds(
  props: Pick<SendingAlarmsProps, 'bounceRatePercent' | 'complaintRatePercent'>,
) {
  const levels: Record<ReputationRate, RateThresholds> = {
    Bounce: props.bounceRatePercent ?? REPUTATION_RATES.Bounce.defaults,
    Complaint: props.complaintRatePercent ?? REPUTATION_RATES.Complaint.defaults,
  };
  for (const rate of ['Bounce', 'Complaint'] as const) {
    const { warning, critical } = levels[rate];
    const { pause } = REPUTATION_RATES[rate];
    if (!(warning > 0 && warning < critical && critical < pause)) {
      throw new Error(
        `${rate.toLowerCase()}RatePercent must have 0 < warning < critical < ${pause} (the rate at which AWS may pause sending), got: warning ${warning}, critical ${critical}`,
      );
    }
  }
  return levels;
}

/**
 * Every alarm of an environment, each with a description a paged human can act on: bounce and
 * complaint rates (configuration set, and account-wide unless turned off) at a warning level
 * before AWS reviews the account and a critical one at its review level, before AWS would pause
 * sending, the feedback pipeline (dead letters, handler errors) and
 * credential rotation (failed rotations, rotation function errors).
 */
export class SendingAlarms extends Construct {
  /** The alarms this construct created. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: SendingAlarmsProps) {
    super(scope, id);
    const { alarms, feedback, credentials, environmentName } = props;
    const levels = rateThresholds(props);
    // The feedback handler's log group, where these texts send the operator: its name is
    // CloudFormation's, not /aws/lambda/<function>.
    const handlerLogs = feedback.handlerLogGroupName ? ` (${feedback.handlerLogGroupName})` : '';
    const add = (alarm: cloudwatch.Alarm) => this.alarms.push(alarm);
    // A policy changed outside CloudFormation stays so through a deploy of the unchanged template
    // (a change set compares templates): a drift-aware one sets it back (README, "Changed or
    // deleted by hand").
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/drift-aware-change-sets.html
    const stack = Stack.of(this);
    const revertDrift = `${cdkCommand('deploy', { stackName: stack.stackName, stackPath: cdkStackPath(stack) })} --revert-drift`;
    const restore = `a deploy of the unchanged template does not restore them, a drift-aware one does (${REVERT_DRIFT_CLI}): ${revertDrift}`;
    /** A queue's oldest message has waited `seconds` or more. */
    const waitedAlarm = (id: string, age: cloudwatch.IMetric, seconds: number, alarmDescription: string) =>
      alarms.addAlarm(id, age, {
        alarmDescription,
        threshold: seconds,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // SQS publishes the age while the queue holds messages: an empty queue is not late. And
        // only while the queue is active: the health function reads each queue hourly
        // (SendingFeedback.quietQueues), so messages nobody takes keep their age reported.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    /**
     * A dead-letter queue's depth, not a count of failures. SQS emits a queue's metrics only while
     * the queue is active, which CloudWatch counts "for up to six hours if it contains any messages,
     * or if any action accesses it": the depth may fall silent while messages still wait. Missing
     * data keeps the state, so that silence sends no "OK" mail. The health function reads the queue's
     * attributes at each run (HealthChecks' keepReporting), which keeps it reporting; moving the
     * messages back or deleting them then reports 0 at once. (test-alarm sets such an alarm back.)
     * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-monitoring-using-cloudwatch.html
     */
    const heldAlarm = (id: string, depth: cloudwatch.IMetric, alarmDescription: string) =>
      alarms.addAlarm(id, depth, {
        alarmDescription,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      });

    const scopes = [
      ...((props.accountAlarms ?? true)
        ? [{ id: 'Account', label: 'account', metric: (r: ReputationRate) => metricReputationRate(r) }]
        : []),
      {
        id: 'ConfigurationSet',
        label: 'configuration set',
        metric: (r: ReputationRate) => feedback.metricReputationRate(r),
      },
    ];
    for (const rate of ['Bounce', 'Complaint'] as const) {
      const info = REPUTATION_RATES[rate];
      for (const s of scopes) {
        for (const level of ['warning', 'critical'] as const) {
          const percent = levels[rate][level];
          add(
            alarms.addAlarm(
              `${rate}Rate${s.id}${level === 'warning' ? 'Warning' : 'Critical'}`,
              s.metric(rate),
              {
                alarmDescription:
                  `${level.toUpperCase()}: SES ${rate.toLowerCase()} rate (${s.label}, environment ${environmentName}) is at or above ${percent} %. ` +
                  `AWS reviews an account at ${info.review} % and may pause its sending at ${info.pause} %. ${info.advice}` +
                  (handlerLogs && ` The feedback handler's log group: ${feedback.handlerLogGroupName}.`),
                threshold: percentToFraction(percent),
                evaluationPeriods: 1,
                comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                // SES publishes the rates only while mail is sent. A quiet hour keeps the state
                // (a high rate stays in ALARM, no false "OK" mail), as the SES guide advises.
                // https://docs.aws.amazon.com/ses/latest/dg/reputationdashboard-cloudwatch-alarm.html
                treatMissingData: cloudwatch.TreatMissingData.IGNORE,
              },
            ),
          );
        }
      }
    }

    add(
      heldAlarm(
        'FeedbackDeadLettersAlarm',
        feedback.metricDeadLetters(),
        `Bounce/complaint messages failed every retry and wait in the dead-letter queue (environment ${environmentName}): their recipients may not be suppressed. ` +
          `Read the feedback handler's logs${handlerLogs} for the reason (ERROR: a malformed message; WARN: a failed suppression call, whose "refused" lists addresses SES refuses every time: delete those messages rather than move them back), fix it, then move the messages back (aws sqs start-message-move-task --source-arn ${feedback.deadLetterQueueArn ?? '<FeedbackDeadLetterQueueArn output>'} --region ${stack.region}).`,
      ),
    );
    // The app's own copy of the events: its consumer is the app's, its dead-letter queue is ours,
    // and nobody else looks there before SQS deletes what it holds.
    const appDeadLetters = feedback.metricAppDeadLetters?.();
    if (appDeadLetters) {
      add(
        heldAlarm(
          'AppFeedbackDeadLettersAlarm',
          appDeadLetters,
          `Bounce/complaint events in the app's feedback queue failed every receive of the app's consumer and wait in the app queue's dead-letter queue (environment ${environmentName}); SQS deletes each 14 days after it reached the app queue. ` +
            `The suppression list is not affected (the stack's own handler takes its own copy). Read the app consumer's logs, fix it, then move the messages back (aws sqs start-message-move-task --source-arn ${feedback.appDeadLetterQueueArn ?? '<AppFeedbackDeadLetterQueueArn output>'} --region ${stack.region}).`,
        ),
      );
    }
    // The webhook's leftovers: SNS gave up on them, and only an operator can hand them to the app.
    const webhookDeadLetters = feedback.metricWebhookDeadLetters?.();
    if (webhookDeadLetters) {
      const queue = `--queue-url ${feedback.webhookDeadLetterQueueUrl ?? '<WebhookFeedbackDeadLetterQueueUrl output>'}`;
      add(
        heldAlarm(
          'WebhookFeedbackDeadLettersAlarm',
          webhookDeadLetters,
          `Bounce/complaint events the app's webhook did not take (SNS retried each for 50 minutes, or got an error it does not retry) wait in the webhook's dead-letter queue (environment ${environmentName}); SQS deletes each 14 days after it arrived. ` +
            `The suppression list is not affected (the stack's own handler takes its own copy). Fix the webhook (its logs; it must answer SNS with a 2xx), then read the events and give them to the app (aws sqs receive-message ${queue} --max-number-of-messages 10 --message-attribute-names All --region ${stack.region}), and delete each one the app took, by the ReceiptHandle that read gave it (aws sqs delete-message ${queue} --receipt-handle HANDLE --region ${stack.region}).`,
        ),
      );
    }
    // An app that takes nothing fails nothing either: its events expire unseen.
    const appOldest = feedback.metricAppOldestMessageAge?.();
    if (appOldest) {
      add(
        waitedAlarm(
          'AppFeedbackQueueAgeAlarm',
          appOldest,
          3 * 86400,
          `Bounce/complaint events have waited 3 days or more in the app's feedback queue (environment ${environmentName}): the app's consumer takes none, and SQS deletes each ${APP_QUEUE_RETENTION_DAYS} days after it arrived. ` +
            `The suppression list is not affected. Start the app's consumer, or check that it may receive from the queue and decrypt with its KMS key, or turn feedback.appQueue off if no app reads it.`,
        ),
      );
    }
    // A handler that takes no messages fails none and dead-letters none. A message it fails stays
    // as long as its receives take (retrySeconds) before the dead-letter queue: the alarm waits an
    // hour, or longer when those take that long (whole hours, 10 minutes to spare).
    const oldestMessageAge = feedback.metricOldestMessageAge?.();
    if (oldestMessageAge) {
      const hours = Math.max(1, Math.ceil(((feedback.retrySeconds ?? 0) + 600) / 3600));
      add(
        waitedAlarm(
          'FeedbackQueueAgeAlarm',
          oldestMessageAge,
          hours * 3600,
          `Bounce/complaint messages have waited ${hours === 1 ? 'an hour' : `${hours} hours`} or more in the feedback queue (environment ${environmentName}): nothing takes them, so their recipients are not suppressed, and each expires unhandled after 4 days. ` +
            `Check that the feedback handler's event source mapping is Enabled (aws lambda list-event-source-mappings --function-name ${feedback.handlerFunctionName ?? '<handler>'} --region ${stack.region}${feedback.handlerEventSourceMappingId ? `; to enable it: aws lambda update-event-source-mapping --uuid ${feedback.handlerEventSourceMappingId} --enabled --region ${stack.region}` : ''}), that its role may decrypt the queue's key, and read its logs${handlerLogs}.`,
        ),
      );
    }
    // A queue policy or key that no longer lets SNS in is a client-side error: SNS does not retry
    // it, and the notification is lost. (A server-side error is retried for days before it counts.)
    // https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html
    // The feedback topic's queues only: an app's webhook has a topic of its own (SendingFeedback's
    // webhookTopic), as SNS counts each failed attempt at an HTTPS endpoint, retries too, with no
    // dimension per subscription; its dead-letter alarm is its signal. No alarm on its attempts:
    // what its 50 minutes of retries do not deliver reaches that alarm, and what it refuses with a
    // 4xx does at once; one on failures in every 5 minutes for half an hour would page only 20
    // minutes earlier, for events SNS still retries, and also for a slow deploy of the app.
    // https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html
    const deliveryFailures = feedback.metricDeliveryFailures?.();
    if (deliveryFailures) {
      add(
        alarms.alarmOnAny(
          'FeedbackDeliveryFailuresAlarm',
          deliveryFailures,
          `SNS could not deliver bounce/complaint notifications to the feedback queue, or to the app's queue if configured (environment ${environmentName}): its queue policy or KMS key no longer lets SNS in. SNS does not retry that: those notifications are lost, and if the feedback queue's, their recipients are not suppressed. ` +
            `The app's webhook has a topic of its own and does not count here. The dashboard's "Feedback handled" still counting events after the failures means the feedback queue takes them (then the app queue does not). ` +
            `Compare the queue policies and the key policy with the deployed template (${restore}).`,
        ),
      );
    }
    add(
      alarms.alarmOnAny(
        'FeedbackHandlerErrorsAlarm',
        feedback.metricHandlerErrors(),
        `The bounce/complaint handler failed whole invocations (crash or timeout, environment ${environmentName}); messages are retried and then dead-lettered. ` +
          `Read its logs${handlerLogs}. A failed suppression call (SES throttling included) retries only its own message and does not count here.`,
      ),
    );
    const retry =
      `The current credentials are unchanged: they are never replaced before new ones pass an SMTP login. ` +
      `Read the rotation function's logs (${credentials.rotationLogGroupName}), fix the cause, then rotate again: npx --no -- ses-smtp rotate ${alarmCliOptions(this, props.cliOptions)}. ` +
      // A blocked rotation fails too: rotating again is blocked again until the old key is unused.
      `With the RotationBlocked alarm too (an app still sends with the previous key), follow that alarm's steps instead.`;
    add(
      alarms.alarmOnAny(
        'RotationFailedAlarm',
        credentials.metricRotationFailures(),
        `SES SMTP credential rotation FAILED (Secrets Manager RotationFailed). ${retry}`,
      ),
    );
    add(
      alarms.alarmOnAny(
        'RotationErrorsAlarm',
        credentials.metricRotationErrors(),
        `The SES SMTP rotation function raised errors in the last hour (a step failed; Secrets Manager retries it). ${retry}`,
      ),
    );
    const eventDeliveryFailures = credentials.metricEventDeliveryFailures?.();
    if (eventDeliveryFailures) {
      add(
        alarms.alarmOnAny(
          'CredentialEventDeliveryFailuresAlarm',
          eventDeliveryFailures,
          `EventBridge could not deliver a credentials event (environment ${environmentName}): the "credentials rotated" message to the apps' topic (and to the function that restarts ECS services, if any), or a failed rotation to the operators. The topic policy or the KMS key policy no longer lets EventBridge publish, or the function's policy no longer lets it invoke; such an event is lost. ` +
            `Compare both with the deployed template (${restore}); an app that missed a rotation reads the secret again (npx --no -- ses-smtp env ${alarmCliOptions(this, props.cliOptions)}).`,
        ),
      );
    }
  }
}
