import type { SQSHandler } from 'aws-lambda';
import { sesv2 } from '../shared/clients';
import { writeEmf } from '../shared/emf-output';
import { createLogger } from '../shared/logger';
import { MetricBatch } from '../shared/metrics';
import { METRIC_NAMESPACE, processBatch } from './process';

const environment = process.env.ENVIRONMENT_NAME ?? 'unknown';
const log = createLogger({ function: 'ses-feedback', environment });

export const handler: SQSHandler = async (event, context) => {
  const metrics = new MetricBatch(METRIC_NAMESPACE, { Environment: environment });
  try {
    const batchItemFailures = await processBatch(event.Records, {
      ses: sesv2,
      log,
      metrics,
      timeLeftMs: () => context.getRemainingTimeInMillis(),
    });
    return { batchItemFailures };
  } finally {
    writeEmf(metrics.flush());
  }
};
