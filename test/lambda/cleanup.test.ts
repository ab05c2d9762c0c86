import { DeleteAccessKeyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handleEvent, responseBody } from '../../lambda/smtp-user-cleanup/cleanup';
import { createLogger } from '../../lambda/shared/logger';
import { FakeIam, serviceUnavailable } from '../support/fake-aws';

const iamMock = mockClient(IAMClient);
const USER = 'SesSmtp-test-SmtpUser';
let iam: FakeIam;
const log = createLogger({}, () => undefined);

const event = (RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent =>
  ({
    RequestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:cleanup',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/x',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-test/1',
    RequestId: 'req-1',
    LogicalResourceId: 'SmtpUserKeyCleanup',
    ResourceType: 'Custom::SmtpUserKeyCleanup',
    ResourceProperties: { ServiceToken: 'x', UserName: USER },
    PhysicalResourceId: `access-keys-of-${USER}`,
  }) as CloudFormationCustomResourceEvent;

beforeEach(() => {
  iamMock.reset();
  iam = new FakeIam(USER);
  iamMock.on(ListAccessKeysCommand).callsFake((i) => iam.listAccessKeys(i));
  iamMock.on(DeleteAccessKeyCommand).callsFake((i) => iam.deleteAccessKey(i));
});

describe('SMTP user key cleanup', () => {
  test('on Delete, every key of the user goes so IAM can delete the user', async () => {
    iam.createAccessKey({ UserName: USER });
    iam.createAccessKey({ UserName: USER });
    const result = await handleEvent(event('Delete'), new IAMClient({}), log);
    expect(result).toEqual({ Status: 'SUCCESS', PhysicalResourceId: `access-keys-of-${USER}` });
    expect(iam.keys.size).toBe(0);
  });

  test.each(['Create', 'Update'] as const)('on %s nothing is touched', async (type) => {
    iam.createAccessKey({ UserName: USER });
    expect((await handleEvent(event(type), new IAMClient({}), log)).Status).toBe('SUCCESS');
    expect(iam.keys.size).toBe(1);
    expect(iamMock.calls()).toHaveLength(0);
  });

  test('a user that is already gone is fine', async () => {
    const result = await handleEvent(
      { ...event('Delete'), ResourceProperties: { ServiceToken: 'x', UserName: 'gone' } },
      new IAMClient({}),
      log,
    );
    expect(result.Status).toBe('SUCCESS');
  });

  test('an IAM failure reports FAILED with a reason instead of hanging the stack', async () => {
    iam.createAccessKey({ UserName: USER });
    iam.faults.failNext('DeleteAccessKey', serviceUnavailable());
    const result = await handleEvent(event('Delete'), new IAMClient({}), log);
    expect(result).toMatchObject({
      Status: 'FAILED',
      Reason: `Could not delete the access keys of ${USER}: Service is unavailable`,
    });
  });

  test('the response document carries what CloudFormation needs', () => {
    const body = JSON.parse(
      responseBody(event('Delete'), { Status: 'SUCCESS', PhysicalResourceId: 'p' }, 'stream'),
    );
    expect(body).toEqual({
      Status: 'SUCCESS',
      Reason: 'See CloudWatch log stream stream',
      PhysicalResourceId: 'p',
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-test/1',
      RequestId: 'req-1',
      LogicalResourceId: 'SmtpUserKeyCleanup',
    });
  });
});
