import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { CloudFormationCustomResourceHandler } from 'aws-lambda';
import { secretsManager } from '../shared/clients';
import { responseBody, sendResponse } from '../shared/custom-resource';
import { createLogger } from '../shared/logger';
import { handleEvent } from './ready';

const log = createLogger({ function: 'credentials-ready' });
const logs = new CloudWatchLogsClient({});
/** Kept for reading the rotation log and answering CloudFormation after the wait. */
const ANSWER_MS = 30_000;

export const handler: CloudFormationCustomResourceHandler = async (event, context) => {
  const clock = {
    now: () => Date.now(),
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  };
  const deadline = Date.now() + context.getRemainingTimeInMillis() - ANSWER_MS;
  const result = await handleEvent(event, { secretsManager, logs }, log, clock, deadline);
  await sendResponse(event.ResponseURL, responseBody(event, result, context.logStreamName));
};
