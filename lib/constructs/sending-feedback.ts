import { Annotations, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FEEDBACK_HANDLER } from '../../lambda/ses-feedback/settings';
import { FEEDBACK_METRIC_DIMENSIONS, FEEDBACK_NAMESPACE } from '../../lambda/shared/metrics';
import { CONFIGURATION_SET_DIMENSION, WEBHOOK_EVENT_DESTINATION } from '../../lambda/shared/ses-metric-names';
import { metricConfigurationSetSends, metricReputationRate, ReputationRate } from './monitoring/ses-metrics';
import { NodeFunction } from './node-function';
import { allowServiceToUseKey, fromSourceArn } from './service-access';
import { acknowledgeNagFinding } from './nag';

/** Events published besides BOUNCE and COMPLAINT, which are always on. */
export type AdditionalFeedbackEvent = 'REJECT' | 'DELIVERY_DELAY' | 'RENDERING_FAILURE';

export interface SendingFeedbackProps {
  /**
   * Customer-managed key for the topics and queues; SES, SNS and the handler get to use it. A key
   * imported from elsewhere has no policy here to change: its owner must grant ses.amazonaws.com
   * and sns.amazonaws.com kms:GenerateDataKey* and kms:Decrypt (a synth warning,
   * `ses-smtp:imported-key`, says so for each).
   */
  readonly encryptionKey: kms.IKey;
  /** Name of the environment, a dimension of the handler's metrics. */
  readonly environmentName: string;
  /**
   * Events published besides BOUNCE and COMPLAINT, which are always on.
   * @default - none: only BOUNCE and COMPLAINT
   */
  readonly additionalEvents?: AdditionalFeedbackEvent[];
  /** Deliver SES's JSON to the queues without the SNS envelope. @default true */
  readonly rawMessageDelivery?: boolean;
  /**
   * The app's HTTPS endpoint, subscribed to a topic of its own that SES publishes the same events
   * to (it receives SNS envelopes). What it does not take within SNS's retries waits in a
   * dead-letter queue of its own. @default - none
   */
  readonly webhookUrl?: string;
  /** Create a queue for the app that receives the same events. @default false */
  readonly appQueue?: boolean;
  /**
   * Times a message is received before it moves to the dead-letter queue: at most 632, whose
   * receives (540 s each) and the queue-age alarm's wait end within the queue's 4-day retention.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * Applied to the configuration set. Keep it as long as the identity that names it as its
   * default configuration set: SES refuses every send of an identity whose default set is gone.
   * The topic, queues and handler always go with the stack.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * What the app's queue and webhook take from their topics: SES's events (each has `eventType`). SES
 * also publishes, when it sets up the event destination, the plain text "Successfully validated
 * SNS topic for Amazon SES event publishing."; a subscription that exists first gets it, and an
 * app's consumer that parses JSON failed on it (its retries, then the app queue's dead-letter alarm
 * after the first deploy). A filter on the message body passes JSON objects whose properties match
 * ("Filter policies for the message body assume that the message payload is a well-formed JSON
 * object"), so the notice is not delivered. The handler's own queue takes everything: the handler
 * drops the notice and sends anything else it cannot read to its dead-letter queue.
 * @see https://docs.aws.amazon.com/sns/latest/dg/message-filtering.html
 */
const SES_EVENTS_ONLY = {
  eventType: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.existsFilter()),
};

/**
 * Retries of an event the app's webhook did not take: once a minute for 50 minutes, over an app's
 * deploy or restart. SNS's default for HTTPS is 3 retries 20 s apart, after which the event is
 * gone; an hour (3,600 s in all) is the most SNS allows. No backoffFunction: with equal delays it
 * changes nothing, and SNS documents its values in lower case only ("linear"), where CDK's enum
 * writes "LINEAR"; left out, SNS takes its default, linear.
 * @see https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html
 */
const WEBHOOK_DELIVERY: sns.DeliveryPolicy = {
  healthyRetryPolicy: {
    minDelayTarget: Duration.seconds(60),
    maxDelayTarget: Duration.seconds(60),
    numRetries: 50,
  },
};

/** How long the app queue keeps an event its app has not taken (its dead-letter queue: 14 days). */
export const APP_QUEUE_RETENTION_DAYS = 7;

/** How long the feedback queue keeps a message, receives included (its dead-letter queue: 14 days). */
const QUEUE_RETENTION_DAYS = 4;

/**
 * The most receives a message may take: they, and the queue-age alarm's wait after them (whole
 * hours, 10 minutes to spare: SendingAlarms), must end before the queue's retention, or a message
 * the handler keeps failing expires where no alarm sees it (SQS counts its retention from when it
 * reached the queue, receives included) and one nothing takes never reaches the alarm's age.
 */
function receiveLimit(visibilitySeconds: number): number {
  return Math.floor((Duration.days(QUEUE_RETENTION_DAYS).toSeconds() - 3600 - 600) / visibilitySeconds);
}

/** Namespace of the handler's own metrics, defined once with the handler's metric writer. */
export const FEEDBACK_METRICS_NAMESPACE = FEEDBACK_NAMESPACE;

/** The metrics of a feedback pipeline, for alarms and dashboards. */
export interface IFeedbackMonitoring {
  /** Name of the configuration set whose events the pipeline handles. */
  readonly configurationSetName: string;
  /** Name of the function that handles the feedback queue, for the commands alarm texts give. */
  readonly handlerFunctionName?: string;
  /**
   * Log group of that function, named in alarm texts: CloudFormation generates its name, which an
   * operator cannot guess from the function's. Optional, as handlerFunctionName.
   */
  readonly handlerLogGroupName?: string;
  /** UUID of that function's event source mapping on the queue, for the command that enables it. */
  readonly handlerEventSourceMappingId?: string;
  /** ARN of the dead-letter queue, for the command the dead-letter alarm's text gives. */
  readonly deadLetterQueueArn?: string;
  /** ARN of the app queue's dead-letter queue, when there is an app queue: for its alarm's text. */
  readonly appDeadLetterQueueArn?: string;
  /**
   * The longest a message the handler keeps failing stays in the feedback queue before the
   * dead-letter queue (its receives times the visibility timeout), seconds: the age alarm waits
   * longer. @default - an hour's alarm is taken to be long enough
   */
  readonly retrySeconds?: number;
  /** The configuration set's bounce or complaint rate (a fraction), maximum per hour. */
  metricReputationRate(rate: ReputationRate, options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /** Messages waiting in the dead-letter queue: feedback that failed every retry. */
  metricDeadLetters(options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /** Messages waiting in the feedback queue. */
  metricQueueDepth(options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /** Failed invocations of the handler. */
  metricHandlerErrors(options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /**
   * Age of the oldest message in the feedback queue, seconds: grows when nothing takes them.
   * Optional so that an implementation written before it still compiles; without it, no alarm.
   */
  metricOldestMessageAge?(options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /**
   * Notifications the feedback topic failed to deliver: to the queue, or the app's queue (not the
   * app's webhook, which has a topic of its own). Optional, as metricOldestMessageAge; without it,
   * no alarm.
   */
  metricDeliveryFailures?(options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /**
   * Failed attempts to deliver to the app's webhook, retries included (SNS counts each at an HTTPS
   * endpoint): for the dashboard, no alarm. Undefined without a webhook; optional, as
   * metricOldestMessageAge.
   */
  metricWebhookDeliveryFailures?(options?: cloudwatch.MetricOptions): cloudwatch.IMetric | undefined;
  /**
   * Messages in the app queue's dead-letter queue: events the app's consumer failed on every
   * receive. Undefined without an app queue; optional, as metricOldestMessageAge.
   */
  metricAppDeadLetters?(options?: cloudwatch.MetricOptions): cloudwatch.IMetric | undefined;
  /**
   * Events in the webhook's dead-letter queue: those the app's webhook did not take within SNS's
   * retries. Undefined without a webhook; optional, as metricOldestMessageAge.
   */
  metricWebhookDeadLetters?(options?: cloudwatch.MetricOptions): cloudwatch.IMetric | undefined;
  /** URL of the webhook's dead-letter queue, when there is a webhook: for its alarm's text. */
  readonly webhookDeadLetterQueueUrl?: string;
  /**
   * Age of the oldest event in the app queue, seconds: grows while the app takes none. Undefined
   * without an app queue; optional, as metricOldestMessageAge.
   */
  metricAppOldestMessageAge?(options?: cloudwatch.MetricOptions): cloudwatch.IMetric | undefined;
  /**
   * Messages sent through the configuration set, per hour: this environment's share of the
   * account's sends. Optional, as metricOldestMessageAge; without it, the dashboard shows the
   * account's only.
   */
  metricSends?(options?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /** A count the handler publishes: events handled, or recipients it suppressed. */
  metricHandled(
    metricName: 'Events' | 'RecipientsSuppressed',
    options?: cloudwatch.MathExpressionOptions,
  ): cloudwatch.IMetric;
}

/** A metric's options over 5 minutes with `statistic`, which `options` may override. */
const fiveMinutes = (statistic: string, options: cloudwatch.MetricOptions): cloudwatch.MetricOptions => ({
  period: Duration.minutes(5),
  statistic,
  ...options,
});

/**
 * The feedback loop of one environment: a configuration set (the identity's default, so SMTP
 * mail uses it) that publishes bounces and complaints to an encrypted SNS topic, a queue with a
 * dead-letter queue, and a handler that puts permanent bounces and complaints on the account
 * suppression list.
 *
 * @see https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html
 */
export class SendingFeedback extends Construct implements IFeedbackMonitoring {
  public readonly configurationSet: ses.ConfigurationSet;
  public readonly topic: sns.Topic;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly handler: lambda.Function;
  /** The app's own copy of the events, when asked for. */
  public readonly appQueue?: sqs.Queue;
  /** Where the app queue's messages go after the app failed on them `maxReceiveCount` times. */
  public readonly appDeadLetterQueue?: sqs.Queue;
  /**
   * The topic the app's webhook alone is subscribed to, when there is one: SES publishes the same
   * events to it. Its own, so that the webhook's failed attempts (a deploy, a restart of the app)
   * do not count in the feedback topic's NumberOfNotificationsFailed, which has no dimension per
   * subscription and whose alarm means that the queues no longer take the events.
   */
  public readonly webhookTopic?: sns.Topic;
  /** Where the events the app's webhook did not take go when SNS stops retrying them. */
  public readonly webhookDeadLetterQueue?: sqs.Queue;
  /** The event types published, as configured on the event destination. */
  public readonly events: ses.EmailSendingEvent[];
  public readonly configurationSetName: string;
  public readonly retrySeconds: number;
  private readonly queueMapping: lambda.EventSourceMapping;
  public get handlerFunctionName(): string {
    return this.handler.functionName;
  }
  public get handlerEventSourceMappingId(): string {
    return this.queueMapping.eventSourceMappingId;
  }
  public get handlerLogGroupName(): string {
    return this.handler.logGroup.logGroupName;
  }
  public get deadLetterQueueArn(): string {
    return this.deadLetterQueue.queueArn;
  }
  /**
   * The queues whose alarms must keep data when nothing else calls them (HealthChecks'
   * keepReporting): SQS stops reporting a queue six hours after the last call on it. The feedback
   * queue too: its handler polls it without pause while all is well, but its age alarm is for when
   * nothing polls it, and a queue whose last bounce came 6 hours ago would fall silent, which the
   * alarm (not breaching on missing data) would take for an "OK".
   */
  public get quietQueues(): sqs.IQueue[] {
    return [
      this.queue,
      this.deadLetterQueue,
      this.appQueue,
      this.appDeadLetterQueue,
      this.webhookDeadLetterQueue,
    ].filter((q): q is sqs.Queue => q !== undefined);
  }
  private readonly environmentName: string;

  constructor(scope: Construct, id: string, props: SendingFeedbackProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const key = props.encryptionKey;
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const visibilitySeconds = 6 * FEEDBACK_HANDLER.timeoutSeconds;
    const receives = receiveLimit(visibilitySeconds);
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > receives) {
      throw new Error(
        `maxReceiveCount must be a whole number from 1 to ${receives} (${visibilitySeconds} s a receive: with more, the queue-age alarm would wait as long as the queue's ${QUEUE_RETENTION_DAYS}-day retention and never fire, and a few more would let a message the handler keeps failing expire before the dead-letter queue), got: ${maxReceiveCount}`,
      );
    }
    const raw = props.rawMessageDelivery ?? true;
    this.environmentName = props.environmentName;

    // Every option stated: some L2 props emit nothing (and leave SES's defaults) unless set.
    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', {
      reputationMetrics: true,
      sendingEnabled: true,
      tlsPolicy: ses.ConfigurationSetTlsPolicy.REQUIRE,
      suppressionReasons: ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
    });
    this.configurationSet.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    this.configurationSetName = this.configurationSet.configurationSetName;
    this.retrySeconds = maxReceiveCount * visibilitySeconds;

    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'SES bounces and complaints',
      masterKey: key,
      enforceSSL: true,
    });
    const configurationSetArn = stack.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
    // The topic policy half comes from the L2 event destination (SourceAccount + SourceArn).
    // https://docs.aws.amazon.com/ses/latest/dg/event-publishing-add-event-destination-sns.html
    allowServiceToUseKey(this, key, {
      service: 'ses.amazonaws.com',
      sid: 'AllowSesEventPublishing',
      conditions: fromSourceArn(configurationSetArn),
      unless: 'SES cannot publish bounces and complaints to the topic',
    });
    // SNS delivering to the queues, which share the key. Naming the topic here would make a cycle
    // (the topic names the key), so the key trusts this account's topics in this Region; each
    // queue's own policy admits this topic only (subscribe() below).
    // https://docs.aws.amazon.com/sns/latest/dg/sns-enable-encryption-for-topic-sqs-queue-subscriptions.html
    allowServiceToUseKey(this, key, {
      service: 'sns.amazonaws.com',
      sid: 'AllowSnsDeliveryToQueues',
      conditions: fromSourceArn(stack.formatArn({ service: 'sns', resource: '*' })),
      unless: 'SNS cannot deliver the events to the queues',
    });

    this.events = [
      ses.EmailSendingEvent.BOUNCE,
      ses.EmailSendingEvent.COMPLAINT,
      ...(props.additionalEvents ?? []).map((e) => ses.EmailSendingEvent[e]),
    ];
    this.configurationSet.addEventDestination('Feedback', {
      destination: ses.EventDestination.snsTopic(this.topic),
      events: this.events,
      enabled: true,
    });
    // This environment's sends in CloudWatch (AWS/SES Send by the configuration set auto-tag, the
    // set's own name by default): the account's Send, which the quota, rate and anomaly alarms
    // watch, counts every environment's, and an operator paged for a leaked password must find the
    // one that sends. One custom metric; SES needs no grant to publish it.
    // https://docs.aws.amazon.com/ses/latest/dg/event-publishing-add-event-destination-cloudwatch.html
    this.configurationSet.addEventDestination('Sends', {
      destination: ses.EventDestination.cloudWatchDimensions([
        {
          name: CONFIGURATION_SET_DIMENSION,
          source: ses.CloudWatchDimensionSource.MESSAGE_TAG,
          defaultValue: this.configurationSet.configurationSetName,
        },
      ]),
      events: [ses.EmailSendingEvent.SEND],
      enabled: true,
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.handler = new NodeFunction(this, 'Handler', {
      handlerDir: 'ses-feedback',
      description: 'Puts permanently bounced and complaining recipients on the SES account suppression list',
      timeout: Duration.seconds(FEEDBACK_HANDLER.timeoutSeconds),
      environment: { ENVIRONMENT_NAME: props.environmentName, MAX_RECEIVE_COUNT: String(maxReceiveCount) },
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryptionMasterKey: key,
      enforceSSL: true,
      // Six times the function timeout, as Lambda recommends for SQS event sources.
      visibilityTimeout: Duration.seconds(visibilitySeconds),
      retentionPeriod: Duration.days(QUEUE_RETENTION_DAYS),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
    this.subscribe(this.queue, raw);
    // SqsEventSource's mapping (its id too), without its grant: grantConsume limits the key to SQS.
    this.queueMapping = this.handler.addEventSourceMapping(
      `SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`,
      {
        eventSourceArn: this.queue.queueArn,
        batchSize: FEEDBACK_HANDLER.batchSize,
        reportBatchItemFailures: true,
        // A burst of bounces must not become a burst of suppression-list calls that SES throttles.
        maxConcurrency: 2,
      },
    );
    grantConsume(this.queue, this.handler);
    this.handler.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AddToTheAccountSuppressionList',
        // GetAccount: after a refused suppression, whether the account is in the sandbox (where
        // SES refuses PutSuppressedDestination, and suppresses by itself).
        actions: ['ses:PutSuppressedDestination', 'ses:GetAccount'],
        // The suppression list and the account are account-level: no resource type to scope to.
        resources: ['*'],
      }),
    );
    acknowledgeNagFinding(this.handler.role!, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:PutSuppressedDestination (the account-level suppression list) and ses:GetAccount (the account itself) have no resource type, so IAM only accepts "*"; they are the only actions with "*" in this role.',
    });

    if (props.webhookUrl) {
      // Without it, SNS drops an event once its retries are spent (or at once, for an error it
      // does not retry): the app would never learn of that bounce. The key already lets this
      // account's topics in (AllowSnsDeliveryToQueues); UrlSubscription adds the queue policy,
      // which admits this topic only.
      // https://docs.aws.amazon.com/sns/latest/dg/sns-dead-letter-queues.html
      this.webhookDeadLetterQueue = new sqs.Queue(this, 'WebhookDeadLetterQueue', {
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      acknowledgeNagFinding(this.webhookDeadLetterQueue, {
        id: 'AwsSolutions-SQS3',
        reason:
          "This queue is the dead-letter queue of the webhook's SNS subscription (its RedrivePolicy), which cdk-nag does not look at: it counts only queues and functions that name it as their dead-letter queue.",
      });
      // A topic of its own, which SES publishes the same events to (a second event destination of
      // the set: SES allows 10), so that the feedback topic's NumberOfNotificationsFailed, which
      // has no dimension per subscription and counts every failed attempt at an HTTPS endpoint,
      // retries too, counts the queues only. The key lets SES in for this configuration set
      // (AllowSesEventPublishing) and SNS for this account's topics; the event destination adds
      // the topic policy, as for the feedback topic.
      // https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html
      // https://docs.aws.amazon.com/ses/latest/dg/quotas.html
      this.webhookTopic = new sns.Topic(this, 'WebhookTopic', {
        displayName: "SES bounces and complaints for the app's webhook",
        masterKey: key,
        enforceSSL: true,
      });
      this.configurationSet.addEventDestination('Webhook', {
        configurationSetEventDestinationName: WEBHOOK_EVENT_DESTINATION,
        destination: ses.EventDestination.snsTopic(this.webhookTopic),
        events: this.events,
        enabled: true,
      });
      // UrlSubscription names the subscription after the URL, so the URL is in its logical id too,
      // which every deploy's log prints. Kept so: under another id, CloudFormation would create
      // the new resource first, SNS would answer its Subscribe with the live subscription (same
      // topic, protocol and endpoint), and the old resource's removal would then unsubscribe it.
      const webhook = this.webhookTopic.addSubscription(
        new subscriptions.UrlSubscription(props.webhookUrl, {
          protocol: sns.SubscriptionProtocol.HTTPS,
          filterPolicyWithMessageBody: SES_EVENTS_ONLY,
          deliveryPolicy: WEBHOOK_DELIVERY,
          deadLetterQueue: this.webhookDeadLetterQueue,
        }),
      );
      // The subscription adds the dead-letter queue's policy, but does not wait for it: an event
      // the app refused before that policy existed would be dropped, not kept. On the queue's
      // construct: DependsOn its every resource, the policy too.
      webhook.node.addDependency(this.webhookDeadLetterQueue);
      if (/[?#]/.test(props.webhookUrl))
        Annotations.of(this).addWarningV2(
          'ses-smtp:webhook-url-query',
          "feedback.webhookUrl has a query or fragment: the URL is in the template, the subscription's logical id and every deploy's log, so a token there is no secret; verify the SNS signature of each message in the app instead (acknowledge this warning if the query holds no secret)",
        );
    }
    if (props.appQueue) {
      this.appDeadLetterQueue = new sqs.Queue(this, 'AppDeadLetterQueue', {
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      // A message keeps its first enqueue time in a standard queue's dead-letter queue, which
      // expires it by that time: with both at 14 days, an event the app fails on late in its
      // fortnight would vanish from the dead-letter queue soon after it arrives. 7 days here leave
      // it at least 7 there, as AWS advises (dead-letter retention longer than the source's).
      // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html
      this.appQueue = new sqs.Queue(this, 'AppQueue', {
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(APP_QUEUE_RETENTION_DAYS),
        deadLetterQueue: { queue: this.appDeadLetterQueue, maxReceiveCount },
      });
      this.subscribe(this.appQueue, raw, SES_EVENTS_ONLY);
    }
  }

  /**
   * Subscribes `queue` to the topic with the queue-policy half of the grant. Not SqsSubscription:
   * it also grants sns.amazonaws.com the queue's key with no condition (or, with the
   * restrictSqsDescryption flag, names the topic in the key policy: a cycle, as the key is shared).
   * Same construct path as SqsSubscription, so the subscription keeps its logical id.
   */
  private subscribe(
    queue: sqs.Queue,
    rawMessageDelivery: boolean,
    filterPolicyWithMessageBody?: Record<string, sns.FilterOrPolicy>,
  ): void {
    const policy = queue.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.topic.topicArn } },
      }),
    );
    const subscription = new sns.Subscription(queue, Names.nodeUniqueId(this.topic.node), {
      topic: this.topic,
      endpoint: queue.queueArn,
      protocol: sns.SubscriptionProtocol.SQS,
      rawMessageDelivery,
      filterPolicyWithMessageBody,
    });
    // SNS confirms an SQS subscription by sending to the queue: the policy must exist first.
    if (policy.policyDependable) subscription.node.addDependency(policy.policyDependable);
  }

  /** Lets an app consume its queue (including decrypting with the key, through SQS only). */
  public grantConsumeAppQueue(grantee: iam.IGrantable): iam.Grant {
    if (!this.appQueue) throw new Error('grantConsumeAppQueue needs appQueue: true');
    return grantConsume(this.appQueue, grantee);
  }

  public metricReputationRate(rate: ReputationRate, options: cloudwatch.MetricOptions = {}) {
    return metricReputationRate(rate, { configurationSetName: this.configurationSetName }, options);
  }

  public metricSends(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return metricConfigurationSetSends(this.configurationSetName, options);
  }

  public metricDeadLetters(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(fiveMinutes('Maximum', options));
  }

  public metricQueueDepth(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible(fiveMinutes('Maximum', options));
  }

  public metricDeliveryFailures(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.topic.metricNumberOfNotificationsFailed(fiveMinutes('Sum', options));
  }

  public metricWebhookDeliveryFailures(
    options: cloudwatch.MetricOptions = {},
  ): cloudwatch.Metric | undefined {
    return this.webhookTopic?.metricNumberOfNotificationsFailed(fiveMinutes('Sum', options));
  }

  public get appDeadLetterQueueArn(): string | undefined {
    return this.appDeadLetterQueue?.queueArn;
  }

  public metricAppDeadLetters(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric | undefined {
    return this.appDeadLetterQueue?.metricApproximateNumberOfMessagesVisible(fiveMinutes('Maximum', options));
  }

  public get webhookDeadLetterQueueUrl(): string | undefined {
    return this.webhookDeadLetterQueue?.queueUrl;
  }

  public metricWebhookDeadLetters(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric | undefined {
    return this.webhookDeadLetterQueue?.metricApproximateNumberOfMessagesVisible(
      fiveMinutes('Maximum', options),
    );
  }

  public metricAppOldestMessageAge(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric | undefined {
    return this.appQueue?.metricApproximateAgeOfOldestMessage(fiveMinutes('Maximum', options));
  }

  public metricOldestMessageAge(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.queue.metricApproximateAgeOfOldestMessage(fiveMinutes('Maximum', options));
  }

  public metricHandlerErrors(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.handler.metricErrors(fiveMinutes('Sum', options));
  }

  public metricHandled(
    metricName: 'Events' | 'RecipientsSuppressed',
    options: cloudwatch.MathExpressionOptions = {},
  ): cloudwatch.IMetric {
    // The handler adds dimensions (EventType, and BounceType for Events): SEARCH finds every
    // combination and SUM adds them. Its schema must name exactly the dimensions written.
    const schema = [FEEDBACK_METRICS_NAMESPACE, 'Environment', ...FEEDBACK_METRIC_DIMENSIONS[metricName]];
    return new cloudwatch.MathExpression({
      expression: `SUM(SEARCH('{${schema.join(',')}} MetricName="${metricName}" Environment="${this.environmentName}"', 'Sum', 3600))`,
      period: Duration.hours(1),
      ...options,
    });
  }
}

/** What a consumer of a queue calls (Queue.grantConsumeMessages' actions). */
const CONSUME_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueUrl',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
];

/**
 * Queue.grantConsumeMessages with the key limited to SQS: SQS decrypts the messages it hands out
 * with the queue's key for the caller (kms:ViaService sqs.<region>), and that is the only use a
 * consumer has for it. grantConsumeMessages grants kms:Decrypt for any use, of a key that also
 * encrypts the topics and every queue here. A principal with no policy of its own (another
 * account's, by ARN) takes no identity statement: the key policy names it then, as
 * grantConsumeMessages would.
 * @see https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
 */
function grantConsume(queue: sqs.IQueue, grantee: iam.IGrantable): iam.Grant {
  const consume = queue.grant(grantee, ...CONSUME_ACTIONS);
  const key = queue.encryptionMasterKey;
  if (!key) return consume;
  const stack = Stack.of(queue);
  const decrypt = iam.Grant.addToPrincipal({
    grantee,
    actions: ['kms:Decrypt'],
    resourceArns: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `sqs.${stack.region}.${stack.urlSuffix}` } },
  });
  return consume.combine(decrypt.success ? decrypt : key.grantDecrypt(grantee));
}
