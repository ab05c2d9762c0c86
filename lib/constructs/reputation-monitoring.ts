import { Construct } from 'constructs';
import { rateThresholds, SendingAlarms, SendingAlarmsProps } from './monitoring/sending-alarms';
import { SendingDashboard } from './monitoring/sending-dashboard';

/** The alarms' settings; the dashboard shows the same rate levels and lists every alarm of the sink. */
export type ReputationMonitoringProps = SendingAlarmsProps;

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
