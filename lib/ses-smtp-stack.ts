import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as events from 'aws-cdk-lib/aws-events';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { EnvironmentConfig } from './config/schema';
import { HealthChecks, metricRotationBlocked, rotationBlockedAlarmOptions } from './constructs/health-checks';
import { OperatorAlarms } from './constructs/operator-alarms';
import { ReputationMonitoring } from './constructs/reputation-monitoring';
import { SendingDomain } from './constructs/sending-domain';
import { SendingFeedback } from './constructs/sending-feedback';
import { SmtpCredentials } from './constructs/smtp-credentials';

export interface SesSmtpStackProps extends StackProps {
  /** The environment's name in the environments file, like "production". */
  readonly environmentName: string;
  /** The environment's validated configuration. */
  readonly config: EnvironmentConfig;
}

/** Everything one environment needs to send mail from a web app over SES SMTP. */
export class SesSmtpStack extends Stack {
  public readonly sendingDomain: SendingDomain;
  public readonly credentials: SmtpCredentials;
  public readonly operatorAlarms: OperatorAlarms;
  public readonly feedback: SendingFeedback;
  public readonly monitoring: ReputationMonitoring;
  /** The doctor's checks on a schedule, with their alarms; undefined with health.enabled false. */
  public readonly health?: HealthChecks;
  /** Encrypts the stack's topics and queues. */
  public readonly messagingKey: kms.Key;

  constructor(scope: Construct, id: string, props: SesSmtpStackProps) {
    const { config, environmentName } = props;
    super(scope, id, {
      ...props,
      env: { account: config.account, region: config.region },
      description: `SES SMTP sending for ${config.domain} (environment ${environmentName})`,
    });
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const hostedZone =
      config.dns.mode === 'route53'
        ? route53.HostedZone.fromHostedZoneAttributes(this, 'HostedZone', {
            hostedZoneId: config.dns.hostedZoneId,
            zoneName: config.dns.zoneName,
          })
        : undefined;

    this.messagingKey = new kms.Key(this, 'MessagingKey', {
      description: `Encrypts the SNS topics and SQS queues of ${this.stackName}`,
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
      removalPolicy,
      environmentName,
      previousKeyQuietPeriod: Duration.days(config.credentials.previousKeyQuietDays),
      rotateWhilePreviousKeyInUse: config.credentials.rotateWhilePreviousKeyInUse,
    });
    this.monitoring = new ReputationMonitoring(this, 'Monitoring', {
      environmentName,
      alarms: this.operatorAlarms,
      feedback: this.feedback,
      credentials: this.credentials,
      bounceRatePercent: config.alarms.bounceRatePercent,
      complaintRatePercent: config.alarms.complaintRatePercent,
    });

    // --- Health checks (issue 11; owner: health). A separate block until the SesSmtp construct
    // takes the stack's body: the stale-use guard's alarm (always), and with health.enabled the
    // doctor's checks on a schedule with their quota and send-anomaly alarms on the operator
    // topic, listed in the dashboard's alarm panel.
    this.operatorAlarms.addAlarm(
      'RotationBlockedAlarm',
      metricRotationBlocked(environmentName),
      rotationBlockedAlarmOptions(environmentName),
    );
    if (config.health.enabled) {
      this.health = new HealthChecks(this, 'HealthChecks', {
        environmentName,
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
        schedule: events.Schedule.expression(config.health.schedule),
        quotaSchedule: events.Schedule.expression(config.health.quotaSchedule),
        expectProductionAccess: config.health.expectProductionAccess,
        quotaPercent: config.health.quotaPercent,
        sendRatePercent: config.health.sendRatePercent,
        sendAnomalyDetection: config.health.sendAnomalyDetection,
      });
      this.operatorAlarms.alarms.push(...this.health.alarms);
    }
    // --- end of the health checks block.

    this.addOutputs();

    Tags.of(this).add('ses-smtp:environment', environmentName);
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);
  }

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
      value: `aws secretsmanager get-secret-value --region ${this.region} --secret-id ${credentials.secret.secretArn} --query SecretString --output text`,
    });
    new CfnOutput(this, 'CredentialsRotatedTopicArn', { value: credentials.rotatedTopic.topicArn });
    new CfnOutput(this, 'OperatorAlarmTopicArn', { value: this.operatorAlarms.topic.topicArn });
    new CfnOutput(this, 'IdentityName', { value: this.sendingDomain.domainName });
    new CfnOutput(this, 'ConfigurationSetName', {
      value: this.feedback.configurationSet.configurationSetName,
    });
    new CfnOutput(this, 'FeedbackTopicArn', { value: this.feedback.topic.topicArn });
    new CfnOutput(this, 'FeedbackDeadLetterQueueArn', { value: this.feedback.deadLetterQueue.queueArn });
    if (this.feedback.appQueue)
      new CfnOutput(this, 'AppFeedbackQueueUrl', { value: this.feedback.appQueue.queueUrl });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
  }
}
