import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { missingKeys, parseSecret, SmtpSecret } from '../../lambda/shared/smtp-secret';
import { CliContext } from './context';
import { CheckFailed } from './errors';

/** The AWSCURRENT SMTP credentials, or a CheckFailed saying why there are none, or none whole. */
export async function currentCredentials(ctx: CliContext): Promise<SmtpSecret> {
  const secretId = await ctx.resource('secretId');
  const { SecretString } = await ctx
    .client(SecretsManagerClient)
    .send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
  let secret: SmtpSecret | undefined;
  try {
    secret = parseSecret(SecretString);
  } catch {
    throw new CheckFailed(
      `secret ${secretId} does not hold a JSON object: not credentials the rotation wrote (a value put by hand?), and a rotation would fail on it too; make the previous version current again (aws secretsmanager update-secret-version-stage --secret-id ${secretId} --version-stage AWSCURRENT --move-to-version-id <AWSPREVIOUS's id> --remove-from-version-id <AWSCURRENT's id>; aws secretsmanager list-secret-version-ids shows both)`,
    );
  }
  if (!secret) {
    throw new CheckFailed(
      `secret ${secretId} holds no credentials yet: the first rotation has not finished (check the rotation alarm and the rotation function's logs, or run: ${ctx.rerun('rotate', ['secretId'])})`,
    );
  }
  const missing = missingKeys(secret);
  if (missing.length) {
    throw new CheckFailed(
      `secret ${secretId} lacks ${missing.join(', ')} (or holds ${missing.length > 1 ? 'them' : 'it'} with another type): not credentials the rotation wrote; rotate to store complete ones (run: ${ctx.rerun('rotate', ['secretId'])})`,
    );
  }
  return secret;
}
