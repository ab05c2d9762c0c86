import { promises as dns } from 'node:dns';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Handler } from 'aws-lambda';
import { CheckRun, HealthClients, HealthTarget } from '../shared/checks';
import { cloudwatch, ecs, iam, secretsManager, sesv2, sns, sqs } from '../shared/clients';
import { retryingServfail, SERVFAIL_RETRY_PAUSE_MS } from '../shared/dns-check';
import { writeEmf } from '../shared/emf-output';
import { createLogger } from '../shared/logger';
import {
  HealthEvent,
  HealthResult,
  keepQueuesReporting,
  queuesFromEnv,
  runHealth,
  smtpLoginFromEnv,
  targetFromEnv,
} from './health';

const log = createLogger({ function: 'health-check' });
// Read on the first invocation and kept: a bad value fails that invocation, naming the field.
let target: HealthTarget | undefined;
// The Region's resolver, as any receiving mail server would see the records; a SERVFAIL is asked
// again once before it fails a check that would then stand for a day.
const resolver = retryingServfail(new dns.Resolver({ timeout: 3000, tries: 2 }), SERVFAIL_RETRY_PAUSE_MS);

/** The clients of one run: the SDK's, the Region's resolver, the SMTP login (exported for its test). */
export function runClients(env: NodeJS.ProcessEnv = process.env): HealthClients {
  return {
    ses: sesv2,
    secrets: secretsManager,
    iam,
    cloudwatch,
    sns,
    ecs,
    resolver,
    now: () => new Date(),
    smtp: smtpLoginFromEnv(env),
  };
}

/** One read of a queue's attributes: the call is what keeps SQS reporting it. */
const readQueueAttributes = (url: string) =>
  sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }));

export const handler: Handler<HealthEvent, HealthResult> = async (event) => {
  target ??= targetFromEnv(process.env);
  const queues = queuesFromEnv(process.env);
  const [result] = await Promise.all([
    runHealth(event ?? {}, new CheckRun(target, runClients()), (line) => writeEmf([line]), log),
    keepQueuesReporting(queues, readQueueAttributes, log),
  ]);
  return result;
};
