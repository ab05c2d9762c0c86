import { isTransientAwsError } from '../../lambda/shared/aws-errors';

/* What the health checks take for "could not tell" (a failure for now) rather than a failed check. */

/** An error with one signal of the SDK's at a time: the others would hide a missing one. */
const error = (fields: Record<string, unknown>) =>
  Object.assign(new Error('failed'), { name: 'SomeError', ...fields });

describe('isTransientAwsError', () => {
  test.each<[string, unknown]>([
    ['a throttling name', error({ name: 'ThrottlingException' })],
    ['the retry trait', error({ $retryable: { throttling: true } })],
    ['a server fault', error({ $fault: 'server' })],
    ['HTTP 500', error({ $metadata: { httpStatusCode: 500 } })],
    ['HTTP 503', error({ $metadata: { httpStatusCode: 503 } })],
    ['HTTP 429', error({ $metadata: { httpStatusCode: 429 } })],
    ['a network code', error({ code: 'ECONNRESET' })],
    ["the SDK's timeout", error({ name: 'TimeoutError' })],
  ])('%s: transient', (_signal, e) => {
    expect(isTransientAwsError(e)).toBe(true);
  });

  test.each<[string, unknown]>([
    ['HTTP 400', error({ $fault: 'client', $metadata: { httpStatusCode: 400 } })],
    ['HTTP 403', error({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } })],
    ['HTTP 499', error({ $metadata: { httpStatusCode: 499 } })],
    ['a plain error', new Error('bug')],
    ['nothing', undefined],
  ])('%s: not transient', (_signal, e) => {
    expect(isTransientAwsError(e)).toBe(false);
  });
});
