import type { CloudFormationCustomResourceHandler } from 'aws-lambda';
import { cloudformation, iam } from '../shared/clients';
import { responseBody, sendResponse } from '../shared/custom-resource';
import { createLogger } from '../shared/logger';
import { handleEvent } from './cleanup';

const log = createLogger({ function: 'smtp-user-cleanup' });

export const handler: CloudFormationCustomResourceHandler = async (event, context) => {
  const result = await handleEvent(event, { iam, cloudformation }, log);
  await sendResponse(event.ResponseURL, responseBody(event, result, context.logStreamName));
};
