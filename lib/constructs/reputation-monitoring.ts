import { Construct } from 'constructs';
import { rateThresholds, SendingAlarms } from './monitoring/sending-alarms';
import { SendingDashboard } from './monitoring/sending-dashboard';
import { RateThresholds } from './monitoring/ses-metrics';
import { IAlarmSink } from './operator-alarms';
import { IFeedbackMonitoring } from './sending-feedback';
import { IRotationMonitoring } from './smtp-credentials';

export interface ReputationMonitoringProps {
  /** Name of the environment: in alarm descriptions and the dashboard name. */
  readonly environmentName: string;
  /** Where every alarm goes; its alarm list is what the dashboard's alarm panel shows. */
  readonly alarms: IAlarmSink;
  /** The feedback pipeline whose configuration set, queues and handler are watched. */
  readonly feedback: IFeedbackMonitoring;
  /** The credentials whose rotation is alarmed on and shown. */
  readonly credentials: IRotationMonitoring;
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
  /**
   * Alarm on the account-wide rates too (one environment per account and Region should).
   * @default true
   */
  readonly accountAlarms?: boolean;
}

/**
 * The monitoring of one environment: its alarms (SendingAlarms) and its dashboard
 * (SendingDashboard), whose alarm panel lists every alarm of the sink, including ones other
 * constructs add later.
 */
export class ReputationMonitoring extends Construct {
  public readonly alarms: SendingAlarms;
  public readonly dashboard: SendingDashboard;

  constructor(scope: Construct, id: string, props: ReputationMonitoringProps) {
    super(scope, id);
    this.alarms = new SendingAlarms(this, 'Alarms', props);
    this.dashboard = new SendingDashboard(this, 'Dashboard', {
      environmentName: props.environmentName,
      feedback: props.feedback,
      credentials: props.credentials,
      rateThresholds: rateThresholds(props),
      alarms: props.alarms.alarms,
    });
  }
}
