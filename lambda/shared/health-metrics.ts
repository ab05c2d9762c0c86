/*
 * The health metrics: one CloudWatch namespace for the scheduled checks and the rotation guard,
 * written as Embedded Metric Format log lines (no PutMetricData call or permission).
 * The constructs that alarm on them import the same names from here.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

export const HEALTH_NAMESPACE = 'SesSmtp/Health';

/** Per check: 1 when it passed, 0 when it failed or warned. Dimensions Environment, Check. */
export const CHECK_METRIC = 'CheckPassed';

/** Quota figures from SESv2 GetAccount, and shares of them in percent. Dimension Environment. */
export const QUOTA_METRICS = {
  max24HourSend: 'Max24HourSend',
  sentLast24Hours: 'SentLast24Hours',
  maxSendRate: 'MaxSendRate',
  quotaUsedPercent: 'QuotaUsedPercent',
  peakSendRatePercent: 'PeakSendRatePercent',
} as const;

/** The name of a quota figure (`HealthChecks.metricQuota`). */
export type QuotaMetricName = (typeof QUOTA_METRICS)[keyof typeof QUOTA_METRICS];

/**
 * One point per finished run of the scheduled checks, 1. Dimensions Environment, Run ("all" or
 * "quota"): what tells whether each schedule still runs (the daily run publishes every check,
 * the hourly run's too).
 */
export const RUN_METRIC = 'RunFinished';

/**
 * In the same line as RUN_METRIC: how many of the run's checks could not tell (they publish no
 * CheckPassed point, so their alarms keep their state). What tells a check blind for days.
 */
export const UNDETERMINED_METRIC = 'ChecksUndetermined';

/** Count of rotations the stale-use guard stopped. Dimension Environment. */
export const ROTATION_BLOCKED_METRIC = 'RotationBlockedPreviousKeyInUse';

export type MetricUnit = 'Count' | 'Percent' | 'Count/Second' | 'None';

export interface MetricValue {
  readonly name: string;
  readonly value: number;
  readonly unit: MetricUnit;
}

/** One EMF document: every value under one set of dimensions. */
export function emfLine(
  dimensions: Record<string, string>,
  metrics: MetricValue[],
  timestamp = Date.now(),
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: HEALTH_NAMESPACE,
          Dimensions: [Object.keys(dimensions)],
          Metrics: metrics.map(({ name, unit }) => ({ Name: name, Unit: unit })),
        },
      ],
    },
    ...dimensions,
    ...Object.fromEntries(metrics.map((m) => [m.name, m.value])),
  });
}
