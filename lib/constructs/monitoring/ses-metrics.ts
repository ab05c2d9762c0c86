import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  CONFIGURATION_SET_DIMENSION,
  REPUTATION_METRIC_NAMES,
  SES_NAMESPACE,
} from '../../../lambda/shared/ses-metric-names';

/**
 * Metric factory for what SES itself publishes in `AWS/SES`: the reputation rates (account-wide
 * or per configuration set) and the sending counts. Constructs that own a configuration set
 * expose its rates through their own `metricXxx()` methods, built on these.
 * @see https://docs.aws.amazon.com/ses/latest/dg/reputationdashboard-cloudwatch-alarm.html
 */
export { SES_NAMESPACE } from '../../../lambda/shared/ses-metric-names';

/** The two rates AWS reviews an account on. */
export type ReputationRate = 'Bounce' | 'Complaint';

/** Warning and critical alarm levels, in percent. */
export interface RateThresholds {
  /** The rate at which the warning alarm fires, percent. */
  readonly warning: number;
  /** The rate at which the critical alarm fires, percent, above `warning`. */
  readonly critical: number;
}

/** What AWS does at which level of each rate, and what an operator should do about it. */
export interface ReputationRateInfo {
  readonly metricName: string;
  /** AWS reviews an account at this rate, percent. */
  readonly review: number;
  /** AWS may pause an account's sending at this rate, percent. */
  readonly pause: number;
  /** Default alarm levels, percent. */
  readonly defaults: RateThresholds;
  /** What to do when the rate is high. */
  readonly advice: string;
}

/**
 * AWS's review and pause levels, as the SES developer guide states them.
 * @see https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html
 */
export const REPUTATION_RATES: Record<ReputationRate, ReputationRateInfo> = {
  Bounce: {
    metricName: REPUTATION_METRIC_NAMES.Bounce,
    review: 5,
    pause: 10,
    defaults: { warning: 2, critical: 5 },
    advice:
      'Find the bounced addresses in the feedback handler logs; stop sending to old or bought lists, confirm addresses at signup (double opt-in), and check that the app does not retry suppressed recipients.',
  },
  Complaint: {
    metricName: REPUTATION_METRIC_NAMES.Complaint,
    review: 0.1,
    pause: 0.5,
    defaults: { warning: 0.05, critical: 0.1 },
    advice:
      "Find which mail draws complaints: the feedback handler's log names each complaint's sender and the app's message tags (X-SES-MESSAGE-TAGS, see the README). Send only mail people asked for, make unsubscribing one click (List-Unsubscribe), and lower the frequency.",
  },
};

/**
 * `percent` as the fraction SES publishes its rates in. Dividing by 100 alone is off by one in the
 * last digit for a quarter of the two-decimal levels (0.07 % gives 0.0007000000000000001): an alarm
 * "at or above 0.07 %" would then not fire on a rate of exactly 0.0007.
 */
export function percentToFraction(percent: number): number {
  return Number((percent / 100).toPrecision(15));
}

/** Where a reputation rate is measured. */
export interface ReputationScope {
  /** @default - the whole account in this Region */
  readonly configurationSetName?: string;
}

/**
 * A reputation rate (a fraction from 0 to 1), the maximum over each hour.
 * SES publishes it only while mail is sent: quiet hours have no data point.
 * A configuration set's rates carry CONFIGURATION_SET_DIMENSION.
 */
export function metricReputationRate(
  rate: ReputationRate,
  scope: ReputationScope = {},
  options: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: SES_NAMESPACE,
    metricName: REPUTATION_RATES[rate].metricName,
    dimensionsMap: scope.configurationSetName
      ? { [CONFIGURATION_SET_DIMENSION]: scope.configurationSetName }
      : {},
    statistic: 'Maximum',
    period: Duration.hours(1),
    ...options,
  });
}

/**
 * The messages one configuration set sent, per hour: what its CloudWatch event destination
 * publishes for SEND events under the configuration set auto-tag (SendingFeedback makes it). The
 * account's `Send` cannot tell environments apart; this can.
 * @see https://docs.aws.amazon.com/ses/latest/dg/event-publishing-add-event-destination-cloudwatch.html
 */
export function metricConfigurationSetSends(
  configurationSetName: string,
  options: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: SES_NAMESPACE,
    metricName: 'Send',
    dimensionsMap: { [CONFIGURATION_SET_DIMENSION]: configurationSetName },
    statistic: 'Sum',
    period: Duration.hours(1),
    ...options,
  });
}

/** An account-wide sending count per hour: Send, Delivery, Bounce, Complaint, Reject. */
export function metricSendingCount(
  metricName: 'Send' | 'Delivery' | 'Bounce' | 'Complaint' | 'Reject',
  options: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: SES_NAMESPACE,
    metricName,
    statistic: 'Sum',
    period: Duration.hours(1),
    ...options,
  });
}
