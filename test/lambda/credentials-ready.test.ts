import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handleEvent, LOG_READ_MS, NEW_SECRET_MS, POLL_MS } from '../../lambda/credentials-ready/ready';
import { rotate } from '../../lambda/rotate-smtp-credentials/rotation';
import { createLogger } from '../../lambda/shared/logger';
import { ROTATION_STEP_FAILED } from '../../lambda/shared/rotation-log';
import { parseSecret } from '../../lambda/shared/smtp-secret';
import { smtpPasswordFromSecretKey } from '../../lambda/shared/smtp-password';
import { PLACEHOLDER_SECRET } from '../../lib/constructs/smtp-credentials';
import { awsError, FakeIam, FakeSecretsManager } from '../support/fake-aws';
import { testRotationSettings } from '../support/rotation-settings';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SmtpCredentials-AbCdEf';
const USER = 'SesSmtp-test-SmtpUser-1A2B3C';
const LOG_GROUP = 'SesSmtp-test-RotationFunctionLogs';
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-test/1';
const START = new Date('2026-11-30T12:00:00Z').getTime();
/** What the function's 15 minutes leave for waiting (index.ts keeps 30 s to answer). */
const WAIT_MS = 14.5 * 60_000;

const smMock = mockClient(SecretsManagerClient);
const logsMock = mockClient(CloudWatchLogsClient);
const iamMock = mockClient(IAMClient);

let now: number;
let sm: FakeSecretsManager;
let iam: FakeIam;
let logLines: string[];
/** Runs at each poll's sleep, at the clock's new time: what AWS does meanwhile. */
let meanwhile: ((elapsedMs: number) => Promise<void>) & { finishedAt?: number };
const clock = {
  now: () => now,
  sleep: async (ms: number) => {
    now += ms;
    await meanwhile(now - START);
  },
};
/** The wait's reads of the secret (the rotation's own reads go through another client). */
let waitReads: number;
/** Errors the wait's next reads get, one each, before reaching Secrets Manager. */
let waitReadFaults: Error[];
const clients = () => {
  const secrets = new SecretsManagerClient({ region: 'eu-west-1' });
  return {
    secretsManager: {
      send: (command: DescribeSecretCommand) => {
        waitReads++;
        const fault = waitReadFaults.shift();
        return fault ? Promise.reject(fault) : secrets.send(command);
      },
    } as unknown as SecretsManagerClient,
    logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
  };
};
const log = () => createLogger({}, (line) => logLines.push(line));

function event(
  RequestType: 'Create' | 'Update' | 'Delete',
  oldSecretId = ARN,
): CloudFormationCustomResourceEvent {
  return {
    RequestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:ready',
    ResponseURL: 'https://127.0.0.1/unused',
    StackId: STACK_ID,
    RequestId: 'req-1',
    LogicalResourceId: 'SmtpCredentialsCredentialsReady',
    ResourceType: 'Custom::SmtpCredentialsReady',
    ResourceProperties: { ServiceToken: 'x', SecretId: ARN, RotationLogGroupName: LOG_GROUP },
    ...(RequestType !== 'Create' && { PhysicalResourceId: `credentials-ready-${oldSecretId}` }),
    ...(RequestType === 'Update' && {
      OldResourceProperties: { ServiceToken: 'x', SecretId: oldSecretId, RotationLogGroupName: LOG_GROUP },
    }),
  } as CloudFormationCustomResourceEvent;
}

const run = (e: CloudFormationCustomResourceEvent) =>
  handleEvent(e, clients(), log(), clock, START + WAIT_MS);

/** A failed step as the rotation function's log holds it, in Lambda's text log format. */
const textLine = (fields: Record<string, unknown>) =>
  `2026-11-30T12:01:02.345Z\t6f1c0a1e-1111-4222-8333-444455556666\tINFO\t${JSON.stringify({
    level: 'ERROR',
    message: ROTATION_STEP_FAILED,
    function: 'rotate-smtp-credentials',
    ...fields,
  })}\n`;

beforeEach(() => {
  smMock.reset();
  logsMock.reset();
  iamMock.reset();
  now = START;
  waitReads = 0;
  waitReadFaults = [];
  logLines = [];
  meanwhile = async () => {};
  sm = new FakeSecretsManager(ARN, JSON.stringify(PLACEHOLDER_SECRET), () => now);
  iam = new FakeIam(USER);
  smMock.on(DescribeSecretCommand).callsFake((i) => sm.describeSecret(i));
  smMock.on(GetSecretValueCommand).callsFake((i) => sm.getSecretValue(i));
  smMock.on(PutSecretValueCommand).callsFake((i) => sm.putSecretValue(i));
  smMock.on(UpdateSecretVersionStageCommand).callsFake((i) => sm.updateSecretVersionStage(i));
  iamMock.on(ListAccessKeysCommand).callsFake((i) => iam.listAccessKeys(i));
  iamMock.on(CreateAccessKeyCommand).callsFake((i) => iam.createAccessKey(i));
  iamMock.on(DeleteAccessKeyCommand).callsFake((i) => iam.deleteAccessKey(i));
  iamMock.on(GetAccessKeyLastUsedCommand).callsFake((i) => iam.getAccessKeyLastUsed(i));
  logsMock.on(FilterLogEventsCommand).resolves({ events: [] });
});

/**
 * The first rotation as Secrets Manager runs it, with the rotation function's own steps: SES
 * accepts the new key's login from `propagatedAfterMs` after the key was made.
 */
function firstRotationMeanwhile(
  propagatedAfterMs: number,
): ((elapsedMs: number) => Promise<void>) & { finishedAt?: number } {
  let keyMadeAt: number | undefined;
  let step = 0;
  const steps = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
  const deps = {
    secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
    iam: new IAMClient({ region: 'eu-west-1' }),
    settings: testRotationSettings(USER, 'eu-west-1'),
    smtp: { host: '127.0.0.1', port: 2587 },
    verifyLogin: async (_e: unknown, { username, password }: { username: string; password: string }) => {
      const key = iam.keys.get(username);
      const accepted =
        key !== undefined &&
        now - keyMadeAt! >= propagatedAfterMs &&
        smtpPasswordFromSecretKey(key.secret, 'eu-west-1') === password;
      if (!accepted)
        throw Object.assign(new Error('Invalid login: 535 Authentication Credentials Invalid'), {
          responseCode: 535,
        });
    },
    log: createLogger({}, () => {}),
    emitMetric: () => {},
    now: () => new Date(now),
  };
  const next = Object.assign(
    async () => {
      if (step === 0) sm.startRotation('v2');
      if (step >= steps.length) return;
      try {
        await rotate({ Step: steps[step], SecretId: ARN, ClientRequestToken: 'v2' }, deps);
        if (step === 0) keyMadeAt = now;
        step++;
        if (step === steps.length) next.finishedAt = now;
      } catch {
        // testSecret before the key reached SES: Secrets Manager's retry comes at a later poll.
      }
    },
    { finishedAt: undefined as number | undefined },
  );
  return next;
}

/** The whole first rotation, before the wait starts. */
async function rotatedAlready(): Promise<void> {
  const rotation = firstRotationMeanwhile(0);
  for (let i = 0; i < 4; i++) await rotation(0);
  expect(parseSecret(sm.valueAt('AWSCURRENT'))).toBeDefined();
}

describe('credentials-ready', () => {
  test('Create: answers SUCCESS once the rotation function has stored and tested the first credentials', async () => {
    meanwhile = firstRotationMeanwhile(20_000);
    const result = await run(event('Create'));
    expect(result).toEqual({ Status: 'SUCCESS', PhysicalResourceId: `credentials-ready-${ARN}` });
    // The wait ended at the first poll after the rotation's finishSecret, once the key had reached SES.
    expect(now).toBe(meanwhile.finishedAt);
    expect(now - START).toBe((waitReads - 1) * POLL_MS);
    expect(now - START).toBeGreaterThanOrEqual(20_000);
  });

  test('Create: a secret rotated already (an upgraded stack) answers at once', async () => {
    await rotatedAlready();
    const result = await run(event('Create'));
    expect(result.Status).toBe('SUCCESS');
    expect(waitReads).toBe(1);
    expect(now).toBe(START);
  });

  test('Create: a secret older than this resource that holds no credentials is not waited on', async () => {
    sm.createdDate = new Date(START - NEW_SECRET_MS - 1000);
    const result = await run(event('Create'));
    expect(result).toEqual({ Status: 'SUCCESS', PhysicalResourceId: `credentials-ready-${ARN}` });
    expect(now).toBe(START);
    expect(logLines.some((l) => l.includes('"level":"WARN"') && l.includes('predates this resource'))).toBe(
      true,
    );
  });

  test('Create: a secret made 20 minutes before the wait (a slow deploy) is still waited on', async () => {
    sm.createdDate = new Date(START - 20 * 60_000);
    meanwhile = firstRotationMeanwhile(5000);
    const result = await run(event('Create'));
    expect(result.Status).toBe('SUCCESS');
    expect(now).toBe(meanwhile.finishedAt);
  });

  // CloudFormation cancels a Create in progress when another resource fails, and rolls back.
  test.each([
    ['deleted (DeletedDate)', () => (sm.deletedDate = new Date(START))],
    [
      'gone (ResourceNotFoundException)',
      () => (waitReadFaults = [awsError('ResourceNotFoundException', 'not found')]),
    ],
  ])('Create: a secret %s under the wait fails at once', async (_, remove) => {
    meanwhile = async (elapsed) => {
      if (elapsed === POLL_MS) remove();
    };
    const result = await run(event('Create'));
    expect(result).toEqual({
      Status: 'FAILED',
      PhysicalResourceId: `credentials-ready-${ARN}`,
      Reason: `The secret ${ARN} was deleted before it held SMTP credentials (the deploy is rolling back)`,
    });
    expect(now).toBe(START + POLL_MS);
  });

  test('Create: no credentials by the deadline fails with the last failed step the rotation logged', async () => {
    sm.createdDate = new Date(START - 5 * 60_000);
    logsMock.on(FilterLogEventsCommand).resolves({
      events: [
        { message: textLine({ step: 'createSecret', errorMessage: 'Rate exceeded' }) },
        {
          message: textLine({
            step: 'testSecret',
            errorName: 'Error',
            errorMessage: 'Invalid login: 535 Authentication Credentials Invalid',
          }),
        },
      ],
    });
    const result = await run(event('Create'));
    expect(result).toEqual({
      Status: 'FAILED',
      PhysicalResourceId: `credentials-ready-${ARN}`,
      Reason: `The first rotation did not store SMTP credentials in ${ARN} within 14.5 minutes; the last error: testSecret: Invalid login: 535 Authentication Credentials Invalid. The rotation function's log group ${LOG_GROUP} holds each attempt until the rollback deletes it with what this deploy created: fix the cause, then deploy again.`,
    });
    // Polled until the deadline, never past it.
    expect(now).toBeLessThanOrEqual(START + WAIT_MS);
    expect(now + POLL_MS).toBeGreaterThan(START + WAIT_MS);
    // The failures logged since the secret was made, by phrase (the text format's prefix is no JSON).
    expect(logsMock.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input)).toEqual([
      {
        logGroupName: LOG_GROUP,
        startTime: START - 5 * 60_000,
        filterPattern: `?"${ROTATION_STEP_FAILED}" ?"Task timed out"`,
      },
    ]);
  });

  test.each([
    [
      "Lambda's JSON log format",
      JSON.stringify({
        timestamp: '2026-11-30T12:01:02.345Z',
        level: 'INFO',
        requestId: 'r',
        message: JSON.stringify({
          level: 'ERROR',
          message: ROTATION_STEP_FAILED,
          step: 'setSecret',
          errorMessage: 'boom',
        }),
      }),
      'setSecret: boom',
    ],
    [
      'a timeout',
      '2026-11-30T12:06:02.345Z 6f1c0a1e-1111-4222-8333-444455556666 Task timed out after 300.02 seconds\n',
      'the rotation function stopped: Task timed out after 300.02 seconds',
    ],
    [
      'a long message',
      textLine({ step: 'testSecret', errorMessage: 'x'.repeat(2000) }),
      `testSecret: ${'x'.repeat(487)}…`,
    ],
  ])('the failure reason reads %s', async (_, message, cause) => {
    logsMock.on(FilterLogEventsCommand).resolves({ events: [{ message }] });
    const result = await run(event('Create'));
    expect(result.Reason).toContain(`; the last error: ${cause}. The rotation function's log group`);
  });

  test('the last failure is on the last page of the log', async () => {
    logsMock
      .on(FilterLogEventsCommand)
      .resolvesOnce({
        events: [{ message: textLine({ step: 'createSecret', errorMessage: 'first' }) }],
        nextToken: 't1',
      })
      .resolvesOnce({ events: [], nextToken: 't2' })
      .resolvesOnce({ events: [{ message: textLine({ step: 'testSecret', errorMessage: 'last' }) }] });
    const result = await run(event('Create'));
    expect(result.Reason).toContain('; the last error: testSecret: last.');
    expect(logsMock.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.nextToken)).toEqual([
      undefined,
      't1',
      't2',
    ]);
  });

  // Each page answers, but slowly (the SDK's retries): reading stops at LOG_READ_MS, in time to
  // answer CloudFormation, and keeps the failure the pages read so far held.
  test('slow pages of the log are read for LOG_READ_MS at most, and what they held is the cause', async () => {
    let pages = 0;
    const slow = {
      send: async () => {
        pages++;
        now += LOG_READ_MS / 2;
        return {
          events: [{ message: textLine({ step: 'testSecret', errorMessage: `refused ${pages}` }) }],
          nextToken: `t${pages}`,
        };
      },
    } as unknown as CloudWatchLogsClient;
    const result = await handleEvent(event('Create'), { ...clients(), logs: slow }, log(), clock, START);
    expect(pages).toBe(2);
    expect(result.Reason).toContain('; the last error: testSecret: refused 2.');
  });

  test('a log read that answers ends its abort timer: none is left running', async () => {
    const answering = {
      send: async () => ({
        events: [{ message: textLine({ step: 'testSecret', errorMessage: 'refused' }) }],
      }),
    } as unknown as CloudWatchLogsClient;
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    try {
      const result = await handleEvent(
        event('Create'),
        { ...clients(), logs: answering },
        log(),
        clock,
        START,
      );
      expect(result.Reason).toContain('; the last error: testSecret: refused.');
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  // The answer must still go out: a log read the SDK keeps retrying is cut after LOG_READ_MS.
  test('a log read that does not end is given up after LOG_READ_MS, and the wait still fails in time', async () => {
    let reading = false;
    const hanging = {
      send: (_: unknown, options: { abortSignal: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          reading = true;
          options.abortSignal.addEventListener('abort', () =>
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
          );
        }),
    } as unknown as CloudWatchLogsClient;
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    try {
      const pending = handleEvent(event('Create'), { ...clients(), logs: hanging }, log(), clock, START);
      while (!reading) await new Promise((r) => setImmediate(r));
      jest.advanceTimersByTime(LOG_READ_MS - 1);
      await new Promise((r) => setImmediate(r));
      expect(logLines.some((l) => l.includes('could not read the rotation log'))).toBe(false);
      jest.advanceTimersByTime(1);
      const result = await pending;
      expect(result.Status).toBe('FAILED');
      expect(result.Reason).toMatch(
        /within 0 minutes\. The rotation function's log group .* holds each attempt until the rollback deletes it/,
      );
      expect(logLines.some((l) => l.includes('could not read the rotation log'))).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  test('a log it cannot read leaves the cause out, and still fails', async () => {
    logsMock.on(FilterLogEventsCommand).rejects(awsError('AccessDeniedException', 'not authorized', 400));
    const result = await run(event('Create'));
    expect(result.Status).toBe('FAILED');
    expect(result.Reason).toMatch(
      /within 14.5 minutes\. The rotation function's log group .* holds each attempt until the rollback deletes it/,
    );
    expect(logLines.some((l) => l.includes('could not read the rotation log'))).toBe(true);
  });

  test('a secret it cannot read yet (a role IAM has not spread) is read again', async () => {
    waitReadFaults = [1, 2].map(() => awsError('AccessDeniedException', 'not authorized', 400));
    meanwhile = firstRotationMeanwhile(0);
    const result = await run(event('Create'));
    expect(result.Status).toBe('SUCCESS');
    expect(logLines.filter((l) => l.includes('could not read the secret'))).toHaveLength(2);
  });

  test('a read that failed once and then succeeded is not the reason of a later timeout', async () => {
    waitReadFaults = [awsError('AccessDeniedException', 'not authorized', 400)];
    const result = await run(event('Create'));
    expect(result.Status).toBe('FAILED');
    expect(result.Reason).not.toContain('could not read the secret');
  });

  test('a secret it can never read fails with that reason', async () => {
    smMock
      .on(DescribeSecretCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to DescribeSecret', 400));
    const result = await run(event('Create'));
    expect(result.Reason).toContain(
      "; the last error: could not read the secret: AccessDeniedException: not authorized to DescribeSecret. The rotation function's log group",
    );
  });

  // Only the step and the message: a field that holds a secret never reaches the stack's events.
  test('the failure reason copies no other field of the log entry', async () => {
    logsMock.on(FilterLogEventsCommand).resolves({
      events: [
        { message: textLine({ step: 'testSecret', errorMessage: 'refused', detail: 'BSecretValue123' }) },
      ],
    });
    const result = await run(event('Create'));
    expect(result.Reason).toContain('; the last error: testSecret: refused.');
    expect(result.Reason).not.toContain('BSecretValue123');
    expect(logLines.join('\n')).not.toContain('BSecretValue123');
  });

  test('an Update for the same secret answers with the physical id CloudFormation has', async () => {
    const update = { ...event('Update'), PhysicalResourceId: 'an-id-of-an-older-release' };
    expect(await run(update as CloudFormationCustomResourceEvent)).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: 'an-id-of-an-older-release',
    });
  });

  test('Delete, and an Update for the same secret, answer at once without a call', async () => {
    for (const e of [event('Delete'), event('Update')]) {
      expect(await run(e)).toEqual({ Status: 'SUCCESS', PhysicalResourceId: `credentials-ready-${ARN}` });
    }
    expect(waitReads).toBe(0);
  });

  test('an Update to another secret waits for that one, under a new physical id', async () => {
    meanwhile = firstRotationMeanwhile(5000);
    const result = await run(event('Update', `${ARN}-old`));
    expect(result).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: `credentials-ready-${ARN}` });
    expect(now).toBeGreaterThan(START);
  });

  // A new id on a failed Update would read as a replacement: CloudFormation keeps it and later
  // sends a Delete for it (aws/aws-cdk#30012).
  test.each([
    ['deleted (DeletedDate)', () => (sm.deletedDate = new Date(START))],
    [
      'gone (ResourceNotFoundException)',
      () => (waitReadFaults = [awsError('ResourceNotFoundException', 'not found')]),
    ],
    ['without credentials by the deadline', () => undefined],
  ])(
    'an Update to another secret %s fails under the physical id CloudFormation gave it',
    async (_, remove) => {
      meanwhile = async (elapsed) => {
        if (elapsed === POLL_MS) remove();
      };
      const result = await run(event('Update', `${ARN}-old`));
      expect(result).toMatchObject({ Status: 'FAILED', PhysicalResourceId: `credentials-ready-${ARN}-old` });
    },
  );
});
