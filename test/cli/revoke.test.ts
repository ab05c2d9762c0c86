import { ListAccessKeysCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { awsError } from '../support/fake-aws';
import {
  CREDENTIALS,
  healthyAws,
  iam,
  run,
  SECRET_ARN,
  sm,
  stackWithOutputs,
  USER_NAME,
  withSteppingClock,
  writeConfig,
} from './harness';

/** The SMTP user's keys with their status, as IAM lists and updates them; a log of the calls in order. */
class FakeKeys {
  readonly status = new Map<string, 'Active' | 'Inactive'>();
  readonly log: string[] = [];
  failUpdateOf?: string;
  /** How many listings after a deactivation still show the key active (IAM lists changes late). */
  staleListings = 0;
  private readonly listedLate = new Set<string>();
  /** The statuses of the last listing before RotateSecret: what the rotation would see. */
  listedWhenRotated: string[] = [];
  private lastListed: string[] = [];

  constructor(keys: Record<string, 'Active' | 'Inactive'>) {
    for (const [id, s] of Object.entries(keys)) this.status.set(id, s);
  }

  wire(): void {
    iam.on(ListAccessKeysCommand).callsFake((input) => {
      if (input.UserName !== USER_NAME)
        throw awsError('NoSuchEntity', `The user with name ${input.UserName} cannot be found.`, 404);
      const listed = [...this.status].map(([id, s]) => ({
        UserName: USER_NAME,
        AccessKeyId: id,
        Status: this.listedLate.has(id) ? 'Active' : s,
        CreateDate: new Date('2026-09-01T00:00:00Z'),
      }));
      if (this.listedLate.size > 0 && --this.staleListings <= 0) this.listedLate.clear();
      this.lastListed = listed.map((k) => k.Status);
      return { AccessKeyMetadata: listed };
    });
    iam.on(UpdateAccessKeyCommand).callsFake((input) => {
      if (input.AccessKeyId === this.failUpdateOf) {
        this.failUpdateOf = undefined;
        throw awsError('ServiceFailure', 'Internal failure', 500);
      }
      if (!this.status.has(input.AccessKeyId))
        throw awsError('NoSuchEntity', `The Access Key with id ${input.AccessKeyId} cannot be found.`, 404);
      this.log.push(`UpdateAccessKey ${input.AccessKeyId} ${input.Status}`);
      this.status.set(input.AccessKeyId, input.Status);
      if (this.staleListings > 0 && input.Status === 'Inactive') this.listedLate.add(input.AccessKeyId);
      return {};
    });
    sm.on(RotateSecretCommand).callsFake((input) => {
      this.log.push(`RotateSecret ${input.SecretId}`);
      this.listedWhenRotated = this.lastListed;
      return { ARN: SECRET_ARN, VersionId: 'v3' };
    });
  }
}

const OLD = 'AKIAEXAMPLEKEY000000';
/** Secrets Manager's refusal of RotateSecret while a version is AWSPENDING. */
const rotationInProgress = () =>
  awsError(
    'InvalidRequestException',
    "A previous rotation isn't complete. That rotation will be reattempted.",
    400,
  );
let config: string;
let keys: FakeKeys;
beforeEach(() => {
  healthyAws();
  config = writeConfig();
  keys = new FakeKeys({ [OLD]: 'Active', [CREDENTIALS.username]: 'Active' });
  keys.wire();
  sm.on(DescribeSecretCommand).resolves({
    VersionIdsToStages: { v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT'] },
  });
});
/** The rotation's new version, as the revoke reads it once the rotation finished. */
const storesNewKey = () =>
  sm.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ ...CREDENTIALS, username: 'AKIANEWKEY0000000003' }),
  });
const cli = (args: string[], options = {}) => run([...args, '--config', config], options);
const updates = () => iam.commandCalls(UpdateAccessKeyCommand).map((c) => c.args[0].input);

test('asks, deactivates every active key, then rotates; prints how to undo each', async () => {
  storesNewKey();
  const r = await cli(['revoke'], { answer: true });
  expect(r.code).toBe(0);
  expect(r.questions).toEqual([
    'Deactivate 2 active key(s) now (every app using them stops sending) and rotate? [y/N] ',
  ]);
  expect(updates()).toEqual([
    { UserName: USER_NAME, AccessKeyId: OLD, Status: 'Inactive' },
    { UserName: USER_NAME, AccessKeyId: CREDENTIALS.username, Status: 'Inactive' },
  ]);
  // Every key is off before the rotation starts.
  expect(keys.log).toEqual([
    `UpdateAccessKey ${OLD} Inactive`,
    `UpdateAccessKey ${CREDENTIALS.username} Inactive`,
    `RotateSecret ${SECRET_ARN}`,
  ]);
  expect(r.stdout).toContain(`SMTP user ${USER_NAME} (environment prod, eu-west-1):`);
  for (const key of [OLD, CREDENTIALS.username]) {
    expect(r.stdout).toContain(
      `✓ deactivated ${key}: undo: aws iam update-access-key --user-name ${USER_NAME} --access-key-id ${key} --status Active`,
    );
  }
  expect(r.stdout).toContain('✓ rotated: new access key id AKIANEWKEY0000000003 (version v3)');
  expect(r.stdout + r.stderr).not.toContain(CREDENTIALS.password);
});

test('"no" changes nothing, exit 1 (with --json, a document that says so)', async () => {
  const r = await cli(['revoke'], { answer: false });
  expect(r.code).toBe(1);
  const json = await cli(['revoke', '--json'], { answer: false });
  expect([json.code, JSON.parse(json.stdout)]).toEqual([
    1,
    { ok: false, error: 'nothing changed (revoke not confirmed)' },
  ]);
  expect(updates()).toEqual([]);
  expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
});

// With every key off already, the rotation it offers would delete a key the operator may want back.
test('no active key: it asks whether to rotate, and "no" changes nothing', async () => {
  keys.status.set(OLD, 'Inactive');
  keys.status.set(CREDENTIALS.username, 'Inactive');
  const r = await cli(['revoke'], { answer: false });
  expect(r.questions).toEqual(['No key is active. Rotate to make new credentials? [y/N] ']);
  expect(r.code).toBe(1);
  expect(updates()).toEqual([]);
  expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
});

test('not on a terminal without --yes: refused before any change, exit 2', async () => {
  const r = await cli(['revoke'], { interactive: false });
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(
    'ses-smtp: revoke: not on a terminal, so it cannot ask for confirmation: add --yes\n',
  );
  expect(updates()).toEqual([]);
  expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
});

test('an inactive key is left alone; --user-name replaces the stack output', async () => {
  keys.status.set(OLD, 'Inactive');
  const r = await cli(['revoke', '--yes', '--user-name', USER_NAME, '--secret-id', SECRET_ARN]);
  expect(r.code).toBe(0);
  expect(updates()).toEqual([{ UserName: USER_NAME, AccessKeyId: CREDENTIALS.username, Status: 'Inactive' }]);
  expect(iam.commandCalls(ListAccessKeysCommand)[0].args[0].input).toEqual({ UserName: USER_NAME });
});

test('a stack without the SmtpUserName output: one line naming --user-name, nothing changed', async () => {
  stackWithOutputs('SesSmtp-prod', { SmtpSecretArn: SECRET_ARN }, 'UPDATE_COMPLETE');
  const r = await cli(['revoke', '--yes']);
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(
    'ses-smtp: stack SesSmtp-prod has no output SmtpUserName: redeploy it with this version, or pass --user-name\n',
  );
  expect(iam.commandCalls(ListAccessKeysCommand)).toHaveLength(0);
  expect(updates()).toEqual([]);
});

// With --json no line shows the undo of each key as it is deactivated: the error names it.
test.each([[[]], [['--json']]])(
  'a failure half-way names what was done, with its undo and the command that finishes the job (%j)',
  async (flags) => {
    keys.failUpdateOf = CREDENTIALS.username;
    const first = await cli(['revoke', '--yes', ...flags]);
    expect(first.code).toBe(1);
    expect(first.stderr).toBe(
      `ses-smtp: deactivating ${CREDENTIALS.username} failed (ServiceFailure: Internal failure) after deactivating ${OLD} (undo: aws iam update-access-key --user-name ${USER_NAME} --access-key-id ${OLD} --status Active): fix the cause and run ses-smtp revoke --env prod --config ${config}\n`,
    );
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  },
);

test('a failure half-way: running it again finishes the job', async () => {
  keys.failUpdateOf = CREDENTIALS.username;
  const first = await cli(['revoke', '--yes']);
  expect(first.code).toBe(1);

  const again = await cli(['revoke', '--yes']);
  expect(again.code).toBe(0);
  expect(updates().slice(-1)).toEqual([
    { UserName: USER_NAME, AccessKeyId: CREDENTIALS.username, Status: 'Inactive' },
  ]);
  expect([...keys.status.values()]).toEqual(['Inactive', 'Inactive']);
  expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(1);
});

// The rotation lists the keys too: one IAM still lists as active may be held as one an app uses.
test('IAM listing a deactivation late: the revoke rotates once every key it deactivated is listed inactive', async () => {
  storesNewKey();
  keys.staleListings = 3;
  const r = await withSteppingClock(() => cli(['revoke', '--yes']));
  expect(r.code).toBe(0);
  expect(keys.listedWhenRotated).toEqual(['Inactive', 'Inactive']);
  // The listing before the deactivation, then three late ones and the one that shows them.
  expect(iam.commandCalls(ListAccessKeysCommand)).toHaveLength(5);
  expect(r.stdout).not.toContain('still lists');
});

test('IAM listing a key active for 30 s after its deactivation: the revoke says so and rotates', async () => {
  storesNewKey();
  keys.staleListings = 100;
  const r = await withSteppingClock(() => cli(['revoke', '--yes']));
  expect(r.code).toBe(0);
  expect(iam.commandCalls(ListAccessKeysCommand)).toHaveLength(1 + 31);
  // The 30 s the message names: a listing each second.
  expect(r.waits).toEqual(Array(30).fill(1000));
  expect(r.stdout).toContain(
    `! IAM still lists ${OLD}, ${CREDENTIALS.username} as active after 30 s: rotating now; if the rotation stops on one of them, run ses-smtp revoke --env prod --config ${config}`,
  );
  expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(1);
});

test('listing the keys again fails after the deactivation: the revoke says so and still rotates', async () => {
  storesNewKey();
  let listings = 0;
  iam.on(ListAccessKeysCommand).callsFake((input) => {
    if (++listings === 2) throw awsError('ThrottlingException', 'Rate exceeded', 400);
    return {
      AccessKeyMetadata: [...keys.status].map(([id, s]) => ({
        UserName: input.UserName,
        AccessKeyId: id,
        Status: s,
      })),
    };
  });
  const r = await withSteppingClock(() => cli(['revoke', '--yes']));
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^! could not list the keys again \(.*Rate exceeded.*\): rotating now/m);
  expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(1);
  expect([...keys.status.values()]).toEqual(['Inactive', 'Inactive']);
});

test('a rotation that does not finish: the keys stay inactive and the message says so, exit 1', async () => {
  sm.on(DescribeSecretCommand).resolves({ VersionIdsToStages: { v2: ['AWSCURRENT'], v3: ['AWSPENDING'] } });
  // One poll passes the 1-second timeout.
  const r = await withSteppingClock(() => cli(['revoke', '--yes', '--timeout', '1']));
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split('\n').at(-1)).toMatch(
    /^ses-smtp: the keys are inactive \(undo: aws iam update-access-key .*\), but the rotation did not finish: rotation of .* \(version v3\) not finished .*Sending with this user is stopped until it does/,
  );
  // (rotate alone adds that the current credentials are unchanged: here they are deactivated.)
  expect(r.stderr).not.toContain('unchanged');
});

// The rotation goes on after a failed read of its progress: "did not finish" and its way out (revoke
// again) would deactivate the new key once it has.
test('keys deactivated, rotation started, then its progress cannot be read: may still finish, and a revoke again would deactivate its key', async () => {
  sm.on(DescribeSecretCommand).rejects(
    awsError('ExpiredTokenException', 'The security token included in the request is expired', 400),
  );
  const r = await cli(['revoke', '--yes']);
  expect(r.code).toBe(1);
  expect([...keys.status.values()]).toEqual(['Inactive', 'Inactive']);
  expect(r.stderr.trim().split('\n').at(-1)).toBe(
    `ses-smtp: the keys are inactive (undo: aws iam update-access-key --user-name ${USER_NAME} --access-key-id ${OLD} --status Active; aws iam update-access-key --user-name ${USER_NAME} --access-key-id ${CREDENTIALS.username} --status Active), ` +
      `and a rotation of ${SECRET_ARN} was started (version v3), but reading its progress failed (ExpiredTokenException: The security token included in the request is expired); it goes on without this command, so it may still finish: see whether version v3 is AWSCURRENT (aws secretsmanager describe-secret --secret-id ${SECRET_ARN} --region eu-west-1 --query VersionIdsToStages): ` +
      `once it is, its new key is active and the apps need it (ses-smtp env --env prod --config ${config}), and a revoke run again would deactivate it; if it stops instead (the version loses its labels), run ses-smtp revoke --env prod --config ${config}`,
  );
});

// The likeliest stop after the keys went inactive: an operator allowed UpdateAccessKey but not
// RotateSecret (or lambda:InvokeFunction). The error must not read as "nothing changed".
test.each([[[]], [['--json']]])(
  'keys deactivated, then AWS refuses the rotation: the message says the keys are inactive, with the undo (%j)',
  async (flags) => {
    sm.on(RotateSecretCommand).rejects(
      awsError(
        'AccessDeniedException',
        'User: arn:aws:iam::123456789012:user/ops is not authorized to perform: secretsmanager:RotateSecret',
        400,
      ),
    );
    const r = await cli(['revoke', '--yes', ...flags]);
    expect(r.code).toBe(1);
    expect([...keys.status.values()]).toEqual(['Inactive', 'Inactive']);
    // Refused, not in progress: no second try, no look for a stalled rotation.
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(1);
    const message = flags.length ? JSON.parse(r.stdout).error : r.stderr.trim().split('\n').at(-1);
    expect(message).toBe(
      `${flags.length ? '' : 'ses-smtp: '}the keys are inactive (undo: aws iam update-access-key --user-name ${USER_NAME} --access-key-id ${OLD} --status Active; aws iam update-access-key --user-name ${USER_NAME} --access-key-id ${CREDENTIALS.username} --status Active), ` +
        `but the rotation did not finish: AWS denied revoke (AccessDeniedException: User: arn:aws:iam::123456789012:user/ops is not authorized to perform: secretsmanager:RotateSecret): run it as an identity allowed to do this (AWS_PROFILE, or add the permission). Sending with this user is stopped until it does (or until you reactivate a key)`,
    );
  },
);

// The rotation finished (its version is AWSCURRENT), the read of its key id did not: not "the
// rotation did not finish", whose way out (reactivate the revoked keys, revoke again) would put
// the leaked keys back or deactivate the new one.
test.each([[[]], [['--json']]])(
  'rotated, then the read of the new key id refused: the revoke is done, exit 0, with why (%j)',
  async (flags) => {
    sm.on(GetSecretValueCommand).rejects(
      awsError('AccessDeniedException', 'Access to KMS is not allowed', 400),
    );
    const r = await cli(['revoke', '--yes', ...flags]);
    expect(r.code).toBe(0);
    expect([...keys.status.values()]).toEqual(['Inactive', 'Inactive']);
    const detail = `version v3 is AWSCURRENT, but its access key id could not be read (AWS denied the read of the new credentials (AccessDeniedException: Access to KMS is not allowed): run it as an identity allowed to do this (AWS_PROFILE, or add the permission)): give the app the new credentials (ses-smtp env --env prod --config ${config}, or redeploy/restart apps that read the secret)`;
    if (flags.length) {
      expect(JSON.parse(r.stdout)).toMatchObject({
        revoked: true,
        rotated: { versionId: 'v3', accessKeyId: null },
        warning: detail,
      });
    } else {
      expect(r.stdout.trim().split('\n').at(-1)).toBe(`! rotated: ${detail}`);
      expect(r.stderr).not.toContain('did not finish');
    }
  },
);

test('--json: the keys deactivated, their undo commands and the new key', async () => {
  const r = await cli(['revoke', '--yes', '--json']);
  const doc = JSON.parse(r.stdout);
  expect(doc).toMatchObject({
    revoked: true,
    userName: USER_NAME,
    rotated: { versionId: 'v3', accessKeyId: CREDENTIALS.username },
  });
  expect(doc.deactivated.map((d: { accessKeyId: string }) => d.accessKeyId)).toEqual([
    OLD,
    CREDENTIALS.username,
  ]);
});

// A rotation was waiting for its new key (its login test retrying) when the revoke began: the
// revoke deactivated that key too, so that rotation can never finish, and Secrets Manager refuses
// a new one while its AWSPENDING label stays.
describe('a rotation in progress when the revoke starts', () => {
  const PENDING_KEY = 'AKIAPENDINGKEY000003';
  let stages: Record<string, string[]>;
  let rotations: number;

  beforeEach(() => {
    keys = new FakeKeys({ [CREDENTIALS.username]: 'Active', [PENDING_KEY]: 'Active' });
    keys.wire();
    stages = { v2: ['AWSCURRENT'], v3: ['AWSPENDING'] };
    rotations = 0;
    sm.on(DescribeSecretCommand).callsFake(() => ({ VersionIdsToStages: structuredClone(stages) }));
    sm.on(GetSecretValueCommand).callsFake((input) => {
      const username =
        input.VersionId === 'v3'
          ? PENDING_KEY
          : stages.v4?.includes('AWSCURRENT')
            ? 'AKIANEWKEY0000000004'
            : CREDENTIALS.username;
      return { SecretString: JSON.stringify({ ...CREDENTIALS, username }) };
    });
    sm.on(UpdateSecretVersionStageCommand).callsFake((input) => {
      keys.log.push(`UpdateSecretVersionStage ${input.VersionStage} off ${input.RemoveFromVersionId}`);
      stages[input.RemoveFromVersionId!] = stages[input.RemoveFromVersionId!].filter(
        (s) => s !== input.VersionStage,
      );
      return {};
    });
    sm.on(RotateSecretCommand).callsFake(() => {
      keys.log.push('RotateSecret');
      if (Object.values(stages).some((s) => s.includes('AWSPENDING') && !s.includes('AWSCURRENT')))
        throw rotationInProgress();
      rotations++;
      // The new rotation finishes at once here: v4 becomes AWSCURRENT.
      stages = { v2: ['AWSPREVIOUS'], v4: ['AWSCURRENT'] };
      return { ARN: SECRET_ARN, VersionId: 'v4' };
    });
  });

  test('its key deactivated: its AWSPENDING is cleared and the revoke rotates', async () => {
    const r = await cli(['revoke', '--yes']);
    expect(r.code).toBe(0);
    expect(keys.log).toEqual([
      `UpdateAccessKey ${CREDENTIALS.username} Inactive`,
      `UpdateAccessKey ${PENDING_KEY} Inactive`,
      'RotateSecret',
      'UpdateSecretVersionStage AWSPENDING off v3',
      'RotateSecret',
    ]);
    expect(rotations).toBe(1);
    expect(r.stdout).toContain(
      `✓ stopped the rotation in progress (version v3): it waited for ${PENDING_KEY}, deactivated above; starting a new one`,
    );
    expect(r.stdout).toContain('✓ rotated: new access key id AKIANEWKEY0000000004 (version v4)');
  });

  // That rotation finishes meanwhile: v3 is AWSCURRENT (with its key deactivated above), its
  // AWSPENDING label gone or still on it.
  test.each<[string, Record<string, string[]>]>([
    ['no AWSPENDING left', { v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT'] }],
    ['AWSPENDING still on its AWSCURRENT version', { v2: ['AWSPREVIOUS'], v3: ['AWSCURRENT', 'AWSPENDING'] }],
  ])(
    'the rotation that refused ends before the revoke looks (%s): no label cleared, it rotates again',
    async (_case, meanwhile) => {
      let refused = false;
      sm.on(RotateSecretCommand).callsFake(() => {
        keys.log.push('RotateSecret');
        if (!refused) {
          refused = true;
          stages = meanwhile;
          throw rotationInProgress();
        }
        rotations++;
        stages = { v3: ['AWSPREVIOUS'], v4: ['AWSCURRENT'] };
        return { ARN: SECRET_ARN, VersionId: 'v4' };
      });
      const r = await cli(['revoke', '--yes']);
      expect(r.code).toBe(0);
      expect(keys.log.filter((l) => l === 'RotateSecret')).toHaveLength(2);
      expect(keys.log.filter((l) => l.startsWith('UpdateSecretVersionStage'))).toEqual([]);
      expect(r.stdout).toContain('✓ rotated: new access key id AKIANEWKEY0000000004 (version v4)');
    },
  );

  test('a pending value that is not the credentials JSON is not a rotation of ours: left alone, exit 1', async () => {
    sm.on(GetSecretValueCommand, { VersionId: 'v3' }).resolves({ SecretString: 'not json' });
    const r = await cli(['revoke', '--yes']);
    expect(r.code).toBe(1);
    expect(keys.log.filter((l) => l.startsWith('UpdateSecretVersionStage'))).toEqual([]);
    expect(keys.log.filter((l) => l === 'RotateSecret')).toHaveLength(1);
    expect(r.stderr).toContain('is already in progress and was left alone');
  });

  test('its key not stored yet: the revoke reads again, and clears it once the stored key is one it deactivated', async () => {
    let reads = 0;
    sm.on(GetSecretValueCommand, { VersionId: 'v3' }).callsFake(() => {
      // The rotation stores its key (made before the listing) on the third read.
      if (++reads < 3)
        throw awsError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for VersionId: v3",
          400,
        );
      return { SecretString: JSON.stringify({ ...CREDENTIALS, username: PENDING_KEY }) };
    });
    const r = await cli(['revoke', '--yes']);
    expect(r.code).toBe(0);
    expect(reads).toBe(3);
    expect(keys.log).toContain('UpdateSecretVersionStage AWSPENDING off v3');
    expect(r.stdout).toContain('✓ rotated: new access key id AKIANEWKEY0000000004 (version v4)');
  });

  test.each<[string, string[], string]>([
    ['', [], ''],
    [
      ' (the flags that named the user and the secret repeated)',
      ['--user-name', USER_NAME, '--secret-id', SECRET_ARN],
      ` --user-name ${USER_NAME} --secret-id ${SECRET_ARN}`,
    ],
  ])(
    'its key never stored: left alone after 10 s, and the message says to revoke again if it fails, exit 1%s',
    async (_, flags, repeated) => {
      sm.on(GetSecretValueCommand, { VersionId: 'v3' }).rejects(
        awsError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for VersionId: v3",
          400,
        ),
      );
      const r = await cli(['revoke', '--yes', ...flags]);
      expect(r.code).toBe(1);
      expect(sm.commandCalls(GetSecretValueCommand, { VersionId: 'v3' })).toHaveLength(11);
      // The 10 s the message names: a read each second.
      expect(r.waits).toEqual(Array(10).fill(1000));
      expect(keys.log).not.toContain('UpdateSecretVersionStage AWSPENDING off v3');
      expect(r.stderr).toMatch(
        /is already in progress and was left alone \(its new key is not one this revoke deactivated, or it was not stored within 10 s\): if it finishes, its key is active and the apps need it \(ses-smtp env --env prod --config \S+( --secret-id \S+)?\); if it fails, run ses-smtp revoke --env prod --config \S+(.*) again\./,
      );
      expect(/run ses-smtp revoke --env prod --config \S+(.*) again\./.exec(r.stderr)?.[1]).toBe(repeated);
    },
  );

  test('its key made after the revoke listed the keys (still active): left alone, the refusal said, exit 1', async () => {
    keys.status.delete(PENDING_KEY);
    const r = await cli(['revoke', '--yes']);
    expect(r.code).toBe(1);
    expect(keys.log).not.toContain('UpdateSecretVersionStage AWSPENDING off v3');
    expect(r.stderr).toContain('a rotation of');
    expect(r.stderr).toContain('is already in progress');
  });
});
