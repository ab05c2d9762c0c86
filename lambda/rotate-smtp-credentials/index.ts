import type { SecretsManagerRotationHandler } from 'aws-lambda';
import { iam, secretsManager } from '../shared/clients';
import { writeEmf } from '../shared/emf-output';
import { createLogger, describeError } from '../shared/logger';
import { ROTATION_STEP_FAILED } from '../shared/rotation-log';
import {
  retryDeadlineMs,
  retryUntil,
  SES_SMTP_PORTS,
  smtpEndpointFromEnv,
  smtpLogin,
} from '../shared/smtp-login';
import { rotate, RotationDeps, RotationSettings } from './rotation';

const log = createLogger({ function: 'rotate-smtp-credentials' });

/** The rotation's settings from the variables the SmtpCredentials construct sets (exported for its test). */
export function settingsFromEnv(env: NodeJS.ProcessEnv): RotationSettings {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set: the SmtpCredentials construct sets it`);
    return value;
  };
  // A day count that is not a whole number (NaN from a typo) would turn the guard and the hold off.
  const days = (name: string): number => {
    const value = Number(required(name));
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`${name} must be a whole number of days, got: ${env[name]}`);
    return value;
  };
  // Written into the secret for apps, never logged in on (SMTP_PORT is): a typo would pass
  // testSecret and hand every app "port": null (NaN in JSON) or a port SES does not listen on.
  const publishedPort = Number(required('PUBLISHED_SMTP_PORT'));
  if (!SES_SMTP_PORTS.includes(publishedPort))
    throw new Error(
      `PUBLISHED_SMTP_PORT must be a port of SES's SMTP interface (${SES_SMTP_PORTS.join(', ')}), got: ${env.PUBLISHED_SMTP_PORT}`,
    );
  return {
    userName: required('SMTP_USER_NAME'),
    region: required('SES_REGION'),
    fromAddress: required('FROM_ADDRESS'),
    publishedPort,
    environmentName: required('ENVIRONMENT_NAME'),
    // Set by the construct; without it (a function set up by hand) the messages give --env and,
    // for a stack without an environments file, --secret-id.
    cliOptions: env.CLI_OPTIONS || undefined,
    previousKeyQuietDays: days('PREVIOUS_KEY_QUIET_DAYS'),
    replacedKeyHoldDays: days('REPLACED_KEY_HOLD_DAYS'),
    rotateWhilePreviousKeyInUse: required('ROTATE_WHILE_PREVIOUS_KEY_IN_USE') === 'true',
  };
}

const settings = settingsFromEnv(process.env);

const deps: Omit<RotationDeps, 'verifyLogin'> = {
  secrets: secretsManager,
  iam,
  settings,
  smtp: smtpEndpointFromEnv(process.env),
  log,
  emitMetric: (line) => writeEmf([line]),
};

export const handler: SecretsManagerRotationHandler = async (event, context) => {
  // testSecret retries until the new key reaches SES, within this invocation's time.
  const verifyLogin: RotationDeps['verifyLogin'] = (endpoint, credentials) =>
    retryUntil(() => smtpLogin(endpoint, credentials), {
      deadlineMs: retryDeadlineMs(context.getRemainingTimeInMillis(), { attemptMs: endpoint.timeoutMs }),
      onRetry: (attempt, delayMs, error) =>
        log.info('SMTP login not accepted yet; new IAM keys take a while to reach SES', {
          attempt,
          retryInMs: delayMs,
          ...describeError(error),
        }),
    });
  try {
    await rotate(event, { ...deps, verifyLogin });
  } catch (error) {
    // Logged for the operator, then rethrown: Secrets Manager marks the rotation failed and retries.
    log.error(ROTATION_STEP_FAILED, {
      step: event.Step,
      secretId: event.SecretId,
      ...describeError(error),
    });
    throw error;
  }
};
