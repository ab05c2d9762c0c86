import { request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { retried } from './retry';

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
 * Waits before each new PUT of the same answer after S3 answered 5xx or the PUT got no answer (S3
 * asks for a retry of an InternalError: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ErrorBestPractices.html).
 * Without it Lambda retries the whole invocation a minute later: the credentials-ready function
 * would wait its 14.5 minutes again, past the resource's service timeout, and its reason be lost.
 */
export const PUT_RETRY_WAITS_MS: readonly number[] = [1000, 2000];

/**
 * PUTs the response to CloudFormation's pre-signed URL; the stack waits (up to the resource's
 * service timeout) if this never happens. A PUT that gets no answer within `timeoutMs` is given
 * up, and one that failed for now (5xx, network) is made again after each of `retryWaitsMs`;
 * then it rejects, so that Lambda retries the invocation soon rather than once the function's own
 * timeout ends it. A 4xx (a URL not signed for this PUT) is not retried.
 */
export async function sendResponse(
  url: string,
  body: string,
  timeoutMs = 30_000,
  retryWaitsMs: readonly number[] = PUT_RETRY_WAITS_MS,
): Promise<void> {
  await retried(
    () => putOnce(url, body, timeoutMs),
    sleep,
    retryWaitsMs,
    (error) => {
      const status = (error as PutError).status;
      return status === undefined || status >= 500;
    },
  );
}

/** A failed PUT; `status` is S3's answer, absent when there was none (network, timeout). */
type PutError = Error & { status?: number };

function putOnce(url: string, body: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(
                Object.assign(new Error(`ResponseURL answered ${res.statusCode}`), {
                  status: res.statusCode,
                }),
              ),
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
