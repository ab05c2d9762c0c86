import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describeError, Logger } from '../shared/logger';
import { SmtpCredentials, SmtpEndpoint } from '../shared/smtp-login';
import { smtpPasswordFromSecretKey } from '../shared/smtp-password';
import { parseSecret, SmtpSecret } from '../shared/smtp-secret';
import { smtpEndpoint } from '../../lib/config/smtp-regions';

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
}

const CURRENT = 'AWSCURRENT';
const PENDING = 'AWSPENDING';

export async function rotate(event: RotationEvent, deps: RotationDeps): Promise<void> {
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = event;
  const log = deps.log.child({ step, secretId, versionId: token });

  const meta = await deps.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (!meta.RotationEnabled) throw new Error(`Secret ${secretId} is not enabled for rotation`);
  const stages = meta.VersionIdsToStages?.[token];
  if (!stages) throw new Error(`Secret version ${token} has no stage for rotation of secret ${secretId}`);
  if (stages.includes(CURRENT)) {
    // A finishSecret that failed after moving AWSCURRENT is retried here: finish clearing AWSPENDING.
    if (step === 'finishSecret' && stages.includes(PENDING)) {
      await clearPending(deps.secrets, secretId, token);
      log.info('version is already AWSCURRENT: cleared its AWSPENDING label');
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
      return createSecret(secretId, token, deps, log);
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

async function createSecret(secretId: string, token: string, deps: RotationDeps, log: Logger): Promise<void> {
  if (await pendingValue(deps.secrets, secretId, token)) {
    log.info('AWSPENDING already holds credentials for this version: nothing to do');
    return;
  }
  const { userName, region } = deps.settings;
  const current = parseSecret(await secretString(deps.secrets, secretId, { VersionStage: CURRENT }));
  const currentKeyId = current?.username;

  // Make room under IAM's 2-key limit: every key except AWSCURRENT's goes (the previous
  // rotation's key, or an orphan from an attempt that crashed before storing its key).
  const keys = await deps.iam.send(new ListAccessKeysCommand({ UserName: userName }));
  for (const key of keys.AccessKeyMetadata ?? []) {
    if (key.AccessKeyId && key.AccessKeyId !== currentKeyId) {
      await deps.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: key.AccessKeyId }));
      log.info('deleted access key that is not AWSCURRENT', { accessKeyId: key.AccessKeyId });
    }
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
    // The put may have landed before the error (a timeout after commit): keep the key then.
    const stored = await pendingValue(deps.secrets, secretId, token).catch(() => undefined);
    if (stored?.username !== created.AccessKeyId) {
      try {
        await deps.iam.send(
          new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: created.AccessKeyId }),
        );
        log.warn('storing AWSPENDING failed: deleted the new access key', {
          accessKeyId: created.AccessKeyId,
        });
      } catch (cleanupError) {
        log.error(
          'could not delete the new access key; the next attempt removes it',
          describeError(cleanupError),
        );
      }
    }
    throw error;
  }
  log.info('created access key and stored it as AWSPENDING', { accessKeyId: created.AccessKeyId });
}

async function testSecret(secretId: string, token: string, deps: RotationDeps, log: Logger): Promise<void> {
  const pending = await pendingValue(deps.secrets, secretId, token);
  if (!pending) throw new Error(`No AWSPENDING credentials for version ${token} of secret ${secretId}`);
  const started = Date.now();
  await deps.verifyLogin(deps.smtp, pending);
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
  await deps.secrets.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: CURRENT,
      MoveToVersionId: token,
      ...(currentVersion && { RemoveFromVersionId: currentVersion }),
    }),
  );
  await clearPending(deps.secrets, secretId, token);
  log.info('moved AWSCURRENT to the new version; the previous key stays valid until the next rotation', {
    previousVersionId: currentVersion,
  });
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
  version: { VersionId?: string; VersionStage: string },
): Promise<string | undefined> {
  try {
    return (await client.send(new GetSecretValueCommand({ SecretId: secretId, ...version }))).SecretString;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException') {
      return undefined;
    }
    throw error;
  }
}
