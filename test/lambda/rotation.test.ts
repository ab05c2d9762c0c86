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
import { mockClient } from 'aws-sdk-client-mock';
import {
  PENDING_GIVE_UP_MS,
  PreviousKeyInUseError,
  PreviousKeyReplacedRecentlyError,
  rotate,
  RotationDeps,
} from '../../lambda/rotate-smtp-credentials/rotation';
import { parseSecret, SmtpSecret } from '../../lambda/shared/smtp-secret';
import { createLogger } from '../../lambda/shared/logger';
import { retryDeadlineMs, retryUntil, smtpEndpointFromEnv, smtpLogin } from '../../lambda/shared/smtp-login';
import { smtpPasswordFromSecretKey } from '../../lambda/shared/smtp-password';
import { awsError, FakeIam, FakeSecretsManager, serviceUnavailable, throttling } from '../support/fake-aws';
import { assertValidEmf } from '../support/emf';
import { testRotationSettings } from '../support/rotation-settings';
import { startSmtpServer, TestSmtpServer } from '../support/smtp-server';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SmtpCredentials-AbCdEf';
const USER = 'SesSmtp-test-SmtpUser-1A2B3C';
const REGION = 'eu-west-1';
const PLACEHOLDER = JSON.stringify({
  placeholder: 'No SMTP credentials yet: the first rotation creates them.',
});
const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

const iamMock = mockClient(IAMClient);
const smMock = mockClient(SecretsManagerClient);

let iam: FakeIam;
let sm: FakeSecretsManager;
let logLines: string[];
let metricLines: string[];
let deps: RotationDeps;
/** The test's clock: rotations run "now", key uses are recorded relative to it. */
const NOW = new Date('2026-11-29T12:00:00Z');
const DAY = 86_400_000;
/** The time of Secrets Manager and the rotation; NOW unless a test moves it. */
let clock: number;

/** SES's view of a login: the key exists, is active, and the password is derived from its secret. */
function sesAccepts(username: string, password: string): boolean {
  const key = iam.keys.get(username);
  return (
    key !== undefined &&
    !iam.inactive.has(username) &&
    smtpPasswordFromSecretKey(key.secret, REGION) === password
  );
}

const rejectLikeSes = () =>
  Object.assign(new Error('Invalid login: 535 Authentication Credentials Invalid'), { responseCode: 535 });

function wire(): void {
  iamMock.on(ListAccessKeysCommand).callsFake((input) => iam.listAccessKeys(input));
  iamMock.on(CreateAccessKeyCommand).callsFake((input) => iam.createAccessKey(input));
  iamMock.on(DeleteAccessKeyCommand).callsFake((input) => iam.deleteAccessKey(input));
  iamMock.on(GetAccessKeyLastUsedCommand).callsFake((input) => iam.getAccessKeyLastUsed(input));
  smMock.on(DescribeSecretCommand).callsFake((input) => sm.describeSecret(input));
  smMock.on(GetSecretValueCommand).callsFake((input) => sm.getSecretValue(input));
  smMock.on(PutSecretValueCommand).callsFake((input) => sm.putSecretValue(input));
  smMock.on(UpdateSecretVersionStageCommand).callsFake((input) => sm.updateSecretVersionStage(input));
}

beforeEach(() => {
  iamMock.reset();
  smMock.reset();
  clock = NOW.getTime();
  iam = new FakeIam(USER, () => clock);
  sm = new FakeSecretsManager(ARN, PLACEHOLDER, () => clock);
  logLines = [];
  metricLines = [];
  wire();
  deps = {
    secrets: new SecretsManagerClient({ region: REGION }),
    iam: new IAMClient({ region: REGION }),
    settings: testRotationSettings(USER, REGION),
    smtp: { host: '127.0.0.1', port: 2587 },
    verifyLogin: async (_endpoint, { username, password }) => {
      if (!sesAccepts(username, password)) throw rejectLikeSes();
    },
    log: createLogger({}, (line) => logLines.push(line)),
    emitMetric: (line) => metricLines.push(line),
    now: () => new Date(clock),
  };
});

// Every metric line the rotation wrote is a document CloudWatch keeps (the stale-use alarm's).
afterEach(() => assertValidEmf(metricLines));

const current = (): SmtpSecret | undefined => parseSecret(sm.valueAt('AWSCURRENT'));
const step = (Step: string, token: string) =>
  rotate({ Step, SecretId: ARN, ClientRequestToken: token }, deps);

/** A use of a key by SES, `days` before the test's clock. */
const sesUseDaysAgo = (days: number) => ({
  date: new Date(clock - days * DAY),
  service: 'ses',
  region: REGION,
});

/** The time a test lets pass after each successful rotation: a scheduled interval. */
const INTERVAL = 30 * DAY;

/**
 * Runs the four steps like Secrets Manager: a failed attempt is retried from createSecret with the
 * same token. After a success, `thenWait` passes (the next rotation comes a scheduled interval
 * later unless a test says otherwise: one soon after the last keeps the key it would delete).
 */
async function runRotation(token: string, retries = 0, thenWait = INTERVAL): Promise<void> {
  sm.startRotation(token);
  for (let attempt = 0; ; attempt++) {
    try {
      for (const s of STEPS) await step(s, token);
      // What Secrets Manager records when a rotation succeeds (DescribeSecret's LastRotatedDate).
      sm.lastRotatedDate = new Date(clock);
      clock += thenWait;
      return;
    } catch (error) {
      if (attempt >= retries) throw error;
    }
  }
}

function expectCurrentLogsIn(): SmtpSecret {
  const secret = current();
  expect(secret).toBeDefined();
  expect(sesAccepts(secret!.username, secret!.password)).toBe(true);
  return secret!;
}

describe('rotation of SMTP credentials', () => {
  test('first rotation turns the placeholder into working credentials', async () => {
    await runRotation('v1');
    const secret = expectCurrentLogsIn();
    expect(secret).toEqual({
      username: expect.stringMatching(/^AKIAFAKE/),
      password: smtpPasswordFromSecretKey(iam.keys.get(secret.username)!.secret, REGION),
      host: 'email-smtp.eu-west-1.amazonaws.com',
      port: 587,
      region: REGION,
      fromAddress: 'no-reply@example.com',
    });
    expect(iam.keys.size).toBe(1);
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
    expect(sm.stagesOf('AWSCURRENT')).toBe('v1');
  });

  test('the previous key stays valid after a rotation (zero downtime) and goes at the next one', async () => {
    await runRotation('v1');
    const first = current()!;
    await runRotation('v2');
    const second = expectCurrentLogsIn();
    expect(second.username).not.toBe(first.username);
    expect(sesAccepts(first.username, first.password)).toBe(true);
    expect(parseSecret(sm.valueAt('AWSPREVIOUS'))?.username).toBe(first.username);

    await runRotation('v3');
    expect(iam.keys.has(first.username)).toBe(false);
    expect(iam.keys.has(second.username)).toBe(true);
    expect(iam.deleted).toEqual([first.username]);
  });

  test('ten consecutive rotations: never more than two keys, AWSCURRENT always logs in', async () => {
    for (let n = 1; n <= 10; n++) {
      const before = current();
      clock += INTERVAL;
      sm.startRotation(`v${n}`);
      for (const s of STEPS) {
        await step(s, `v${n}`);
        expect(iam.keys.size).toBeLessThanOrEqual(2);
        if (before) expect(sesAccepts(before.username, before.password)).toBe(true);
      }
      expectCurrentLogsIn();
    }
    expect(iam.keys.size).toBe(2);
    expect(iam.deleted).toHaveLength(8);
  });

  test.each(STEPS)('re-running %s is idempotent', async (repeated) => {
    await runRotation('v1');
    sm.startRotation('v2');
    for (const s of STEPS) {
      await step(s, 'v2');
      if (s === repeated) await step(s, 'v2');
    }
    expectCurrentLogsIn();
    expect(iam.keys.size).toBe(2);
    expect(sm.stagesOf('AWSCURRENT')).toBe('v2');
  });

  test('a crash between creating the key and storing it leaves an orphan the retry removes', async () => {
    await runRotation('v1');
    const first = current()!;
    // The store fails and so does the cleanup: as if the function died right after CreateAccessKey.
    sm.faults.failNext('PutSecretValue', serviceUnavailable());
    iam.faults.failNext('DeleteAccessKey', serviceUnavailable());
    sm.startRotation('v2');
    await expect(step('createSecret', 'v2')).rejects.toThrow('Service is unavailable');
    expect(iam.keys.size).toBe(2);
    const orphan = [...iam.keys.keys()].find((id) => id !== first.username)!;

    await runRotation('v2');
    expect(iam.keys.has(orphan)).toBe(false);
    expect(iam.keys.has(first.username)).toBe(true);
    expect(iam.keys.size).toBe(2);
    expectCurrentLogsIn();
  });

  test('a failed store deletes the new key at once', async () => {
    await runRotation('v1');
    sm.faults.failNext('PutSecretValue', throttling());
    sm.startRotation('v2');
    await expect(step('createSecret', 'v2')).rejects.toThrow('Rate exceeded');
    expect(iam.keys.size).toBe(1);
    expect(logLines.some((l) => l.includes('deleted the new access key'))).toBe(true);
  });

  test('a store that landed before its error keeps the key it stored', async () => {
    await runRotation('v1');
    sm.failAfterCommit.push(serviceUnavailable());
    sm.startRotation('v2');
    await expect(step('createSecret', 'v2')).rejects.toThrow('Service is unavailable');
    const stored = parseSecret(sm.versions.get('v2')?.value)!;
    expect(iam.keys.has(stored.username)).toBe(true);
    await runRotation('v2');
    expect(current()!.username).toBe(stored.username);
    expectCurrentLogsIn();
  });

  test('a store that failed, and whose read-back failed too, keeps the key: the retry converges on it', async () => {
    await runRotation('v1');
    sm.startRotation('v2');
    sm.failAfterCommit.push(serviceUnavailable());
    // The read-back after the failed put (the 4th read: AWSPENDING, AWSCURRENT and AWSPREVIOUS
    // come first) is throttled: whether the put landed is unknown.
    sm.faults.failNext('GetSecretValue', throttling(), 3);
    await expect(step('createSecret', 'v2')).rejects.toThrow('Service is unavailable');
    const stored = parseSecret(sm.versions.get('v2')?.value)!;
    expect(iam.keys.has(stored.username)).toBe(true);
    expect(logLines.some((l) => l.includes('reading it back failed too: the new access key stays'))).toBe(
      true,
    );
    await runRotation('v2', 1);
    expect(current()!.username).toBe(stored.username);
    expectCurrentLogsIn();
  });

  test.each([
    [
      'names the environment with its CLI options',
      '--stack Mail --region eu-west-1',
      'ses-smtp rotate --stack Mail --region eu-west-1',
    ],
    [
      'without them (a function set up by hand), names it both ways',
      undefined,
      `ses-smtp rotate --env test; without an environments file: ses-smtp rotate --secret-id ${ARN}`,
    ],
  ])(
    'AWSPENDING naming a key IAM no longer has: testSecret clears AWSPENDING and says to rotate again (%s)',
    async (_, cliOptions, command) => {
      deps = { ...deps, settings: { ...deps.settings, cliOptions } };
      await runRotation('v1');
      const before = current()!;
      sm.startRotation('v2');
      await step('createSecret', 'v2');
      // An overlapping attempt deleted the key this version holds; a retried createSecret cannot see it.
      const pending = parseSecret(sm.versions.get('v2')?.value)!;
      iam.deleteAccessKey({ UserName: USER, AccessKeyId: pending.username });
      await step('createSecret', 'v2');
      await step('setSecret', 'v2');

      await expect(step('testSecret', 'v2')).rejects.toThrow(
        `AWSPENDING version v2 of secret ${ARN} holds access key ${pending.username}, which IAM no longer has (an overlapping or failed attempt deleted it). ` +
          `AWSPENDING is cleared and AWSCURRENT is unchanged: rotate again (${command}).`,
      );
      expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
      expect(current()!.username).toBe(before.username);
      // What the message says to do works: a new rotation starts and completes.
      await runRotation('v3');
      expectCurrentLogsIn();
      expect(iam.keys.has(before.username)).toBe(true);
    },
  );

  test('an overlapping createSecret of the same version stores its key first: the other one leaves it and ends', async () => {
    await runRotation('v1');
    await runRotation('v2');
    sm.startRotation('v3');
    // The first attempt waits at its ListAccessKeys while a second one of the same version runs
    // to the end (a retry while the first still ran).
    let twin: Promise<void> | undefined;
    iamMock.on(ListAccessKeysCommand).callsFake(async (input) => {
      if (!twin) await (twin = step('createSecret', 'v3'));
      return iam.listAccessKeys(input);
    });
    await step('createSecret', 'v3');
    const pending = parseSecret(sm.versions.get('v3')?.value)!;
    expect(iam.keys.has(pending.username)).toBe(true);
    expect(iam.keys.size).toBe(2);
    expect(logLines.some((l) => l.includes('this version was filled by an overlapping attempt'))).toBe(true);
    for (const s of STEPS.slice(1)) await step(s, 'v3');
    expect(expectCurrentLogsIn().username).toBe(pending.username);
  });

  test('an overlapping createSecret whose twin finished the whole rotation meanwhile leaves the new AWSCURRENT key', async () => {
    await runRotation('v1');
    await runRotation('v2');
    sm.startRotation('v3');
    // The first attempt read AWSCURRENT (v2) and waits at its ListAccessKeys while a twin of the
    // same version runs every step: v3 is AWSCURRENT, its AWSPENDING cleared, when it goes on.
    let twin: Promise<void> | undefined;
    iamMock.on(ListAccessKeysCommand).callsFake(async (input) => {
      if (!twin)
        await (twin = (async () => {
          for (const s of STEPS) await step(s, 'v3');
        })());
      return iam.listAccessKeys(input);
    });
    await step('createSecret', 'v3').catch(() => undefined);
    expect(sm.stagesOf('AWSCURRENT')).toBe('v3');
    expect(iam.keys.has(expectCurrentLogsIn().username)).toBe(true);
    expect(iam.keys.has(parseSecret(sm.valueAt('AWSPREVIOUS'))!.username)).toBe(true);
  });

  // The twin made its key before this attempt listed the keys, and stored it only while this one's
  // stale-use guard asked IAM about that key: asked again before the deletes, it is left.
  test("an overlapping createSecret that listed its twin's key before the twin stored it leaves the key", async () => {
    await runRotation('v1');
    await runRotation('v2');
    sm.startRotation('v3');
    let twin: Promise<void> | undefined;
    let keyMade!: () => void;
    const made = new Promise<void>((resolve) => (keyMade = resolve));
    let storeNow!: () => void;
    const store = new Promise<void>((resolve) => (storeNow = resolve));
    let twinKey: string | undefined;
    iamMock.on(CreateAccessKeyCommand).callsFake((input) => {
      const out = iam.createAccessKey(input);
      twinKey ??= out.AccessKey.AccessKeyId;
      keyMade();
      return out;
    });
    smMock.on(PutSecretValueCommand).callsFake(async (input) => {
      await store;
      return sm.putSecretValue(input);
    });
    iamMock.on(ListAccessKeysCommand).callsFake(async (input) => {
      if (!twin) {
        twin = step('createSecret', 'v3');
        await made;
      }
      return iam.listAccessKeys(input);
    });
    iamMock.on(GetAccessKeyLastUsedCommand).callsFake(async (input) => {
      if (twinKey && input.AccessKeyId === twinKey) {
        storeNow();
        await twin;
      }
      return iam.getAccessKeyLastUsed(input);
    });
    await step('createSecret', 'v3');
    await twin;
    const pending = parseSecret(sm.versions.get('v3')?.value)!;
    expect(pending.username).toBe(twinKey);
    expect(iam.keys.has(twinKey!)).toBe(true);
    for (const s of STEPS.slice(1)) await step(s, 'v3');
    expect(expectCurrentLogsIn().username).toBe(twinKey);
  });

  // The same, one step earlier: the twin finished before this attempt read AWSCURRENT, which is then
  // this version, and AWSPREVIOUS holds the key every app sent with until a moment ago.
  test.each([
    ['the stale-use guard on', 7, 7],
    ['the guard off (quiet period 0)', 0, 0],
  ])(
    'an overlapping createSecret whose twin finished before it read AWSCURRENT ends, keeping both keys (%s)',
    async (_, previousKeyQuietDays, replacedKeyHoldDays) => {
      deps = { ...deps, settings: { ...deps.settings, previousKeyQuietDays, replacedKeyHoldDays } };
      await runRotation('v1');
      await runRotation('v2');
      sm.startRotation('v3');
      let twin: Promise<void> | undefined;
      smMock.on(GetSecretValueCommand).callsFake(async (input) => {
        if (input.VersionStage === 'AWSCURRENT' && !twin)
          await (twin = (async () => {
            for (const s of STEPS) await step(s, 'v3');
          })());
        return sm.getSecretValue(input);
      });
      const keys = () => [...iam.keys.keys()].sort();
      const previous = parseSecret(sm.versions.get('v2')?.value)!.username;
      await step('createSecret', 'v3');
      expect(sm.stagesOf('AWSCURRENT')).toBe('v3');
      expect(keys()).toEqual([previous, expectCurrentLogsIn().username].sort());
      expect(logLines.some((l) => l.includes('this version is AWSCURRENT already'))).toBe(true);
    },
  );

  // `ses-smtp revoke` while a rotation waits for its new key: revoke deactivates every key, the
  // pending one too, and Secrets Manager refuses revoke's own rotation while AWSPENDING stays.
  test('AWSPENDING naming a deactivated key: testSecret clears AWSPENDING, and the next rotation deletes the key', async () => {
    await runRotation('v1');
    sm.startRotation('v2');
    await step('createSecret', 'v2');
    const pending = parseSecret(sm.versions.get('v2')?.value)!;
    for (const { AccessKeyId } of iam.listAccessKeys({ UserName: USER }).AccessKeyMetadata)
      iam.inactive.add(AccessKeyId);

    await expect(step('testSecret', 'v2')).rejects.toThrow(
      `AWSPENDING version v2 of secret ${ARN} holds access key ${pending.username}, which is deactivated (ses-smtp revoke deactivates every key of the user). ` +
        `AWSPENDING is cleared and AWSCURRENT is unchanged: rotate again`,
    );
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
    await runRotation('v3');
    expectCurrentLogsIn();
    expect(iam.deleted).toEqual([pending.username]);
  });

  test('AWSPENDING cleared by the revoke itself while testSecret logged in: the step still says why it stopped', async () => {
    await runRotation('v1');
    sm.startRotation('v2');
    await step('createSecret', 'v2');
    const pending = parseSecret(sm.versions.get('v2')?.value)!;
    deps = {
      ...deps,
      verifyLogin: async () => {
        // The revoke: every key deactivated, this rotation's AWSPENDING removed.
        for (const { AccessKeyId } of iam.listAccessKeys({ UserName: USER }).AccessKeyMetadata)
          iam.inactive.add(AccessKeyId);
        sm.updateSecretVersionStage({ SecretId: ARN, VersionStage: 'AWSPENDING', RemoveFromVersionId: 'v2' });
        throw rejectLikeSes();
      },
    };

    await expect(step('testSecret', 'v2')).rejects.toThrow(
      `AWSPENDING version v2 of secret ${ARN} holds access key ${pending.username}, which is deactivated (ses-smtp revoke deactivates every key of the user). AWSPENDING is cleared`,
    );
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
  });

  /** Version v2 made, every key deactivated (a revoke meanwhile), and the clearing of AWSPENDING throttled. */
  async function pendingOfRevokedKeysUnclearable(): Promise<void> {
    await runRotation('v1');
    sm.startRotation('v2');
    await step('createSecret', 'v2');
    for (const { AccessKeyId } of iam.listAccessKeys({ UserName: USER }).AccessKeyMetadata)
      iam.inactive.add(AccessKeyId);
    sm.faults.failNext('UpdateSecretVersionStage', throttling());
  }

  test('AWSPENDING that could not be cleared: the step fails on that error, not with "AWSPENDING is cleared"', async () => {
    await pendingOfRevokedKeysUnclearable();

    await expect(step('testSecret', 'v2')).rejects.toThrow(throttling().message);
    expect(sm.stagesOf('AWSPENDING')).toBe('v2');
    // Secrets Manager's retry of the version clears it, with the reason.
    await expect(step('testSecret', 'v2')).rejects.toThrow(
      'AWSPENDING is cleared and AWSCURRENT is unchanged',
    );
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
  });

  test('AWSPENDING that could not be cleared nor read back: the step still fails on the clearing error', async () => {
    await pendingOfRevokedKeysUnclearable();
    // The step's own DescribeSecret passes; the read-back after the failed clearing does not.
    sm.faults.failNext('DescribeSecret', serviceUnavailable(), 1);

    await expect(step('testSecret', 'v2')).rejects.toThrow(throttling().message);
    expect(sm.stagesOf('AWSPENDING')).toBe('v2');
  });

  test('IAM listing a new key late (eventual consistency) fails nothing: testSecret asks IAM only after a refused login', async () => {
    // ListAccessKeys would not show the key created for v1 yet.
    iamMock.on(ListAccessKeysCommand).callsFake((input) => {
      const listed = iam.listAccessKeys(input);
      const newest = iam.created.at(-1)?.id;
      return { AccessKeyMetadata: listed.AccessKeyMetadata.filter((k) => k.AccessKeyId !== newest) };
    });
    await runRotation('v1');
    expectCurrentLogsIn();
    // A refused login with the key still there is the login's error, not "no longer has".
    sm.startRotation('v2');
    await step('createSecret', 'v2');
    deps = { ...deps, verifyLogin: async () => Promise.reject(rejectLikeSes()) };
    iamMock.on(ListAccessKeysCommand).callsFake((input) => iam.listAccessKeys(input));
    await expect(step('testSecret', 'v2')).rejects.toThrow('535 Authentication Credentials Invalid');
    expect(sm.stagesOf('AWSPENDING')).toBe('v2');
  });

  test('a key IAM still lists but already deleted (by hand, or by an attempt that timed out) fails nothing', async () => {
    await runRotation('v1');
    await runRotation('v2');
    const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
    // IAM's list lags a deletion (eventual consistency): the first list still names the key.
    const stale = iam.listAccessKeys({ UserName: USER });
    iam.deleteAccessKey({ UserName: USER, AccessKeyId: previous.username });
    let lists = 0;
    iamMock.on(ListAccessKeysCommand).callsFake((input) => (lists++ ? iam.listAccessKeys(input) : stale));
    await runRotation('v3');
    expectCurrentLogsIn();
    expect(iam.keys.size).toBe(2);
    expect(logLines.some((l) => l.includes('already deleted'))).toBe(true);
  });

  test("AWSCURRENT's key deleted outside a rotation: the rotation repairs it and keeps the previous key an app uses", async () => {
    await runRotation('v1');
    await runRotation('v2');
    const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
    iam.deleteAccessKey({ UserName: USER, AccessKeyId: current()!.username });
    iam.recordUse(previous.username, { date: new Date(clock - DAY), service: 'ses', region: REGION });

    await runRotation('v3', 0, 0);
    expectCurrentLogsIn();
    expect(iam.keys.has(previous.username)).toBe(true);
    expect(sesAccepts(previous.username, previous.password)).toBe(true);
    expect(logLines.some((l) => l.includes("AWSCURRENT's access key no longer exists in IAM"))).toBe(true);
    // The kept key is in no label now, and the stale-use guard still protects it next time.
    sm.startRotation('v4');
    await expect(step('createSecret', 'v4')).rejects.toThrow(
      new RegExp(`access key ${previous.username} \\(not in the secret\\) last used with ses`),
    );
    expect(iam.keys.has(previous.username)).toBe(true);
  });

  test("AWSCURRENT's key deleted, and an orphan listed before AWSPREVIOUS's key: the slot keeps AWSPREVIOUS's, the orphan goes", async () => {
    await runRotation('v1');
    await runRotation('v2');
    const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
    iam.deleteAccessKey({ UserName: USER, AccessKeyId: current()!.username });
    const orphan = iam.createAccessKey({ UserName: USER }).AccessKey!.AccessKeyId!;
    // IAM lists keys in no documented order: put the orphan first.
    const kept = iam.keys.get(previous.username)!;
    iam.keys.delete(previous.username);
    iam.keys.set(previous.username, kept);
    expect([...iam.keys.keys()]).toEqual([orphan, previous.username]);

    await runRotation('v3');
    expect(iam.keys.has(previous.username)).toBe(true);
    expect(iam.keys.has(orphan)).toBe(false);
    expect(expectCurrentLogsIn().username).not.toBe(previous.username);
  });

  // Two days after a rotation (a rotate by hand, or a deploy), AWSCURRENT's key is deactivated:
  // every app reading the secret is refused, and `ses-smtp rotate` is the check's fix. The
  // replaced key is AWSPREVIOUS's, inside the hold, and perhaps still in an app.
  test.each([
    ['replaced two days ago', () => undefined],
    ['used by SES yesterday', (key: string) => iam.recordUse(key, sesUseDaysAgo(1))],
  ])(
    "AWSCURRENT's key deactivated, AWSPREVIOUS's %s: the rotation deletes the dead key and keeps the live one",
    async (_case, use) => {
      await runRotation('v1');
      await runRotation('v2', 0, 2 * DAY);
      const dead = current()!;
      const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
      iam.inactive.add(dead.username);
      use(previous.username);

      await runRotation('v3', 0, 0);
      expectCurrentLogsIn();
      expect(iam.deleted).toEqual([dead.username]);
      expect(sesAccepts(previous.username, previous.password)).toBe(true);
      expect(logLines.some((l) => l.includes("AWSCURRENT's access key is inactive"))).toBe(true);
      expect(metricLines).toEqual([]);
    },
  );

  /** Two rotations a day apart, then `ses-smtp revoke`: both keys deactivated. */
  async function revokedAfterTwoRotations() {
    await runRotation('v1');
    await runRotation('v2', 0, DAY);
    const revoked = current()!;
    const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
    iam.inactive.add(revoked.username);
    iam.inactive.add(previous.username);
    return { revoked, previous };
  }

  test("every key deactivated (ses-smtp revoke): AWSCURRENT's stays for the undo, AWSPREVIOUS's goes", async () => {
    const { revoked, previous } = await revokedAfterTwoRotations();

    await runRotation('v3');
    expect(iam.deleted).toEqual([previous.username]);
    expect(iam.keys.has(revoked.username)).toBe(true);
    expectCurrentLogsIn();
  });

  test("after a revoke, IAM still listing AWSPREVIOUS's key as active (it lists changes late): the rotation goes on", async () => {
    const { revoked, previous } = await revokedAfterTwoRotations();
    iamMock.on(ListAccessKeysCommand).callsFake((input) => {
      const listed = iam.listAccessKeys(input).AccessKeyMetadata;
      return {
        AccessKeyMetadata: listed.map((k) =>
          k.AccessKeyId === previous.username ? { ...k, Status: 'Active' } : k,
        ),
      };
    });

    await runRotation('v3');
    expectCurrentLogsIn();
    expect(iam.deleted).toEqual([revoked.username]);
  });

  test("a key IAM lists twice is one key: AWSCURRENT's stays", async () => {
    await runRotation('v1');
    await runRotation('v2');
    const kept = current()!;
    const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
    iamMock.on(ListAccessKeysCommand).callsFake((input) => {
      const listed = iam.listAccessKeys(input).AccessKeyMetadata;
      return { AccessKeyMetadata: [...listed, ...listed.map((k) => ({ ...k }))] };
    });
    iamMock.resetHistory();

    await runRotation('v3');
    expect(iam.deleted).toEqual([previous.username]);
    // One key, asked about and deleted once (a second DeleteAccessKey would find it gone).
    expect(iamMock.commandCalls(DeleteAccessKeyCommand)).toHaveLength(1);
    expect(iamMock.commandCalls(GetAccessKeyLastUsedCommand)).toHaveLength(1);
    expect(sesAccepts(kept.username, kept.password)).toBe(true);
    expectCurrentLogsIn();
  });

  // The key a repair kept has no label afterwards: a second rotation soon after must not take it
  // as an orphan no app has.
  test("the previous key a repair kept is held like AWSPREVIOUS's: a rotation right after the repair stops", async () => {
    await runRotation('v1');
    await runRotation('v2', 0, 2 * DAY);
    const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
    iam.inactive.add(current()!.username);
    await runRotation('v3', 0, 0);
    expect(iam.keys.has(previous.username)).toBe(true);

    const error = await runRotation('v4').catch((e: Error) => e);
    expect(error).toBeInstanceOf(PreviousKeyReplacedRecentlyError);
    expect((error as Error).message).toContain(
      `access key ${previous.username} (not in the secret) was replaced`,
    );
    expect(iam.keys.has(previous.username)).toBe(true);
    expect(sesAccepts(previous.username, previous.password)).toBe(true);
  });

  test('an orphan made after the current credentials (a crashed attempt) is not held', async () => {
    await runRotation('v1');
    await runRotation('v2', 0, DAY);
    const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
    iam.deleteAccessKey({ UserName: USER, AccessKeyId: previous.username });
    const orphan = iam.createAccessKey({ UserName: USER }).AccessKey!.AccessKeyId!;

    await runRotation('v3');
    expect(iam.deleted).toContain(orphan);
    expectCurrentLogsIn();
  });

  test('a CreateAccessKey answer without the secret key stores nothing', async () => {
    iamMock
      .on(CreateAccessKeyCommand)
      .resolves({ AccessKey: { AccessKeyId: 'AKIANOSECRET00000001' } as never });
    sm.startRotation('v1');
    await expect(step('createSecret', 'v1')).rejects.toThrow('CreateAccessKey returned no key');
    expect(sm.valueAt('AWSPENDING')).toBeUndefined();
  });

  test('the secret holds the port the apps were given (publishedPort), not the one the rotation logs in on', async () => {
    deps = {
      ...deps,
      settings: { ...deps.settings, publishedPort: 2587 },
      smtp: { host: '127.0.0.1', port: 465 },
    };
    await runRotation('v1');
    expect(current()!.port).toBe(2587);
  });

  test('a DeleteAccessKey that fails for another reason than "already gone" stops createSecret before it makes a key', async () => {
    await runRotation('v1');
    await runRotation('v2');
    const keys = [...iam.keys.keys()];
    iam.faults.failNext('DeleteAccessKey', throttling());
    sm.startRotation('v3');
    await expect(step('createSecret', 'v3')).rejects.toThrow(/Rate exceeded/);
    expect([...iam.keys.keys()]).toEqual(keys);
    expect(sm.valueAt('AWSPENDING')).toBeUndefined();
  });

  // The console's editor puts a new AWSCURRENT version, and Secrets Manager moves AWSPREVIOUS to
  // the one it replaced: a typo fixed by a second edit leaves the broken value as AWSPREVIOUS,
  // while AWSCURRENT (what `ses-smtp env` shows) is fine.
  test('a value that is not JSON, left as AWSPREVIOUS by the edit that fixed it: createSecret names that version and the command that takes the label off, changes nothing; once off, the rotation goes on', async () => {
    await runRotation('v1');
    await runRotation('v2');
    const good = sm.valueAt('AWSCURRENT')!;
    const before = current()!;
    sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'typo', SecretString: good.slice(0, -1) });
    sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'fixed', SecretString: good });
    expect(sm.stagesOf('AWSPREVIOUS')).toBe('typo');
    const keys = [...iam.keys.keys()];
    sm.startRotation('v3');
    await expect(step('createSecret', 'v3')).rejects.toThrow(
      `AWSPREVIOUS version typo of secret ${ARN} does not hold SMTP credentials (The secret value is not JSON; it must hold the SMTP credentials object): a value put by hand? Nothing was changed. ` +
        `Take AWSPREVIOUS off it (aws secretsmanager update-secret-version-stage --region eu-west-1 --secret-id ${ARN} --version-stage AWSPREVIOUS --remove-from-version-id typo), then rotate again (ses-smtp rotate --stack Mail --region eu-west-1): Secrets Manager reattempts this rotation.`,
    );
    expect([...iam.keys.keys()]).toEqual(keys);
    expect(sm.stagesOf('AWSPENDING')).toBe('v3');

    sm.updateSecretVersionStage({ SecretId: ARN, VersionStage: 'AWSPREVIOUS', RemoveFromVersionId: 'typo' });
    // The edit replaced the credentials (with the same ones): the key they replaced keeps its hold.
    clock += 8 * DAY;
    await runRotation('v3');
    expect(expectCurrentLogsIn().username).not.toBe(before.username);
    expect(sesAccepts(before.username, before.password)).toBe(true);
  });

  test('AWSCURRENT put by hand as JSON null: createSecret says so (not a TypeError), names the version and how to make the previous one current again', async () => {
    await runRotation('v1');
    sm.putSecretValue({ SecretId: ARN, ClientRequestToken: 'by-hand', SecretString: 'null' });
    sm.startRotation('v2');
    const stageCommand = `aws secretsmanager update-secret-version-stage --region eu-west-1 --secret-id ${ARN}`;
    await expect(step('createSecret', 'v2')).rejects.toThrow(
      `AWSCURRENT version by-hand of secret ${ARN} does not hold SMTP credentials (The secret value is null; it must hold the SMTP credentials object): a value put by hand? Nothing was changed. ` +
        `Make the previous version AWSCURRENT again (${stageCommand} --version-stage AWSCURRENT --move-to-version-id <previous version> --remove-from-version-id by-hand), then take AWSPREVIOUS off this one (the same with --version-stage AWSPREVIOUS --remove-from-version-id by-hand; list-secret-version-ids shows the version ids), then rotate again`,
    );
    expect(iam.keys.size).toBe(1);
  });

  const CALLS = [
    ['secrets', 'DescribeSecret'],
    ['secrets', 'GetSecretValue'],
    ['secrets', 'PutSecretValue'],
    ['secrets', 'UpdateSecretVersionStage'],
    ['iam', 'ListAccessKeys'],
    ['iam', 'DeleteAccessKey'],
    ['iam', 'CreateAccessKey'],
    ['iam', 'GetAccessKeyLastUsed'],
  ] as const;
  test.each(
    CALLS.flatMap(([service, call]) => [
      [service, call, 'throttling', throttling],
      [service, call, '5xx', serviceUnavailable],
    ]),
  )('%s %s %s error: the retry converges', async (service, call, _kind, makeError) => {
    await runRotation('v1');
    await runRotation('v2');
    const before = current()!;
    (service === 'iam' ? iam : sm).faults.failNext(call, makeError());
    await runRotation('v3', 2);
    const after = expectCurrentLogsIn();
    expect(after.username).not.toBe(before.username);
    expect(sesAccepts(before.username, before.password)).toBe(true);
    expect(iam.keys.size).toBe(2);
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
  });

  // Failing the step would make Secrets Manager report the rotation failed, and its alarm and
  // notification say "the current credentials are unchanged": they changed.
  test('finishSecret that moved AWSCURRENT but cannot clear AWSPENDING succeeds, with a warning; the next rotation works', async () => {
    await runRotation('v1');
    const before = current()!;
    sm.startRotation('v2');
    for (const s of STEPS.slice(0, 3)) await step(s, 'v2');
    sm.faults.failNext('UpdateSecretVersionStage', throttling(), 1);
    await expect(step('finishSecret', 'v2')).resolves.toBeUndefined();
    expect(sm.stagesOf('AWSCURRENT')).toBe('v2');
    expect(sm.stagesOf('AWSPENDING')).toBe('v2');
    expect(sesAccepts(before.username, before.password)).toBe(true);
    expect(logLines.map((l) => JSON.parse(l) as Record<string, unknown>).at(-1)).toMatchObject({
      level: 'WARN',
      message: expect.stringContaining('could not clear AWSPENDING from the version that holds AWSCURRENT'),
      errorMessage: throttling().message,
    });
    expectCurrentLogsIn();

    clock += INTERVAL;
    await runRotation('v3');
    expect(sm.stagesOf('AWSCURRENT')).toBe('v3');
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
    expect(iam.keys.size).toBe(2);
  });

  // The move happened, but its answer was lost: failing the step would report "unchanged".
  test('finishSecret whose move of AWSCURRENT succeeded with its answer lost: succeeds, with a warning', async () => {
    await runRotation('v1');
    sm.startRotation('v2');
    for (const s of STEPS.slice(0, 3)) await step(s, 'v2');
    let answerLost = true;
    smMock.on(UpdateSecretVersionStageCommand).callsFake((input) => {
      const answer = sm.updateSecretVersionStage(input);
      if (!answerLost) return answer;
      answerLost = false;
      throw awsError('TimeoutError', 'socket hang up');
    });
    await expect(step('finishSecret', 'v2')).resolves.toBeUndefined();
    expect(sm.stagesOf('AWSCURRENT')).toBe('v2');
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
    expect(logLines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        message: 'the move of AWSCURRENT answered with an error, but the new version holds AWSCURRENT',
        previousVersionId: 'v1',
        errorMessage: 'socket hang up',
      }),
    );
    expectCurrentLogsIn();
  });

  test('finishSecret whose move of AWSCURRENT failed and did not happen: the step fails, AWSCURRENT stays', async () => {
    await runRotation('v1');
    sm.startRotation('v2');
    for (const s of STEPS.slice(0, 3)) await step(s, 'v2');
    sm.faults.failNext('UpdateSecretVersionStage', serviceUnavailable());
    await expect(step('finishSecret', 'v2')).rejects.toThrow(serviceUnavailable().message);
    expect(sm.stagesOf('AWSCURRENT')).toBe('v1');
    expect(sm.stagesOf('AWSPENDING')).toBe('v2');
  });

  /** Version v2 tested, then made AWSCURRENT beside its AWSPENDING: a finishSecret that stopped after the move. */
  async function movedBeforeFinishSecret(): Promise<void> {
    await runRotation('v1');
    sm.startRotation('v2');
    for (const s of STEPS.slice(0, 3)) await step(s, 'v2');
    sm.updateSecretVersionStage({
      SecretId: ARN,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: 'v2',
      RemoveFromVersionId: 'v1',
    });
  }

  test('finishSecret retried on a version already AWSCURRENT (a move whose answer was lost): clears AWSPENDING', async () => {
    await movedBeforeFinishSecret();
    await step('finishSecret', 'v2');
    expect(sm.stagesOf('AWSCURRENT')).toBe('v2');
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
    expectCurrentLogsIn();
  });

  test('finishSecret retried on a version already AWSCURRENT whose AWSPENDING cannot be cleared: succeeds, with a warning', async () => {
    await movedBeforeFinishSecret();
    sm.faults.failNext('UpdateSecretVersionStage', throttling());
    await expect(step('finishSecret', 'v2')).resolves.toBeUndefined();
    expect(sm.stagesOf('AWSCURRENT')).toBe('v2');
    expect(sm.stagesOf('AWSPENDING')).toBe('v2');
    expect(logLines.map((l) => JSON.parse(l) as Record<string, unknown>).at(-1)).toMatchObject({
      level: 'WARN',
      message: expect.stringContaining('could not clear AWSPENDING from the version that holds AWSCURRENT'),
    });
  });

  test('testSecret fails when SES does not accept the new key; AWSCURRENT is untouched', async () => {
    await runRotation('v1');
    const before = sm.stagesOf('AWSCURRENT');
    deps = { ...deps, verifyLogin: async () => Promise.reject(rejectLikeSes()) };
    await expect(runRotation('v2')).rejects.toThrow('535 Authentication Credentials Invalid');
    expect(sm.stagesOf('AWSCURRENT')).toBe(before);
    expectCurrentLogsIn();
  });

  // Secrets Manager retries and reattempts only the version AWSPENDING sits on, and refuses every
  // new rotation while it does: a stored value SES never takes would hold the secret there for good.
  test('a pending version SES never accepts (password derived for another Region) is given up after an hour; fixed, the next rotation works', async () => {
    await runRotation('v1');
    const before = current()!;
    deps = { ...deps, settings: { ...deps.settings, region: 'us-east-1' } };
    sm.startRotation('v2');
    await step('createSecret', 'v2');
    await step('setSecret', 'v2');
    const pending = parseSecret(sm.versions.get('v2')?.value)!;
    deps = { ...deps, settings: { ...deps.settings, region: REGION } };

    // Within the hour, each retry keeps the version: a new key may still be propagating.
    clock += PENDING_GIVE_UP_MS - 60_000;
    await expect(step('testSecret', 'v2')).rejects.toThrow('535 Authentication Credentials Invalid');
    expect(sm.stagesOf('AWSPENDING')).toBe('v2');

    clock += 60_000;
    await expect(step('testSecret', 'v2')).rejects.toThrow(
      `AWSPENDING version v2 of secret ${ARN} (access key ${pending.username}) still fails its SMTP login 60 minutes after the key was made, longer than IAM takes to make a key work: Invalid login: 535 Authentication Credentials Invalid. ` +
        `AWSPENDING is cleared and AWSCURRENT is unchanged; the next rotation deletes the key. Fix the cause (this function's log has each attempt), then rotate again (ses-smtp rotate --stack Mail --region eu-west-1).`,
    );
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
    // The key stays until the next rotation (an overlapping finishSecret may have just made it current).
    expect(iam.keys.has(pending.username)).toBe(true);
    expect(current()).toEqual(before);
    expectCurrentLogsIn();
    // Secrets Manager's later retries of v2 end at once, naming why.
    await expect(step('testSecret', 'v2')).rejects.toThrow('has no stage for rotation');

    await runRotation('v3');
    expect(expectCurrentLogsIn().username).not.toBe(before.username);
    expect(sesAccepts(before.username, before.password)).toBe(true);
    expect(iam.deleted).toEqual([pending.username]);
    expect(iam.keys.size).toBe(2);
  });

  test('the hour runs from the key, not the version: a createSecret retried hours later gives its key the time IAM needs', async () => {
    await runRotation('v1');
    sm.startRotation('v2');
    iam.faults.failNext('ListAccessKeys', throttling());
    await expect(step('createSecret', 'v2')).rejects.toThrow('Rate exceeded');
    clock += 2 * PENDING_GIVE_UP_MS;
    await step('createSecret', 'v2');
    // The new key is not working yet.
    deps = { ...deps, verifyLogin: async () => Promise.reject(rejectLikeSes()) };
    await expect(step('testSecret', 'v2')).rejects.toThrow(/^Invalid login: 535/);
    expect(sm.stagesOf('AWSPENDING')).toBe('v2');
  });

  test("without the key's creation date (IAM always gives it) the rotation is never given up", async () => {
    await runRotation('v1');
    iamMock.on(ListAccessKeysCommand).callsFake((input) => ({
      AccessKeyMetadata: iam.listAccessKeys(input).AccessKeyMetadata.map(({ CreateDate: _, ...key }) => key),
    }));
    sm.startRotation('v2');
    await step('createSecret', 'v2');
    deps = { ...deps, verifyLogin: async () => Promise.reject(rejectLikeSes()) };
    clock += 2 * PENDING_GIVE_UP_MS;
    await expect(step('testSecret', 'v2')).rejects.toThrow(/^Invalid login: 535/);
    expect(sm.stagesOf('AWSPENDING')).toBe('v2');
  });

  test('a pending key deactivated an hour or more later: the message is about the deactivation', async () => {
    await runRotation('v1');
    sm.startRotation('v2');
    await step('createSecret', 'v2');
    iam.inactive.add(parseSecret(sm.versions.get('v2')?.value)!.username);
    clock += PENDING_GIVE_UP_MS;
    await expect(step('testSecret', 'v2')).rejects.toThrow(/which is deactivated \(ses-smtp revoke/);
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
  });

  describe('standard checks on every step', () => {
    test.each(STEPS)('%s refuses a secret without rotation enabled', async (s) => {
      sm.rotationEnabled = false;
      sm.startRotation('v1');
      await expect(step(s, 'v1')).rejects.toThrow(`Secret ${ARN} is not enabled for rotation`);
    });

    test.each(STEPS)('%s refuses an unknown version', async (s) => {
      await expect(step(s, 'nope')).rejects.toThrow(
        `Secret version nope has no stage for rotation of secret ${ARN}`,
      );
    });

    test.each(STEPS)('%s refuses a version that is not AWSPENDING', async (s) => {
      await runRotation('v1');
      sm.startRotation('v2');
      sm.versions.get('v1')!.stages.clear();
      sm.versions.get('v1')!.stages.add('AWSPREVIOUS');
      await expect(step(s, 'v1')).rejects.toThrow(
        `Secret version v1 is not set as AWSPENDING for rotation of secret ${ARN}`,
      );
    });

    test.each(STEPS)('%s does nothing for a version that is already AWSCURRENT', async (s) => {
      await runRotation('v1');
      const calls = iamMock.calls().length;
      await step(s, 'v1');
      expect(iamMock.calls().length).toBe(calls);
      expect(smMock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    });

    test('an unknown step is an error', async () => {
      sm.startRotation('v1');
      await expect(step('rollback', 'v1')).rejects.toThrow('Unknown rotation step: rollback');
    });
  });

  test('no secret access key or password ever reaches a log line', async () => {
    const printed: string[] = [];
    const spies = (['log', 'info', 'warn', 'error'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void printed.push(args.join(' '))),
    );
    try {
      sm.faults.failNext('PutSecretValue', throttling());
      await runRotation('v1', 1);
      await runRotation('v2');
      deps = { ...deps, verifyLogin: async () => Promise.reject(rejectLikeSes()) };
      await expect(runRotation('v3')).rejects.toThrow(/^Invalid login: 535/);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const lines = [...logLines, ...printed];
    expect(lines.length).toBeGreaterThan(5);
    const secrets = iam.created.flatMap((k) => [k.secret, smtpPasswordFromSecretKey(k.secret, REGION)]);
    expect(secrets.length).toBeGreaterThan(4);
    for (const line of lines) for (const s of secrets) expect(line).not.toContain(s);
  });
});

describe('stale-use guard: the key AWSPREVIOUS holds is not deleted while an app sends with it', () => {
  /**
   * Two rotations, 60 and 30 days ago: AWSCURRENT and AWSPREVIOUS each hold a key, and the next
   * rotation would delete the older, which the current credentials replaced 30 days ago.
   */
  async function twoRotations() {
    clock = NOW.getTime() - 60 * DAY;
    await runRotation('v1');
    clock = NOW.getTime() - 30 * DAY;
    await runRotation('v2');
    clock = NOW.getTime();
    const previous = parseSecret(sm.valueAt('AWSPREVIOUS'))!;
    expect(previous.username).toBe(iam.created[0].id);
    return { previous, current: current()! };
  }
  const sesUse = (daysAgo: number, region = REGION) => ({
    date: new Date(NOW.getTime() - daysAgo * DAY),
    service: 'ses',
    region,
  });

  test('used by SES yesterday: no change, a clear message naming the key, and the blocked metric', async () => {
    const { previous, current: before } = await twoRotations();
    iam.recordUse(previous.username, sesUse(1));
    sm.startRotation('v3');
    const error = await step('createSecret', 'v3').catch((e: Error) => e);

    expect(error).toBeInstanceOf(PreviousKeyInUseError);
    const message = (error as Error).message;
    expect(message).toContain(
      `access key ${previous.username} (AWSPREVIOUS) last used with ses in eu-west-1 at 2026-11-28T12:00:00.000Z (1 day ago), over 2 hours after the current credentials replaced it at 2026-10-30T12:00:00.000Z, within the 7-day quiet period`,
    );
    expect(message).toContain(
      'make it read the current credentials from the secret (ses-smtp env --stack Mail --region eu-west-1), wait until the key is unused for 7 days, then rotate again (ses-smtp rotate --stack Mail --region eu-west-1).',
    );
    expect(message).toContain('set credentials.rotateWhilePreviousKeyInUse to true');
    // Nothing changed: both keys live, no new key, no AWSPENDING value.
    expect(iamMock.commandCalls(DeleteAccessKeyCommand)).toHaveLength(0);
    expect(iamMock.commandCalls(CreateAccessKeyCommand)).toHaveLength(2);
    expect([...iam.keys.keys()].sort()).toEqual([previous.username, before.username].sort());
    expect(sm.versions.get('v3')?.value).toBeUndefined();
    // AWSPENDING is cleared: Secrets Manager would refuse every new rotation while it stayed.
    expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
    // The alarm's metric: one EMF document, count 1, dimension Environment.
    expect(metricLines.map((l) => JSON.parse(l))).toEqual([
      {
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [
            {
              Namespace: 'SesSmtp/Health',
              Dimensions: [['Environment']],
              Metrics: [{ Name: 'RotationBlockedPreviousKeyInUse', Unit: 'Count' }],
            },
          ],
        },
        Environment: 'test',
        RotationBlockedPreviousKeyInUse: 1,
      },
    ]);
    // Secrets Manager's retry of the stopped version is told what happened and what to do...
    await expect(step('createSecret', 'v3')).rejects.toThrow(
      /has no stage for rotation .*a stopped rotation clears its AWSPENDING label: the first error of this rotation says why; start a new one with ses-smtp rotate/,
    );
    // ...and the operator's new rotation (a new version) stops the same way while the app sends.
    await expect(runRotation('v4')).rejects.toThrow(PreviousKeyInUseError);
    expect(current()!.username).toBe(before.username);
  });

  test('a use IAM records under "ses-smtp" (an SMTP login) stops the rotation like one under "ses"', async () => {
    const { previous, current: before } = await twoRotations();
    iam.recordUse(previous.username, { ...sesUse(1), service: 'ses-smtp' });
    sm.startRotation('v3');
    await expect(step('createSecret', 'v3')).rejects.toThrow(PreviousKeyInUseError);
    expect([...iam.keys.keys()].sort()).toEqual([previous.username, before.username].sort());
    expect(metricLines).toHaveLength(1);
  });

  test('with rotateWhilePreviousKeyInUse the same rotation deletes the key and warns', async () => {
    const { previous } = await twoRotations();
    iam.recordUse(previous.username, sesUse(1));
    deps = { ...deps, settings: { ...deps.settings, rotateWhilePreviousKeyInUse: true } };
    await runRotation('v3');
    expect(iamMock.commandCalls(DeleteAccessKeyCommand).map((c) => c.args[0].input.AccessKeyId)).toEqual([
      previous.username,
    ]);
    expectCurrentLogsIn();
    expect(metricLines).toEqual([]);
    const warning = logLines.map((l) => JSON.parse(l)).find((l) => l.level === 'WARN');
    expect(warning.message).toMatch(/rotateWhilePreviousKeyInUse is set/);
    expect(warning.keys[0]).toContain(`${previous.username} (AWSPREVIOUS) last used with ses`);
  });

  test.each([
    [
      'used by SES 8 days ago (outside the 7-day quiet period)',
      () => sesUse(8),
      /not used by SES in the last 7 days/,
    ],
    [
      'used by SES under "ses-smtp" 8 days ago: an SMTP use, not another service',
      () => ({ ...sesUse(8), service: 'ses-smtp' }),
      /not used by SES in the last 7 days/,
    ],
    [
      'never used: IAM has no LastUsedDate and N/A for service and Region',
      () => undefined,
      /no last-use data/,
    ],
    [
      'last used with another service (a probe of a leaked key, say): deleted, with a warning',
      () => ({ date: new Date(NOW.getTime() - DAY), service: 'sts', region: 'us-east-1' }),
      /last used with another service than SES/,
    ],
  ])('%s: the rotation proceeds', async (_name, use, logged) => {
    const { previous } = await twoRotations();
    const recorded = use();
    if (recorded) iam.recordUse(previous.username, recorded);
    await runRotation('v3');
    expect(
      iamMock.commandCalls(GetAccessKeyLastUsedCommand).map((c) => c.args[0].input.AccessKeyId),
    ).toContain(previous.username);
    expect(iam.deleted).toEqual([previous.username]);
    expect(logLines.some((l) => logged.test(l))).toBe(true);
    expect(metricLines).toEqual([]);
  });

  // AWSPREVIOUS's key was the current one until the last rotation: every app sent with it then.
  // The last rotation replaced it 7 days and 1 hour ago: the quiet period since is over, and a
  // use an hour either side of the grace's end lies within the last 7 days.
  test.each([
    [
      'a minute before the current credentials replaced it',
      'proceeds',
      -60_000,
      /not used by SES in the last 7 days/,
    ],
    [
      'just within the 2-hour grace after',
      'proceeds',
      2 * 3_600_000 - 60_000,
      /before, or within 2 hours after, the current credentials replaced it/,
    ],
    ['just after the grace', 'stops', 2 * 3_600_000 + 60_000, undefined],
  ])('the previous key last used by SES %s: the rotation %s', async (_when, outcome, offset, logged) => {
    const { previous } = await twoRotations();
    const replacedAt = NOW.getTime() - 7 * DAY - 3_600_000;
    sm.versions.get('v2')!.created = new Date(replacedAt);
    iam.recordUse(previous.username, { date: new Date(replacedAt + offset), service: 'ses', region: REGION });
    const rotation = runRotation('v3');
    if (outcome === 'stops') {
      await expect(rotation).rejects.toThrow(PreviousKeyInUseError);
      expect(iam.deleted).toEqual([]);
    } else {
      await rotation;
      expect(iam.deleted).toEqual([previous.username]);
      expect(logLines.some((l) => logged!.test(l))).toBe(true);
    }
  });

  // A rotation soon after another (`ses-smtp rotate` by hand, or a deploy that changed the
  // schedule): an app that keeps the credentials it booted with may not have sent since, so the
  // key is kept whatever IAM says, and a use since the replacement is named as one.
  /** Two rotations, the last `ago` ms before the test's clock; SES used the previous key `after` ms after it. */
  async function previousKeyUsedAfterSwitch(ago: number, after: number) {
    const { previous } = await twoRotations();
    const replacedAt = NOW.getTime() - ago;
    sm.versions.get('v2')!.created = new Date(replacedAt);
    iam.recordUse(previous.username, { date: new Date(replacedAt + after), service: 'ses', region: REGION });
  }

  test('40 minutes after a rotation, the previous key used by SES since: stops, naming the use', async () => {
    await previousKeyUsedAfterSwitch(40 * 60_000, 10 * 60_000);
    await expect(runRotation('v3')).rejects.toThrow(
      `since the current credentials replaced it at 2026-11-29T11:20:00.000Z, less than 2 hours ago (an app may not have switched yet), within the 7-day quiet period`,
    );
    expect(iam.deleted).toEqual([]);
    expect(metricLines).toHaveLength(1);
  });

  // The grace's whole 2 hours count, not only its start: rotating daily (no hold after it), a use
  // 70 minutes after the switch is an app that has not switched, and its key must stay.
  test('100 minutes after a rotation, rotating daily, the previous key used by SES 70 minutes after the switch: stops', async () => {
    await previousKeyUsedAfterSwitch(100 * 60_000, 70 * 60_000);
    deps = { ...deps, settings: { ...deps.settings, replacedKeyHoldDays: 0 } };
    const error = await runRotation('v3').catch((e: Error) => e);
    expect(error).toBeInstanceOf(PreviousKeyInUseError);
    expect(iam.deleted).toEqual([]);
    expect(metricLines).toHaveLength(1);
  });

  test.each([
    ['40 minutes', 40 * 60_000, undefined],
    ['6 days', 6 * DAY, undefined],
    ['40 minutes (the key never used)', 40 * 60_000, 'never'],
  ])(
    'a rotation %s after the last, the previous key not used by SES since: the key is kept, AWSPENDING cleared, no alarm metric',
    async (_when, ago, never) => {
      const { previous, current: before } = await twoRotations();
      const replacedAt = new Date(NOW.getTime() - ago);
      sm.versions.get('v2')!.created = replacedAt;
      if (!never)
        iam.recordUse(previous.username, {
          date: new Date(replacedAt.getTime() - 60_000),
          service: 'ses',
          region: REGION,
        });
      const error = await runRotation('v3').catch((e: Error) => e);

      expect(error).toBeInstanceOf(PreviousKeyReplacedRecentlyError);
      const retryAfter = new Date(replacedAt.getTime() + 7 * DAY).toISOString();
      expect((error as Error).message).toBe(
        `rotation stopped before any change: access key ${previous.username} (AWSPREVIOUS) was replaced by the current credentials at ${replacedAt.toISOString()}, less than 7 days ago, and this rotation would delete it. ` +
          `An app that keeps the credentials it was given (environment variables read at boot) may still send with it without having sent since, and would stop sending. ` +
          `Rotate again after ${retryAfter} (ses-smtp rotate --stack Mail --region eu-west-1). If no app uses that key, deactivate it first (aws iam update-access-key --user-name ${USER} --access-key-id ${previous.username} --status Inactive; --status Active undoes it) and rotate again. ` +
          `To rotate anyway and cut that app off, set credentials.rotateWhilePreviousKeyInUse to true and deploy.`,
      );
      expect([...iam.keys.keys()].sort()).toEqual([previous.username, before.username].sort());
      expect(sm.stagesOf('AWSPENDING')).toBeUndefined();
      // Not the in-use alarm: nothing says an app sends with it (the failed rotation alarms).
      expect(metricLines).toEqual([]);
      // An app that booted with the previous credentials still sends.
      expect(sesAccepts(previous.username, previous.password)).toBe(true);

      // The way out it names: deactivate the key, rotate again.
      iam.inactive.add(previous.username);
      await runRotation('v4');
      expect(iam.deleted).toEqual([previous.username]);
      expectCurrentLogsIn();
    },
  );

  // RotateSecret made v2 on day 0; its testSecret failed, and Secrets Manager's retry finished it
  // on day 5: the key v1 holds was current until then, and an app that read it then keeps it.
  test('a rotation finished days after it started: the hold and the grace run from the switch', async () => {
    clock = NOW.getTime() - 60 * DAY;
    await runRotation('v1');
    const k1 = current()!;
    clock = NOW.getTime();
    sm.startRotation('v2');
    await step('createSecret', 'v2');
    await step('setSecret', 'v2');
    clock += 5 * DAY;
    // The app sends with k1 an hour before the switch, while k1 is still AWSCURRENT's key.
    iam.recordUse(k1.username, { date: new Date(clock - 3_600_000), service: 'ses', region: REGION });
    await runRotation('v2', 0, 2.5 * DAY);
    expect(sm.versions.get('v2')!.created.getTime()).toBe(NOW.getTime());

    const error = await runRotation('v3').catch((e: Error) => e);
    expect(error).toBeInstanceOf(PreviousKeyReplacedRecentlyError);
    expect((error as Error).message).toContain(
      `was replaced by the current credentials at ${new Date(NOW.getTime() + 5 * DAY).toISOString()}, less than 7 days ago`,
    );
    expect(iam.keys.has(k1.username)).toBe(true);
    expect(sesAccepts(k1.username, k1.password)).toBe(true);
    // Its use before the switch is not an app left behind: no in-use alarm.
    expect(metricLines).toEqual([]);
  });

  test('a rotation right after the quiet period since the last one goes on', async () => {
    const { previous } = await twoRotations();
    sm.versions.get('v2')!.created = new Date(NOW.getTime() - 7 * DAY);
    await runRotation('v3');
    expect(iam.deleted).toEqual([previous.username]);
  });

  test('with rotateWhilePreviousKeyInUse a rotation soon after the last deletes the key and warns', async () => {
    const { previous } = await twoRotations();
    sm.versions.get('v2')!.created = new Date(NOW.getTime() - 60 * 60_000);
    deps = { ...deps, settings: { ...deps.settings, rotateWhilePreviousKeyInUse: true } };
    await runRotation('v3');
    expect(iam.deleted).toEqual([previous.username]);
    const warning = logLines.map((l) => JSON.parse(l)).find((l) => l.level === 'WARN');
    expect(warning.message).toMatch(/rotateWhilePreviousKeyInUse is set/);
    expect(warning.replacedRecently).toBe(previous.username);
  });

  // Scheduled rotations: the config keeps the quiet period below the interval, and Secrets
  // Manager rotates anywhere within the UTC day a rotation is due (the window of a schedule in
  // days), so two rotations can come a day less the interval apart.
  test('rotating every 5 days (a 4-day hold) with a 7-day quiet period goes on while apps switch within the hour', async () => {
    deps = { ...deps, settings: { ...deps.settings, replacedKeyHoldDays: 4 } };
    const appsSend = () =>
      iam.recordUse(current()!.username, { date: new Date(clock), service: 'ses', region: REGION });
    // Each rotation comes at the start of its due day after one at the end of the day before.
    const gaps = [5 * DAY, 4 * DAY + 60_000, 5 * DAY];
    for (const [index, token] of ['v1', 'v2', 'v3', 'v4'].entries()) {
      if (index > 0) {
        clock += gaps[index - 1] - 30 * 60_000 - 3_600_000;
        appsSend(); // an hour before the rotation, with the credentials of the day
        clock += 3_600_000;
      }
      await runRotation(token, 0, 0);
      clock += 30 * 60_000;
      appsSend(); // half an hour later every app has the new credentials
    }
    expect(iam.deleted).toHaveLength(2);
    expect(metricLines).toEqual([]);
  });

  test('IAM answering "N/A" with a date, or a date in the future, is handled', async () => {
    const { previous } = await twoRotations();
    // A clock ahead of ours: age 0, still "within" the quiet period.
    iam.recordUse(previous.username, sesUse(-0.5));
    sm.startRotation('v3');
    await expect(step('createSecret', 'v3')).rejects.toThrow(/less than a day ago/);
    iam.lastUse.set(previous.username, {
      date: new Date(NOW.getTime() - DAY),
      service: 'N/A',
      region: 'N/A',
    });
    await runRotation('v4');
    expect(iam.deleted).toEqual([previous.username]);
  });

  test.each<[string, (id: string) => void]>([
    ['deactivated (ses-smtp revoke)', (id) => iam.inactive.add(id)],
    ['expired in IAM', (id) => iam.expired.add(id)],
  ])('a previous key %s is deleted even though SES used it yesterday', async (_state, change) => {
    const { previous } = await twoRotations();
    iam.recordUse(previous.username, sesUse(1));
    change(previous.username);
    await runRotation('v3');
    expect(iam.deleted).toEqual([previous.username]);
    expect(iamMock.commandCalls(GetAccessKeyLastUsedCommand)).toHaveLength(0);
    expect(metricLines).toEqual([]);
  });

  // Rotating daily: no hold (a scheduled rotation comes a day after the last, or sooner), and a
  // use by SES after the 2-hour grace still stops the rotation: the look-back is not capped.
  test('rotating daily (hold 0): a key SES used 20 hours ago, after the grace, is kept', async () => {
    const { previous } = await twoRotations();
    deps = { ...deps, settings: { ...deps.settings, replacedKeyHoldDays: 0 } };
    sm.versions.get('v2')!.created = new Date(NOW.getTime() - DAY);
    iam.recordUse(previous.username, {
      date: new Date(NOW.getTime() - 20 * 3_600_000),
      service: 'ses',
      region: REGION,
    });
    await expect(runRotation('v3')).rejects.toThrow(PreviousKeyInUseError);
    expect(iam.deleted).toEqual([]);
    // Unused since the replacement: deleted, a day after it (no hold).
    iam.recordUse(previous.username, {
      date: new Date(NOW.getTime() - DAY - 60_000),
      service: 'ses',
      region: REGION,
    });
    await runRotation('v4');
    expect(iam.deleted).toEqual([previous.username]);
  });

  test('quiet period 0 turns the guard off: no last-use lookups', async () => {
    const { previous } = await twoRotations();
    iam.recordUse(previous.username, sesUse(0));
    deps = { ...deps, settings: { ...deps.settings, previousKeyQuietDays: 0, replacedKeyHoldDays: 0 } };
    await runRotation('v3');
    expect(iamMock.commandCalls(GetAccessKeyLastUsedCommand)).toHaveLength(0);
    expect(iam.deleted).toEqual([previous.username]);
  });

  test('an orphan key that SES used is protected too, labelled as not in the secret', async () => {
    await runRotation('v1', 0, 0);
    const first = current()!;
    sm.faults.failNext('PutSecretValue', serviceUnavailable());
    iam.faults.failNext('DeleteAccessKey', serviceUnavailable());
    sm.startRotation('v2');
    await expect(step('createSecret', 'v2')).rejects.toThrow('Service is unavailable');
    const orphan = [...iam.keys.keys()].find((id) => id !== first.username)!;
    iam.recordUse(orphan, sesUse(2));
    await expect(step('createSecret', 'v2')).rejects.toThrow(`access key ${orphan} (not in the secret)`);
  });

  test('the message and logs name key ids, never key material', async () => {
    const { previous } = await twoRotations();
    iam.recordUse(previous.username, sesUse(1));
    sm.startRotation('v3');
    const message = await step('createSecret', 'v3').catch((e: Error) => e.message);
    const secrets = iam.created.flatMap((k) => [k.secret, smtpPasswordFromSecretKey(k.secret, REGION)]);
    for (const text of [message, ...logLines, ...metricLines])
      for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

/**
 * A clock that only moves when the code sleeps or a test says time passed. Its sleeps return at
 * once, so a retry loop that never ends would spin forever: past 10,000 waits one throws instead.
 */
function fakeClock() {
  let t = 0;
  const waits: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      if (waits.length >= 10_000) throw new Error('10,000 waits: the retries never end');
      waits.push(ms);
      t += ms;
    },
    advance: (ms: number) => void (t += ms),
    waits,
  };
}

describe('retryUntil', () => {
  test('waits start at 0.5 s, grow with the time spent and cap at 5 s', async () => {
    const clock = fakeClock();
    await expect(
      retryUntil(async () => {
        throw rejectLikeSes();
      }, clock),
    ).rejects.toThrow('535');
    expect(clock.waits.slice(0, 3)).toEqual([500, 500, 500]);
    expect(Math.max(...clock.waits)).toBe(5000);
    for (const [i, w] of clock.waits.entries()) {
      const spent = clock.waits.slice(0, i).reduce((a, b) => a + b, 0);
      expect(w).toBe(Math.min(150_000 - spent, 5000, Math.max(500, Math.round(spent / 10))));
    }
  });

  test('the deadline means what it says: the last attempt runs at 150 s, not one backoff before', async () => {
    const clock = fakeClock();
    const attemptsAt: number[] = [];
    await expect(
      retryUntil(async () => {
        attemptsAt.push(clock.now());
        throw rejectLikeSes();
      }, clock),
    ).rejects.toThrow('535');
    expect(attemptsAt.at(-1)).toBe(150_000);
    expect(clock.now()).toBe(150_000);
    expect(attemptsAt.length).toBe(clock.waits.length + 1);
  });

  test('an attempt that succeeds at the deadline still counts', async () => {
    const clock = fakeClock();
    const result = retryUntil(
      async () => {
        if (clock.now() < 20_000) throw rejectLikeSes();
        return 'ok';
      },
      { ...clock, deadlineMs: 20_000 },
    );
    await expect(result).resolves.toBe('ok');
    expect(clock.now()).toBe(20_000);
  });

  test('returns as soon as an attempt succeeds', async () => {
    const clock = fakeClock();
    let attempts = 0;
    await expect(
      retryUntil(async () => {
        if (++attempts < 3) throw rejectLikeSes();
        return 'ok';
      }, clock),
    ).resolves.toBe('ok');
    expect(clock.waits).toEqual([500, 500]);
  });

  test.each([
    [300_000, 150_000],
    [100_000, 88_000],
    [5_000, 0],
  ])('with %i ms left in the invocation the deadline is %i ms', (remaining, deadline) => {
    expect(retryDeadlineMs(remaining)).toBe(deadline);
  });

  test('a retry within the invocation never runs into the function timeout', async () => {
    const clock = fakeClock();
    const remaining = 60_000;
    const loginMs = 10_000; // every attempt uses its whole timeout
    await expect(
      retryUntil(
        async () => {
          clock.advance(loginMs);
          throw rejectLikeSes();
        },
        { ...clock, deadlineMs: retryDeadlineMs(remaining, { attemptMs: loginMs }) },
      ),
    ).rejects.toThrow('535');
    expect(clock.now()).toBeLessThanOrEqual(remaining - 2_000);
    expect(clock.now()).toBeGreaterThanOrEqual(remaining - 2_000 - loginMs);
  });
});

describe('rotation wall time against IAM propagation (fake clock)', () => {
  // An SMTP login from Lambda to SES: TCP, STARTTLS, AUTH, about 300 ms.
  const LOGIN_MS = 300;

  test.each([5, 7.5, 10, 15, 20, 30, 45, 60])(
    'a key that reaches SES after %d s: the rotation takes at most 1.1 x (D + 1 s)',
    async (seconds) => {
      const propagationMs = seconds * 1000;
      const clock = fakeClock();
      iam = new FakeIam(USER, clock.now);
      let logins = 0;
      deps = {
        ...deps,
        verifyLogin: (_endpoint, { username, password }) =>
          retryUntil(async () => {
            logins++;
            clock.advance(LOGIN_MS);
            const key = iam.keys.get(username);
            if (!sesAccepts(username, password) || clock.now() - key!.createdAt < propagationMs)
              throw rejectLikeSes();
          }, clock),
      };
      await runRotation('v1');
      expectCurrentLogsIn();
      const wallMs = clock.now();
      expect(wallMs).toBeGreaterThanOrEqual(propagationMs);
      expect(wallMs).toBeLessThanOrEqual(1.1 * (propagationMs + 1000));
      expect(logins).toBe(clock.waits.length + 1);
      console.info(`rotation wall time, fake clock, propagation ${propagationMs} ms: ${wallMs} ms`);
    },
  );
});

describe('smtpEndpointFromEnv', () => {
  test('reads SMTP_HOST and SMTP_PORT', () => {
    expect(smtpEndpointFromEnv({ SMTP_HOST: '127.0.0.1', SMTP_PORT: '2525' })).toEqual({
      host: '127.0.0.1',
      port: 2525,
    });
    expect(smtpEndpointFromEnv({ SMTP_HOST: 'email-smtp.eu-west-1.amazonaws.com' }).port).toBe(587);
  });
  // SmtpCredentials' smtpPort may be one of SES's TLS Wrapper ports: testSecret logs in there.
  test.each([
    ['465', true],
    ['2465', true],
    ['587', undefined],
  ])('SMTP_PORT %s: TLS from the first byte is %s', (port, implicit) => {
    expect(smtpEndpointFromEnv({ SMTP_HOST: 'h', SMTP_PORT: port }).implicitTls).toBe(implicit);
  });
  test.each([[{}], [{ SMTP_HOST: 'h', SMTP_PORT: 'abc' }]])('refuses %j', (env) => {
    expect(() => smtpEndpointFromEnv(env)).toThrow(/SMTP_(HOST|PORT)/);
  });
});

describe('testSecret against a real SMTP server on 127.0.0.1', () => {
  let server: TestSmtpServer;
  // Short in real time: the fake-clock tests above cover propagation delays of seconds to a minute.
  const ACCEPTANCE_DELAY_MS = 400;

  beforeEach(async () => {
    // SES accepts a new key only some seconds after IAM created it. The window is counted from the
    // key's first login rather than its creation: on a busy machine the steps between the two can
    // take longer than the window, and the test would then see no refusal at all.
    const firstLogin = new Map<string, number>();
    server = await startSmtpServer({
      accept: (u, p) => {
        if (!firstLogin.has(u)) firstLogin.set(u, Date.now());
        return sesAccepts(u, p) && Date.now() - firstLogin.get(u)! >= ACCEPTANCE_DELAY_MS;
      },
    });
    deps = {
      ...deps,
      smtp: { host: '127.0.0.1', port: server.port, tls: { ca: server.ca } },
      verifyLogin: (endpoint, credentials) => retryUntil(() => smtpLogin(endpoint, credentials)),
    };
  });
  afterEach(() => server.close());

  test(`a full rotation waits until the new key is accepted (${ACCEPTANCE_DELAY_MS} ms delay)`, async () => {
    const started = Date.now();
    await runRotation('v1');
    const wallMs = Date.now() - started;
    const secret = expectCurrentLogsIn();
    expect(wallMs).toBeGreaterThanOrEqual(ACCEPTANCE_DELAY_MS);
    const attempts = server.authAttempts.filter((a) => a.username === secret.username);
    expect(attempts.at(-1)?.accepted).toBe(true);
    expect(attempts.filter((a) => !a.accepted).length).toBeGreaterThanOrEqual(1);
    console.info(
      `full rotation against local SMTP with ${ACCEPTANCE_DELAY_MS} ms acceptance delay: ${wallMs} ms`,
    );
  });

  test('a wrong password gets 535, and the error names neither user secret nor password', async () => {
    const error = await smtpLogin(
      { host: '127.0.0.1', port: server.port, tls: { ca: server.ca } },
      { username: 'AKIAWRONG', password: 'BWrongPasswordValue123' },
    ).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error & { responseCode?: number }).responseCode).toBe(535);
    expect(String((error as Error).message)).toContain('Authentication Credentials Invalid');
    expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain(
      'BWrongPasswordValue123',
    );
  });

  test('an untrusted certificate is refused: no credentials are sent', async () => {
    await expect(
      smtpLogin(
        { host: '127.0.0.1', port: server.port, timeoutMs: 3000 },
        { username: 'AKIAX', password: 'p' },
      ),
    ).rejects.toThrow(/certificate/);
    expect(server.authAttempts).toHaveLength(0);
  });
});
