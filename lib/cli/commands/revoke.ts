import { setTimeout as delay } from 'node:timers/promises';
import { IAMClient, ListAccessKeysCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { CliContext } from '../context';
import { CheckFailed, describeError, errorLine } from '../errors';
import { shellOption } from '../shell';
import { pendingVersionId, readSecretVersion } from '../../../lambda/shared/secret-version';
import { parseSecret } from '../../../lambda/shared/smtp-secret';
import {
  Rotated,
  rotateAndWait,
  RotateOptions,
  RotationInProgress,
  RotationUnconfirmed,
  unreadKeyDetail,
} from './rotate';

export interface RevokeOptions extends RotateOptions {
  /** Asks the operator (true at once with --yes); resolves true to go ahead. */
  readonly confirm: (question: string) => Promise<boolean>;
}

const reactivate = (user: string, key: string) =>
  `aws iam update-access-key ${shellOption('--user-name', user)} --access-key-id ${key} --status Active`;

/**
 * For a leaked SMTP password: deactivates every active access key of the SMTP user (IAM
 * UpdateAccessKey Status=Inactive; SES refuses their logins from then on), then starts a
 * rotation and waits for the new key. Rerunning it finishes a revoke that stopped half-way.
 * Deactivation is undone with `aws iam update-access-key ... --status Active` while the key
 * exists; the rotation deletes the older key and keeps the previously current one (inactive)
 * until the next rotation.
 */
export async function revokeCommand(ctx: CliContext, options: RevokeOptions): Promise<number> {
  const userName = await ctx.resource('userName');
  const secretId = await ctx.resource('secretId');
  const iam = ctx.client(IAMClient);
  const keys = (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
  const active = keys.filter((k) => k.Status === 'Active').map((k) => k.AccessKeyId!);
  if (!ctx.out.json) {
    ctx.out.line(`SMTP user ${userName} (${ctx.subject}, ${ctx.region}):`);
    for (const k of keys)
      ctx.out.line(
        `  ${k.AccessKeyId} ${k.Status}, created ${k.CreateDate?.toISOString().slice(0, 10) ?? '?'}`,
      );
    if (keys.length === 0) ctx.out.line('  (no access keys)');
  }
  const question =
    active.length > 0
      ? `Deactivate ${active.length} active key(s) now (every app using them stops sending) and rotate? [y/N] `
      : 'No key is active. Rotate to make new credentials? [y/N] ';
  if (!(await options.confirm(question))) {
    throw new CheckFailed('nothing changed (revoke not confirmed)');
  }

  // The command that finishes a revoke stopped half-way, with the flags that named what it works on.
  const again = ctx.rerun('revoke', ['userName', 'secretId']);
  const done: string[] = [];
  for (const key of active) {
    try {
      await iam.send(
        new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: key, Status: 'Inactive' }),
      );
    } catch (e) {
      // The keys already deactivated with their undo: with --json no line above has shown it.
      const inactive = done.length
        ? ` after deactivating ${done.join(', ')} (undo: ${done.map((k) => reactivate(userName, k)).join('; ')})`
        : '';
      throw new CheckFailed(
        `deactivating ${key} failed (${errorLine(e)})${inactive}: fix the cause and run ${again}`,
      );
    }
    done.push(key);
    ctx.out.check({
      id: 'revoke',
      status: 'ok',
      title: `deactivated ${key}`,
      detail: `undo: ${reactivate(userName, key)}`,
    });
  }

  if (done.length > 0) await untilListedInactive(ctx, iam, userName, done, again, options);

  let rotated: Rotated;
  try {
    try {
      rotated = await rotateAndWait(ctx, secretId, options);
    } catch (e) {
      const listed = new Set(keys.map((k) => k.AccessKeyId));
      if (!(e instanceof RotationInProgress)) throw e;
      // 'none': the rotation that refused ended since (its key may be one deactivated above).
      if ((await clearStalledRotation(ctx, secretId, listed, options)) === 'left') {
        throw new CheckFailed(
          `a rotation of ${secretId} is already in progress and was left alone (its new key is not one this revoke deactivated, or it was not stored within 10 s): if it finishes, its key is active and the apps need it (${ctx.rerun('env', ['secretId'])}); if it fails, run ${ctx.rerun('revoke', ['userName', 'secretId'])} again`,
        );
      }
      rotated = await rotateAndWait(ctx, secretId, options);
    }
  } catch (e) {
    // Whatever stopped the rotation (AWS refusing RotateSecret is the likeliest), the keys were
    // changed: said first, with the undo, so that no reader (a script on --json) takes the error
    // for "nothing changed".
    const undo = done.length > 0 ? ` (undo: ${done.map((key) => reactivate(userName, key)).join('; ')})` : '';
    // A rotation that may still finish: a revoke run again once it has would deactivate its key.
    if (e instanceof RotationUnconfirmed)
      throw new CheckFailed(
        `the keys are inactive${undo}, and ${e.message}: once it is, its new key is active and the apps need it (${ctx.rerun('env', ['secretId'])}), and a revoke run again would deactivate it; if it stops instead (the version loses its labels), run ${again}`,
      );
    throw new CheckFailed(
      `the keys are inactive${undo}, but the rotation did not finish: ${describeError(e, 'revoke').message}. Sending with this user is stopped until it does (or until you reactivate a key)`,
    );
  }
  const detail = `${
    rotated.unread === undefined
      ? `new access key id ${rotated.accessKeyId} (version ${rotated.versionId})`
      : unreadKeyDetail(rotated)
  }: give the app the new credentials (${ctx.rerun('env', ['secretId'])}, or redeploy/restart apps that read the secret)`;
  if (ctx.out.json)
    ctx.out.document({
      revoked: true,
      userName,
      deactivated: done.map((key) => ({ accessKeyId: key, undo: reactivate(userName, key) })),
      rotated: { versionId: rotated.versionId, accessKeyId: rotated.accessKeyId ?? null },
      ...(rotated.unread !== undefined && { warning: detail }),
    });
  ctx.out.check({
    id: 'revoke',
    status: rotated.unread === undefined ? 'ok' : 'warn',
    title: 'rotated',
    detail,
  });
  return 0;
}

/** How long the revoke waits for IAM to list the keys it deactivated as inactive. */
const LISTED_INACTIVE_WAIT_SECONDS = 30;

/**
 * IAM lists a change late (eventually consistent): a rotation started at once may still see a
 * key deactivated above as active, and keep it from deletion as one an app may still send with
 * (the rotation's stale-use guard). The keys are listed again, 1 s apart, until IAM lists every
 * key deactivated above as inactive, or 30 s have passed (the revoke rotates then, saying so).
 */
async function untilListedInactive(
  ctx: CliContext,
  iam: IAMClient,
  userName: string,
  deactivated: string[],
  /** The command that revokes again. */
  again: string,
  options: RevokeOptions,
): Promise<void> {
  const sleep = options.sleep ?? delay;
  let stillActive: string[] = [];
  try {
    for (let second = 0; second <= LISTED_INACTIVE_WAIT_SECONDS; second++) {
      if (second > 0) await sleep(1000);
      const listed =
        (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
      stillActive = deactivated.filter((key) =>
        listed.some((k) => k.AccessKeyId === key && k.Status === 'Active'),
      );
      if (stillActive.length === 0) return;
    }
  } catch (e) {
    // Only a wait: the keys are inactive, and the rotation must still come.
    ctx.out.check({
      id: 'revoke',
      status: 'warn',
      title: `could not list the keys again (${errorLine(e)})`,
      detail: `rotating now; if the rotation stops on a deactivated key, run ${again}`,
    });
    return;
  }
  ctx.out.check({
    id: 'revoke',
    status: 'warn',
    title: `IAM still lists ${stillActive.join(', ')} as active after ${LISTED_INACTIVE_WAIT_SECONDS} s`,
    detail: `rotating now; if the rotation stops on ${stillActive.length > 1 ? 'one of them' : 'that key'}, run ${again}`,
  });
}

/**
 * A rotation that was waiting for its new key when the revoke began: the revoke deactivated that
 * key too (it was listed), so the rotation's login test can never pass, and Secrets Manager
 * refuses the revoke's rotation while the label stays. Its AWSPENDING label is removed
 * ('cleared'). A pending key the listing did not name was made after it (still active): that
 * rotation may finish, and is left alone ('left'). 'none': no version is pending any more.
 */
async function clearStalledRotation(
  ctx: CliContext,
  secretId: string,
  listed: Set<string | undefined>,
  options: RevokeOptions,
): Promise<'cleared' | 'left' | 'none'> {
  const sm = ctx.client(SecretsManagerClient);
  const pending = pendingVersionId(
    (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages,
  );
  if (!pending) return 'none';
  const read = () => readSecretVersion(sm, secretId, { VersionId: pending, VersionStage: 'AWSPENDING' });
  // A version without a value yet: its createSecret is between CreateAccessKey and PutSecretValue,
  // and the key it stores may be one listed above. Read again for up to 10 s before leaving it.
  let version = await read();
  const sleep = options.sleep ?? delay;
  for (let attempt = 0; version === undefined && attempt < 10; attempt++) {
    await sleep(1000);
    version = await read();
  }
  let key: string | undefined;
  try {
    key = parseSecret(version?.SecretString)?.username;
  } catch {
    return 'left'; // not the credentials JSON: not a rotation of ours to stop
  }
  if (!key || !listed.has(key)) return 'left';
  await sm.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: pending,
    }),
  );
  ctx.out.check({
    id: 'revoke',
    status: 'ok',
    title: `stopped the rotation in progress (version ${pending})`,
    detail: `it waited for ${key}, deactivated above; starting a new one`,
  });
  return 'cleared';
}
