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

/**
 * Node's codes for a TLS connection that failed: a certificate not trusted (a proxy or firewall
 * that intercepts TLS), or TLS spoken to something that does not speak it (EPROTO).
 */
export const TLS_ERRORS: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

interface AwsLikeError {
  readonly name?: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly $retryable?: { throttling?: boolean };
  readonly $metadata?: { httpStatusCode?: number };
}

/** An AWS call the service throttled: by the error's name, or as the SDK marks it. */
export function isThrottlingError(error: unknown): boolean {
  const e = (error ?? {}) as AwsLikeError;
  return THROTTLING_ERRORS.has(e.name ?? '') || e.$retryable?.throttling === true;
}

/**
 * An AWS call that failed for now, not for good: throttled, a server error, or the network (what
 * the SDK retries, still failing after its retries). It says nothing of what the call asked about.
 */
export function isTransientAwsError(error: unknown): boolean {
  const e = (error ?? {}) as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  return (
    isThrottlingError(e) ||
    e.$fault === 'server' ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    NETWORK_ERRORS.has(e.code ?? '') ||
    e.name === 'TimeoutError'
  );
}
