import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { LOG_READ_MS } from '../../lambda/credentials-ready/ready';
import { ResponseServer } from '../support/response-server';

/*
 * The credentials-ready handler as Lambda runs it: it always PUTs an answer to CloudFormation's
 * pre-signed ResponseURL (here a local HTTPS server), in time. ready.test.ts covers the wait.
 */

process.env.AWS_REGION = 'eu-west-1';
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SmtpCredentials-AbCdEf';
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-test/1';
const smMock = mockClient(SecretsManagerClient);
const logsMock = mockClient(CloudWatchLogsClient);
let server: ResponseServer;
let index: typeof import('../../lambda/credentials-ready/index.js');

beforeAll(async () => {
  index = await import('../../lambda/credentials-ready/index.js');
  server = await ResponseServer.start();
});
afterAll(() => server.stop());
beforeEach(() => {
  server.reset();
  smMock.reset();
  logsMock.reset();
  jest.spyOn(console, 'log').mockImplementation(() => {});
});
afterEach(() => jest.restoreAllMocks());

const context = { logStreamName: 'stream', getRemainingTimeInMillis: () => 900_000 } as Context;
const create = (resourceProperties?: Record<string, string>) =>
  ({
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:ready',
    ResponseURL: server.url,
    StackId: STACK_ID,
    RequestId: 'req-1',
    LogicalResourceId: 'SmtpCredentialsCredentialsReady',
    ResourceType: 'Custom::SmtpCredentialsReady',
    ResourceProperties: resourceProperties,
  }) as unknown as CloudFormationCustomResourceEvent;
const run = (e: CloudFormationCustomResourceEvent) =>
  (index.handler as (e: CloudFormationCustomResourceEvent, c: Context) => Promise<void>)(e, context);

test('PUTs SUCCESS to the ResponseURL when the secret holds tested credentials', async () => {
  // After the first rotation: AWSPREVIOUS on the placeholder's version.
  smMock.on(DescribeSecretCommand, { SecretId: ARN }).resolves({
    ARN,
    CreatedDate: new Date(),
    VersionIdsToStages: { placeholder: ['AWSPREVIOUS'], first: ['AWSCURRENT', 'AWSPENDING'] },
  });
  await run(create({ ServiceToken: 'x', SecretId: ARN, RotationLogGroupName: 'logs' }));
  expect(server.onePut()).toEqual({
    Status: 'SUCCESS',
    Reason: 'See CloudWatch log stream stream',
    PhysicalResourceId: `credentials-ready-${ARN}`,
    StackId: STACK_ID,
    RequestId: 'req-1',
    LogicalResourceId: 'SmtpCredentialsCredentialsReady',
  });
});

test('an event it cannot read still gets an answer: FAILED, not the service timeout', async () => {
  await run(create(undefined));
  expect(server.onePut()).toMatchObject({
    Status: 'FAILED',
    Reason: 'The wait for the first SMTP credentials failed: TypeError',
    PhysicalResourceId: 'credentials-ready-SmtpCredentialsCredentialsReady',
  });
});

// CloudFormation replaces a resource whose physical id changes: a failed Update keeps its own.
test('an Update it cannot read fails under the physical id CloudFormation gave it', async () => {
  const update = {
    ...create(undefined),
    RequestType: 'Update',
    PhysicalResourceId: `credentials-ready-${ARN}`,
    OldResourceProperties: { ServiceToken: 'x', SecretId: ARN, RotationLogGroupName: 'logs' },
  } as CloudFormationCustomResourceEvent;
  await run(update);
  expect(server.onePut()).toMatchObject({
    Status: 'FAILED',
    Reason: 'The wait for the first SMTP credentials failed: TypeError',
    PhysicalResourceId: `credentials-ready-${ARN}`,
  });
});

// The handler, not only waitDeadline: with what the function's time leaves no room for a poll, it
// answers after one read instead of sleeping into its own timeout (no answer, Lambda's retry).
test('the handler stops waiting ANSWER_MS before the function times out, and answers', async () => {
  smMock.on(DescribeSecretCommand).resolves({ ARN, CreatedDate: new Date(), VersionIdsToStages: {} });
  logsMock.on(FilterLogEventsCommand).resolves({ events: [] });
  const almostOut = { ...context, getRemainingTimeInMillis: () => index.ANSWER_MS + 4000 } as Context;
  const began = Date.now();
  await (index.handler as (e: CloudFormationCustomResourceEvent, c: Context) => Promise<void>)(
    create({ ServiceToken: 'x', SecretId: ARN, RotationLogGroupName: 'logs' }),
    almostOut,
  );
  expect(smMock.commandCalls(DescribeSecretCommand)).toHaveLength(1);
  expect(Date.now() - began).toBeLessThan(2000);
  expect(server.onePut()).toMatchObject({ Status: 'FAILED', PhysicalResourceId: `credentials-ready-${ARN}` });
});

test('the wait stops early enough to read the log and answer (30 s before the timeout)', () => {
  expect(index.waitDeadline(1_000, 900_000)).toBe(1_000 + 900_000 - 30_000);
  expect(index.ANSWER_MS).toBe(LOG_READ_MS + 15_000);
});
