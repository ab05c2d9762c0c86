import { setTimeout as delay } from 'node:timers/promises';
import {
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CliContext } from '../context';
import { CheckFailed, describeError, errorLine } from '../errors';
import { currentCredentials } from '../secret';
import { shellOption } from '../shell';

export interface RotateOptions {
  /** How long to wait for the rotation to finish. @default 600 */
  readonly timeoutSeconds?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** RotateSecret refused: a rotation of the secret has not finished (AWSPENDING is on a version). */
export class RotationInProgress extends CheckFailed {}

/**
 * RotateSecret started a rotation, then a read of its progress failed (the network, credentials
 * that expired during the wait, a throttle): the rotation goes on without the CLI, and may finish.
 * Not "unchanged" nor "did not finish": a rotate run again once it has finished rotates a second
 * time, and a revoke run again deactivates its new key.
 */
export class RotationUnconfirmed extends CheckFailed {
  constructor(
    secretId: string,
    versionId: string,
    /** Why the progress could not be read: errorLine of the error. */
    why: string,
    /** The AWS CLI command that shows whether the version became AWSCURRENT. */
    check: string,
  ) {
    super(
      `a rotation of ${secretId} was started (version ${versionId}), but reading its progress failed (${why}); it goes on without this command, so it may still finish: see whether version ${versionId} is AWSCURRENT (${check})`,
    );
  }
}

/** Between two reads of the rotation's progress: rotations take seconds to minutes. */
const POLL_MS = 5000;

/**
 * A finished rotation: its version, and the access key id it stored, or why that could not be
 * read (the rotation is over either way).
 */
export type Rotated =
  | { readonly versionId: string; readonly accessKeyId: string; readonly unread?: undefined }
  | { readonly versionId: string; readonly accessKeyId?: undefined; readonly unread: string };

/** What a command says of a finished rotation whose key id could not be read. */
export const unreadKeyDetail = (rotated: Rotated) =>
  `version ${rotated.versionId} is AWSCURRENT, but its access key id could not be read (${rotated.unread})`;

/** Starts an immediate rotation, waits for the new version to become AWSCURRENT, names its key. */
export async function rotateCommand(ctx: CliContext, options: RotateOptions = {}): Promise<number> {
  let rotated: Rotated;
  try {
    rotated = await rotateAndWait(ctx, await ctx.resource('secretId'), options);
  } catch (e) {
    if (e instanceof RotationUnconfirmed)
      throw new CheckFailed(
        `${e.message} before running rotate again (once it is, the rotation is done: ${ctx.rerun('env', ['secretId'])} shows the new credentials)`,
      );
    // (Not said by rotateAndWait: revoke shares it, and has deactivated them.)
    if (e instanceof CheckFailed)
      throw new CheckFailed(`${e.message}; the current credentials are unchanged`);
    throw e;
  }
  const { versionId, accessKeyId } = rotated;
  const detail =
    rotated.unread === undefined
      ? `new access key id ${accessKeyId} (version ${versionId})`
      : `${unreadKeyDetail(rotated)}; ${ctx.rerun('env', ['secretId'])} shows the new credentials once that read works`;
  if (ctx.out.json)
    ctx.out.document({
      rotated: true,
      versionId,
      accessKeyId: accessKeyId ?? null,
      ...(rotated.unread !== undefined && { warning: detail }),
    });
  ctx.out.check({
    id: 'rotate',
    status: rotated.unread === undefined ? 'ok' : 'warn',
    title: 'rotated',
    detail: `${detail}; the previous credentials stay valid until the next rotation`,
  });
  return 0;
}

/**
 * RotateSecret, then polls until the new version is AWSCURRENT; resolves to its version and
 * access key id (or why that could not be read). CheckFailed when a rotation is already running
 * or it does not finish in time.
 */
export async function rotateAndWait(
  ctx: CliContext,
  secretId: string,
  options: RotateOptions = {},
): Promise<Rotated> {
  const sleep = options.sleep ?? delay;
  const now = options.now ?? Date.now;
  const timeoutMs = (options.timeoutSeconds ?? 600) * 1000;

  let versionId: string | undefined;
  try {
    // Without rotation rules, RotateSecret rotates at once with the configured function.
    ({ VersionId: versionId } = await ctx
      .client(SecretsManagerClient)
      .send(new RotateSecretCommand({ SecretId: secretId })));
  } catch (e) {
    if (
      (e as Error).name === 'InvalidRequestException' &&
      /previous rotation|isn't complete/i.test((e as Error).message)
    ) {
      throw new RotationInProgress(
        `a rotation of ${secretId} is already in progress, and Secrets Manager reattempts it now: wait a few minutes and run this again if it did not finish. One whose SMTP login keeps failing is given up on its first attempt an hour after its key was made (the rotation function's log says why), and Secrets Manager takes a new one then`,
      );
    }
    throw e;
  }
  if (!versionId) throw new CheckFailed('RotateSecret returned no version id');

  const started = now();
  // A version that loses its labels was stopped: the rotation function clears AWSPENDING when it
  // refuses to go on (the stale-use guard), and Secrets Manager drops a version without labels.
  let seen = false;
  let unseen = 0;
  for (;;) {
    let meta: DescribeSecretCommandOutput;
    try {
      meta = await ctx.client(SecretsManagerClient).send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (e) {
      ctx.out.progressDone();
      throw new RotationUnconfirmed(
        secretId,
        versionId,
        errorLine(e),
        `aws secretsmanager describe-secret ${shellOption('--secret-id', secretId)} --region ${ctx.region} --query VersionIdsToStages`,
      );
    }
    const stages = meta.VersionIdsToStages?.[versionId] ?? [];
    if (stages.includes('AWSCURRENT')) break;
    seen ||= stages.length > 0;
    unseen = stages.length > 0 ? 0 : unseen + 1;
    if ((seen && stages.length === 0) || unseen >= 3) {
      ctx.out.progressDone();
      throw new CheckFailed(
        `rotation of ${secretId} (version ${versionId}) stopped without changing the secret: the rotation function's log says why (ERROR "rotation step failed"), as does the failed-rotation message on the operator topic`,
      );
    }
    const waited = Math.round((now() - started) / 1000);
    if (now() - started >= timeoutMs) {
      ctx.out.progressDone();
      throw new CheckFailed(
        `rotation of ${secretId} (version ${versionId}) not finished after ${waited} s: read the rotation function's logs`,
      );
    }
    ctx.out.progress(
      `rotating ${ctx.environmentName ?? ctx.subject}: version ${versionId} is ${stages.join(', ') || 'being created'} (${waited} s; new keys take up to a few minutes to pass the SMTP login test)`,
    );
    await sleep(POLL_MS);
  }
  ctx.out.progressDone();
  // The rotation is over: a read of its key id that fails (the secret's or its KMS key's read
  // refused, a throttle) must not read as a rotation that failed, which rotate would call
  // "unchanged" and revoke "did not finish" (and undo by reactivating the revoked keys).
  try {
    return { versionId, accessKeyId: (await currentCredentials(ctx)).username };
  } catch (e) {
    return { versionId, unread: describeError(e, 'the read of the new credentials').message };
  }
}
