import type { SecretsManagerRotationHandler } from 'aws-lambda';
import { iam, secretsManager } from '../shared/clients';
import { createLogger, describeError } from '../shared/logger';
import { retryUntil, smtpEndpointFromEnv, smtpLogin } from '../shared/smtp-login';
import { rotate, RotationDeps, RotationSettings } from './rotation';

const log = createLogger({ function: 'rotate-smtp-credentials' });

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the SmtpCredentials construct sets it`);
  return value;
}

const settings: RotationSettings = {
  userName: required('SMTP_USER_NAME'),
  region: required('SES_REGION'),
  fromAddress: required('FROM_ADDRESS'),
  publishedPort: Number(required('PUBLISHED_SMTP_PORT')),
  environmentName: required('ENVIRONMENT_NAME'),
  previousKeyQuietDays: Number(required('PREVIOUS_KEY_QUIET_DAYS')),
  rotateWhilePreviousKeyInUse: required('ROTATE_WHILE_PREVIOUS_KEY_IN_USE') === 'true',
};
if (!Number.isInteger(settings.previousKeyQuietDays) || settings.previousKeyQuietDays < 0) {
  throw new Error(
    `PREVIOUS_KEY_QUIET_DAYS must be a whole number of days, got: ${process.env.PREVIOUS_KEY_QUIET_DAYS}`,
  );
}

const deps: RotationDeps = {
  secrets: secretsManager,
  iam,
  settings,
  smtp: smtpEndpointFromEnv(process.env),
  verifyLogin: (endpoint, credentials) =>
    retryUntil(() => smtpLogin(endpoint, credentials), {
      onRetry: (attempt, delayMs, error) =>
        log.info('SMTP login not accepted yet; new IAM keys take a while to reach SES', {
          attempt,
          retryInMs: delayMs,
          ...describeError(error),
        }),
    }),
  log,
  emitMetric: (line) => console.log(line),
};

export const handler: SecretsManagerRotationHandler = async (event) => {
  try {
    await rotate(event, deps);
  } catch (error) {
    // Logged for the operator, then rethrown: Secrets Manager marks the rotation failed and retries.
    log.error('rotation step failed', {
      step: event.Step,
      secretId: event.SecretId,
      ...describeError(error),
    });
    throw error;
  }
};
