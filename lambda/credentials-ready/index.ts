import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudFormationCustomResourceHandler } from 'aws-lambda';
import { logs, secretsManager } from '../shared/clients';
import { CustomResourceResult, responseBody, sendResponse } from '../shared/custom-resource';
import { createLogger, describeError } from '../shared/logger';
import { handleEvent, LOG_READ_MS } from './ready';

const log = createLogger({ function: 'credentials-ready' });
/** Kept after the wait: reading the rotation log (LOG_READ_MS), then answering CloudFormation. */
export const ANSWER_MS = LOG_READ_MS + 15_000;

/** When the wait must stop, for an invocation with `remainingMs` left at `now`. */
export const waitDeadline = (now: number, remainingMs: number) => now + remainingMs - ANSWER_MS;

export const handler: CloudFormationCustomResourceHandler = async (event, context) => {
  const clock = { now: () => Date.now(), sleep };
  const deadline = waitDeadline(Date.now(), context.getRemainingTimeInMillis());
  // Always an answer: without one CloudFormation waits out the resource's service timeout.
  const result: CustomResourceResult = await handleEvent(
    event,
    { secretsManager, logs },
    log,
    clock,
    deadline,
  ).catch((error: unknown) => {
    log.error('the wait failed', describeError(error));
    return {
      Status: 'FAILED',
      Reason: `The wait for the first SMTP credentials failed: ${(error as Error).name}`,
      PhysicalResourceId:
        event.RequestType === 'Create'
          ? `credentials-ready-${event.LogicalResourceId}`
          : event.PhysicalResourceId,
    };
  });
  await sendResponse(event.ResponseURL, responseBody(event, result, context.logStreamName));
};
