import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { responseBody, sendResponse } from '../../lambda/shared/custom-resource';
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

  test('a refused PUT rejects, so Lambda retries the invocation', async () => {
    server.answer = 500;
    await expect(sendResponse(server.url, '{}')).rejects.toThrow('ResponseURL answered 500');
  });

  // A PUT that hangs would hold the function until its own timeout (15 minutes for the
  // credentials-ready function) before Lambda retried it.
  test('a PUT that gets no answer rejects after the timeout', async () => {
    server.silent = true;
    const began = Date.now();
    await expect(sendResponse(server.url, '{}', 300)).rejects.toThrow(
      'ResponseURL did not answer within 0.3 s',
    );
    expect(Date.now() - began).toBeLessThan(5000);
    expect(server.received).toHaveLength(1);
  });

  test('an unreachable URL rejects', async () => {
    await expect(sendResponse('https://127.0.0.1:1/x', '{}')).rejects.toThrow('ECONNREFUSED');
  });
});
