import type { SQSHandler } from 'aws-lambda';
import { GetAccountCommand } from '@aws-sdk/client-sesv2';
import { sesv2 } from '../shared/clients';
import { writeEmf } from '../shared/emf-output';
import { createLogger } from '../shared/logger';
import { MetricBatch } from '../shared/metrics';
import { METRIC_NAMESPACE, processBatch } from './process';

const environment = process.env.ENVIRONMENT_NAME ?? 'unknown';
// Optional: a function deployed before it was set falls back to SendingFeedback's default.
const maxReceiveCount = Number(process.env.MAX_RECEIVE_COUNT) || undefined;
const log = createLogger({ function: 'ses-feedback', environment });

/** The answer of GetAccount, kept an hour: production access, once granted, stays. */
const SANDBOX_ANSWER_MS = 3_600_000;
let sandboxAnswer: { at: number; inSandbox: Promise<boolean> } | undefined;

/** Whether the account is in the SES sandbox in this Region (asked after a refused suppression). */
function inSandbox(): Promise<boolean> {
  if (sandboxAnswer === undefined || Date.now() - sandboxAnswer.at > SANDBOX_ANSWER_MS) {
    const answer = sesv2.send(new GetAccountCommand({})).then((a) => a.ProductionAccessEnabled !== true);
    // A failed read is not kept: the next refusal asks again (a newer answer stays).
    const kept = { at: Date.now(), inSandbox: answer };
    answer.catch(() => {
      if (sandboxAnswer === kept) sandboxAnswer = undefined;
    });
    sandboxAnswer = kept;
  }
  return sandboxAnswer.inSandbox;
}

export const handler: SQSHandler = async (event, context) => {
  const metrics = new MetricBatch(METRIC_NAMESPACE, { Environment: environment });
  try {
    const batchItemFailures = await processBatch(event.Records, {
      ses: sesv2,
      log,
      metrics,
      timeLeftMs: () => context.getRemainingTimeInMillis(),
      maxReceiveCount,
      inSandbox,
    });
    return { batchItemFailures };
  } finally {
    writeEmf(metrics.flush());
  }
};
