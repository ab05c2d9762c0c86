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
import { setTimeout as realSleep } from 'node:timers/promises';
import type { Context, SecretsManagerRotationEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type * as SmtpLogin from '../../lambda/shared/smtp-login';
import { smtpPasswordFromSecretKey } from '../../lambda/shared/smtp-password';
import { parseSecret } from '../../lambda/shared/smtp-secret';
import { FakeIam, FakeSecretsManager } from '../support/fake-aws';
import { captureLambdaLogs, runtimeErrorRecord } from '../support/lambda-logs';
import { startSmtpServer, TestSmtpServer } from '../support/smtp-server';

/*
 * The rotation function's handler as Lambda runs it: settings from the environment, module-scope
 * clients, a real SMTP login (to a local server) retried within the invocation's remaining time.
 */

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SmtpCredentials-AbCdEf';
const USER = 'SesSmtp-test-SmtpUser-1A2B3C';
const REGION = 'eu-west-1';

// The handler's endpoint has no CA option (SES has a public certificate): trust the local server's.
let serverCa = '';
const logins: { endpoint: SmtpLogin.SmtpEndpoint; username: string }[] = [];
jest.mock('../../lambda/shared/smtp-login', () => {
  const actual = jest.requireActual<typeof SmtpLogin>('../../lambda/shared/smtp-login');
  return {
    ...actual,
    smtpLogin: (endpoint: SmtpLogin.SmtpEndpoint, credentials: SmtpLogin.SmtpCredentials) => {
      logins.push({ endpoint, username: credentials.username });
      return actual.smtpLogin({ ...endpoint, tls: { ca: serverCa } }, credentials);
    },
  };
});

const iamMock = mockClient(IAMClient);
const smMock = mockClient(SecretsManagerClient);
let iam: FakeIam;
let sm: FakeSecretsManager;
let server: TestSmtpServer;
let accepting = true;
/** The server's refusals quote the AUTH PLAIN line, as a relay on the way might (SES does not). */
let quoting = false;
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
let logs: ReturnType<typeof captureLambdaLogs>;
let handler: typeof import('../../lambda/rotate-smtp-credentials/index.js').handler;
let settingsFromEnv: typeof import('../../lambda/rotate-smtp-credentials/index.js').settingsFromEnv;

const ENV = {
  AWS_REGION: REGION,
  SMTP_USER_NAME: USER,
  SES_REGION: REGION,
  FROM_ADDRESS: 'no-reply@example.com',
  PUBLISHED_SMTP_PORT: '587',
  SMTP_HOST: '127.0.0.1',
  ENVIRONMENT_NAME: 'test',
  PREVIOUS_KEY_QUIET_DAYS: '7',
  REPLACED_KEY_HOLD_DAYS: '7',
  ROTATE_WHILE_PREVIOUS_KEY_IN_USE: 'false',
};

beforeAll(async () => {
  server = await startSmtpServer({
    accept: (u, p) => {
      const key = iam.keys.get(u);
      return accepting && key !== undefined && smtpPasswordFromSecretKey(key.secret, REGION) === p;
    },
    refusal: (u, p) => (quoting ? `Unrecognized command AUTH PLAIN ${base64(`\0${u}\0${p}`)}` : undefined),
  });
  serverCa = server.ca;
  Object.assign(process.env, ENV, { SMTP_PORT: String(server.port) });
  ({ handler, settingsFromEnv } = await import('../../lambda/rotate-smtp-credentials/index.js'));
});
afterAll(() => server.close());

beforeEach(() => {
  iamMock.reset();
  smMock.reset();
  iam = new FakeIam(USER);
  sm = new FakeSecretsManager(ARN, JSON.stringify({ placeholder: 'none yet' }));
  accepting = true;
  quoting = false;
  logins.length = 0;
  iamMock.on(ListAccessKeysCommand).callsFake((i) => iam.listAccessKeys(i));
  iamMock.on(CreateAccessKeyCommand).callsFake((i) => iam.createAccessKey(i));
  iamMock.on(DeleteAccessKeyCommand).callsFake((i) => iam.deleteAccessKey(i));
  iamMock.on(GetAccessKeyLastUsedCommand).callsFake((i) => iam.getAccessKeyLastUsed(i));
  smMock.on(DescribeSecretCommand).callsFake((i) => sm.describeSecret(i));
  smMock.on(GetSecretValueCommand).callsFake((i) => sm.getSecretValue(i));
  smMock.on(PutSecretValueCommand).callsFake((i) => sm.putSecretValue(i));
  smMock.on(UpdateSecretVersionStageCommand).callsFake((i) => sm.updateSecretVersionStage(i));
  logs = captureLambdaLogs();
});
afterEach(() => jest.restoreAllMocks());

/**
 * Waits in real time until `done()`, whatever the fake clock does: 5 ms at a time, 1,000 times
 * at most (counted, as the fake clock also holds performance.now and Date).
 */
async function until(done: () => boolean): Promise<void> {
  for (let tries = 0; !done(); tries++) {
    if (tries === 1_000) throw new Error('gave up waiting after 1,000 real sleeps of 5 ms');
    await realSleep(5);
  }
}

const context = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs }) as Context;
const step = (Step: string, remainingMs = 300_000, token = 'v1') =>
  (handler as (e: SecretsManagerRotationEvent, c: Context) => Promise<void>)(
    { Step, SecretId: ARN, ClientRequestToken: token } as SecretsManagerRotationEvent,
    context(remainingMs),
  );

describe('rotate-smtp-credentials handler', () => {
  test('runs the four steps with the settings from its environment', async () => {
    sm.startRotation('v1');
    for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret']) await step(s);
    expect(iamMock.commandCalls(CreateAccessKeyCommand).map((c) => c.args[0].input)).toEqual([
      { UserName: USER },
    ]);
    const secret = parseSecret(sm.valueAt('AWSCURRENT'))!;
    expect(secret).toMatchObject({ host: 'email-smtp.eu-west-1.amazonaws.com', port: 587, region: REGION });
    expect(secret.fromAddress).toBe('no-reply@example.com');
    expect(logins).toEqual([
      { endpoint: { host: '127.0.0.1', port: server.port }, username: secret.username },
    ]);
    expect(server.authAttempts).toEqual([{ username: secret.username, accepted: true }]);
  });

  test('a rotation the stale-use guard stops counts in CloudWatch, whatever the log format', async () => {
    for (const token of ['v1', 'v2']) {
      sm.startRotation(token);
      for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'])
        await step(s, undefined, token);
    }
    const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
    // The last rotation was 30 days ago; an app sent with the key it replaced yesterday.
    sm.versions.get('v2')!.created = new Date(Date.now() - 30 * 86_400_000);
    iam.recordUse(previous.username, {
      date: new Date(Date.now() - 86_400_000),
      service: 'ses',
      region: REGION,
    });
    sm.startRotation('v3');
    await expect(step('createSecret', undefined, 'v3')).rejects.toThrow('rotation stopped before any change');
    expect(logs.metrics()).toEqual([
      expect.objectContaining({ Environment: 'test', RotationBlockedPreviousKeyInUse: 1 }),
    ]);
  });

  test('testSecret gives up within the invocation, logs the failure without secrets and rethrows (fake clock; logins are real)', async () => {
    sm.startRotation('v1');
    await step('createSecret');
    accepting = false;
    const lines = logs.entries;
    const retries = () =>
      lines().filter((l) => l.message?.toString().startsWith('SMTP login not accepted yet'));
    // Only the timers and Date: the SMTP sockets and the promises between their events run for real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      // 12.5 s left: 10 s for the last login and 2 s to return leave 0.5 s of retries.
      const started = Date.now();
      let outcome: unknown;
      const testSecret = step('testSecret', 12_500).then(
        () => (outcome = 'passed'),
        (e: Error) => (outcome = e),
      );
      // The first login is refused, then the handler waits on the (fake) clock before the next.
      await until(() => retries().length === 1 || outcome !== undefined);
      expect(retries()).toMatchObject([
        {
          level: 'INFO',
          message: 'SMTP login not accepted yet; new IAM keys take a while to reach SES',
          attempt: 1,
          retryInMs: 500,
          errorMessage: expect.stringMatching(/^Invalid login: 535 /),
        },
      ]);
      await jest.advanceTimersByTimeAsync(499);
      expect(logins).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      await until(() => outcome !== undefined);
      await testSecret;
      // The second login, refused at the deadline, is the last: the step rethrows its error.
      expect((outcome as Error).message).toMatch('535');
      expect(logins).toHaveLength(2);
      expect(Date.now() - started).toBe(500);
    } finally {
      // Past the deadline first: a handler still retrying after a failed expect reads this clock
      // (Date.now, as it was at the call) and stops, instead of keeping jest from exiting.
      await jest.advanceTimersByTimeAsync(12_500);
      jest.useRealTimers();
    }
    expect(lines().at(-1)).toMatchObject({
      level: 'ERROR',
      message: 'rotation step failed',
      step: 'testSecret',
    });
    const key = iam.created[0];
    for (const l of logs.events) {
      expect(l).not.toContain(key.secret);
      expect(l).not.toContain(smtpPasswordFromSecretKey(key.secret, REGION));
    }
    expect(sm.stagesOf('AWSCURRENT')).not.toBe('v1');
  });

  test("a refusal that quotes the AUTH line: neither the log nor the error Lambda's runtime logs holds the password", async () => {
    sm.startRotation('v1');
    await step('createSecret');
    accepting = false;
    quoting = true;
    // 12 s left: no time for a retry after the first login.
    const error = await step('testSecret', 12_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'Invalid login: 535 Unrecognized command AUTH PLAIN [redacted]' });
    expect(server.authAttempts.at(-1)).toMatchObject({ accepted: false });
    const password = parseSecret(sm.valueAt('AWSPENDING'))!.password;
    const forms = [password, base64(password), base64(`\0${iam.created[0].id}\0${password}`)];
    const text = [...logs.events, runtimeErrorRecord(error)].join('\n');
    expect(text).toContain('[redacted]');
    for (const form of forms) expect(text).not.toContain(form);
  });

  // The guard is the safe side: only the construct's exact "true" turns it off.
  test.each(['false', 'True', '1', 'yes'])(
    'ROTATE_WHILE_PREVIOUS_KEY_IN_USE=%s keeps the stale-use guard on',
    (value) => {
      expect(
        settingsFromEnv({ ...ENV, ROTATE_WHILE_PREVIOUS_KEY_IN_USE: value }).rotateWhilePreviousKeyInUse,
      ).toBe(false);
    },
  );

  test('each setting comes from its own variable', () => {
    expect(
      settingsFromEnv({
        ...ENV,
        PUBLISHED_SMTP_PORT: '2587',
        PREVIOUS_KEY_QUIET_DAYS: '7',
        REPLACED_KEY_HOLD_DAYS: '3',
        ROTATE_WHILE_PREVIOUS_KEY_IN_USE: 'true',
        CLI_OPTIONS: '--env prod',
      }),
    ).toEqual({
      userName: USER,
      region: REGION,
      fromAddress: 'no-reply@example.com',
      publishedPort: 2587,
      environmentName: 'test',
      cliOptions: '--env prod',
      previousKeyQuietDays: 7,
      replacedKeyHoldDays: 3,
      rotateWhilePreviousKeyInUse: true,
    });
  });

  // NaN from a typo would turn the stale-use guard and the hold off without a word.
  test.each(['-1', '7.5', 'x'])(
    'a day count of %s stops the function at start, naming the variable',
    (value) => {
      for (const name of ['PREVIOUS_KEY_QUIET_DAYS', 'REPLACED_KEY_HOLD_DAYS'])
        expect(() => settingsFromEnv({ ...ENV, [name]: value })).toThrow(
          `${name} must be a whole number of days, got: ${value}`,
        );
    },
  );

  // Only testSecret's SMTP_PORT is logged in on: a bad published port would pass the test and
  // reach every app through the secret.
  test.each(['x', '0', '8025', '587.5'])(
    'a published port of %s stops the function at start, naming the variable and the ports',
    (value) => {
      expect(() => settingsFromEnv({ ...ENV, PUBLISHED_SMTP_PORT: value })).toThrow(
        `PUBLISHED_SMTP_PORT must be a port of SES's SMTP interface (25, 587, 2587, 465, 2465), got: ${value}`,
      );
    },
  );

  test.each([
    'SMTP_USER_NAME',
    'SES_REGION',
    'FROM_ADDRESS',
    'PUBLISHED_SMTP_PORT',
    'SMTP_HOST',
    'ENVIRONMENT_NAME',
    'PREVIOUS_KEY_QUIET_DAYS',
    'REPLACED_KEY_HOLD_DAYS',
    'ROTATE_WHILE_PREVIOUS_KEY_IN_USE',
  ])('without %s the function refuses to start, naming it', async (name) => {
    const saved = process.env[name];
    delete process.env[name];
    try {
      await jest.isolateModulesAsync(async () => {
        await expect(import('../../lambda/rotate-smtp-credentials/index.js')).rejects.toThrow(name);
      });
    } finally {
      process.env[name] = saved;
    }
  });
});
