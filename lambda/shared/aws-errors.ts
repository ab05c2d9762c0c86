/** The names AWS services give a request they throttled. */
export const THROTTLING_ERRORS: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

/** Node's codes for a request that did not reach AWS, or got no answer. */
export const NETWORK_ERRORS: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ECONNABORTED',
  'EPIPE',
]);

interface AwsLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly $retryable?: { throttling?: boolean };
  readonly $metadata?: { httpStatusCode?: number };
}

/**
 * An AWS call that failed for now, not for good: throttled, a server error, or the network (what
 * the SDK retries, still failing after its retries). It says nothing of what the call asked about.
 */
export function isTransientAwsError(error: unknown): boolean {
  const e = (error ?? {}) as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  return (
    THROTTLING_ERRORS.has(e.name ?? '') ||
    e.$retryable?.throttling === true ||
    e.$fault === 'server' ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    NETWORK_ERRORS.has(e.code ?? '') ||
    e.name === 'TimeoutError'
  );
}
