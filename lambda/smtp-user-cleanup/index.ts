import { request } from 'node:https';
import type { CloudFormationCustomResourceHandler } from 'aws-lambda';
import { cloudformation, iam } from '../shared/clients';
import { createLogger } from '../shared/logger';
import { handleEvent, responseBody } from './cleanup';

const log = createLogger({ function: 'smtp-user-cleanup' });

/** PUTs the response to CloudFormation's pre-signed URL; a stack waits an hour if this never happens. */
function send(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`ResponseURL answered ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const handler: CloudFormationCustomResourceHandler = async (event, context) => {
  const result = await handleEvent(event, { iam, cloudformation }, log);
  await send(event.ResponseURL, responseBody(event, result, context.logStreamName));
};
