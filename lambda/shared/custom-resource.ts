import { request } from 'node:https';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/** What a custom resource's handler answers CloudFormation. */
export interface CustomResourceResult {
  readonly Status: 'SUCCESS' | 'FAILED';
  /** Shown in the stack's events (and by `cdk deploy`) when the resource fails. */
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
}

/** CloudFormation's response document for the pre-signed ResponseURL. */
export function responseBody(
  event: CloudFormationCustomResourceEvent,
  result: CustomResourceResult,
  logStream: string,
): string {
  return JSON.stringify({
    Status: result.Status,
    Reason: result.Reason ?? `See CloudWatch log stream ${logStream}`,
    PhysicalResourceId: result.PhysicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
}

/** PUTs the response to CloudFormation's pre-signed URL; a stack waits an hour if this never happens. */
export function sendResponse(url: string, body: string): Promise<void> {
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
