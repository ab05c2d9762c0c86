import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';

/*
 * The grants an AWS service needs to publish to an encrypted topic or deliver to an encrypted
 * queue of this stack. Each wire needs two: the resource policy of the topic or queue (a topic
 * policy replaces SNS's default one, so a service not named there is refused), and the key policy
 * of the key that encrypts it (the service principal calls kms:GenerateDataKey* and kms:Decrypt).
 * test/wires.test.ts follows every wire of the synthesized template through both.
 *
 * @see https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
 *   "Enable compatibility between event sources from AWS services and encrypted topics"
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
 */

/** Policy conditions, as in a statement's `Condition` block. */
export type Conditions = Record<string, Record<string, unknown>>;

/**
 * Conditions that hold only when the service acts for this account and for a source whose ARN
 * matches `sourceArn` (a pattern with `*`, or one ARN): the confused-deputy guard AWS recommends
 * for service principals.
 */
export function fromSource(scope: IConstruct, sourceArn: string): Conditions {
  return {
    StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
    ArnLike: { 'aws:SourceArn': sourceArn },
  };
}

/**
 * The confused-deputy guard for SNS's key statement (delivering to encrypted queues): the source
 * topic's ARN only, which names this account and Region. aws-cdk-lib's SNS-to-SQS key grant
 * conditions on it (@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption); no AWS page says
 * aws:SourceAccount reaches KMS with those requests, and a condition on a key the request lacks
 * refuses every message, silently. The queue policies keep both keys, as AWS documents them there.
 * Services that publish to an encrypted topic get theirs without a condition: see
 * allowPublisherToUseKey.
 * @see https://docs.aws.amazon.com/sns/latest/dg/sns-enable-encryption-for-topic-sqs-queue-subscriptions.html
 */
export function fromSourceArn(sourceArn: string): Conditions {
  return { ArnLike: { 'aws:SourceArn': sourceArn } };
}

/** Lets `service` publish to `topic` (its topic policy), under `conditions`. */
export function allowServiceToPublish(topic: sns.ITopic, service: string, conditions: Conditions): void {
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(service)],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions,
    }),
  );
}

/**
 * Lets `service` encrypt messages with `key` (kms:GenerateDataKey* and kms:Decrypt, what SNS and
 * SQS need from whoever publishes to a topic or queue the key encrypts), under `conditions`.
 * A key imported with `fromKeyArn` has no policy here to change: its owner grants it.
 */
export function allowServiceToUseKey(
  key: kms.IKey,
  service: string,
  sid: string,
  conditions: Conditions | undefined,
): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid,
      principals: [new iam.ServicePrincipal(service)],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      // In a key policy "*" is the key itself.
      resources: ['*'],
      conditions,
    }),
  );
}

/**
 * Lets `service`, which publishes to a topic that `key` encrypts, use the key: with no condition.
 * AWS gives these key statements without one (the SNS developer guide's "compatibility between
 * event sources from AWS services and encrypted topics"; for CloudWatch, the knowledge-center
 * article on alarms and encrypted topics), documents for EventBridge that aws:SourceArn and
 * aws:SourceAccount are not supported there, and says for no such service that they reach KMS. A
 * condition on a key the request lacks drops every notification, silently (only an alarm's history
 * shows "Failed to execute action"). The topic policy is the guard: only the one source (this
 * account's alarms, the configuration set, the rule) may publish to the topic. A condition here
 * would only keep another account from encrypting with this key for a topic of its own, which
 * reads nothing of this one.
 * @see https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
 * @see https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns
 */
export function allowPublisherToUseKey(key: kms.IKey, service: string, sid: string): void {
  allowServiceToUseKey(key, service, sid, undefined);
}

const eventBridgeKeys = new WeakSet<kms.IKey>();

/**
 * An EventBridge rule target that publishes `message` to an encrypted topic, with its two grants:
 * the topic policy allows events.amazonaws.com for this rule only (aws:SourceArn, and the account),
 * and the topic's key lets EventBridge encrypt.
 *
 * The key statement carries no aws:SourceAccount / aws:SourceArn condition on purpose: "Adding the
 * aws:SourceAccount and aws:SourceArn to a AWS KMS policy is not supported for EventBridge-to-
 * encrypted topics" (SNS developer guide, sns-key-management.html); with one, every delivery fails.
 * The topic policy is what limits the key's use to this rule (allowPublisherToUseKey).
 *
 * Used instead of aws-events-targets' SnsTopic, which grants events.amazonaws.com on the topic
 * without any condition.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
 */
export class EncryptedTopicTarget implements events.IRuleTarget {
  constructor(
    private readonly topic: sns.ITopic,
    private readonly message: events.RuleTargetInput,
  ) {}

  public bind(rule: events.IRule): events.RuleTargetConfig {
    allowServiceToPublish(this.topic, 'events.amazonaws.com', {
      StringEquals: { 'aws:SourceAccount': Stack.of(rule).account },
      ArnEquals: { 'aws:SourceArn': rule.ruleArn },
    });
    const key = this.topic.masterKey;
    if (key && !eventBridgeKeys.has(key)) {
      eventBridgeKeys.add(key);
      allowPublisherToUseKey(key, 'events.amazonaws.com', 'AllowEventBridgeToEncryptForTopics');
    }
    return { arn: this.topic.topicArn, input: this.message };
  }
}
