import {
  CfnElement,
  CfnResource,
  CustomResource,
  Duration,
  Lazy,
  RemovalPolicy,
  SecretValue,
  Stack,
  Token,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { ConfigError } from '../config/load';
import { addressKey } from '../config/schema';
import { MIN_ROTATION_DAYS, replacedKeyHoldDays, ROTATION_DAYS_EXPECTED } from '../config/quiet-period';
import { allowsSender, domainOf, everyAddressAt, senderNotAllowed } from '../config/senders';
import { smtpEndpoint } from '../config/smtp-regions';
import { ROTATION_LOG_GROUP, SECRET_ID } from '../../lambda/credentials-ready/properties';
import { SES_SMTP_PORTS } from '../../lambda/shared/smtp-login';
import { KEEP_KEYS_ON_ROLLBACK, KEEP_KEYS_ON_STACK_DELETE } from '../../lambda/smtp-user-cleanup/properties';
import {
  EcsServiceTarget,
  isServiceOf,
  parseServiceArn,
  serviceArnOf,
  SERVICES_VARIABLE,
} from '../../lambda/restart-ecs-services/services';
import { metricRotationBlocked } from './health-checks';
import { NodeFunction } from './node-function';
import { alarmCliOptions } from './operator-alarms';
import { PSEUDO_PARAMETER_LONGEST } from './pseudo-parameters';
import { EncryptedTopicTarget } from './service-access';

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
   * Addresses the user may send from (the `ses:FromAddress` condition). "*" is a wildcard for any
   * run of characters ("*@example.com": every address at example.com, not at its subdomains);
   * every other character is literal (IAM's special "?" and "$" are escaped). Apps such as Rails
   * send from several addresses (Devise's mailer_sender, per-mailer `from:`), hence the default.
   * @see https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html
   * @default - every address at the domain of `fromAddress` ("*@<domain>")
   */
  readonly allowedFromAddresses?: string[];
  /**
   * Email identities of test recipients, verified while the account is in the SES sandbox. In the
   * sandbox SES also authorizes `ses:SendRawEmail` against each recipient's identity, so their
   * ARNs join the policy's resources; the `ses:FromAddress` condition still limits the sender.
   * @see https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html
   * @default - none
   */
  readonly sandboxRecipients?: ses.IEmailIdentity[];
  /**
   * Time between rotations: whole days, 2 to 1000 (Secrets Manager may run two daily rotations
   * minutes apart).
   * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets.html
   * @default Duration.days(90)
   */
  readonly rotationInterval?: Duration;
  /**
   * Key that encrypts the "credentials rotated" topic; EventBridge gets its grant in the key
   * policy. A key imported from elsewhere has no policy here to change, so its owner must grant
   * events.amazonaws.com kms:GenerateDataKey* and kms:Decrypt (or no rotation message arrives): a
   * synth warning (`ses-smtp:imported-key`) says so.
   */
  readonly notificationKey: kms.IKey;
  /**
   * Where a failed rotation is told to a human at once (the RotationFailed rule publishes a
   * readable message to it). An encrypted topic's key gets the EventBridge grant it needs. A
   * topic imported from outside the app gets a synth warning (`ses-smtp:imported-target-topic`):
   * its owner writes both grants.
   * @default - no direct message; metricRotationFailures() is still there to alarm on
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Called once, as restartServicesOnRotation (or addRestartServiceArn) first creates
   * serviceRestartFunction: SesSmtp alarms on its errors there, whichever way it was called.
   * @default - nothing (metricServiceRestartErrors() is there to alarm on)
   */
  readonly onServiceRestartFunction?: (fn: lambda.Function) => void;
  /**
   * Called for each service added to those serviceRestartFunction restarts, with its ARN: SesSmtp
   * has its health check (HealthChecks.checkEcsServices) look that it exists, which the restart
   * function only logs.
   * @default - nothing (restartServiceArns lists them)
   */
  readonly onRestartService?: (serviceArn: string) => void;
  /**
   * The port written into the secret, and the one the rotation logs in on: STARTTLS on 25, 587
   * or 2587, TLS from the first byte on 465 or 2465 (the ports of SES's SMTP interface). With 25
   * the rotation logs in on 587: AWS blocks outbound 25 from Lambda functions outside a VPC.
   * @default 587
   */
  readonly smtpPort?: number;
  /**
   * Name of the environment: the dimension of the rotation function's metrics.
   * @default - the stack name
   */
  readonly environmentName?: string;
  /**
   * The `ses-smtp` options that pick this environment in the commands the RotationFailed message
   * and the rotation function's errors (CLI_OPTIONS) give.
   * @default - the Stack's name and Region: "--stack NAME --region REGION" (see cliOptions())
   */
  readonly cliOptions?: string;
  /**
   * A rotation does not delete the previous key while SES used it within this period after the
   * last rotation replaced it, past a 2-hour grace (an app still sends with it), nor within this
   * period after that rotation (at most `rotationInterval` less a day, so a scheduled rotation
   * never meets it): the rotation fails instead. Duration.days(0) turns the guard off.
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
   * Applied to the user, its policy, the secret and its key. Whenever CloudFormation deletes the
   * user (a stack deletion with DESTROY, the rollback of the deploy that created it with any
   * policy but RETAIN, which keeps the user and its keys then too), its access keys (made by the
   * rotation function, not CloudFormation) are deleted first, so that IAM can delete the user.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The metrics of credential rotation, for alarms and dashboards. */
export interface IRotationMonitoring {
  /** Log group of the rotation function, named in alarm texts. */
  readonly rotationLogGroupName: string;
  /** Count of Secrets Manager RotationFailed events for the secret. */
  metricRotationFailures(options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /** Errors of the rotation function (a step failed; Secrets Manager retries it). */
  metricRotationErrors(options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /** Invocations of the rotation function (each is one step of a rotation). */
  metricRotationSteps(options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /** Credential events EventBridge could not deliver to their topics. */
  metricEventDeliveryFailures?(options?: cloudwatch.MathExpressionOptions): cloudwatch.IMetric;
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
export class SmtpCredentials extends Construct implements IRotationMonitoring {
  public readonly user: iam.User;
  public readonly secret: secretsmanager.Secret;
  public readonly encryptionKey: kms.Key;
  public readonly rotationFunction: lambda.Function;
  /** Receives a message after every successful rotation, for apps that cache credentials. */
  public readonly rotatedTopic: sns.Topic;
  /** Matches Secrets Manager's RotationFailed events for the secret. */
  public readonly rotationFailedRule: events.Rule;
  /** Tells the rotated topic when AWSCURRENT moves to a new version. */
  public readonly rotationSucceededRule: events.Rule;
  /** The Region's SES SMTP endpoint, as written into the secret. */
  public readonly smtpHost: string;
  /** The port written into the secret (STARTTLS on 25, 587, 2587; TLS on 465, 2465). */
  public readonly smtpPort: number;
  public readonly rotationLogGroupName: string;
  /**
   * Created once the first rotation has stored SMTP credentials that passed an SMTP login: the
   * stack's first deploy ends only then (or fails, with the rotation's last error). An app in
   * another stack that reads the secret deploys after it anyway (the secret's reference makes its
   * stack depend on this one); in the same stack, add a dependency on this.
   */
  public readonly credentialsReady: CustomResource;
  /**
   * Forces a new deployment of the ECS services given to restartServicesOnRotation each time
   * AWSCURRENT moves to new credentials; undefined until it is first called.
   */
  public serviceRestartFunction?: lambda.Function;
  /** The Environment dimension of the rotation function's metric. */
  private readonly environmentName: string;
  private readonly onServiceRestartFunction?: (fn: lambda.Function) => void;
  private readonly onRestartService?: (serviceArn: string) => void;
  /** The ARNs of the services serviceRestartFunction restarts, in the order they were added. */
  private readonly restartArns: string[] = [];
  /** The services serviceRestartFunction restarts, by ARN. */
  private readonly restartTargets = new Map<string, EcsServiceTarget>();
  private restartPolicy?: iam.PolicyStatement;

  constructor(scope: Construct, id: string, props: SmtpCredentialsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.environmentName = props.environmentName ?? stack.stackName;
    this.onServiceRestartFunction = props.onServiceRestartFunction;
    this.onRestartService = props.onRestartService;
    // How the rotation's errors and the RotationFailed message name this environment to the CLI.
    const cliOptions = alarmCliOptions(this, props.cliOptions);
    // IAM compares ses:FromAddress case-sensitively, while a domain is not: the address apps send
    // from (the secret's) spells its domain in lower case, as the environments file's loader does,
    // and the policy takes each entry of allowedFromAddresses so and as written. An app that
    // writes the domain as given, or a secret written before it was lower-cased (until the next
    // rotation writes it again), still sends.
    const lowerDomain = (address: string) => (Token.isUnresolved(address) ? address : addressKey(address));
    const fromAddress = lowerDomain(props.fromAddress);
    const given = props.allowedFromAddresses ?? everyAddressAt(domainOf(fromAddress));
    const allowed = [...new Set([...given.map(lowerDomain), ...given])];
    if (allowed.length === 0) throw new Error('allowedFromAddresses must name at least one address, got: []');
    if (!Token.isUnresolved(fromAddress) && !allowsSender(allowed, fromAddress)) {
      throw new Error(
        `fromAddress must be ${senderNotAllowed(allowed, 'allowedFromAddresses')}, got: ${props.fromAddress}`,
      );
    }
    const interval = props.rotationInterval ?? Duration.days(90);
    const days = interval.toDays({ integral: false });
    if (!Token.isUnresolved(days) && (!Number.isInteger(days) || days < MIN_ROTATION_DAYS || days > 1000)) {
      throw new Error(`rotationInterval must be ${ROTATION_DAYS_EXPECTED}, got: ${interval.toHumanString()}`);
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
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    // CloudFormation takes no snapshot of a user, a secret or a key: it deletes them, while the
    // key cleanup would keep the user's keys (not DESTROY), and IAM refuses to delete the user.
    if (removalPolicy === RemovalPolicy.SNAPSHOT) {
      throw new Error(
        'removalPolicy must be RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY, got: SNAPSHOT (CloudFormation snapshots no IAM user, secret or KMS key)',
      );
    }
    this.smtpHost = smtpEndpoint(stack.region);
    this.smtpPort = props.smtpPort ?? 587;
    if (!Token.isUnresolved(this.smtpPort) && !SES_SMTP_PORTS.includes(this.smtpPort)) {
      throw new Error(
        `smtpPort must be a port of SES's SMTP interface (25, 587 or 2587 for STARTTLS; 465 or 2465 for TLS from the first byte), got: ${this.smtpPort}`,
      );
    }

    this.user = new iam.User(this, 'User');
    this.user.applyRemovalPolicy(removalPolicy);
    const sendResources = [
      props.identity.emailIdentityArn,
      ...(props.sandboxRecipients ?? []).map((r) => r.emailIdentityArn),
    ];
    if (props.configurationSet) {
      sendResources.push(
        stack.formatArn({
          service: 'ses',
          resource: 'configuration-set',
          resourceName: props.configurationSet.configurationSetName,
        }),
      );
    }
    const wildcard = allowed.some(isSenderPattern);
    const sendStatement = new iam.PolicyStatement({
      sid: 'SendRawEmailAsTheIdentityOnly',
      actions: ['ses:SendRawEmail'],
      resources: sendResources,
      conditions: {
        [wildcard ? 'StringLike' : 'StringEquals']: { 'ses:FromAddress': allowed.map(iamLiteral) },
      },
    });
    // IAM refuses a user's inline policies past 2,048 characters (whitespace not counted), and only
    // at deploy: each sandbox recipient adds its identity's ARN, each sender entry its text.
    const policyLength = longestPolicyLength(stack, sendStatement, [
      props.identity,
      ...(props.sandboxRecipients ?? []),
      ...(props.configurationSet ? [props.configurationSet] : []),
    ]);
    if (policyLength !== undefined && policyLength > USER_INLINE_POLICY_LIMIT) {
      throw new ConfigError([
        `the SMTP user's policy would have ${policyLength} characters at the longest, over IAM's ${USER_INLINE_POLICY_LIMIT} for a user's inline policies: each sandbox recipient (verifiedEmailAddresses) adds its identity's ARN and each allowedFromAddresses entry its text; list fewer (a production account needs no verified recipients)`,
      ]);
    }
    this.user.addToPrincipalPolicy(sendStatement);
    // A kept user without its policy may no longer send: the policy goes (or stays) with the user.
    (this.user.node.findChild('DefaultPolicy') as iam.Policy).applyRemovalPolicy(removalPolicy);

    this.encryptionKey = new kms.Key(this, 'SecretKey', {
      description: `Encrypts the SES SMTP credentials secret of ${stack.stackName}`,
      enableKeyRotation: true,
      removalPolicy,
      pendingWindow: Duration.days(7),
    });
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: `SES SMTP credentials (${this.smtpHost}:${this.smtpPort}) for ${fromAddress}; rotated every ${days} days`,
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
        FROM_ADDRESS: fromAddress,
        PUBLISHED_SMTP_PORT: String(this.smtpPort),
        SMTP_HOST: this.smtpHost,
        // The same credentials on another port: Lambda cannot reach SES on 25.
        SMTP_PORT: String(this.smtpPort === 25 ? 587 : this.smtpPort),
        ENVIRONMENT_NAME: this.environmentName,
        CLI_OPTIONS: cliOptions,
        PREVIOUS_KEY_QUIET_DAYS: String(quietDays),
        // Unknown at synth (a token): no hold, so that no scheduled rotation can meet it.
        REPLACED_KEY_HOLD_DAYS: String(
          Token.isUnresolved(quietDays) || Token.isUnresolved(days)
            ? 0
            : replacedKeyHoldDays(quietDays, days),
        ),
        ROTATE_WHILE_PREVIOUS_KEY_IN_USE: String(props.rotateWhilePreviousKeyInUse ?? false),
      },
    });
    const fn = this.rotationFunction;
    this.rotationLogGroupName = fn.logGroup.logGroupName;
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
    // The secret's ARN as well: then the function rotates this secret only, not any secret of the
    // account someone points at it (each such failure would count on the rotation error alarm).
    // Secrets Manager invokes a rotation function with the secret's ARN as the source, which a
    // permission's SourceArn matches.
    // https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
    const invoke = new lambda.CfnPermission(this, 'SecretsManagerInvoke', {
      action: 'lambda:InvokeFunction',
      functionName: fn.functionArn,
      principal: 'secretsmanager.amazonaws.com',
      sourceAccount: stack.account,
      sourceArn: this.secret.secretArn,
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

    // With every policy: the rollback of the deploy that created the user deletes it (with
    // RETAIN_ON_UPDATE_OR_DELETE too), and IAM refuses to delete a user that has keys.
    const cleanup = this.keyCleanup(removalPolicy);
    // Deleted before the user (it depends on it) and after the schedule (which depends on it).
    cleanup.node.addDependency(this.user);
    schedule.node.addDependency(cleanup);

    this.credentialsReady = this.waitForFirstCredentials();
    this.credentialsReady.node.addDependency(schedule);

    this.rotatedTopic = new sns.Topic(this, 'RotatedTopic', {
      displayName: 'SES SMTP credentials rotated',
      masterKey: props.notificationKey,
      enforceSSL: true,
    });
    // New credentials: Secrets Manager's own event when AWSCURRENT moves to a new version (a
    // rotation, or a value put by hand). Sent straight to EventBridge: it needs no CloudTrail trail.
    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/event-detail-secret-label-updated-secretsmanager.html
    // The id is the one of the CloudTrail rule it replaces: a deployed stack updates it in place.
    this.rotationSucceededRule = new events.Rule(this, 'RotationSucceededRule', {
      description: 'Tells apps that the SES SMTP credentials were rotated',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['Secret Label Updated'],
        resources: [this.secret.secretArn],
        detail: { labelUpdated: ['AWSCURRENT'] },
      },
      targets: [
        new EncryptedTopicTarget(
          this.rotatedTopic,
          events.RuleTargetInput.fromObject({
            event: 'ses-smtp-credentials-rotated',
            secretArn: this.secret.secretArn,
            time: events.EventField.time,
            advice:
              'Read AWSCURRENT again. After a scheduled or requested rotation the previous credentials stay valid until the next one; after ses-smtp revoke they no longer work.',
          }),
        ),
      ],
    });
    // A failed rotation has no such event: it reaches EventBridge only as a CloudTrail service
    // event (detail-type "AWS Service Event via CloudTrail", the secret's full ARN, what Ref of the
    // secret gives, in detail.additionalEventData.SecretId), which needs a trail that logs the
    // Region's management events (an organization trail counts). Without one, the rotation
    // function's error alarm and the credentials health check still catch a failing rotation.
    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html#cloudtrail_log_entries_rotation
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
    const logGroup = this.rotationFunction.logGroup.logGroupName;
    this.rotationFailedRule = new events.Rule(this, 'RotationFailedRule', {
      description:
        'Matches failed rotations of the SES SMTP credentials (alarmed on, and told to the operators)',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed'],
          additionalEventData: { SecretId: [this.secret.secretArn] },
        },
      },
      targets: props.alarmTopic
        ? [
            new EncryptedTopicTarget(
              props.alarmTopic,
              events.RuleTargetInput.fromMultilineText(
                [
                  `SES SMTP credential rotation FAILED at ${events.EventField.time} (${stack.stackName}).`,
                  `Secret: ${this.secret.secretArn}`,
                  `Secrets Manager says: ${events.EventField.fromPath('$.detail.errorMessage')}`,
                  'The current credentials are unchanged: they are never replaced before new ones pass an SMTP login.',
                  `What to do: read the rotation function's logs (${logGroup}), fix the cause, then rotate again: npx --no -- ses-smtp rotate ${cliOptions}`,
                ].join('\n'),
              ),
            ),
          ]
        : [],
    });
  }

  /**
   * Grants reading the credentials to an app's role: the secret's value, and decrypting with its
   * key only through Secrets Manager (`kms:ViaService`). Only the grantee's identity policy
   * changes (the key policy already lets the account's IAM policies grant use of the key), so a
   * role in another stack gets the grant without a reference back to it: no dependency cycle.
   *
   * A grantee in another account needs the grant on both sides (Secrets Manager User Guide,
   * "Access AWS Secrets Manager secrets from a different account"): the secret's resource policy
   * and the key policy name it too, as the secret's own `grantRead` writes them. So does a
   * principal that has no policy to add to (`iam.ArnPrincipal`, `iam.AccountPrincipal`).
   * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const account = grantee.grantPrincipal.principalAccount;
    // The grant writes to the principal's policy (a role's, a user's): the stack that references
    // the secret's and the key's ARNs is that principal's, when it is a construct of this app.
    const principal = Construct.isConstruct(grantee.grantPrincipal) ? grantee.grantPrincipal : undefined;
    if (
      account !== undefined &&
      !Token.isUnresolved(account) &&
      !Token.isUnresolved(stack.account) &&
      account !== stack.account
    ) {
      // A role of another account's stack (built there, or imported there) would read the secret's
      // and the key's ARNs from this stack, which aws-cdk-lib cannot reference across accounts
      // (their names are generated): it fails at synth deep inside aws-cdk-lib. Said here, with
      // what works: the principal imported into this stack.
      if (principal && Stack.of(principal) !== stack) {
        throw new ConfigError([
          `SesSmtp grantRead: got ${principal.node.path} of stack ${Stack.of(principal).stackName} in account ${account}, expected a grantee in account ${stack.account} or one imported into this stack: a resource of another account's stack cannot reference this stack's secret (its name is generated). Import the role (or user) here, iam.Role.fromRoleArn(<the mail stack>, 'AppRole', 'arn:aws:iam::${account}:role/NAME'), and grant that; in account ${account} allow it secretsmanager:GetSecretValue on the secret (stack output SmtpSecretArn) and kms:Decrypt`,
        ]);
      }
      return this.secret.grantRead(grantee);
    }
    if (principal) checkPrincipalEnvironment(principal, stack);
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resourceArns: [this.secret.secretArn],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:Decrypt'],
        resourceArns: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
        },
      }),
    );
    // A principal with no policy of its own (iam.ArnPrincipal, iam.AccountPrincipal: no account
    // known, or none to write to) takes neither statement, and the grant would do nothing: the
    // secret's resource policy and the key policy name it instead, as the secret's own grantRead
    // writes them for such a principal.
    return grant.success ? grant : this.secret.grantRead(grantee);
  }

  /**
   * Replaces the tasks of ECS services after each rotation: ECS sets a task's secrets once, as it
   * starts, so a running task keeps the previous credentials, whose key the next rotation deletes.
   * When AWSCURRENT moves to new credentials (the event that feeds `rotatedTopic`, the first
   * credentials included), a function calls ECS UpdateService with forceNewDeployment for each
   * service; its role may do that on these services only. A service that fails does not stop the
   * others, and fails the invocation (metricServiceRestartErrors). Call it again to add services.
   *
   * Each service must be of this stack, or imported into any stack by its long ARN (with its
   * cluster: `ecs.FargateService.fromFargateServiceAttributes`, `BaseService.fromServiceArnWithCluster`),
   * in this stack's account and Region: a service built in another stack would make this stack
   * reference it while that one reads the secret from this one, a dependency cycle.
   * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
   */
  public restartServicesOnRotation(...services: ecs.IBaseService[]): void {
    for (const service of services) this.addRestartService(service);
  }

  /** As restartServicesOnRotation, one service. `source` names the caller in the error. */
  public addRestartService(service: ecs.IBaseService, source = 'restartServicesOnRotation'): void {
    const stack = Stack.of(this);
    const arn = longServiceArn(service);
    if (!Token.isUnresolved(arn)) return this.addRestartServiceArn(arn, source);
    if (Stack.of(service) !== stack) {
      throw new ConfigError([
        `${source}: got ${service.node.path} of stack ${Stack.of(service).stackName}, expected a service of stack ${stack.stackName} or one imported by its ARN: the mail stack would reference the service while its stack reads the secret from the mail stack, a dependency cycle. Import it into the mail stack: ecs.BaseService.fromServiceArnWithCluster(<the mail stack>, 'Web', 'arn:aws:ecs:${stack.region}:ACCOUNT:service/CLUSTER/SERVICE'), or list its ARN in credentials.restartEcsServices`,
      ]);
    }
    this.addRestartTarget(arn, { cluster: service.cluster.clusterName, service: service.serviceName });
  }

  /**
   * As restartServicesOnRotation, by ARN: the long one, arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE,
   * of this stack's account and Region. `source` names the caller in the error.
   */
  public addRestartServiceArn(arn: string, source = 'restartServicesOnRotation'): void {
    const stack = Stack.of(this);
    const known = (value: string) => (Token.isUnresolved(value) ? undefined : value);
    const place = { region: known(stack.region), account: known(stack.account) };
    const parts = parseServiceArn(arn);
    if (!parts) {
      throw new ConfigError([
        `${source}: got ${JSON.stringify(arn)}, expected the long ARN of an ECS service, ${serviceArnOf(place)} (a short ARN, service/SERVICE, names no cluster, which UpdateService needs: migrate the service to the long ARN format)`,
      ]);
    }
    if (!isServiceOf(arn, place)) {
      throw new ConfigError([
        `${source}: got ${arn}, expected a service of the mail stack's account and Region (${serviceArnOf(place)}): the function that restarts it runs there`,
      ]);
    }
    this.addRestartTarget(arn, { cluster: parts.cluster, service: parts.service });
  }

  /** The ARNs of the services restarted after each rotation (a service of the stack's is a token). */
  public get restartServiceArns(): readonly string[] {
    return [...this.restartArns];
  }

  /** Errors of the service restart function (a service it could not restart); undefined without one. */
  public metricServiceRestartErrors(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric | undefined {
    return this.serviceRestartFunction?.metricErrors({
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  private addRestartTarget(arn: string, target: EcsServiceTarget): void {
    const key = Token.isUnresolved(arn) ? JSON.stringify(Stack.of(this).resolve(arn)) : arn;
    if (this.restartTargets.has(key)) return;
    this.restartTargets.set(key, target);
    if (!this.serviceRestartFunction) {
      const stack = Stack.of(this);
      const fn = new NodeFunction(this, 'ServiceRestartFunction', {
        handlerDir: 'restart-ecs-services',
        description:
          'Forces a new deployment of the ECS services that read the SMTP credentials, after each rotation',
        // One service after another, each of which may wait through throttling retries (about
        // 20 s): Lambda's longest, so that a long list is not cut off with its last services
        // never restarted (and unnamed in the log). It runs once a rotation.
        timeout: Duration.minutes(15),
        environment: {
          [SERVICES_VARIABLE]: Lazy.string({
            produce: () => stack.toJsonString([...this.restartTargets.values()]),
          }),
        },
      });
      // Not retried by Lambda: a retry would replace the tasks of the services that did restart
      // again; the function retries throttling itself, and what still fails is for the alarm.
      fn.configureAsyncInvoke({ retryAttempts: 0 });
      this.restartPolicy = new iam.PolicyStatement({
        sid: 'ForceNewDeploymentOfTheseServicesOnly',
        actions: ['ecs:UpdateService'],
        resources: [],
      });
      fn.addToRolePolicy(this.restartPolicy);
      // The event that feeds rotatedTopic; the target's permission names this rule as the source.
      this.rotationSucceededRule.addTarget(new targets.LambdaFunction(fn, { retryAttempts: 4 }));
      this.serviceRestartFunction = fn;
      this.onServiceRestartFunction?.(fn);
    }
    this.restartPolicy!.addResources(arn);
    this.restartArns.push(arn);
    this.onRestartService?.(arn);
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

  /**
   * Credential events EventBridge could not deliver to their topics (FailedInvocations of both
   * rules): a topic policy or key policy that no longer lets EventBridge publish. Such a failure is
   * permanent, not retried, and the apps (new credentials) or the operators (a failed rotation) are
   * never told. https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html
   */
  public metricEventDeliveryFailures(props: cloudwatch.MathExpressionOptions = {}): cloudwatch.IMetric {
    const failed = (rule: events.Rule) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Events',
        metricName: 'FailedInvocations',
        dimensionsMap: { RuleName: rule.ruleName },
        statistic: 'Sum',
      });
    return new cloudwatch.MathExpression({
      // A rule that matched nothing publishes no data point: FILL counts it as 0.
      expression: 'FILL(rotated, 0) + FILL(failed, 0)',
      usingMetrics: { rotated: failed(this.rotationSucceededRule), failed: failed(this.rotationFailedRule) },
      label: 'Credential events not delivered',
      period: Duration.minutes(5),
      ...props,
    });
  }

  public metricRotationErrors(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.rotationFunction.metricErrors({ statistic: 'Sum', period: Duration.hours(1), ...props });
  }

  public metricRotationSteps(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.rotationFunction.metricInvocations({ statistic: 'Sum', period: Duration.hours(1), ...props });
  }

  /**
   * Rotations the stale-use guard stopped before deleting a previous key SES still saw in use: the
   * rotation function publishes 1 each time, with this construct's environment name. Alarm on it
   * even without scheduled health checks (SesSmtp does).
   */
  public metricRotationBlocked(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return metricRotationBlocked(this.environmentName, props);
  }

  /** The custom resource that holds the first deploy until the secret holds tested credentials. */
  private waitForFirstCredentials(): CustomResource {
    const fn = new NodeFunction(this, 'CredentialsReadyFunction', {
      handlerDir: 'credentials-ready',
      description: 'Holds the first deploy until the first rotation has stored tested SMTP credentials',
      // A rotation takes tens of seconds; one that fails (Secrets Manager retries it) gets the rest.
      timeout: Duration.minutes(15),
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        // DescribeSecret shows the staging labels, not the value: this role never reads the password.
        sid: 'DescribeOnlyThisSecret',
        actions: ['secretsmanager:DescribeSecret'],
        resources: [this.secret.secretArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        // The last failed step's message, for the reason CloudFormation (and cdk deploy) shows.
        sid: 'ReadOnlyTheRotationLog',
        actions: ['logs:FilterLogEvents'],
        resources: [this.rotationFunction.logGroup.logGroupArn],
      }),
    );
    return new CustomResource(this, 'CredentialsReady', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::SmtpCredentialsReady',
      properties: {
        [SECRET_ID]: this.secret.secretArn,
        [ROTATION_LOG_GROUP]: this.rotationLogGroupName,
      },
      // The function's 15 minutes, and CloudFormation's delivery around them.
      serviceTimeout: Duration.minutes(20),
    });
  }

  /**
   * The keys go whenever CloudFormation deletes the user, by `removalPolicy`: a stack deletion
   * (DESTROY), the rollback of the deploy that created it (all but RETAIN, which keeps it).
   */
  private keyCleanup(removalPolicy: RemovalPolicy): CustomResource {
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
    // The keys go only when the whole stack is deleted: the function reads the stack's status.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadThisStacksStatus',
        actions: ['cloudformation:DescribeStacks'],
        resources: [Stack.of(this).stackId],
      }),
    );
    return new CustomResource(this, 'KeyCleanup', {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::SmtpUserKeyCleanup',
      properties: {
        UserName: this.user.userName,
        ...(removalPolicy !== RemovalPolicy.DESTROY && { [KEEP_KEYS_ON_STACK_DELETE]: 'true' }),
        ...(removalPolicy === RemovalPolicy.RETAIN && { [KEEP_KEYS_ON_ROLLBACK]: 'true' }),
      },
      // Without an answer (a crash before it), CloudFormation would wait an hour.
      serviceTimeout: Duration.minutes(5),
    });
  }
}

/** A short service ARN, arn:PARTITION:ecs:REGION:ACCOUNT:service/SERVICE: its start and the name. */
const SHORT_SERVICE_ARN = /^(arn:[a-z-]+:ecs:[a-z0-9-]+:\d{12}:service\/)([A-Za-z0-9_-]{1,255})$/;

/**
 * The ARN IAM authorizes UpdateService of `service` on: its long one, service/CLUSTER/SERVICE. A
 * service of a stack: its own (Ref). One imported by name: aws-cdk-lib writes service/SERVICE
 * unless the app sets @aws-cdk/aws-ecs:arnFormatIncludesClusterName, which no policy of the
 * service's own ARN matches (and addRestartServiceArn refuses as short): the import names the
 * cluster, which makes it the long one.
 * @see https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-arn-migration.html
 */
function longServiceArn(service: ecs.IBaseService): string {
  const resource = service.node.defaultChild;
  if (CfnResource.isCfnResource(resource) && resource.cfnResourceType === 'AWS::ECS::Service') {
    return service.serviceArn;
  }
  const arn = service.serviceArn;
  const cluster = service.cluster.clusterName;
  const short = Token.isUnresolved(arn) ? undefined : SHORT_SERVICE_ARN.exec(arn);
  if (short && !Token.isUnresolved(cluster)) return `${short[1]}${cluster}/${short[2]}`;
  if (!Token.isUnresolved(arn) && !short) return arn;
  return Stack.of(service).formatArn({
    service: 'ecs',
    resource: 'service',
    resourceName: `${cluster}/${service.serviceName}`,
  });
}

/** True for a sender pattern: "*" as the whole local part, or a leading "*." label of the domain. */
export function isSenderPattern(entry: string): boolean {
  const at = entry.lastIndexOf('@');
  return entry.slice(0, at) === '*' || entry.slice(at + 1).startsWith('*.');
}

/**
 * A sender entry as an IAM condition value. "*" is the wildcard only as the whole local part or
 * as a leading "*." label of the domain; anywhere else "*", and "?" and "$" everywhere, are
 * literal characters of the address (RFC 5322 atext) and are written as IAM's fixed variables
 * "${*}", "${?}" and "${$}", so an exact address never matches more than itself.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 */
export function iamLiteral(entry: string): string {
  const escape = (text: string) => text.replace(/[*?$]/g, (c) => `\${${c}}`);
  const at = entry.lastIndexOf('@');
  const local = entry.slice(0, at);
  const domain = entry.slice(at + 1);
  return `${local === '*' ? '*' : escape(local)}@${domain.startsWith('*.') ? `*.${escape(domain.slice(2))}` : escape(domain)}`;
}

/**
 * A grantee whose role (`principal`, whose policy the grant writes) is in a stack of another
 * environment than the mail stack would reference the secret's and the key's ARNs across
 * environments, which aws-cdk-lib refuses deep inside its own code for names it generates
 * ("CannotUseCrossEnvironment", naming neither stack). Said here, with what works. The test is
 * aws-cdk-lib's own (Resource.getResourceArnAttribute, in the stack of the policy: account and
 * Region compared as strings, so two stacks of "any account" are one, and crossRegionReferences
 * on that stack for another known Region); crossRegionReferences has no public getter.
 */
function checkPrincipalEnvironment(principal: Construct, stack: Stack): void {
  const owner = Stack.of(principal);
  if (owner === stack) return;
  const crossRegion = (owner as unknown as { _crossRegionReferences?: boolean })._crossRegionReferences;
  const regionKnown = !Token.isUnresolved(owner.region);
  const sameRegion = owner.region === stack.region || (crossRegion && regionKnown);
  if (owner.account === stack.account && sameRegion) return;
  const env = (s: Stack) =>
    `${Token.isUnresolved(s.account) ? 'any account' : `account ${s.account}`}, ${Token.isUnresolved(s.region) ? 'any Region' : `Region ${s.region}`}`;
  const mailEnv = [
    ...(Token.isUnresolved(stack.account) ? [] : [`account: '${stack.account}'`]),
    `region: '${stack.region}'`,
  ].join(', ');
  const fix =
    owner.account === stack.account && regionKnown
      ? `Set crossRegionReferences: true on stack ${owner.stackName}`
      : `Give stack ${owner.stackName} the mail stack's env ({ ${mailEnv} })`;
  throw new ConfigError([
    `SesSmtp grantRead: got ${principal.node.path} of stack ${owner.stackName} (${env(owner)}), expected a role of the mail stack's environment (${env(stack)}): aws-cdk-lib cannot reference the secret's generated name from another environment's stack. ${fix}, or grant a role imported into the mail stack (iam.Role.fromRoleArn)`,
  ]);
}

/** IAM's limit on the inline policies of one user, in characters without whitespace. */
const USER_INLINE_POLICY_LIMIT = 2048;

/**
 * The most characters the policy of `statement` can have at deploy, whitespace not counted: a
 * `Ref` to one of `named` (an identity, a configuration set) counts as its name in the template
 * (a set without one at SES's longest, 64), a pseudo parameter at its longest. Undefined when
 * the statement holds a value that cannot be bounded here (an imported identity's name).
 */
function longestPolicyLength(
  stack: Stack,
  statement: iam.PolicyStatement,
  named: readonly Construct[],
): number | undefined {
  const refs = new Map<string, number>();
  // The partition of a Region named in the stack is known (aws, aws-cn, aws-us-gov...).
  const partition = Token.isUnresolved(stack.region) ? undefined : RegionInfo.get(stack.region).partition;
  if (partition !== undefined) refs.set('AWS::Partition', partition.length);
  const literal = (name: string | undefined) =>
    name === undefined || Token.isUnresolved(name) ? undefined : name;
  for (const construct of named) {
    const child = construct.node.defaultChild;
    if (!(child instanceof CfnElement)) continue;
    // A set's name CloudFormation generates (none given, or one only the deploy knows): SES's longest.
    const length =
      child instanceof ses.CfnEmailIdentity
        ? literal(child.emailIdentity)?.length
        : child instanceof ses.CfnConfigurationSet
          ? (literal(child.name)?.length ?? 64)
          : undefined;
    if (length !== undefined) refs.set(stack.getLogicalId(child), length);
  }
  class Unbounded extends Error {}
  const longest = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map(longest);
    const { Ref: ref, 'Fn::Join': join } = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
    if (ref !== undefined) {
      const length = refs.get(ref) ?? PSEUDO_PARAMETER_LONGEST[ref];
      if (length === undefined) throw new Unbounded();
      return 'x'.repeat(length);
    }
    if (join) return join[1].map((part) => String(longest(part))).join(join[0]);
    if (Object.keys(value).some((key) => key.startsWith('Fn::'))) throw new Unbounded();
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, longest(v)]));
  };
  try {
    const document = {
      Version: '2012-10-17',
      Statement: [longest(stack.resolve(statement.toStatementJson()))],
    };
    return JSON.stringify(document).length;
  } catch (e) {
    if (e instanceof Unbounded) return undefined;
    throw e;
  }
}
