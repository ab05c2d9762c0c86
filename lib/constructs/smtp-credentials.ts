import { CustomResource, Duration, RemovalPolicy, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { smtpEndpoint } from '../config/smtp-regions';
import { NodeFunction } from './node-function';
import { allowServiceToUseKey } from './operator-alarms';

export interface SmtpCredentialsProps {
  /** The identity the SMTP user may send as. */
  readonly identity: ses.IEmailIdentity;
  /**
   * The identity's default configuration set: SES also authorizes sends against it.
   * @default - none
   */
  readonly configurationSet?: ses.IConfigurationSet;
  /** The sender address written into the secret for apps. */
  readonly fromAddress: string;
  /**
   * Addresses the user may send from (the `ses:FromAddress` condition). An entry with "*" makes
   * the condition StringLike.
   * @default - [fromAddress]
   */
  readonly allowedFromAddresses?: string[];
  /**
   * Time between rotations.
   * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html
   * @default Duration.days(90)
   */
  readonly rotationInterval?: Duration;
  /** Key that encrypts the "credentials rotated" topic (EventBridge may use it). */
  readonly notificationKey: kms.Key;
  /** @default 587 */
  readonly smtpPort?: number;
  /**
   * Name of the environment: the dimension of the rotation function's metrics.
   * @default - the stack name
   */
  readonly environmentName?: string;
  /**
   * A rotation does not delete the previous key while SES used it within this period (an app still
   * sends with it): the rotation fails and alarms instead. Duration.days(0) turns the guard off.
   * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html
   * @default Duration.days(7)
   */
  readonly previousKeyQuietPeriod?: Duration;
  /**
   * Delete the previous key even when SES used it within the quiet period.
   * @default false
   */
  readonly rotateWhilePreviousKeyInUse?: boolean;
  /**
   * Applied to the user, secret and its key. With DESTROY, the user's access keys (made by the
   * rotation function, not CloudFormation) are deleted first so IAM can delete the user.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Value the secret holds until the first rotation: no credentials, and a pointer to what comes. */
export const PLACEHOLDER_SECRET = {
  placeholder:
    'No SMTP credentials yet: the rotation function creates them on the first rotation, which starts when the rotation schedule is created.',
};

/**
 * SES SMTP credentials as a managed, rotating secret: an IAM user allowed only
 * `ses:SendRawEmail` on the identity, a KMS-encrypted secret holding what an app needs to send,
 * and a rotation function that replaces the access key on a schedule with zero downtime.
 * No access key ever appears in the template: the rotation function makes every key.
 */
export class SmtpCredentials extends Construct {
  public readonly user: iam.User;
  public readonly secret: secretsmanager.Secret;
  public readonly encryptionKey: kms.Key;
  public readonly rotationFunction: NodeFunction;
  /** Receives a message after every successful rotation, for apps that cache credentials. */
  public readonly rotatedTopic: sns.Topic;
  /** Matches Secrets Manager's RotationFailed events for the secret. */
  public readonly rotationFailedRule: events.Rule;
  /** The Region's SES SMTP endpoint, as written into the secret. */
  public readonly smtpHost: string;
  /** The STARTTLS port written into the secret. */
  public readonly smtpPort: number;

  constructor(scope: Construct, id: string, props: SmtpCredentialsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const allowed = props.allowedFromAddresses ?? [props.fromAddress];
    if (allowed.length === 0) throw new Error('allowedFromAddresses must name at least one address, got: []');
    const interval = props.rotationInterval ?? Duration.days(90);
    const days = interval.toDays({ integral: false });
    if (!Token.isUnresolved(days) && (!Number.isInteger(days) || days < 1 || days > 1000)) {
      throw new Error(
        `rotationInterval must be a whole number of days from 1 to 1000, got: ${interval.toHumanString()}`,
      );
    }
    const quietDays = (props.previousKeyQuietPeriod ?? Duration.days(7)).toDays({ integral: false });
    if (
      !Token.isUnresolved(quietDays) &&
      (!Number.isInteger(quietDays) || quietDays < 0 || quietDays > 365)
    ) {
      throw new Error(
        `previousKeyQuietPeriod must be a whole number of days from 0 to 365, got: ${props.previousKeyQuietPeriod?.toHumanString()}`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.smtpHost = smtpEndpoint(stack.region);
    this.smtpPort = props.smtpPort ?? 587;

    this.user = new iam.User(this, 'User');
    this.user.applyRemovalPolicy(removalPolicy);
    const sendResources = [props.identity.emailIdentityArn];
    if (props.configurationSet) {
      sendResources.push(
        stack.formatArn({
          service: 'ses',
          resource: 'configuration-set',
          resourceName: props.configurationSet.configurationSetName,
        }),
      );
    }
    const condition = allowed.some((a) => a.includes('*')) ? 'StringLike' : 'StringEquals';
    this.user.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'SendRawEmailAsTheIdentityOnly',
        actions: ['ses:SendRawEmail'],
        resources: sendResources,
        conditions: { [condition]: { 'ses:FromAddress': allowed } },
      }),
    );

    this.encryptionKey = new kms.Key(this, 'SecretKey', {
      description: `Encrypts the SES SMTP credentials secret of ${stack.stackName}`,
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(7),
    });
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: `SES SMTP credentials (${this.smtpHost}:${this.smtpPort}) for ${props.fromAddress}; rotated every ${days} days`,
      encryptionKey: this.encryptionKey,
      // Not a secret: a fixed placeholder, so later deploys never overwrite real credentials.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(PLACEHOLDER_SECRET)),
      removalPolicy,
    });

    this.rotationFunction = new NodeFunction(this, 'RotationFunction', {
      handlerDir: 'rotate-smtp-credentials',
      description: 'Rotates the SES SMTP credentials: new IAM access key, SMTP password, SMTP login test',
      // testSecret retries the SMTP login for up to 150 s while IAM propagates the new key.
      timeout: Duration.minutes(5),
      environment: {
        SMTP_USER_NAME: this.user.userName,
        SES_REGION: stack.region,
        FROM_ADDRESS: props.fromAddress,
        PUBLISHED_SMTP_PORT: String(this.smtpPort),
        SMTP_HOST: this.smtpHost,
        SMTP_PORT: String(this.smtpPort),
        ENVIRONMENT_NAME: props.environmentName ?? stack.stackName,
        PREVIOUS_KEY_QUIET_DAYS: String(quietDays),
        ROTATE_WHILE_PREVIOUS_KEY_IN_USE: String(props.rotateWhilePreviousKeyInUse ?? false),
      },
    });
    const fn = this.rotationFunction;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ManageOnlyTheSmtpUsersKeys',
        // GetAccessKeyLastUsed: the stale-use guard reads the previous key's last use first.
        actions: [
          'iam:ListAccessKeys',
          'iam:CreateAccessKey',
          'iam:DeleteAccessKey',
          'iam:GetAccessKeyLastUsed',
        ],
        resources: [this.user.userArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RotateOnlyThisSecret',
        actions: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        resources: [this.secret.secretArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UseTheSecretKeyThroughSecretsManager',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
        },
      }),
    );
    const invoke = new lambda.CfnPermission(this, 'SecretsManagerInvoke', {
      action: 'lambda:InvokeFunction',
      functionName: fn.functionArn,
      principal: 'secretsmanager.amazonaws.com',
      sourceAccount: stack.account,
    });

    const schedule = new secretsmanager.CfnRotationSchedule(this, 'RotationSchedule', {
      secretId: this.secret.secretArn,
      rotationLambdaArn: fn.functionArn,
      rotationRules: { automaticallyAfterDays: days },
      // The first rotation runs at once: it is what creates the first credentials.
      rotateImmediatelyOnUpdate: true,
    });
    // Secrets Manager invokes the function as soon as the schedule exists.
    schedule.node.addDependency(invoke, fn);

    if (removalPolicy === RemovalPolicy.DESTROY) {
      const cleanup = this.keyCleanup();
      // Deleted before the user (it depends on it) and after the schedule (which depends on it).
      cleanup.node.addDependency(this.user);
      schedule.node.addDependency(cleanup);
    }

    this.rotatedTopic = new sns.Topic(this, 'RotatedTopic', {
      displayName: 'SES SMTP credentials rotated',
      masterKey: props.notificationKey,
      enforceSSL: true,
    });
    allowServiceToUseKey(props.notificationKey, 'events.amazonaws.com', 'AllowEventBridgeRules');
    const rotationEvent = (eventName: string) => ({
      source: ['aws.secretsmanager'],
      detailType: ['AWS Service Event via CloudTrail'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: [eventName],
        additionalEventData: { SecretId: [this.secret.secretArn] },
      },
    });
    new events.Rule(this, 'RotationSucceededRule', {
      description: 'Tells apps that the SES SMTP credentials were rotated',
      eventPattern: rotationEvent('RotationSucceeded'),
      targets: [
        new targets.SnsTopic(this.rotatedTopic, {
          message: events.RuleTargetInput.fromObject({
            event: 'ses-smtp-credentials-rotated',
            secretArn: this.secret.secretArn,
            time: events.EventField.time,
            advice: 'Read AWSCURRENT again; the previous credentials stay valid until the next rotation.',
          }),
        }),
      ],
    });
    this.rotationFailedRule = new events.Rule(this, 'RotationFailedRule', {
      description: 'Matches failed rotations of the SES SMTP credentials (alarmed on)',
      eventPattern: rotationEvent('RotationFailed'),
    });
  }

  /** Grants reading the credentials (secret value and its key) to an app's role. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }

  /** Count of RotationFailed events (EventBridge TriggeredRules of the rule). */
  public metricRotationFailures(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'TriggeredRules',
      dimensionsMap: { RuleName: this.rotationFailedRule.ruleName },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  private keyCleanup(): CustomResource {
    const fn = new NodeFunction(this, 'KeyCleanupFunction', {
      handlerDir: 'smtp-user-cleanup',
      description: 'Deletes the SMTP user access keys when the stack deletes the user',
      timeout: Duration.minutes(1),
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOnlyTheSmtpUsersKeys',
        actions: ['iam:ListAccessKeys', 'iam:DeleteAccessKey'],
        resources: [this.user.userArn],
      }),
    );
    return new CustomResource(this, 'KeyCleanup', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::SmtpUserKeyCleanup',
      properties: { UserName: this.user.userName },
    });
  }
}
