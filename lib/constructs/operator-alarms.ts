import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, IConstruct } from 'constructs';
import { GLOBAL_OPTIONS } from '../cli/command-table';
import { UsageError } from '../cli/errors';
import type { OptionSpec } from '../cli/options';
import { cliOptions } from '../stack-name';
import { addressIds } from './address-ids';
import { allowServiceToPublish, allowServiceToUseKey, fromSource, fromSourceArn } from './service-access';

/**
 * The `ses-smtp` options that pick `scope`'s Stack by its name and Region, for the commands alarm
 * texts give an operator: they work without an environments file.
 */
export function stackCliOptions(scope: IConstruct): string {
  const { stackName, region } = Stack.of(scope);
  return cliOptions({ stackName, region });
}

/**
 * The most characters the `cliOptions` of an alarm construct may have: as long as the default can
 * be ("--stack" with a 128-character name, "--region"). CloudWatch takes alarm descriptions of at
 * most 1024 characters, and some give the options twice.
 */
export const CLI_OPTIONS_MAX_LENGTH = 160;

/** The CLI's options that take a value, by `--name`: what `cliOptions` may give. */
const VALUE_OPTIONS = new Map(
  GLOBAL_OPTIONS.filter((o) => o.type === 'string').map((o) => [`--${o.name}`, o]),
);

/**
 * A word a shell reads as itself: pieces that touch, each shellWord's safe characters or text in
 * single quotes; not a leading "=" outside quotes, which zsh expands to a command's path.
 */
const SHELL_WORD = /^(?!=)(?:[A-Za-z0-9_.,:/+=@%-]|'[^']*')+$/;

/** What the CLI gets for a shell word: its text without the quotes (nothing in it escapes one). */
const unquote = (word: string) => word.replace(/'/g, '');

/** A token's encoding in a string (`${Token[AWS.Region.11]}`): a word of its own once resolved. */
const TOKEN_IN_STRING = /\$\{Token\[[^\]]*\]\}/g;

/** What a token becomes while the words are read: a shell word, whose value is unknown until deploy. */
const TOKEN_MARK = '%TOKEN%';

/**
 * What is wrong with `options` as the `ses-smtp` options the texts give an operator, who pastes
 * them after a command into a shell; undefined when nothing is. They must be `--name VALUE` (or
 * `--name=VALUE`) pairs of the CLI's own options (the CLI refuses one it does not know), each
 * value a word the shell reads as itself. A token (a Region known only at deploy) counts as such
 * a word.
 */
export function cliOptionsProblem(options: string): string | undefined {
  // oxlint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(options))
    return `${JSON.stringify(options)} holds a line break, a tab or another control character`;
  // Nothing here escapes a quote (a backslash or a double quote is refused below), so an odd count
  // leaves one open: the shell would wait for the rest of the command, and the split below would
  // drop that quote and take the rest as it is.
  if ((options.match(/'/g) ?? []).length % 2 === 1)
    return `${JSON.stringify(options)} opens a single quote it does not close: close it ('my envs.json') or remove it`;
  // As the shell splits: quoted and unquoted pieces that touch are one word.
  const words: string[] = options.replace(TOKEN_IN_STRING, TOKEN_MARK).match(/(?:'[^']*'|[^\s'])+/g) ?? [];
  const bad = words.find((w) => !SHELL_WORD.test(w));
  if (bad !== undefined)
    return `${JSON.stringify(bad)} is not a word a shell reads as itself: put a value with spaces or other characters in single quotes`;
  // From here on, what the CLI gets: '--env' prod is --env prod.
  const args = words.map(unquote);
  const seen = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const equals = args[i].indexOf('=');
    const joined = args[i].startsWith('--') && equals > 0;
    const [flag, given] = joined
      ? [args[i].slice(0, equals), args[i].slice(equals + 1)]
      : [args[i], args[++i]];
    const spec = VALUE_OPTIONS.get(flag);
    if (spec === undefined)
      return `${JSON.stringify(flag)} is not a CLI option that takes a value (${[...VALUE_OPTIONS.keys()].join(', ')})`;
    // A word of its own that starts with "-" is an option to the CLI's parser, not a value; after
    // "=" it is the value (the parser's own hint: --config=-XYZ).
    if (given === undefined || given === '' || (!joined && given.startsWith('-')))
      return `${flag} has no value`;
    if (seen.has(flag)) return `${flag} is given twice`;
    seen.add(flag);
    // The CLI's own check of the value (a Region name, a stack name, a domain...), as it would
    // refuse it when the alarm's command runs; a value with a token is known only at deploy.
    // A file on the operator's machine (--smtp-ca) is the CLI's to read.
    const problem = given.includes(TOKEN_MARK) || spec.localFile ? undefined : valueProblem(spec, given);
    if (problem !== undefined) return problem;
  }
  return words.length === 0 ? 'no option given' : undefined;
}

/** The CLI's refusal of `value` for the global option `spec` (`--region`), if it refuses it. */
function valueProblem(spec: OptionSpec, value: string): string | undefined {
  try {
    spec.check?.(value);
    return undefined;
  } catch (e) {
    if (e instanceof UsageError) return e.message;
    throw e;
  }
}

/** `options`, if they fit alarm texts and the CLI: throws otherwise. */
export function checkCliOptions(options: string): string {
  if (options.length > CLI_OPTIONS_MAX_LENGTH) {
    throw new Error(
      `cliOptions must be at most ${CLI_OPTIONS_MAX_LENGTH} characters (alarm descriptions are limited to 1024), got ${options.length}: ${options.slice(0, 40)}...`,
    );
  }
  const problem = cliOptionsProblem(options);
  if (problem !== undefined)
    throw new Error(
      `cliOptions must be the CLI's options as "--name VALUE" pairs: ${problem}; got: ${options}`,
    );
  return options;
}

/** `given` (checked), or `scope`'s Stack's options. */
export function alarmCliOptions(scope: IConstruct, given: string | undefined): string {
  return given === undefined ? stackCliOptions(scope) : checkCliOptions(given);
}

/** The id of the synth warning for an operator topic without a subscriber. */
export const NO_ALARM_RECIPIENTS = 'ses-smtp:no-alarm-recipients';

/** Where alarms go: the part of OperatorAlarms that alarm constructs use. */
export interface IAlarmSink {
  /** Every alarm created through this sink, in creation order (a live list). */
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** Creates an alarm on `metric` that notifies the operators on ALARM and OK. */
  addAlarm(
    id: string,
    metric: cloudwatch.IMetric,
    props: Omit<cloudwatch.CreateAlarmOptions, 'actionsEnabled'>,
  ): cloudwatch.Alarm;
  /** An alarm for a count that should stay zero: ALARM as soon as one period counts one or more. */
  alarmOnAny(id: string, metric: cloudwatch.IMetric, alarmDescription: string): cloudwatch.Alarm;
}

export interface OperatorAlarmsProps {
  /**
   * Customer-managed key that encrypts the topic. CloudWatch gets its grant in the key policy; a key
   * imported from elsewhere has no policy here to change, so its owner must grant
   * cloudwatch.amazonaws.com kms:GenerateDataKey* and kms:Decrypt (or no alarm notification
   * arrives): a synth warning (`ses-smtp:imported-key`) says so.
   */
  readonly encryptionKey: kms.IKey;
  /** Addresses subscribed to the topic (each confirms by email). @default - none */
  readonly emails?: string[];
}

/**
 * The one place operators hear from: an encrypted SNS topic that every alarm of the environment
 * notifies when it goes into ALARM and back to OK, and that EventBridge rules may publish to.
 */
export class OperatorAlarms extends Construct implements IAlarmSink {
  public readonly topic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: OperatorAlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'SES SMTP operator alarms',
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    const emails = props.emails ?? [];
    const ids = addressIds(emails);
    // What topic.addSubscription creates, but under the id addressIds gives (the address itself
    // unless constructs would merge it with another's).
    emails.forEach(
      (email, i) =>
        new sns.Subscription(this.topic, ids[i], {
          topic: this.topic,
          ...new subscriptions.EmailSubscription(email).bind(this.topic),
        }),
    );

    // A topic policy replaces SNS's default policy: without this statement CloudWatch is refused
    // SNS:Publish ("not authorized") and no alarm ever mails anyone. Scoped to this account's
    // alarms in this Region, as AWS advises against the confused deputy.
    // https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
    // https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
    const alarmsHere = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    allowServiceToPublish(this.topic, 'cloudwatch.amazonaws.com', fromSource(this, alarmsHere));
    allowServiceToUseKey(this, props.encryptionKey, {
      service: 'cloudwatch.amazonaws.com',
      sid: 'AllowCloudWatchAlarms',
      conditions: fromSourceArn(alarmsHere),
      unless: 'no alarm notification arrives',
    });
    // An alarm nobody receives is a suspension learnt of too late. Checked at synth, after the
    // app has had its chance to subscribe the topic: any subscription to it in this stack counts
    // (topic.addSubscription, an sns.Subscription or a CfnSubscription anywhere in the stack).
    this.node.addValidation({
      validate: () => {
        const topicArn = JSON.stringify(stack.resolve(this.topic.topicArn));
        const subscribed = stack.node
          .findAll()
          .some(
            (c) => c instanceof sns.CfnSubscription && JSON.stringify(stack.resolve(c.topicArn)) === topicArn,
          );
        if (!subscribed) {
          // On the topic, not on this construct: aws-cdk-lib before 2.271.0 applies an
          // acknowledgement only to warnings of the acknowledging construct's children when the
          // warning comes after it (aws/aws-cdk#38820), so one on mail.operatorAlarms (the
          // README's) was missed; the peer range starts below that.
          Annotations.of(this.topic).addWarningV2(
            NO_ALARM_RECIPIENTS,
            `the operator alarm topic has no subscriber: no alarm (bounce or complaint rate, quota, failed rotation) reaches anyone. List addresses in alarms.emails, or subscribe the topic (stack output OperatorAlarmTopicArn) to your pager; if you subscribe it in another stack, acknowledge this warning (${NO_ALARM_RECIPIENTS})`,
          );
        }
        return [];
      },
    });
  }

  public alarmOnAny(id: string, metric: cloudwatch.IMetric, alarmDescription: string) {
    return this.addAlarm(id, metric, {
      alarmDescription,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // Nothing counted means nothing failed.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  public addAlarm(
    id: string,
    metric: cloudwatch.IMetric,
    props: Omit<cloudwatch.CreateAlarmOptions, 'actionsEnabled'>,
  ) {
    const alarm = new cloudwatch.Alarm(this, id, { ...props, metric, actionsEnabled: true });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }
}
