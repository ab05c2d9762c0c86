import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { emfLine, ROTATION_BLOCKED_METRIC } from '../shared/health-metrics';
import {
  describeUse,
  keyLastUse,
  KeyLastUse,
  accessKeyState,
  AccessKeyState,
  daysAfter,
  replacementTime,
  isSesService,
  stillSendsWith,
  usedBySesWithin,
  withinGrace,
} from '../shared/key-last-use';
import { describeError, Logger } from '../shared/logger';
import { SmtpCredentials, SmtpEndpoint } from '../shared/smtp-login';
import { smtpPasswordFromSecretKey } from '../shared/smtp-password';
import { readSecretVersion, SecretVersion } from '../shared/secret-version';
import { parseSecret, SmtpSecret } from '../shared/smtp-secret';
import { smtpEndpoint } from '../../lib/config/smtp-regions';
import { cliOptions, sesSmtpCommand } from '../../lib/stack-name';

/*
 * Secrets Manager rotation of SES SMTP credentials, one IAM access key per secret version.
 * AWSCURRENT's key is never deleted during a rotation, and the key it replaces stays valid until
 * the next rotation: apps that cached the previous credentials keep sending (zero downtime).
 *
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
 */

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

export interface RotationEvent {
  readonly Step: RotationStep | string;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
}

export interface RotationSettings {
  /** The IAM user whose access keys are the SMTP credentials. */
  readonly userName: string;
  /** SES Region: the password is derived for it and the secret names its SMTP endpoint. */
  readonly region: string;
  readonly fromAddress: string;
  /** Port written into the secret for apps. */
  readonly publishedPort: number;
  /** Environment name: the dimension of the metric the stale-use guard publishes. */
  readonly environmentName: string;
  /**
   * The CLI options that name this environment ("--env prod", "--stack Mail --region eu-west-1").
   * @default - "--env <environmentName>", or without an environments file "--secret-id <the secret>"
   */
  readonly cliOptions?: string;
  /**
   * A key SES used within this many days is still in an app: createSecret does not delete it.
   * 0 turns the guard off.
   */
  readonly previousKeyQuietDays: number;
  /**
   * AWSPREVIOUS's key is kept this many days after the current credentials replaced it, whatever
   * IAM says of its use: the quiet period, at most the rotation interval less a day.
   */
  readonly replacedKeyHoldDays: number;
  /** Delete the previous key even when SES used it within the quiet period (cuts that app off). */
  readonly rotateWhilePreviousKeyInUse: boolean;
}

export interface RotationDeps {
  readonly secrets: SecretsManagerClient;
  readonly iam: IAMClient;
  readonly settings: RotationSettings;
  /** Where testSecret logs in; a test points it at a local server. */
  readonly smtp: SmtpEndpoint;
  /** Logs in with pending credentials, retrying while IAM propagates the new key. */
  readonly verifyLogin: (endpoint: SmtpEndpoint, credentials: SmtpCredentials) => Promise<void>;
  readonly log: Logger;
  /** Writes one EMF metric line (CloudWatch Logs turns it into a metric). */
  readonly emitMetric: (line: string) => void;
  /** @default - the system clock */
  readonly now?: () => Date;
}

/**
 * createSecret stopped because an app still sends with the key it would delete. Its message names
 * the key id (an identifier, not a secret), the last use and what to do; it never holds key material.
 */
export class PreviousKeyInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreviousKeyInUseError';
  }
}

/**
 * createSecret stopped because the key it would delete was replaced less than the quiet period
 * ago (a rotation started by hand, or by a deploy, soon after the last one): an app that keeps
 * the credentials it was given may not have sent since, so IAM's last use cannot vouch for it.
 */
export class PreviousKeyReplacedRecentlyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreviousKeyReplacedRecentlyError';
  }
}

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';
const PREVIOUS = 'AWSPREVIOUS';

export async function rotate(event: RotationEvent, deps: RotationDeps): Promise<void> {
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = event;
  const log = deps.log.child({ step, secretId, versionId: token });

  const meta = await deps.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (!meta.RotationEnabled) throw new Error(`Secret ${secretId} is not enabled for rotation`);
  const stages = meta.VersionIdsToStages?.[token];
  if (!stages) {
    throw new Error(
      `Secret version ${token} has no stage for rotation of secret ${secretId} (a stopped rotation clears its AWSPENDING label: the first error of this rotation says why; start a new one with ${rotateCommand(deps.settings, secretId)})`,
    );
  }
  if (stages.includes(CURRENT)) {
    // A finishSecret that failed after moving AWSCURRENT is retried here: finish clearing AWSPENDING.
    if (step === 'finishSecret' && stages.includes(PENDING)) {
      log.info('version is already AWSCURRENT: clearing its AWSPENDING label');
      await clearPendingBesideCurrent(secretId, token, deps, log);
      return;
    }
    log.info('version is already AWSCURRENT: nothing to do');
    return;
  }
  if (!stages.includes(PENDING)) {
    throw new Error(`Secret version ${token} is not set as AWSPENDING for rotation of secret ${secretId}`);
  }

  switch (step) {
    case 'createSecret':
      return createSecret(secretId, token, meta.LastRotatedDate, deps, log);
    case 'setSecret':
      // Nothing to set: the IAM access key is live from the moment createSecret made it.
      log.info('setSecret: nothing to do for IAM access keys');
      return;
    case 'testSecret':
      return testSecret(secretId, token, deps, log);
    case 'finishSecret':
      return finishSecret(secretId, token, meta.VersionIdsToStages ?? {}, deps, log);
    default:
      throw new Error(`Unknown rotation step: ${step}`);
  }
}

async function createSecret(
  secretId: string,
  token: string,
  lastRotated: Date | undefined,
  deps: RotationDeps,
  log: Logger,
): Promise<void> {
  const { userName, region } = deps.settings;
  if (await pendingValue(deps.secrets, secretId, token)) {
    log.info('AWSPENDING already holds credentials for this version: nothing to do');
    return;
  }
  const currentVersion = await readSecretVersion(deps.secrets, secretId, { VersionStage: CURRENT });
  // An overlapping attempt of this version (a retry while this one still ran) finished every step
  // since rotate() read the stages: AWSPREVIOUS holds the key apps sent with until a moment ago,
  // and going on would delete it (or stop on the guard, saying the rotation made no change).
  if (currentVersion?.VersionId === token) {
    log.info('this version is AWSCURRENT already (an overlapping attempt finished it): nothing to do');
    return;
  }
  const currentKeyId = labelledCredentials(currentVersion, CURRENT, secretId, deps.settings)?.username;
  const previousKeyId = labelledCredentials(
    await readSecretVersion(deps.secrets, secretId, { VersionStage: PREVIOUS }),
    PREVIOUS,
    secretId,
    deps.settings,
  )?.username;

  // Make room under IAM's 2-key limit: one key stays (keptKey), every other key goes (the
  // previous rotation's key, or an orphan from an attempt that crashed before storing its key).
  // One entry per key id: a key listed twice must not be both kept and deleted.
  const listed = (
    (await deps.iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? []
  ).filter((key): key is typeof key & { AccessKeyId: string } => key.AccessKeyId !== undefined);
  const keys = [...new Map(listed.map((key) => [key.AccessKeyId, key])).values()];
  const currentKey = keys.find((key) => key.AccessKeyId === currentKeyId);
  const kept = keptKey(
    currentKey,
    keys.find((key) => key.AccessKeyId === previousKeyId),
  );
  if (currentKeyId && currentKey?.Status !== 'Active') {
    const state = currentKey
      ? `is ${currentKey.Status?.toLowerCase() ?? 'not active'}`
      : 'no longer exists in IAM';
    log.warn(`AWSCURRENT's access key ${state}: this rotation replaces it`, {
      accessKeyId: currentKeyId,
      keptKey: kept?.AccessKeyId,
    });
  }
  const doomed = keys.filter((key) => key.AccessKeyId !== kept?.AccessKeyId);
  // A key that is neither AWSCURRENT's nor AWSPREVIOUS's is an orphan of a crashed attempt, or the
  // key an overlapping attempt of this version (a retry while this one still ran) stored since the
  // check above: deleting that one would leave AWSPENDING naming a key IAM no longer has. Read by
  // version id alone: that attempt may have gone on to finishSecret, which moved AWSCURRENT to the
  // version and cleared its AWSPENDING, and the key is then the one every app reads.
  const stranger = doomed.some(
    (key) => key.AccessKeyId !== previousKeyId && key.AccessKeyId !== currentKeyId,
  );
  const filledMeanwhile = async () => {
    if (!stranger || !(await secretString(deps.secrets, secretId, { VersionId: token }))) return false;
    log.info('this version was filled by an overlapping attempt: nothing to do');
    return true;
  };
  if (await filledMeanwhile()) return;
  // Nothing is deleted or created until every doomed key passed the stale-use guard. A key that is
  // not active (ses-smtp revoke deactivates them all; IAM may report one expired) sends nothing,
  // whatever its last use: not guarded.
  try {
    await guardAgainstDeletingKeysInUse(
      doomed
        .filter((key) => key.Status === 'Active')
        .map((key) => ({ id: key.AccessKeyId, createdAt: key.CreateDate })),
      { keyId: previousKeyId, replacedAt: replacementTime(currentVersion?.CreatedDate, lastRotated) },
      secretId,
      deps,
      log,
    );
  } catch (error) {
    if (!(error instanceof PreviousKeyInUseError || error instanceof PreviousKeyReplacedRecentlyError)) {
      throw error; // an AWS error: Secrets Manager's retry of this version tries again
    }
    // Secrets Manager labelled this empty version AWSPENDING when the rotation started, and
    // refuses every new rotation while the label stays: cleared, so that `ses-smtp rotate` (or
    // the next scheduled rotation) can start once the key may go.
    try {
      await clearPendingOfStopped(secretId, token, deps);
    } catch (clearError) {
      log.warn('could not clear AWSPENDING of the stopped rotation', describeError(clearError));
    }
    throw error;
  }
  // Asked again: the guard's IAM calls take time, in which that attempt may have stored the key it
  // made (the key this one listed before the value was there).
  if (await filledMeanwhile()) return;
  for (const { AccessKeyId: accessKeyId } of doomed) {
    try {
      await deps.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }));
    } catch (error) {
      if (!isGone(error)) throw error;
      log.info('access key that is not AWSCURRENT already deleted', { accessKeyId });
      continue;
    }
    log.info('deleted access key that is not AWSCURRENT', { accessKeyId });
  }

  const { AccessKey: created } = await deps.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  if (!created?.AccessKeyId || !created.SecretAccessKey) throw new Error('CreateAccessKey returned no key');
  const value: SmtpSecret = {
    username: created.AccessKeyId,
    password: smtpPasswordFromSecretKey(created.SecretAccessKey, region),
    host: smtpEndpoint(region),
    port: deps.settings.publishedPort,
    region,
    fromAddress: deps.settings.fromAddress,
  };
  try {
    await deps.secrets.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        SecretString: JSON.stringify(value),
        VersionStages: [PENDING],
      }),
    );
  } catch (error) {
    await deleteUnlessStored(secretId, token, created.AccessKeyId, deps, log);
    throw error;
  }
  log.info('created access key and stored it as AWSPENDING', { accessKeyId: created.AccessKeyId });
}

/**
 * The credentials AWSCURRENT or AWSPREVIOUS holds (undefined for the placeholder). A value that
 * is not JSON, or is null (put by hand: PutSecretValue, the console's editor), stops createSecret
 * before any change, as it did; the error names the label, the version and the commands that take
 * the label off it, since AWSCURRENT (what `ses-smtp env` shows) is fine when the bad value is
 * AWSPREVIOUS's: the one a console edit that fixed a typo left behind.
 */
function labelledCredentials(
  version: SecretVersion | undefined,
  stage: typeof CURRENT | typeof PREVIOUS,
  secretId: string,
  settings: RotationSettings,
): SmtpSecret | undefined {
  try {
    return parseSecret(version?.SecretString);
  } catch (error) {
    const id = version?.VersionId ?? '(unknown)';
    const stageCommand = `aws secretsmanager update-secret-version-stage --region ${settings.region} --secret-id ${secretId}`;
    const fix =
      stage === PREVIOUS
        ? `Take AWSPREVIOUS off it (${stageCommand} --version-stage AWSPREVIOUS --remove-from-version-id ${id})`
        : `Make the previous version AWSCURRENT again (${stageCommand} --version-stage AWSCURRENT --move-to-version-id <previous version> --remove-from-version-id ${id}), then take AWSPREVIOUS off this one (the same with --version-stage AWSPREVIOUS --remove-from-version-id ${id}; list-secret-version-ids shows the version ids)`;
    throw new Error(
      `${stage} version ${id} of secret ${secretId} does not hold SMTP credentials (${(error as Error).message}): a value put by hand? Nothing was changed. ${fix}, then rotate again (${rotateCommand(settings, secretId)}): Secrets Manager reattempts this rotation.`,
      { cause: error },
    );
  }
}

/**
 * The one key createSecret keeps beside the new one: AWSCURRENT's when it is active. When it is
 * not (deleted, or deactivated, outside a rotation: apps reading the secret are refused already),
 * AWSPREVIOUS's when that one is active: an app may still send with it, and this rotation is what
 * repairs AWSCURRENT. With neither active (after `ses-smtp revoke`), AWSCURRENT's: reactivating it
 * undoes the revoke until the next rotation.
 */
function keptKey<Key extends { Status?: string }>(current?: Key, previous?: Key): Key | undefined {
  return [current, previous].find((key) => key?.Status === 'Active') ?? current ?? previous;
}

/**
 * After a failed PutSecretValue: the put may have landed before the error (a timeout after the
 * commit). The new key is deleted only when AWSPENDING is known not to hold it; if that cannot be
 * read either, it stays (the next attempt removes it as an orphan if it was not stored).
 */
async function deleteUnlessStored(
  secretId: string,
  token: string,
  accessKeyId: string,
  deps: RotationDeps,
  log: Logger,
): Promise<void> {
  let stored: SmtpSecret | undefined;
  try {
    stored = await pendingValue(deps.secrets, secretId, token);
  } catch (readError) {
    log.warn('storing AWSPENDING failed and reading it back failed too: the new access key stays', {
      accessKeyId,
      ...describeError(readError),
    });
    return;
  }
  if (stored?.username === accessKeyId) return;
  try {
    await deps.iam.send(
      new DeleteAccessKeyCommand({ UserName: deps.settings.userName, AccessKeyId: accessKeyId }),
    );
    log.warn('storing AWSPENDING failed: deleted the new access key', { accessKeyId });
  } catch (cleanupError) {
    log.error(
      'could not delete the new access key; the next attempt removes it',
      describeError(cleanupError),
    );
  }
}

/**
 * AWSPENDING names a key that IAM no longer has (an overlapping or failed attempt deleted it), or
 * one that was deactivated (`ses-smtp revoke` deactivates every key, the pending one too). The
 * version cannot be given another key (a version's value never changes), and every retry would
 * fail on it, while Secrets Manager refuses a new rotation as long as AWSPENDING sits on it. So
 * the label is cleared and the step fails with what to do.
 */
async function failIfPendingKeyIsUnusable(
  secretId: string,
  token: string,
  pending: SmtpSecret,
  { status }: AccessKeyState,
  deps: RotationDeps,
  log: Logger,
): Promise<void> {
  if (status === 'Active') return;
  await clearPendingOfStopped(secretId, token, deps);
  const state =
    status === 'Inactive' ? 'is deactivated' : status === 'Expired' ? 'has expired' : 'no longer exists';
  log.error(`the AWSPENDING access key ${state}: cleared AWSPENDING`, { accessKeyId: pending.username });
  const cause =
    status === 'Inactive'
      ? 'which is deactivated (ses-smtp revoke deactivates every key of the user)'
      : status === 'Expired'
        ? 'which IAM reports as expired'
        : 'which IAM no longer has (an overlapping or failed attempt deleted it)';
  throw new Error(
    `AWSPENDING version ${token} of secret ${secretId} holds access key ${pending.username}, ${cause}. ` +
      `AWSPENDING is cleared and AWSCURRENT is unchanged: rotate again (${rotateCommand(deps.settings, secretId)}).`,
  );
}

/**
 * How long a rotation's key may keep failing its SMTP login before testSecret gives the rotation
 * up: far past IAM's propagation of a new key (seconds to tens of seconds; each testSecret retries
 * for 150 s).
 */
export const PENDING_GIVE_UP_MS = 60 * 60_000;

/**
 * AWSPENDING's key exists and is active, yet SES still refuses it (or cannot be reached) an hour
 * after the key was made: not propagation. A version's value never changes, and Secrets Manager
 * retries and reattempts only this version while AWSPENDING sits on it, refusing every new
 * rotation (`ses-smtp rotate` too): a password derived wrongly, or an SMTP port the function cannot
 * reach, would hold the secret there for good, fixed or not. So AWSPENDING is cleared and the step
 * fails with what to do. The key is left: no label names it, and the next rotation's createSecret
 * deletes it with any other key no version holds (deleting it here could race an overlapping
 * attempt's finishSecret that just made it AWSCURRENT). The hour runs from the key's creation
 * (IAM's CreateDate), not the rotation's start: a createSecret retried hours later makes a key
 * that gets its own hour. Without that date it never gives up, as before.
 */
async function giveUpIfPendingIsOld(
  secretId: string,
  token: string,
  pending: SmtpSecret,
  keyCreatedAt: Date | undefined,
  loginError: unknown,
  deps: RotationDeps,
  log: Logger,
): Promise<void> {
  if (!keyCreatedAt) return;
  const waited = (deps.now?.() ?? new Date()).getTime() - keyCreatedAt.getTime();
  if (waited < PENDING_GIVE_UP_MS) return;
  await clearPendingOfStopped(secretId, token, deps);
  const minutes = Math.round(waited / 60_000);
  log.error('the AWSPENDING key still fails its SMTP login long after it was made: cleared AWSPENDING', {
    accessKeyId: pending.username,
    keyCreatedAt: keyCreatedAt.toISOString(),
  });
  throw new Error(
    `AWSPENDING version ${token} of secret ${secretId} (access key ${pending.username}) still fails its SMTP login ${minutes} minutes after the key was made, longer than IAM takes to make a key work: ${(loginError as Error).message}. ` +
      `AWSPENDING is cleared and AWSCURRENT is unchanged; the next rotation deletes the key. Fix the cause (this function's log has each attempt), then rotate again (${rotateCommand(deps.settings, secretId)}).`,
  );
}

/**
 * The stale-use guard: a key that SES used within the quiet period, after the current credentials
 * replaced it, is still configured in an app (the guide's .env / Heroku path keeps the credentials
 * it was given). Deleting it would stop that app's mail without warning, so by default the step
 * fails instead, names the key and what to do, and publishes a metric that raises an alarm.
 * AWSPREVIOUS's key was the current one until `previous.replacedAt` (replacementTime: the later
 * of the AWSCURRENT version's CreatedDate and the secret's LastRotatedDate), so its uses before
 * then (and a grace after) do not count; any other key was never
 * handed out by this rotation, so any use counts. Keys with no last-use data (never used, or IAM
 * has none) and keys last used by another service are deleted: see key-last-use.ts for why.
 *
 * IAM's last use vouches for a key only once the key had time to show a use: an app that sends a
 * few mails a week with the credentials it booted with has not sent an hour after a rotation. So
 * AWSPREVIOUS's key is also kept for `replacedKeyHoldDays` after it was replaced (a rotation by
 * hand, or by a deploy, soon after the last one); that hold is at most the rotation interval less
 * a day, so scheduled rotations never meet it (see lib/config/quiet-period.ts).
 */
async function guardAgainstDeletingKeysInUse(
  keys: { id: string; createdAt?: Date }[],
  previous: { keyId?: string; replacedAt?: Date },
  secretId: string,
  deps: RotationDeps,
  log: Logger,
): Promise<void> {
  const {
    previousKeyQuietDays: quietDays,
    replacedKeyHoldDays: holdDays,
    rotateWhilePreviousKeyInUse: force,
  } = deps.settings;
  if (keys.length === 0 || quietDays <= 0) return;
  const now = deps.now?.() ?? new Date();
  const inUse: { use: KeyLastUse; label: string; replacedAt?: Date }[] = [];
  let replacedRecently:
    | { accessKeyId: string; label: string; replacedAt: Date; deletableFrom: Date }
    | undefined;
  for (const { id: accessKeyId, createdAt } of keys) {
    const use = await keyLastUse(deps.iam, accessKeyId);
    if (!use) continue; // deleted already: nothing sends with it
    // Only AWSPREVIOUS's key was current until the current credentials replaced it: its uses
    // before then (and a grace after) do not count. Any other key's do.
    const isPrevious = accessKeyId === previous.keyId;
    const replacedAt = isPrevious ? previous.replacedAt : undefined;
    // The hold is for a key an app may have been given and not used since: AWSPREVIOUS's, or one
    // without a label made before the current credentials (a repair keeps AWSPREVIOUS's key when
    // AWSCURRENT's is gone, and it loses its label). A key made since is an orphan of a crashed
    // attempt, never stored: no app has it.
    const heldFrom =
      isPrevious || (createdAt && previous.replacedAt && createdAt < previous.replacedAt)
        ? previous.replacedAt
        : undefined;
    const label = isPrevious ? 'AWSPREVIOUS' : 'not in the secret';
    const fields = { accessKeyId, heldBy: label, lastUse: describeUse(use, now) };
    const deletableFrom = heldFrom && holdDays > 0 && daysAfter(heldFrom, holdDays);
    if (stillSendsWith(use, now, quietDays, replacedAt)) {
      inUse.push({ use, label, replacedAt });
    } else if (heldFrom && deletableFrom && now < deletableFrom) {
      replacedRecently = { accessKeyId, label, replacedAt: heldFrom, deletableFrom };
    } else if (usedBySesWithin(use, now, quietDays)) {
      log.info(
        'the key it replaces was last used by SES before, or within 2 hours after, the current credentials replaced it: deleting it',
        { ...fields, replacedAt: replacedAt?.toISOString() },
      );
    } else if (!use.lastUsed) {
      log.info('no last-use data for the key it replaces: deleting it', fields);
    } else if (!isSesService(use.service) && use.service !== undefined) {
      // The SMTP user may only send mail: another service means someone tried the key elsewhere.
      log.warn('the key it replaces was last used with another service than SES: deleting it', fields);
    } else {
      log.info(`the key it replaces was not used by SES in the last ${quietDays} days: deleting it`, fields);
    }
  }
  if (inUse.length === 0 && !replacedRecently) return;

  const described = inUse.map(
    ({ use, label, replacedAt }) =>
      `${use.accessKeyId} (${label}) ${describeUse(use, now)}` +
      (replacedAt ? `, ${sinceReplaced(replacedAt, now)}` : ''),
  );
  if (force) {
    log.warn(
      'rotateWhilePreviousKeyInUse is set: deleting keys that SES used, or that were replaced, within the quiet period; apps still using them stop sending',
      { keys: described, replacedRecently: replacedRecently?.accessKeyId, quietDays },
    );
    return;
  }
  const forceHint = `To rotate anyway and cut that app off, set credentials.rotateWhilePreviousKeyInUse to true and deploy.`;
  if (inUse.length === 0 && replacedRecently) {
    const { accessKeyId, label, replacedAt, deletableFrom } = replacedRecently;
    const { userName } = deps.settings;
    throw new PreviousKeyReplacedRecentlyError(
      `rotation stopped before any change: access key ${accessKeyId} (${label}) was replaced by the current credentials at ${replacedAt.toISOString()}, less than ${holdDays} days ago, and this rotation would delete it. ` +
        `An app that keeps the credentials it was given (environment variables read at boot) may still send with it without having sent since, and would stop sending. ` +
        `Rotate again after ${deletableFrom.toISOString()} (${rotateCommand(deps.settings, secretId)}). If no app uses that key, deactivate it first (aws iam update-access-key --user-name ${userName} --access-key-id ${accessKeyId} --status Inactive; --status Active undoes it) and rotate again. ` +
        forceHint,
    );
  }
  deps.emitMetric(
    emfLine({ Environment: deps.settings.environmentName }, [
      { name: ROTATION_BLOCKED_METRIC, value: 1, unit: 'Count' },
    ]),
  );
  throw new PreviousKeyInUseError(
    `rotation stopped before any change: access key ${described.join('; ')}, within the ${quietDays}-day quiet period, so an app still sends with the previous SMTP credentials and deleting the key would stop its mail. ` +
      `Find that app (the key id is its SMTP username), make it read the current credentials from the secret (${sesSmtpCommand('env', deps.settings.cliOptions ?? cliOptions(deps.settings))}), wait until the key is unused for ${quietDays} days, then rotate again (${rotateCommand(deps.settings, secretId)}). ` +
      forceHint,
  );
}

/** When a use of a replaced key counts, for messages: after the grace, or since the replacement. */
function sinceReplaced(replacedAt: Date, now: Date): string {
  const at = replacedAt.toISOString();
  if (!withinGrace(now, replacedAt)) return `over 2 hours after the current credentials replaced it at ${at}`;
  return `since the current credentials replaced it at ${at}, less than 2 hours ago (an app may not have switched yet)`;
}

async function testSecret(secretId: string, token: string, deps: RotationDeps, log: Logger): Promise<void> {
  const pending = await pendingValue(deps.secrets, secretId, token);
  if (!pending) throw new Error(`No AWSPENDING credentials for version ${token} of secret ${secretId}`);
  const started = Date.now();
  try {
    await deps.verifyLogin(deps.smtp, pending);
  } catch (error) {
    // Asked only now: IAM lists a new key with a delay (eventual consistency), and the logins
    // have given it time. A key that is gone or deactivated explains the refusals.
    const key = await accessKeyState(deps.iam, pending.username, deps.settings.userName);
    await failIfPendingKeyIsUnusable(secretId, token, pending, key, deps, log);
    if (key.status === 'Active')
      await giveUpIfPendingIsOld(secretId, token, pending, key.createdAt, error, deps, log);
    throw error;
  }
  log.info('SMTP login with the AWSPENDING credentials succeeded', {
    accessKeyId: pending.username,
    smtpHost: deps.smtp.host,
    smtpPort: deps.smtp.port,
    waitedMs: Date.now() - started,
  });
}

async function finishSecret(
  secretId: string,
  token: string,
  versions: Record<string, string[]>,
  deps: RotationDeps,
  log: Logger,
): Promise<void> {
  const currentVersion = Object.keys(versions).find((id) => versions[id].includes(CURRENT));
  try {
    await deps.secrets.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: CURRENT,
        MoveToVersionId: token,
        ...(currentVersion && { RemoveFromVersionId: currentVersion }),
      }),
    );
  } catch (error) {
    // A move whose answer was lost (a timeout, a connection reset) may have happened: failing
    // the step then would report "credentials unchanged" while apps read the new ones.
    if (!(await holdsCurrent(deps.secrets, secretId, token))) throw error;
    log.warn('the move of AWSCURRENT answered with an error, but the new version holds AWSCURRENT', {
      previousVersionId: currentVersion,
      ...describeError(error),
    });
  }
  log.info('moved AWSCURRENT to the new version; the previous key stays valid until the next rotation', {
    previousVersionId: currentVersion,
  });
  await clearPendingBesideCurrent(secretId, token, deps, log);
}

/**
 * Clears AWSPENDING from version `token`, which holds AWSCURRENT: apps read its credentials now.
 * A failure only warns. Failing the step would make Secrets Manager report the rotation failed,
 * and its alarm and notification say the current credentials are unchanged; and AWSPENDING beside
 * AWSCURRENT is a state a successful rotation may leave (RotateSecret's reference), which blocks
 * no later rotation.
 */
async function clearPendingBesideCurrent(
  secretId: string,
  token: string,
  deps: RotationDeps,
  log: Logger,
): Promise<void> {
  try {
    await clearPending(deps.secrets, secretId, token);
  } catch (error) {
    log.warn(
      'could not clear AWSPENDING from the version that holds AWSCURRENT (harmless: the next rotation moves the label)',
      describeError(error),
    );
  }
}

/**
 * Clears AWSPENDING of a rotation this step stops, whose error says why. Removed already (by
 * `ses-smtp revoke`, while this step logged in) is as good: the refusal to remove a label the
 * version no longer holds would take the place of that error. Any other failure is thrown (the
 * step fails on it, and Secrets Manager's retry of the version stops it again).
 */
async function clearPendingOfStopped(secretId: string, token: string, deps: RotationDeps): Promise<void> {
  try {
    await clearPending(deps.secrets, secretId, token);
  } catch (clearError) {
    let stages: string[] | undefined = [PENDING];
    try {
      const meta = await deps.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
      stages = meta.VersionIdsToStages?.[token];
    } catch {
      // not known to be gone: the error that stopped the clearing stands
    }
    if (stages?.includes(PENDING)) throw clearError;
  }
}

/** Whether version `token` holds AWSCURRENT now; false when Secrets Manager cannot say. */
async function holdsCurrent(client: SecretsManagerClient, secretId: string, token: string): Promise<boolean> {
  try {
    const meta = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    return meta.VersionIdsToStages?.[token]?.includes(CURRENT) ?? false;
  } catch {
    return false;
  }
}

function clearPending(client: SecretsManagerClient, secretId: string, token: string) {
  return client.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: PENDING,
      RemoveFromVersionId: token,
    }),
  );
}

/**
 * IAM has no such key (or user). ListAccessKeys names a deleted key for a while (eventual
 * consistency), so a key listed a moment ago can be gone: deleted by hand, or by an attempt that
 * timed out after its DeleteAccessKey.
 */
const isGone = (error: unknown) => (error as Error).name === 'NoSuchEntityException';

/** The credentials stored as AWSPENDING for `token`, or undefined when there are none yet. */
async function pendingValue(
  client: SecretsManagerClient,
  secretId: string,
  token: string,
): Promise<SmtpSecret | undefined> {
  return parseSecret(await secretString(client, secretId, { VersionId: token, VersionStage: PENDING }));
}

async function secretString(
  client: SecretsManagerClient,
  secretId: string,
  version: { VersionId?: string; VersionStage?: string },
): Promise<string | undefined> {
  return (await readSecretVersion(client, secretId, version))?.SecretString;
}

/** The command that rotates this secret again, as the CLI options of the settings name it. */
function rotateCommand(settings: RotationSettings, secretId: string): string {
  if (settings.cliOptions !== undefined) return sesSmtpCommand('rotate', settings.cliOptions);
  return `${sesSmtpCommand('rotate', cliOptions(settings))}; without an environments file: ${sesSmtpCommand('rotate', `--secret-id ${secretId}`)}`;
}
