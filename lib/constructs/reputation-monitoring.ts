import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { OperatorAlarms } from './operator-alarms';
import { SendingFeedback } from './sending-feedback';
import { SmtpCredentials } from './smtp-credentials';

/** Warning and critical alarm levels, in percent. */
export interface RateThresholds {
  readonly warning: number;
  readonly critical: number;
}

export interface ReputationMonitoringProps {
  /** Name of the environment: in alarm descriptions, the dashboard name and metric dimensions. */
  readonly environmentName: string;
  /** Where every alarm goes. */
  readonly alarms: OperatorAlarms;
  /** The feedback pipeline whose configuration set, queues and handler are watched. */
  readonly feedback: SendingFeedback;
  /** The credentials whose rotation is alarmed on and shown. */
  readonly credentials: SmtpCredentials;
  /**
   * Bounce rate levels, percent. AWS reviews an account at 5 % and may pause sending at 10 %.
   * @see https://docs.aws.amazon.com/ses/latest/dg/reputationdashboard-cloudwatch-alarm.html
   * @default { warning: 2, critical: 5 }
   */
  readonly bounceRatePercent?: RateThresholds;
  /**
   * Complaint rate levels, percent. AWS reviews an account at 0.1 % and may pause sending at 0.5 %.
   * @default { warning: 0.05, critical: 0.1 }
   */
  readonly complaintRatePercent?: RateThresholds;
}

const SES = 'AWS/SES';
const FEEDBACK = 'SesSmtp/Feedback';

interface RateMetric {
  readonly key: 'Bounce' | 'Complaint';
  readonly metricName: string;
  readonly thresholds: RateThresholds;
  readonly review: number;
  readonly pause: number;
  readonly advice: string;
}

/**
 * Alarms before AWS would act on the account (bounce and complaint rates, account-wide and for the
 * configuration set, at a warning and a critical level), alarms on the feedback pipeline and on
 * credential rotation, and a dashboard of the environment's sending whose alarm panel lists them all.
 */
export class ReputationMonitoring extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ReputationMonitoringProps) {
    super(scope, id);
    const { alarms, feedback, credentials, environmentName } = props;
    const rates: RateMetric[] = [
      {
        key: 'Bounce',
        metricName: 'Reputation.BounceRate',
        thresholds: props.bounceRatePercent ?? { warning: 2, critical: 5 },
        review: 5,
        pause: 10,
        advice:
          'Find the bounced addresses in the feedback handler logs; stop sending to old or bought lists, confirm addresses at signup (double opt-in), and check that the app does not retry suppressed recipients.',
      },
      {
        key: 'Complaint',
        metricName: 'Reputation.ComplaintRate',
        thresholds: props.complaintRatePercent ?? { warning: 0.05, critical: 0.1 },
        review: 0.1,
        pause: 0.5,
        advice:
          'Find which mail draws complaints in the feedback handler logs; send only mail people asked for, make unsubscribing one click (List-Unsubscribe), and lower the frequency.',
      },
    ];
    for (const rate of rates) validate(rate);

    const setName = feedback.configurationSet.configurationSetName;
    const scopes = [
      { id: 'Account', label: 'account', dimensions: {} as Record<string, string> },
      {
        id: 'ConfigurationSet',
        label: 'configuration set',
        dimensions: { 'ses:configuration-set': setName },
      },
    ];
    for (const rate of rates) {
      for (const s of scopes) {
        for (const level of ['warning', 'critical'] as const) {
          const percent = rate.thresholds[level];
          alarms.addAlarm(
            `${rate.key}Rate${s.id}${level === 'warning' ? 'Warning' : 'Critical'}`,
            reputationMetric(rate.metricName, s.dimensions),
            {
              alarmDescription:
                `${level.toUpperCase()}: SES ${rate.key.toLowerCase()} rate (${s.label}, environment ${environmentName}) is at or above ${percent} %. ` +
                `AWS reviews an account at ${rate.review} % and may pause its sending at ${rate.pause} %. ${rate.advice}`,
              threshold: percent / 100,
              evaluationPeriods: 1,
              comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
              // No mail sent means no rate: that is not a reputation problem.
              treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
            },
          );
        }
      }
    }

    alarms.alarmOnAny(
      'FeedbackDeadLettersAlarm',
      feedback.metricDeadLetters(),
      `Bounce/complaint messages failed every retry and wait in the dead-letter queue (environment ${environmentName}): their recipients may not be suppressed. ` +
        `Read the ERROR lines of the feedback handler's logs for the reason, fix it, then move the messages back with: aws sqs start-message-move-task --source-arn <DeadLetterQueueArn>.`,
    );
    alarms.alarmOnAny(
      'FeedbackHandlerErrorsAlarm',
      feedback.handler.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      `The bounce/complaint handler failed whole invocations (crash or timeout, environment ${environmentName}); messages are retried and then dead-lettered. ` +
        `Read its logs; if SES throttles, the retries catch up on their own.`,
    );
    const retry =
      `Apps keep working: the current credentials are never deleted before new ones pass an SMTP login. ` +
      `Read the rotation function's logs (${credentials.rotationFunction.logGroup.logGroupName}), fix the cause, then rotate again: npx ses-smtp rotate --env ${environmentName}`;
    alarms.alarmOnAny(
      'RotationFailedAlarm',
      credentials.metricRotationFailures(),
      `SES SMTP credential rotation FAILED (Secrets Manager RotationFailed). ${retry}`,
    );
    alarms.alarmOnAny(
      'RotationErrorsAlarm',
      credentials.rotationFunction.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      `The SES SMTP rotation function raised errors in the last hour (a step failed; Secrets Manager retries it). ${retry}`,
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      // A human opens it by name in the console.
      dashboardName: `SesSmtp-${environmentName}`,
      defaultInterval: Duration.days(7),
    });
    const sesCount = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: SES,
        metricName,
        statistic: 'Sum',
        period: Duration.hours(1),
        label,
      });
    const rateWidget = (rate: RateMetric) =>
      new cloudwatch.GraphWidget({
        title: `${rate.key} rate (fraction) against the alarm levels`,
        width: 12,
        left: scopes.map((s) => reputationMetric(rate.metricName, s.dimensions, s.label)),
        leftYAxis: { min: 0, showUnits: false },
        leftAnnotations: [
          {
            value: rate.thresholds.warning / 100,
            label: `warning ${rate.thresholds.warning} %`,
            color: cloudwatch.Color.ORANGE,
          },
          {
            value: rate.thresholds.critical / 100,
            label: `critical ${rate.thresholds.critical} %`,
            color: cloudwatch.Color.RED,
          },
          {
            value: rate.pause / 100,
            label: `AWS may pause sending ${rate.pause} %`,
            color: cloudwatch.Color.PURPLE,
          },
        ],
      });
    const feedbackMetric = (metricName: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SUM(SEARCH('{${FEEDBACK},Environment,EventType} MetricName="${metricName}" Environment="${environmentName}"', 'Sum', 3600))`,
        label,
        period: Duration.hours(1),
      });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sending (account, per hour)',
        width: 24,
        left: [
          sesCount('Send', 'sends'),
          sesCount('Delivery', 'deliveries'),
          sesCount('Bounce', 'bounces'),
          sesCount('Complaint', 'complaints'),
        ],
      }),
    );
    this.dashboard.addWidgets(...rates.map(rateWidget));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Feedback queue and dead-letter queue depth',
        width: 8,
        left: [
          feedback.queue.metricApproximateNumberOfMessagesVisible({ label: 'queue', statistic: 'Maximum' }),
          feedback.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            label: 'dead-letter queue',
            statistic: 'Maximum',
          }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Feedback handled (per hour)',
        width: 8,
        left: [
          feedbackMetric('Events', 'events'),
          feedbackMetric('RecipientsSuppressed', 'recipients suppressed'),
        ],
        right: [
          feedback.handler.metricErrors({
            label: 'handler errors',
            statistic: 'Sum',
            period: Duration.hours(1),
          }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Credential rotation',
        width: 8,
        left: [
          credentials.rotationFunction.metricInvocations({
            label: 'rotation steps run',
            statistic: 'Sum',
            period: Duration.hours(1),
          }),
          credentials.rotationFunction.metricErrors({
            label: 'rotation step errors',
            statistic: 'Sum',
            period: Duration.hours(1),
          }),
          credentials.metricRotationFailures({ label: 'rotations failed', period: Duration.hours(1) }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: alarms.alarms }),
    );
  }
}

function reputationMetric(
  metricName: string,
  dimensionsMap: Record<string, string>,
  label?: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: SES,
    metricName,
    dimensionsMap,
    statistic: 'Maximum',
    period: Duration.hours(1),
    label,
  });
}

function validate(rate: RateMetric): void {
  const { warning, critical } = rate.thresholds;
  if (!(warning > 0 && warning < critical && critical < rate.pause)) {
    throw new Error(
      `${rate.key.toLowerCase()}RatePercent must have 0 < warning < critical < ${rate.pause} (the rate at which AWS may pause sending), got: warning ${warning}, critical ${critical}`,
    );
  }
}
