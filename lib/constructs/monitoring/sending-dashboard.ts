import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { IFeedbackMonitoring } from '../sending-feedback';
import { IRotationMonitoring } from '../smtp-credentials';
import {
  metricReputationRate,
  metricSendingCount,
  percentToFraction,
  RateThresholds,
  REPUTATION_RATES,
  ReputationRate,
} from './ses-metrics';

export interface SendingDashboardProps {
  /** Name of the environment: the dashboard is `SesSmtp-<environmentName>`. */
  readonly environmentName: string;
  /** The feedback pipeline shown. */
  readonly feedback: IFeedbackMonitoring;
  /** The credentials whose rotation is shown. */
  readonly credentials: IRotationMonitoring;
  /** The alarm levels drawn on the rate graphs, percent. */
  readonly rateThresholds: Record<ReputationRate, RateThresholds>;
  /**
   * The alarms listed in the alarm panel. Read when the template is written, so alarms added to
   * this list after the dashboard is made are listed too.
   */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/**
 * One dashboard per environment: first an alarm panel that lists every alarm of the environment,
 * those in ALARM first; then sends, deliveries, bounces and complaints; both rates against the
 * alarm levels and the point where AWS may pause sending; queue depths and the handler's work;
 * credential rotation; the app's webhook, when there is one.
 */
export class SendingDashboard extends cloudwatch.Dashboard {
  constructor(scope: Construct, id: string, props: SendingDashboardProps) {
    super(scope, id, {
      // A human opens it by name in the console.
      dashboardName: `SesSmtp-${props.environmentName}`,
      defaultInterval: Duration.days(7),
    });
    const { feedback, credentials } = props;
    const hourly = { period: Duration.hours(1) };

    // What a paged operator opens the dashboard for, so at the top, in view. Some 30 alarms share
    // a panel 3 units high: those in ALARM come first, then those in INSUFFICIENT_DATA (a health
    // schedule that stopped), each group by its latest change; in the default alphabetical order
    // the one that paged could sit out of view among the OK ones.
    // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cloudwatch.AlarmStatusWidgetSortBy.html
    this.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms (in ALARM first)',
        width: 24,
        alarms: props.alarms as cloudwatch.IAlarm[],
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );

    this.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Sending (account, and this environment's sends, per hour)",
        width: 24,
        left: [
          // The account's figures count every environment's mail; this line is this one's.
          ...(feedback.metricSends ? [feedback.metricSends({ label: 'sends of this environment' })] : []),
          metricSendingCount('Send', { label: 'sends (account)' }),
          metricSendingCount('Delivery', { label: 'deliveries' }),
          metricSendingCount('Bounce', { label: 'bounces' }),
          metricSendingCount('Complaint', { label: 'complaints' }),
        ],
      }),
    );
    this.addWidgets(
      ...(['Bounce', 'Complaint'] as const).map((rate) => {
        const levels = props.rateThresholds[rate];
        const { pause } = REPUTATION_RATES[rate];
        return new cloudwatch.GraphWidget({
          title: `${rate} rate (fraction) against the alarm levels`,
          width: 12,
          left: [
            metricReputationRate(rate, {}, { label: 'account' }),
            feedback.metricReputationRate(rate, { label: 'configuration set' }),
          ],
          leftYAxis: { min: 0, showUnits: false },
          leftAnnotations: [
            {
              value: percentToFraction(levels.warning),
              label: `warning ${levels.warning} %`,
              color: cloudwatch.Color.ORANGE,
            },
            {
              value: percentToFraction(levels.critical),
              label: `critical ${levels.critical} %`,
              color: cloudwatch.Color.RED,
            },
            {
              value: percentToFraction(pause),
              label: `AWS may pause sending ${pause} %`,
              color: cloudwatch.Color.PURPLE,
            },
          ],
        });
      }),
    );
    this.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Feedback queue and dead-letter queue depth',
        width: 8,
        left: [
          feedback.metricQueueDepth({ label: 'queue' }),
          feedback.metricDeadLetters({ label: 'dead-letter queue' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Feedback handled (per hour)',
        width: 8,
        left: [
          feedback.metricHandled('Events', { label: 'events' }),
          feedback.metricHandled('RecipientsSuppressed', { label: 'recipients suppressed' }),
        ],
        right: [feedback.metricHandlerErrors({ label: 'handler errors', ...hourly })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Credential rotation',
        width: 8,
        left: [
          credentials.metricRotationSteps({ label: 'rotation steps run' }),
          credentials.metricRotationErrors({ label: 'rotation step errors' }),
          credentials.metricRotationFailures({ label: 'rotations failed', ...hourly }),
        ],
      }),
    );
    // The app's webhook: its failed attempts page no one (SNS counts each, retries too, and a
    // deploy of the app fails some); what its retries do not deliver has the dead-letter alarm.
    const webhookFailures = feedback.metricWebhookDeliveryFailures?.({ label: 'failed attempts' });
    if (webhookFailures) {
      const deadLetters = feedback.metricWebhookDeadLetters?.({ label: 'dead-letter queue' });
      this.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'App webhook: failed delivery attempts (retries too) and its dead-letter queue',
          width: 12,
          left: [webhookFailures],
          right: deadLetters ? [deadLetters] : [],
        }),
      );
    }
  }
}
