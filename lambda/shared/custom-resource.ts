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

/**
 * PUTs the response to CloudFormation's pre-signed URL; the stack waits (up to the resource's
 * service timeout) if this never happens. A PUT that gets no answer within `timeoutMs` rejects, so
 * that Lambda retries the invocation soon rather than once the function's own timeout ends it.
 */
export function sendResponse(url: string, body: string, timeoutMs = 30_000): Promise<void> {
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
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`ResponseURL did not answer within ${timeoutMs / 1000} s`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}
