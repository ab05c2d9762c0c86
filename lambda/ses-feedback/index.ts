import type { SQSHandler } from 'aws-lambda';
import { sesv2 } from '../shared/clients';
import { writeEmf } from '../shared/emf-output';
import { createLogger } from '../shared/logger';
import { MetricBatch } from '../shared/metrics';
import { METRIC_NAMESPACE, processBatch } from './process';

const environment = process.env.ENVIRONMENT_NAME ?? 'unknown';
// Optional: a function deployed before it was set falls back to SendingFeedback's default.
const maxReceiveCount = Number(process.env.MAX_RECEIVE_COUNT) || undefined;
const log = createLogger({ function: 'ses-feedback', environment });

export const handler: SQSHandler = async (event, context) => {
  const metrics = new MetricBatch(METRIC_NAMESPACE, { Environment: environment });
  try {
    const batchItemFailures = await processBatch(event.Records, {
      ses: sesv2,
      log,
      metrics,
      timeLeftMs: () => context.getRemainingTimeInMillis(),
      maxReceiveCount,
    });
    return { batchItemFailures };
  } finally {
    writeEmf(metrics.flush());
  }
};
