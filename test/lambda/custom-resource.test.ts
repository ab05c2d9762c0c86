import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { PUT_RETRY_WAITS_MS, responseBody, sendResponse } from '../../lambda/shared/custom-resource';
import { ResponseServer } from '../support/response-server';

/* The answer every custom resource of the stack gives CloudFormation, and how it is sent. */

const event = {
  RequestType: 'Delete',
  ServiceToken: 'x',
  ResponseURL: 'https://127.0.0.1/unused',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-test/1',
  RequestId: 'req-1',
  LogicalResourceId: 'SmtpUserKeyCleanup',
  ResourceType: 'Custom::SmtpUserKeyCleanup',
  ResourceProperties: { ServiceToken: 'x' },
  PhysicalResourceId: 'p',
} as CloudFormationCustomResourceEvent;

test('the response document carries what CloudFormation needs; without a reason, the log stream', () => {
  expect(JSON.parse(responseBody(event, { Status: 'SUCCESS', PhysicalResourceId: 'p' }, 'stream'))).toEqual({
    Status: 'SUCCESS',
    Reason: 'See CloudWatch log stream stream',
    PhysicalResourceId: 'p',
    StackId: event.StackId,
    RequestId: 'req-1',
    LogicalResourceId: 'SmtpUserKeyCleanup',
  });
  const failed = { Status: 'FAILED', Reason: 'why', PhysicalResourceId: 'p' } as const;
  expect(JSON.parse(responseBody(event, failed, 'stream')).Reason).toBe('why');
});

describe('sendResponse', () => {
  let server: ResponseServer;
  beforeAll(async () => {
    server = await ResponseServer.start();
  });
  afterAll(() => server.stop());
  beforeEach(() => server.reset());

  // The local server refuses (403) what S3 would: another method, or a content type the URL was
  // not signed with.
  test('PUTs the body as the pre-signed URL expects it', async () => {
    await sendResponse(server.url, '{"Status":"SUCCESS"}');
    expect(server.onePut()).toEqual({ Status: 'SUCCESS' });
  });

  // S3 asks for a retry of a 5xx: the same answer is PUT again, not left to a retry of the whole
  // invocation (for the credentials-ready function, another 14.5-minute wait).
  test('a PUT that S3 answers 500 or 503 is made again, and the answer arrives', async () => {
    server.answers.push(500, 503);
    await sendResponse(server.url, '{"Status":"FAILED"}', 1000, [0, 0]);
    expect(server.received.map((r) => JSON.parse(r.body))).toEqual([
      { Status: 'FAILED' },
      { Status: 'FAILED' },
      { Status: 'FAILED' },
    ]);
  });

  test('a PUT that keeps failing rejects after the last retry, so Lambda retries the invocation', async () => {
    server.answer = 500;
    await expect(sendResponse(server.url, '{}', 1000, [0, 0])).rejects.toThrow('ResponseURL answered 500');
    expect(server.received).toHaveLength(3);
  });

  test('a refused PUT (4xx: a URL not signed for it) rejects at once', async () => {
    server.answer = 403;
    await expect(sendResponse(server.url, '{}', 1000, [0, 0])).rejects.toThrow('ResponseURL answered 403');
    expect(server.received).toHaveLength(1);
  });

  test('by default a failed PUT is made again after 1 s, then 2 s', () => {
    expect(PUT_RETRY_WAITS_MS).toEqual([1000, 2000]);
  });

  // A PUT that hangs would hold the function until its own timeout (15 minutes for the
  // credentials-ready function) before Lambda retried it.
  test('a PUT that gets no answer rejects after the timeout', async () => {
    server.silent = true;
    const began = Date.now();
    await expect(sendResponse(server.url, '{}', 300, [0])).rejects.toThrow(
      'ResponseURL did not answer within 0.3 s',
    );
    expect(Date.now() - began).toBeLessThan(5000);
    // Made again once: an answer lost on the way is PUT again like a 5xx.
    expect(server.received).toHaveLength(2);
  });

  test('an unreachable URL rejects', async () => {
    await expect(sendResponse('https://127.0.0.1:1/x', '{}', 1000, [0, 0])).rejects.toThrow('ECONNREFUSED');
  });
});
