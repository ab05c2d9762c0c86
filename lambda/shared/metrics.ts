/*
 * CloudWatch metrics through the Embedded Metric Format: one log line per dimension set, which
 * CloudWatch Logs turns into metrics without an API call (or a PutMetricData permission).
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** Namespace of the feedback handler's metrics (the handler writes them, the dashboard reads them). */
export const FEEDBACK_NAMESPACE = 'SesSmtp/Feedback';

/**
 * The dimensions of each counted feedback metric, after Environment. The dashboard's SEARCH names
 * them as its schema, and a schema matches only metrics with exactly its dimensions: the handler
 * and the dashboard both take them from here.
 */
export const FEEDBACK_METRIC_DIMENSIONS = {
  Events: ['EventType', 'BounceType'],
  RecipientsSuppressed: ['EventType'],
  RecipientsRedacted: ['EventType'],
} as const;
export type FeedbackMetric = keyof typeof FEEDBACK_METRIC_DIMENSIONS;

export class MetricBatch {
  private readonly counts = new Map<
    string,
    { dimensions: Record<string, string>; values: Map<string, number> }
  >();

  constructor(
    private readonly namespace: string,
    private readonly baseDimensions: Record<string, string>,
  ) {}

  add(metric: string, value: number, dimensions: Record<string, string> = {}): void {
    if (value === 0) return;
    const all = { ...this.baseDimensions, ...dimensions };
    const key = JSON.stringify(Object.entries(all).sort());
    const entry = this.counts.get(key) ?? { dimensions: all, values: new Map() };
    entry.values.set(metric, (entry.values.get(metric) ?? 0) + value);
    this.counts.set(key, entry);
  }

  /** The EMF documents, one per dimension set; the batch is empty afterwards. */
  flush(timestamp = Date.now()): string[] {
    const lines = [...this.counts.values()].map(({ dimensions, values }) =>
      JSON.stringify({
        _aws: {
          Timestamp: timestamp,
          CloudWatchMetrics: [
            {
              Namespace: this.namespace,
              Dimensions: [Object.keys(dimensions)],
              Metrics: [...values.keys()].map((Name) => ({ Name, Unit: 'Count' })),
            },
          ],
        },
        ...dimensions,
        ...Object.fromEntries(values),
      }),
    );
    this.counts.clear();
    return lines;
  }
}
