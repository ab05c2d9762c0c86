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
      `secret ${secretId} does not hold a JSON object: not credentials the rotation wrote (a value put by hand?), and a rotation fails on it too, as AWSCURRENT or AWSPREVIOUS; make the previous version AWSCURRENT again, then take AWSPREVIOUS off this value (aws secretsmanager update-secret-version-stage --region ${ctx.region}, twice; list-secret-version-ids shows the version ids)`,
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
