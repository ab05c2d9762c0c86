import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DeleteAccessKeyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeIam, awsError } from '../support/fake-aws';
import { ResponseServer } from '../support/response-server';

/*
 * The cleanup function's handler as Lambda runs it: the response document is PUT to
 * CloudFormation's pre-signed ResponseURL (here a local HTTPS server). If that PUT never
 * happens, the stack waits an hour for the custom resource.
 */

process.env.AWS_REGION = 'eu-west-1';
let handler: typeof import('../../lambda/smtp-user-cleanup/index.js').handler;

const USER = 'SesSmtp-test-SmtpUser';
const iamMock = mockClient(IAMClient);
const cfnMock = mockClient(CloudFormationClient);
let iam: FakeIam;

let server: ResponseServer;
let printed: string[];

beforeAll(async () => {
  ({ handler } = await import('../../lambda/smtp-user-cleanup/index.js'));
  server = await ResponseServer.start();
});
afterEach(() => jest.restoreAllMocks());
afterAll(() => server.stop());

beforeEach(() => {
  printed = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  server.reset();
  iamMock.reset();
  cfnMock.reset();
  // `cdk destroy`: the only time the keys go (cleanup.test.ts covers the other states).
  cfnMock.on(DescribeStacksCommand).resolves({
    Stacks: [{ StackName: 'SesSmtp-test', StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date() }],
  });
  iam = new FakeIam(USER);
  iamMock.on(ListAccessKeysCommand).callsFake((i) => iam.listAccessKeys(i));
  iamMock.on(DeleteAccessKeyCommand).callsFake((i) => iam.deleteAccessKey(i));
});

function event(RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent {
  return {
    RequestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:cleanup',
    ResponseURL: server.url,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-test/1',
    RequestId: 'req-1',
    LogicalResourceId: 'SmtpUserKeyCleanup',
    ResourceType: 'Custom::SmtpUserKeyCleanup',
    ResourceProperties: { ServiceToken: 'x', UserName: USER },
    ...(RequestType !== 'Create' && { PhysicalResourceId: `access-keys-of-${USER}` }),
  } as CloudFormationCustomResourceEvent;
}
const context = { logStreamName: '2026/11/29/[$LATEST]abc' } as Context;
const run = (e: CloudFormationCustomResourceEvent) =>
  (handler as (e: CloudFormationCustomResourceEvent, c: Context) => Promise<void>)(e, context);

describe('smtp-user-cleanup handler', () => {
  test('Delete: removes every key, then PUTs SUCCESS with the physical id CloudFormation knows', async () => {
    const keys = [iam.createAccessKey({ UserName: USER }), iam.createAccessKey({ UserName: USER })];
    await run(event('Delete'));
    expect(cfnMock.commandCalls(DescribeStacksCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-test/1' },
    ]);
    expect(iamMock.commandCalls(DeleteAccessKeyCommand).map((c) => c.args[0].input)).toEqual(
      keys.map((k) => ({ UserName: USER, AccessKeyId: k.AccessKey.AccessKeyId })),
    );
    expect(printed.filter((l) => l.includes('deleted access key'))).toHaveLength(2);
    expect(server.onePut()).toEqual({
      Status: 'SUCCESS',
      Reason: 'See CloudWatch log stream 2026/11/29/[$LATEST]abc',
      PhysicalResourceId: `access-keys-of-${USER}`,
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-test/1',
      RequestId: 'req-1',
      LogicalResourceId: 'SmtpUserKeyCleanup',
    });
  });

  test('Create: PUTs SUCCESS with a physical id of its own and touches no key', async () => {
    iam.createAccessKey({ UserName: USER });
    await run(event('Create'));
    // It only lists the keys: the user has some, so it is older than this resource.
    expect(iamMock.calls().map((c) => c.args[0].constructor.name)).toEqual(['ListAccessKeysCommand']);
    expect(iam.keys.size).toBe(1);
    expect(server.onePut()).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: `access-keys-of-${USER}/user-predates-this-resource`,
    });
  });

  test('an IAM failure PUTs FAILED with a reason that names the user, and no key material', async () => {
    const { AccessKey } = iam.createAccessKey({ UserName: USER });
    iam.faults.failNext(
      'DeleteAccessKey',
      awsError('AccessDenied', `User is not authorized to perform: iam:DeleteAccessKey`, 403),
    );
    await run(event('Delete'));
    const body = server.onePut();
    expect(body).toMatchObject({
      Status: 'FAILED',
      Reason: `Could not delete the access keys of ${USER}: User is not authorized to perform: iam:DeleteAccessKey`,
      PhysicalResourceId: `access-keys-of-${USER}`,
    });
    expect(printed.some((l) => l.includes('could not delete the access keys'))).toBe(true);
    for (const text of [server.received[0].body, ...printed])
      expect(text).not.toContain(AccessKey.SecretAccessKey);
  });

  test('a refused PUT fails the invocation, so Lambda retries it', async () => {
    server.answer = 403;
    await expect(run(event('Create'))).rejects.toThrow('ResponseURL answered 403');
    expect(server.received).toHaveLength(1);
  });
});
