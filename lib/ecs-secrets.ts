import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SMTP_VARIABLES } from '../lambda/shared/smtp-secret';
import { ConfigError } from './config/load';

/** What the ECS helper needs: the credentials secret and a grant that works across stacks. */
export interface ISmtpCredentialsSecret {
  /** The secret holding the SMTP credentials JSON. */
  readonly secret: secretsmanager.ISecret;
  /** Grants reading the secret (and decrypting it) to a role, without changing the secret's stack. */
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/** The variables a Rails app reads, each with the secret's JSON key that holds its value. */
export const SMTP_CONTAINER_VARIABLES = SMTP_VARIABLES;

/**
 * The SMTP settings as ECS container secrets (`secrets` of a container definition), each read
 * from one JSON key of the credentials secret when the task starts: a new task gets the
 * credentials current at its start, and ECS never refreshes a running task's, whose key the next
 * rotation deletes: replace the tasks after each rotation (README: force a new deployment). ECS
 * reads each with its own GetSecretValue, so a task that starts in the instant a rotation moves
 * AWSCURRENT can get the username of one version and the password of the other (SES refuses its
 * logins until it restarts); no valueFrom can pin the six to one version.
 *
 * Host, port, Region and sender are not secret, but they come from the secret too: the rotation
 * function writes them next to the username and password it tested them with, so they can never
 * disagree, and a task started before the first rotation fails to start (the keys do not exist
 * yet) instead of starting without credentials.
 *
 * Reading is granted to the task's execution role through `grantRead` (identity policy only),
 * so the task may live in another stack.
 *
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
 */
export function smtpContainerSecrets(credentials: ISmtpCredentialsSecret): Record<string, ecs.Secret> {
  return Object.fromEntries(
    Object.entries(SMTP_CONTAINER_VARIABLES).map(([name, jsonKey]) => [
      name,
      new SmtpSecretField(credentials, jsonKey),
    ]),
  );
}

/** The variable of smtpContainerSecretJson unless the app names another. */
export const SMTP_CREDENTIALS_JSON_VARIABLE = 'AWS_SES_SMTP_CREDENTIALS';

/**
 * The SMTP settings as one ECS container secret: the credentials secret's whole JSON (`username`,
 * `password`, `host`, `port`, `region`, `fromAddress`) in the variable `name`. ECS reads it with
 * one GetSecretValue when the task starts, so the username and the password are always of one
 * version, even in the instant a rotation moves AWSCURRENT (smtpContainerSecrets' six variables
 * are six reads). The app parses the JSON (README: "One variable for ECS").
 */
export function smtpContainerSecretJson(
  credentials: ISmtpCredentialsSecret,
  name: string = SMTP_CREDENTIALS_JSON_VARIABLE,
): Record<string, ecs.Secret> {
  // A ConfigError, as SesSmtp's props: an app that prints those as one line prints this one so too.
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ConfigError([
      `containerSecretJson: got ${JSON.stringify(name)}, expected an environment variable name (letters, digits and "_", not starting with a digit)`,
    ]);
  }
  return { [name]: new SmtpSecretField(credentials) };
}

/**
 * The credentials secret's current version, or one JSON key of it, granted through the
 * credentials' own grantRead.
 */
class SmtpSecretField extends ecs.Secret {
  public readonly arn: string;
  public readonly hasField: boolean;

  constructor(
    private readonly credentials: ISmtpCredentialsSecret,
    jsonKey?: string,
  ) {
    super();
    // ECS's valueFrom for a JSON key of the current version: <secret ARN>:<json key>:<stage>:<version id>;
    // the secret's ARN alone for the whole value.
    this.arn = jsonKey ? `${credentials.secret.secretArn}:${jsonKey}::` : credentials.secret.secretArn;
    this.hasField = jsonKey !== undefined;
  }

  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.credentials.grantRead(grantee);
  }
}
