import {
  Annotations,
  CfnOutput,
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  Tags,
  Token,
} from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct, IConstruct } from 'constructs';
import { z } from 'zod';
import {
  ConfigError,
  checkEnvironment,
  issueLines,
  problemLines,
  RECORD_FIELDS,
  resolveEnvironment,
  zoneRecordsOf,
} from './config/load';
import { awsRegion, EnvironmentSchema, environmentName as environmentNameSchema } from './config/schema';
import type { EnvironmentConfig } from './config/types';
import { SesSmtpSettings } from './config/settings';
import { bareName, type DnsRecord } from './dns-records';
import { SES_SMTP_REGIONS } from './config/smtp-regions';
import { HealthChecks, rotationBlockedAlarmOptions } from './constructs/health-checks';
import { ECS_SERVICES } from '../lambda/shared/check-catalog';
import { ENVIRONMENT_TAG } from './stack-name';
import {
  CLI_OPTIONS_MAX_LENGTH,
  cliOptionsProblem,
  OperatorAlarms,
  stackCliOptions,
} from './constructs/operator-alarms';
import { ReputationMonitoring } from './constructs/reputation-monitoring';
import { SendingDomain } from './constructs/sending-domain';
import { SendingFeedback } from './constructs/sending-feedback';
import { SmtpCredentials } from './constructs/smtp-credentials';
import { smtpContainerSecretJson, smtpContainerSecrets } from './ecs-secrets';

/**
 * Fields of an environment that belong to the app around the construct, not to it: the Stack's
 * account and Region, its termination protection, the GitHub deploy access of the JSON-file app, and
 * the warnings that app's stack acknowledges.
 */
type AppFields = 'account' | 'region' | 'terminationProtection' | 'github' | 'acknowledgedWarnings';

/** The validated settings of a SesSmtp construct, defaults applied, with the Stack's account and Region. */
export type SesSmtpConfig = Omit<
  EnvironmentConfig,
  'terminationProtection' | 'github' | 'acknowledgedWarnings'
>;

export interface SesSmtpProps extends SesSmtpSettings {
  /**
   * Name of the environment, like "production": in alarm descriptions, the dashboard name and the
   * feedback handler's metric dimensions. Lower-case letters, digits and "-", starting with a letter.
   * One per account: two SesSmtp with one name would share a dashboard (CloudWatch dashboards are
   * global to an account) and, in one Region, metrics (the app refuses it for constructs it can
   * see: one account, or one stack).
   */
  readonly environmentName: string;
  /**
   * Regions to accept besides the built-in list of SES SMTP Regions (for a Region AWS opened
   * after this release).
   * @default - none
   */
  readonly additionalSmtpRegions?: string[];
  /**
   * The `ses-smtp` options that pick this environment, in the commands the alarm texts, the health
   * checks' fixes and the rotation function's errors give a paged operator. The environments-file
   * app's stacks pass "--env NAME". At most 160 characters.
   * @default - the Stack's name and Region: "--stack NAME --region REGION" (works without an environments file)
   */
  readonly cliOptions?: string;
}

/** The settings SesSmtp validates: the environment's, with account and Region taken from the Stack. */
const SettingsSchema = EnvironmentSchema.omit({
  account: true,
  region: true,
  terminationProtection: true,
  github: true,
  // The stack's (SesSmtpStack); a construct's own are Annotations.of(scope).acknowledgeWarning.
  acknowledgedWarnings: true,
}).extend({
  environmentName: environmentNameSchema,
  additionalSmtpRegions: z.array(awsRegion).default([]),
  cliOptions: z
    .string()
    .min(1)
    .max(
      CLI_OPTIONS_MAX_LENGTH,
      `at most ${CLI_OPTIONS_MAX_LENGTH} characters (alarm descriptions that give them are limited to 1024)`,
    )
    .superRefine((options, ctx) => {
      const problem = cliOptionsProblem(options);
      if (problem !== undefined)
        ctx.addIssue({ code: 'custom', message: `the CLI's options as "--name VALUE" pairs: ${problem}` });
    })
    .optional(),
});

/** What to do instead of passing an environments-file field that belongs to the app. */
const APP_FIELD_FIXES: Record<AppFields, string> = {
  account: "the account comes from the Stack's env",
  region: "the Region comes from the Stack's env",
  terminationProtection: 'set terminationProtection on your Stack',
  github: 'the deploy access is part of the JSON-file app (see README "Deploy from GitHub Actions")',
  // Without this line it was "an unknown field", with nothing to say how to accept a warning.
  acknowledgedWarnings:
    'acknowledge each warning with Annotations.of(construct).acknowledgeWarning(id, reason), on the SesSmtp or the construct that has it',
};

/** Where the props are named in error messages. */
const SOURCE = 'SesSmtp props';

/**
 * Everything one environment needs to send mail from a web app over Amazon SES SMTP, for any
 * Stack with an explicit Region: a domain identity with Easy DKIM, MAIL FROM and DMARC (records in
 * Route53 or as outputs), rotating SMTP credentials in a KMS-encrypted secret, the bounce and
 * complaint pipeline that feeds the suppression list, alarms and a dashboard.
 *
 * Props are validated first, by the same schema and rules as the environments file; a mistake
 * throws one line per problem, like `SesSmtp props: field "dmarc.policy": got "block", expected ...`.
 */
export class SesSmtp extends Construct {
  /** The validated settings, defaults applied. */
  public readonly config: SesSmtpConfig;
  public readonly sendingDomain: SendingDomain;
  public readonly credentials: SmtpCredentials;
  public readonly operatorAlarms: OperatorAlarms;
  public readonly feedback: SendingFeedback;
  public readonly monitoring: ReputationMonitoring;
  /** The doctor's checks on a schedule, with their alarms; undefined with health.enabled false. */
  public readonly health?: HealthChecks;
  /** Encrypts the topics and queues. */
  public readonly messagingKey: kms.Key;
  private readonly environmentName: string;
  /**
   * Exists once the first rotation has stored tested SMTP credentials. A resource of this stack
   * that reads the secret at deploy time (an ECS service, a dynamic reference) should depend on
   * it: `service.node.addDependency(sesSmtp.credentialsReady)`. Stacks that reference the secret
   * deploy after this stack, so after it, anyway.
   */
  public get credentialsReady(): CustomResource {
    return this.credentials.credentialsReady;
  }

  constructor(scope: Construct, id: string, props: SesSmtpProps) {
    // Validated before anything is added to the tree: a mistake leaves the stack as it was.
    const stack = Stack.of(scope);
    const { environmentName, config, cliOptions = stackCliOptions(stack) } = validate(props, stack);
    const claim = claimInApp(scope, stack, environmentName, config, cliOptions, `${scope.node.path}/${id}`);
    super(scope, id);
    claim(this);
    this.config = config;
    this.environmentName = environmentName;
    // Retained, except by the rollback of the deploy that created them: a failed first deploy (a
    // DNS record that exists already) then leaves nothing behind that would fail the next one.
    const removalPolicy =
      config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE : RemovalPolicy.DESTROY;
    const hostedZone =
      config.dns.mode === 'route53'
        ? route53.HostedZone.fromHostedZoneAttributes(this, 'HostedZone', {
            hostedZoneId: config.dns.hostedZoneId,
            zoneName: config.dns.zoneName,
          })
        : undefined;

    this.messagingKey = new kms.Key(this, 'MessagingKey', {
      description: `Encrypts the SNS topics and SQS queues of ${stack.stackName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.operatorAlarms = new OperatorAlarms(this, 'OperatorAlarms', {
      encryptionKey: this.messagingKey,
      emails: config.alarms.emails,
    });

    this.feedback = new SendingFeedback(this, 'SendingFeedback', {
      encryptionKey: this.messagingKey,
      environmentName,
      additionalEvents: config.feedback.additionalEvents,
      rawMessageDelivery: config.feedback.rawMessageDelivery,
      webhookUrl: config.feedback.webhookUrl,
      appQueue: config.feedback.appQueue,
      // The configuration set stays as long as the identity that names it as its default.
      removalPolicy,
    });

    this.sendingDomain = new SendingDomain(this, 'SendingDomain', {
      configurationSet: this.feedback.configurationSet,
      domainName: config.domain,
      hostedZone,
      recordTtl: Duration.seconds(config.dns.ttlSeconds),
      mailFromSubdomain: config.mailFrom.subdomain,
      mailFromBehaviorOnMxFailure: ses.MailFromBehaviorOnMxFailure[config.mailFrom.behaviorOnMxFailure],
      dmarc: config.dmarc.enabled ? config.dmarc : undefined,
      apexSpf: config.apexSpf.enabled ? config.apexSpf : undefined,
      verifiedEmailAddresses: config.verifiedEmailAddresses,
      removalPolicy,
    });

    this.credentials = new SmtpCredentials(this, 'SmtpCredentials', {
      identity: this.sendingDomain.identity,
      configurationSet: this.feedback.configurationSet,
      fromAddress: config.fromAddress,
      allowedFromAddresses: config.credentials.allowedFromAddresses,
      rotationInterval: Duration.days(config.credentials.rotationDays),
      notificationKey: this.messagingKey,
      environmentName,
      cliOptions,
      previousKeyQuietPeriod: Duration.days(config.credentials.previousKeyQuietDays),
      rotateWhilePreviousKeyInUse: config.credentials.rotateWhilePreviousKeyInUse,
      // In the SES sandbox the recipients' identities are authorized too.
      sandboxRecipients: this.sendingDomain.verifiedAddresses,
      // RotationFailed also goes straight to the operators, as a readable message.
      alarmTopic: this.operatorAlarms.topic,
      // Also when an app calls credentials.restartServicesOnRotation rather than restartOnRotation.
      onServiceRestartFunction: (fn) => this.alarmOnServiceRestarts(fn),
      // The health check looks that each exists: the restart function only logs one that does not.
      onRestartService: (arn) => this.checkRestartedService(arn),
      removalPolicy,
    });
    this.monitoring = new ReputationMonitoring(this, 'Monitoring', {
      environmentName,
      cliOptions,
      alarms: this.operatorAlarms,
      feedback: this.feedback,
      credentials: this.credentials,
      bounceRatePercent: config.alarms.bounceRatePercent,
      complaintRatePercent: config.alarms.complaintRatePercent,
      // Account-wide rate alarms only where this environment owns them.
      accountAlarms: config.alarms.accountAlarms ?? true,
    });

    // The stale-use guard's alarm (always), and with health.enabled the doctor's checks on a
    // schedule with their quota and send-anomaly alarms, listed in the dashboard's alarm panel.
    this.operatorAlarms.addAlarm(
      'RotationBlockedAlarm',
      this.credentials.metricRotationBlocked(),
      rotationBlockedAlarmOptions(environmentName, cliOptions),
    );
    if (config.health.enabled) {
      this.health = new HealthChecks(this, 'HealthChecks', {
        environmentName,
        cliOptions,
        topic: this.operatorAlarms.topic,
        identity: this.sendingDomain.identity,
        configurationSet: this.feedback.configurationSet,
        secret: this.credentials.secret,
        smtpUser: this.credentials.user,
        rotationDays: config.credentials.rotationDays,
        previousKeyQuietDays: config.credentials.previousKeyQuietDays,
        dns: {
          mailFromSubdomain: config.mailFrom.subdomain,
          dmarc: config.dmarc.enabled ? config.dmarc : undefined,
          apexSpf: config.apexSpf.enabled ? config.apexSpf : undefined,
        },
        ...(this.feedback.webhookTopic &&
          config.feedback.webhookUrl && {
            webhook: { url: config.feedback.webhookUrl, topic: this.feedback.webhookTopic },
          }),
        keepReporting: this.feedback.quietQueues,
        schedule: events.Schedule.expression(config.health.schedule),
        quotaSchedule: events.Schedule.expression(config.health.quotaSchedule),
        expectProductionAccess: config.health.expectProductionAccess,
        quotaPercent: config.health.quotaPercent,
        sendRatePercent: config.health.sendRatePercent,
        sendAnomalyDetection: config.health.sendAnomalyDetection,
        // The quota, send-rate and anomaly alarms watch account-wide figures, as the rate alarms.
        accountAlarms: config.alarms.accountAlarms ?? true,
      });
      this.operatorAlarms.alarms.push(...this.health.alarms);
    }
    for (const arn of config.credentials.restartEcsServices)
      this.credentials.addRestartServiceArn(arn, `${SOURCE}: field "credentials.restartEcsServices"`);
    this.addOutputs();

    Tags.of(this).add(ENVIRONMENT_TAG, environmentName);
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);
  }

  /**
   * Lets `grantee` read the SMTP credentials: the secret's value, and its key through Secrets
   * Manager only. Works for a role in another stack (no reference back to it).
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.credentials.grantRead(grantee);
  }

  /**
   * The SMTP settings as ECS container secrets named as a Rails app reads them
   * (AWS_SES_SMTP_USERNAME, AWS_SES_SMTP_PASSWORD, AWS_SES_SMTP_ADDRESS, AWS_SES_SMTP_PORT,
   * AWS_SES_REGION, DEFAULT_FROM_EMAIL), read from the secret's JSON keys at every task start.
   * Pass them as a container's `secrets`; the task's execution role gets read access.
   */
  public containerSecrets(): Record<string, ecs.Secret> {
    return smtpContainerSecrets(this.credentials);
  }

  /**
   * The SMTP settings as one ECS container secret: the credentials' whole JSON in the variable
   * `name` (default AWS_SES_SMTP_CREDENTIALS), read with one GetSecretValue at every task start,
   * so a task that starts while a rotation moves AWSCURRENT never gets the username of one
   * version and the password of the other. The app parses it; the execution role gets read access.
   */
  public containerSecretJson(name?: string): Record<string, ecs.Secret> {
    return smtpContainerSecretJson(this.credentials, name);
  }

  /**
   * Replaces the tasks of ECS services after each rotation, so that none keeps the previous
   * credentials until the next rotation deletes their key (ECS reads a task's secrets only as it
   * starts): a function forces a new deployment of each (ECS UpdateService) when AWSCURRENT moves
   * to new credentials, and an alarm tells the operators of a service it could not restart. Each
   * service is of this stack, or imported by its long ARN with its cluster
   * (`ecs.BaseService.fromServiceArnWithCluster`); for one of another stack of the app, import it
   * into this one, or list its ARN in `credentials.restartEcsServices`.
   */
  public restartOnRotation(...services: ecs.IBaseService[]): void {
    for (const service of services) this.credentials.addRestartService(service, 'restartOnRotation');
  }

  /** The health check of a service restarted after each rotation, with its alarm in the dashboard's panel. */
  private checkRestartedService(arn: string) {
    const health = this.health;
    // A service of the stack (its ARN a token) is created and kept by the stack's own deploy: no
    // typo to catch. Its ARN, unknown until deploy, would count at ECS's longest names (about 570
    // bytes) against the health function's 4 KB of settings: five failed the synth.
    if (!health || Token.isUnresolved(arn)) return;
    health.checkEcsServices(arn);
    const alarm = health.checkAlarms[ECS_SERVICES.id];
    if (alarm && !this.operatorAlarms.alarms.includes(alarm)) this.operatorAlarms.alarms.push(alarm);
  }

  /** The alarm on the service restart function's errors, as SmtpCredentials creates it. */
  private alarmOnServiceRestarts(fn: lambda.Function) {
    this.operatorAlarms.alarmOnAny(
      'ServiceRestartErrorsAlarm',
      this.credentials.metricServiceRestartErrors()!,
      `Could not force a new deployment of an ECS service after the SES SMTP credentials were rotated (environment ${this.environmentName}): its tasks keep the previous credentials, which the next rotation deletes (or stops and alarms on, while SES sees them in use). ` +
        `The function's log (${fn.logGroup.logGroupName}) names each service and the error (the function's permission, throttling; a service that does not exist is only logged). Fix it, then restart the service: aws ecs update-service --cluster CLUSTER --service SERVICE --force-new-deployment --region ${Stack.of(this).region}`,
    );
  }

  /**
   * The outputs an operator and the `ses-smtp` CLI read. With the construct id "Default" (as
   * SesSmtpStack uses it) their names are exactly the ids below.
   */
  private addOutputs() {
    const { credentials } = this;
    new CfnOutput(this, 'SmtpSecretArn', {
      value: credentials.secret.secretArn,
      description: 'Secret holding the SMTP credentials (JSON)',
    });
    new CfnOutput(this, 'SmtpSecretName', { value: credentials.secret.secretName });
    new CfnOutput(this, 'SmtpHost', { value: credentials.smtpHost });
    new CfnOutput(this, 'SmtpPort', { value: String(credentials.smtpPort) });
    new CfnOutput(this, 'GetSmtpCredentialsCommand', {
      description: 'Prints the current SMTP credentials JSON',
      value: `aws secretsmanager get-secret-value --region ${Stack.of(this).region} --secret-id ${credentials.secret.secretArn} --query SecretString --output text`,
    });
    // The SMTP IAM user, for `ses-smtp revoke` (deactivates its keys in an emergency).
    new CfnOutput(this, 'SmtpUserName', { value: credentials.user.userName });
    new CfnOutput(this, 'CredentialsRotatedTopicArn', { value: credentials.rotatedTopic.topicArn });
    new CfnOutput(this, 'OperatorAlarmTopicArn', { value: this.operatorAlarms.topic.topicArn });
    new CfnOutput(this, 'IdentityName', { value: this.sendingDomain.domainName });
    new CfnOutput(this, 'ConfigurationSetName', {
      value: this.feedback.configurationSet.configurationSetName,
    });
    new CfnOutput(this, 'FeedbackTopicArn', { value: this.feedback.topic.topicArn });
    new CfnOutput(this, 'FeedbackDeadLetterQueueArn', { value: this.feedback.deadLetterQueue.queueArn });
    if (this.feedback.appQueue && this.feedback.appDeadLetterQueue) {
      new CfnOutput(this, 'AppFeedbackQueueUrl', { value: this.feedback.appQueue.queueUrl });
      new CfnOutput(this, 'AppFeedbackDeadLetterQueueArn', {
        value: this.feedback.appDeadLetterQueue.queueArn,
      });
    }
    if (this.feedback.webhookTopic) {
      new CfnOutput(this, 'WebhookFeedbackTopicArn', {
        value: this.feedback.webhookTopic.topicArn,
        description: "The topic the app's webhook is subscribed to (the subscription must be confirmed)",
      });
    }
    if (this.feedback.webhookDeadLetterQueue) {
      new CfnOutput(this, 'WebhookFeedbackDeadLetterQueueUrl', {
        value: this.feedback.webhookDeadLetterQueue.queueUrl,
        description: "Events the app's webhook did not take within SNS's retries",
      });
    }
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    // The health-check function, whose settings `ses-smtp doctor` and `dns` read for a stack
    // without an environments file.
    if (this.health)
      new CfnOutput(this, 'HealthCheckFunctionName', { value: this.health.function.functionName });
  }
}

/**
 * What an App's SesSmtp constructs hold, each mapped to the path of the construct that has it:
 * the environment name (per account), the SES identity (per account and Region), the records
 * written into a hosted zone, and the account-level alarms (per account and Region).
 */
const claimsInApp = new WeakMap<IConstruct, Map<string, string>>();
/** By DNS name and type, the first SesSmtp of an app that publishes a record there, and its values. */
interface Published {
  readonly path: string;
  readonly values: string;
}
const publishedInApp = new WeakMap<IConstruct, Map<string, Published>>();

/**
 * Refuses a SesSmtp whose environment name another SesSmtp of the app has in the same account
 * (in the same stack when the account is not known at synth: an environment-agnostic stack may
 * go to any). Returns the function that records this one once it is in the tree, and warns when
 * it shares with another one what a deploy of both would fight over: the SES identity, a record
 * of the hosted zone (the second deploy fails: it exists), a DNS name both publish with other
 * values (whatever the zone or DNS mode, one replaces the other), the account-level alarms (every
 * alert twice), or, in one stack, the CLI options its texts give an operator (the CLI cannot tell
 * which one they mean). Warnings, not errors: an app may build two variants of one environment to
 * compare their templates, and deploy one. The environments file's loader refuses all of these.
 */
function claimInApp(
  scope: IConstruct,
  stack: Stack,
  environmentName: string,
  config: SesSmtpConfig,
  cliOptions: string,
  path: string,
) {
  const claims = claimsInApp.get(scope.node.root) ?? new Map<string, string>();
  const where = Token.isUnresolved(stack.account)
    ? { key: `stack ${stack.node.path}`, text: `stack ${stack.node.path}` }
    : { key: stack.account, text: `account ${stack.account}` };
  const region = stack.region;
  // The account, not the Region: CloudWatch dashboards are global to an account.
  const nameKey = `name ${where.key} ${environmentName}`;
  const named = claims.get(nameKey);
  if (named) {
    throw new ConfigError([
      `${SOURCE}: field "environmentName": got "${environmentName}", expected a name no other SesSmtp uses in ${where.text} (${named} has it): its dashboard "SesSmtp-${environmentName}" (one per account, in every Region), metrics and alarms are named by it`,
    ]);
  }
  const warnings: [id: string, text: string][] = [];
  const identityKey = `identity ${where.key} ${region} ${config.domain.toLowerCase()}`;
  const identity = claims.get(identityKey);
  if (identity) {
    warnings.push([
      'ses-smtp:identity-in-use',
      `${identity} has the SES identity ${config.domain} in ${where.text}, ${region} too (an account has one per domain in a Region): the second deploy fails. Give one of them another domain, or another account or Region.`,
    ]);
  }
  // Hosted zone ids are unique across AWS: compared app-wide. A zone of the app gives each use the
  // same token; a zone still to be looked up (the "DUMMY" of the first pass) is not known yet.
  const zoneId = config.dns.mode === 'route53' ? config.dns.hostedZoneId : undefined;
  const zoneText = zoneId && Token.isUnresolved(zoneId) ? 'the same hosted zone' : `hosted zone ${zoneId}`;
  const records =
    zoneId === undefined || zoneId === LOOKUP_PLACEHOLDER_ZONE_ID
      ? []
      : zoneRecordsOf(zoneId, { ...config, region }).map(({ record, key }) => ({
          record,
          key: `record ${key}`,
        }));
  const clashes = new Map<string, DnsRecord[]>();
  for (const { record, key } of records) {
    const other = claims.get(key);
    if (other) clashes.set(other, [...(clashes.get(other) ?? []), record]);
  }
  // DNS names are global: a record another construct publishes at the same name and type with
  // other values (another Region's MAIL FROM MX), in whatever zone or DNS mode, is replaced by it.
  const published = zoneRecordsOf('', { ...config, region }).map(({ record }) => ({
    record,
    key: `published ${bareName(record.name)} ${record.type}`,
    values: JSON.stringify([...record.values].sort()),
  }));
  const conflicts = new Map<string, DnsRecord[]>();
  const publishers = publishedInApp.get(scope.node.root) ?? new Map<string, Published>();
  for (const { record, key, values } of published) {
    const other = publishers.get(key);
    if (other === undefined || other.values === values || clashes.has(other.path)) continue;
    conflicts.set(other.path, [...(conflicts.get(other.path) ?? []), record]);
  }
  const describe = (shared: DnsRecord[]) => ({
    names: [...new Set(shared.map((r) => `${bareName(r.name)} ${r.type}`))],
    fixes: [...new Set(shared.map((r) => RECORD_FIELDS[r.key].fix))]
      .join('; ')
      .replaceAll('one of them', 'one of the two'),
  });
  for (const [other, shared] of clashes) {
    const { names, fixes } = describe(shared);
    warnings.push([
      'ses-smtp:zone-records-in-use',
      `${other} writes ${names.join(', ')} into ${zoneText} too: the second deploy fails (the record exists): ${fixes}.`,
    ]);
  }
  for (const [other, shared] of conflicts) {
    const { names, fixes } = describe(shared);
    warnings.push([
      'ses-smtp:zone-records-in-use',
      `${other} publishes ${names.join(', ')} too, with other values (DNS holds one record set per name and type, whatever the DNS mode or hosted zone): the one published second replaces the other: ${fixes}.`,
    ]);
  }
  const alarmsKey = `account alarms ${where.key} ${region}`;
  const alarmsOwner = config.alarms.accountAlarms ? claims.get(alarmsKey) : undefined;
  if (alarmsOwner) {
    warnings.push([
      'ses-smtp:account-alarms-twice',
      `${alarmsOwner} creates the account-level alarms of ${where.text} in ${region} (reputation rates, quota, send rate) too: every such alert comes twice. Set alarms.accountAlarms to false on one of the two.`,
    ]);
  }
  // The default options name the stack, and the CLI finds a construct of a stack of your own by its
  // outputs: with two in the stack it asks which one, so every command the texts give would fail.
  const cliKey = `cli options ${stack.node.path} ${cliOptions}`;
  const cliOwner = claims.get(cliKey);
  if (cliOwner) {
    warnings.push([
      'ses-smtp:cli-options-in-use',
      `${cliOwner} is in stack ${stack.node.path} too, and its alarm texts, checks' fixes and errors give the same CLI options (${cliOptions}): the CLI cannot tell two SesSmtp of one stack apart (it asks for --secret-id), so each command they give an operator fails. Put one of the two in a stack of its own.`,
    ]);
  }
  return (construct: IConstruct) => {
    claims.set(nameKey, path);
    if (!cliOwner) claims.set(cliKey, path);
    if (!identity) claims.set(identityKey, path);
    for (const { key } of records) if (!claims.has(key)) claims.set(key, path);
    for (const { key, values } of published) if (!publishers.has(key)) publishers.set(key, { path, values });
    publishedInApp.set(scope.node.root, publishers);
    if (config.alarms.accountAlarms && !alarmsOwner) claims.set(alarmsKey, path);
    claimsInApp.set(scope.node.root, claims);
    for (const [id, text] of warnings) Annotations.of(construct).addWarningV2(id, text);
  };
}

/** Validates the props with the environments file's schema and rules; throws ConfigError naming each prop. */
function validate(
  props: SesSmtpProps,
  stack: Stack,
): { environmentName: string; config: SesSmtpConfig; cliOptions?: string } {
  if (typeof props !== 'object' || props === null) {
    throw new ConfigError([
      `${SOURCE}: got ${JSON.stringify(props) ?? 'undefined'}, expected an object of settings like { environmentName: "prod", domain: "example.com", fromAddress: "no-reply@example.com", dns: { mode: "route53", hostedZoneId: "Z...", zoneName: "example.com" } }`,
    ]);
  }
  const region = stack.region;
  if (Token.isUnresolved(region)) {
    throw new ConfigError([
      `${SOURCE}: the Stack has no explicit Region, expected a Stack with env: { region: "eu-west-1" } (the SMTP endpoint and the MAIL FROM MX name the Region)`,
    ]);
  }
  // The app's fields and tokens are named with their fix, and the rest is still checked: every
  // problem at once, one line per field (the schema's issues under a token's path say less).
  // An app field left undefined (an EnvironmentConfig spread with `account: undefined`) is not set.
  const misplaced = Object.entries(APP_FIELD_FIXES).filter(([key]) => Reflect.get(props, key) !== undefined);
  const tokens = tokenPaths(props);
  const misplacedLines = [
    ...misplaced.map(([key, fix]) => `${SOURCE}: field "${key}": got a value, expected none: ${fix}`),
    ...problemLines(
      SOURCE,
      tokens.map(({ path, value }) => ({
        path,
        input: value,
        expected: `a literal value, not a token: SesSmtp checks it and builds names, records and policies from it at synth; of the settings only dns.hostedZoneId and dns.zoneName may be tokens`,
      })),
    ),
  ];
  const underToken = (issue: { path: PropertyKey[] }) =>
    tokens.some(({ path }) => path.every((key, i) => issue.path[i] === key));
  const rest = Object.fromEntries(Object.entries(props).filter(([key]) => !(key in APP_FIELD_FIXES)));
  const deferred = deferredZone(props);
  const result = SettingsSchema.safeParse(deferred ? { ...rest, dns: deferred.checked } : rest, {
    reportInput: true,
  });
  if (!result.success || misplacedLines.length)
    throw new ConfigError([
      ...misplacedLines,
      ...(result.success
        ? []
        : issueLines(
            SOURCE,
            result.error.issues.filter((i) => !underToken(i)),
          )),
    ]);
  const { environmentName, additionalSmtpRegions, cliOptions, ...settings } = result.data;
  const parsed = { ...settings, account: stack.account, region };
  const problems = problemLines(
    SOURCE,
    checkEnvironment(parsed, [...SES_SMTP_REGIONS, ...additionalSmtpRegions]),
  );
  if (problems.length) throw new ConfigError(problems);
  // A construct alone in its account and Region owns the account-level alarms unless told not to.
  const config = resolveEnvironment(parsed, parsed.alarms.accountAlarms ?? true);
  return {
    environmentName,
    config:
      deferred && config.dns.mode === 'route53'
        ? { ...config, dns: { ...config.dns, ...deferred.zone } }
        : config,
    cliOptions,
  };
}

/** The hosted zone id HostedZone.fromLookup gives until the CDK CLI has looked the zone up. */
const LOOKUP_PLACEHOLDER_ZONE_ID = 'DUMMY';

/**
 * A hosted zone of the app (its id a token) or from HostedZone.fromLookup ("DUMMY" on the first
 * pass, before the CDK CLI looks it up and synthesizes again): its id, and a token zone name,
 * cannot be checked at construction. They are checked as stand-ins (an id of the right form, the
 * domain as the zone) and put back after; the record names are absolute, so they need neither.
 */
/**
 * A token (a CfnParameter, an SSM parameter, another resource's attribute) where a literal is
 * needed: SesSmtp checks the settings and builds names, records and policies from them at synth.
 * The hosted zone is the exception (deferredZone). Without this, the schema would say a token
 * like "${Token[TOKEN.15]}" is not a domain name.
 */
function tokenPaths(props: SesSmtpProps): { path: PropertyKey[]; value: string }[] {
  const found: { path: PropertyKey[]; value: string }[] = [];
  const visit = (value: unknown, path: PropertyKey[]) => {
    if (path[0] === 'dns' && (path[1] === 'hostedZoneId' || path[1] === 'zoneName')) return;
    // A list token (Token.asList, a parameter of type List) is a list of one encoded string.
    const list = Array.isArray(value) && Token.isUnresolved(value);
    if (list || ((typeof value === 'string' || typeof value === 'number') && Token.isUnresolved(value))) {
      found.push({ path, value: list ? String(value) : Token.asString(value) });
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...path, i]));
    } else if (
      value !== null &&
      typeof value === 'object' &&
      Object.getPrototypeOf(value) === Object.prototype
    ) {
      for (const [key, item] of Object.entries(value)) visit(item, [...path, key]);
    }
  };
  for (const [key, value] of Object.entries(props)) visit(value, [key]);
  return found;
}

function deferredZone(props: SesSmtpProps) {
  const dns = props.dns;
  if (dns?.mode !== 'route53') return undefined;
  const zone: { hostedZoneId?: string; zoneName?: string } = {};
  if (Token.isUnresolved(dns.hostedZoneId) || dns.hostedZoneId === LOOKUP_PLACEHOLDER_ZONE_ID)
    zone.hostedZoneId = dns.hostedZoneId;
  if (Token.isUnresolved(dns.zoneName)) zone.zoneName = dns.zoneName;
  if (!Object.keys(zone).length) return undefined;
  const checked = {
    ...dns,
    ...(zone.hostedZoneId !== undefined && { hostedZoneId: 'ZDEFERRED' }),
    ...(zone.zoneName !== undefined && { zoneName: props.domain }),
  };
  return { zone, checked };
}
