import { Annotations, Stack, Token } from 'aws-cdk-lib';
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
 * The confused-deputy guard for a key statement: the source ARN only, which names this account
 * and Region. The SNS developer guide recommends aws:SourceAccount and aws:SourceArn in the key
 * policy for an AWS service that publishes to an encrypted topic (all but EventBridge, where they
 * are not supported: EncryptedTopicTarget), GameLift's guide gives aws:SourceArn, and
 * aws-cdk-lib's SNS-to-SQS key grant conditions on it (restrictSqsDescryption). aws:SourceAccount
 * is left out: the ARN names the account already, and a condition on a key a request lacks would
 * refuse every message, silently, so the statement depends on one key only. The topic and queue
 * policies keep both keys, as AWS documents them there. `ses-smtp test-alarm` and a send to SES's
 * bounce simulator prove the two published paths after a deploy (README).
 * @see https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
 * @see https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/queue-notification-sns-sse.html
 */
export function fromSourceArn(sourceArn: string): Conditions {
  return { ArnLike: { 'aws:SourceArn': sourceArn } };
}

/**
 * Lets `service` publish to `topic` (its topic policy), under `conditions`. False when the topic
 * is imported: its policy is its owner's, and nothing was added.
 */
export function allowServiceToPublish(topic: sns.ITopic, service: string, conditions: Conditions): boolean {
  return topic.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(service)],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions,
    }),
  ).statementAdded;
}

/** The id of the synth warning for a rule target topic whose policies this app cannot write. */
export const IMPORTED_TARGET_TOPIC = 'ses-smtp:imported-target-topic';

/** The id of the synth warning for a key whose policy this app cannot write. */
export const IMPORTED_KEY = 'ses-smtp:imported-key';

/**
 * Lets `service` encrypt messages with `key` (kms:GenerateDataKey* and kms:Decrypt, what SNS and
 * SQS need from whoever publishes to a topic or queue the key encrypts), under `conditions`.
 * A key imported with `fromKeyArn` has no policy here to change, and takes the statement
 * silently: `user`, the construct that needs the grant, gets a synth warning naming what its
 * owner must grant and what fails until then (`unless`).
 */
export function allowServiceToUseKey(
  user: IConstruct,
  key: kms.IKey,
  grant: { service: string; sid: string; conditions: Conditions | undefined; unless: string },
): void {
  const { statementAdded } = key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: grant.sid,
      principals: [new iam.ServicePrincipal(grant.service)],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      // In a key policy "*" is the key itself.
      resources: ['*'],
      conditions: grant.conditions,
    }),
  );
  if (!statementAdded) {
    Annotations.of(user).addWarningV2(
      IMPORTED_KEY,
      `the KMS key ${Token.isUnresolved(key.keyArn) ? 'it uses' : key.keyArn} is not defined in this app, so its key policy is not written here: let ${grant.service} use it (kms:GenerateDataKey* and kms:Decrypt, as statement "${grant.sid}" would), or ${grant.unless} (acknowledge this warning once it is granted)`,
    );
  }
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
 * The topic policy is what limits publishing to this rule. The key statement is limited to the
 * topics of this account and Region instead, by the topic ARN SNS puts in the encryption context of
 * each KMS call it makes for a topic (kms:EncryptionContext:aws:sns:topicArn, as GameLift's guide
 * conditions a service publishing to an encrypted topic): without it, an EventBridge rule of any
 * account could encrypt with the key, for a topic of its own that names it. Not the topics by name:
 * they name the key, and the key would then name them (a cycle).
 * @see https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/queue-notification-sns-sse.html
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
    const granted = allowServiceToPublish(this.topic, 'events.amazonaws.com', {
      StringEquals: { 'aws:SourceAccount': Stack.of(rule).account },
      ArnEquals: { 'aws:SourceArn': rule.ruleArn },
    });
    if (!granted) {
      // An imported topic (Topic.fromTopicArn) takes no statement, silently, and shows no key:
      // its owner must grant both, or every message of the rule is dropped.
      Annotations.of(rule).addWarningV2(
        IMPORTED_TARGET_TOPIC,
        `the topic ${Token.isUnresolved(this.topic.topicArn) ? 'this rule targets' : this.topic.topicArn} is not defined in this app, so its policies are not written here: let events.amazonaws.com publish to it (sns:Publish, aws:SourceArn this rule's ARN) and, if it is encrypted, use its key (kms:GenerateDataKey* and kms:Decrypt), or the rule's messages reach no one (acknowledge this warning once both are granted)`,
      );
    }
    const key = this.topic.masterKey;
    if (key && !eventBridgeKeys.has(key)) {
      eventBridgeKeys.add(key);
      allowServiceToUseKey(rule, key, {
        service: 'events.amazonaws.com',
        sid: 'AllowEventBridgeToEncryptForTopics',
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:sns:topicArn': Stack.of(rule).formatArn({
              service: 'sns',
              resource: '*',
            }),
          },
        },
        unless: "the rule's messages reach no one",
      });
    }
    return { arn: this.topic.topicArn, input: this.message };
  }
}
