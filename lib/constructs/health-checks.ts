import { Annotations, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHECK_CATALOG, CheckInfo, ECS_SERVICES, QUOTA, WEBHOOK } from '../../lambda/shared/check-catalog';
import { scheduleGapHours } from '../config/syntax';
import { smtpEndpoint } from '../config/smtp-regions';
import type { HealthTarget } from '../../lambda/shared/checks';
import {
  CHECK_METRIC,
  HEALTH_NAMESPACE,
  QUOTA_METRICS,
  ROTATION_BLOCKED_METRIC,
  RUN_METRIC,
  UNDETERMINED_METRIC,
  type QuotaMetricName,
} from '../../lambda/shared/health-metrics';
import { ConfigError } from '../config/load';
import { ApexSpfOptions, DmarcRecordOptions } from '../dns-records';
import { NODE_FUNCTION_ENVIRONMENT, NodeFunction } from './node-function';
import { alarmCliOptions, checkCliOptions } from './operator-alarms';
import { metricSendingCount } from './monitoring/ses-metrics';
import { acknowledgeNagFinding } from './nag';
import { PSEUDO_PARAMETER_LONGEST } from './pseudo-parameters';
import { cdkStackPath } from '../stack-name';

// The quota figures' names, for metricQuota.
export { QUOTA_METRICS, type QuotaMetricName } from '../../lambda/shared/health-metrics';

/** Warning and critical levels, in percent. */
export interface PercentLevels {
  /** The level of the warning alarm, percent. */
  readonly warning: number;
  /** The level of the critical alarm, percent, above `warning`. */
  readonly critical: number;
}

export interface HealthChecksProps {
  /** Name of the environment: the metrics' Environment dimension and the alarm descriptions. */
  readonly environmentName: string;
  /**
   * The `ses-smtp` options that pick this environment in the commands the alarm texts and the
   * checks' fixes (the function's log, HEALTH_TARGET.cliOptions) give.
   * @default - the Stack's name and Region: "--stack NAME --region REGION" (see cliOptions())
   */
  readonly cliOptions?: string;
  /** Where every alarm notifies (on ALARM and back to OK). */
  readonly topic: sns.ITopic;
  /** The sending domain's identity. */
  readonly identity: ses.IEmailIdentity;
  /**
   * The configuration set whose sending status is checked.
   * @default - only the account's sending status is checked
   */
  readonly configurationSet?: ses.IConfigurationSet;
  /** The SMTP credentials secret (read to check it holds credentials and to find the previous key). */
  readonly secret: secretsmanager.ISecret;
  /** The SMTP user whose previous key's last use is read. */
  readonly smtpUser: iam.IUser;
  /** Days between rotations: a secret older than this plus a week is reported. */
  readonly rotationDays: number;
  /**
   * A previous key SES used within this many days is reported weeks before the rotation stops on it.
   * @default 7
   */
  readonly previousKeyQuietDays?: number;
  /**
   * The app's webhook: its HTTPS URL and the topic it alone is subscribed to. The webhook check
   * (with its alarm) reads the topic's subscriptions: SNS sends an endpoint nothing until it
   * confirms, and nothing else reports one that never did.
   * @default - no webhook: no webhook check
   */
  readonly webhook?: {
    /** The webhook's HTTPS URL, as subscribed (feedback.webhookUrl). */
    readonly url: string;
    /** The topic the webhook alone is subscribed to. */
    readonly topic: sns.ITopic;
  };
  /** MAIL FROM label and the DNS records the stack manages, to check them in live DNS. */
  readonly dns: {
    /** Label of the MAIL FROM domain under the identity's domain, like "mail". */
    readonly mailFromSubdomain: string;
    /**
     * The DMARC record the stack writes, expected in live DNS.
     * @default - DMARC is managed elsewhere: one well-formed record is expected
     */
    readonly dmarc?: DmarcRecordOptions;
    /**
     * The apex SPF record the stack writes, expected in live DNS.
     * @default - the apex SPF record is not checked
     */
    readonly apexSpf?: ApexSpfOptions;
  };
  /**
   * Queues whose CloudWatch metrics alarms need even when nothing else touches them (dead-letter
   * queues, a queue an app reads). SQS reports a queue only while it is active, for up to six hours
   * after any call on it: the function reads their attributes at each run (the quota schedule's,
   * hourly by default), which keeps them reporting.
   * @default - none
   */
  readonly keepReporting?: sqs.IQueue[];
  /**
   * When every check runs.
   * @default events.Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;
  /**
   * When the identity, sending, quota, credentials and SMTP login checks run on their own: those
   * whose failure stops every app's mail at any hour (a day's quota can be used up within hours).
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly quotaSchedule?: events.Schedule;
  /**
   * An account in the SES sandbox fails the sandbox check; false for a staging environment.
   * @default true
   */
  readonly expectProductionAccess?: boolean;
  /**
   * Shares of the 24-hour sending quota that raise the warning and critical alarms, percent.
   * @see https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html
   * @default { warning: 80, critical: 95 }
   */
  readonly quotaPercent?: PercentLevels;
  /**
   * Share of the maximum send rate (the busiest minute of the last hour) that raises an alarm, percent.
   * @default 80
   */
  readonly sendRatePercent?: number;
  /**
   * An anomaly-detection alarm on the account's send volume (AWS/SES Send): a leaked SMTP
   * password is typically used to send spam in bulk.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Anomaly_Detection.html
   * @default true
   */
  readonly sendAnomalyDetection?: boolean;
  /**
   * Creates the alarms on account-wide figures: the quota and send-rate alarms (their figures are
   * the account's, from GetAccount and AWS/SES Send) and the send anomaly alarm. One environment
   * of an account and Region should (see SendingAlarms' accountAlarms), or every alert arrives
   * once per environment. The checks run and publish either way.
   * @default true
   */
  readonly accountAlarms?: boolean;
}

/**
 * What Lambda takes for a function's environment variables, keys and values together; more fails
 * the deploy, not the synth.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
const LAMBDA_ENVIRONMENT_BYTES = 4096;
/**
 * A value known only at deploy that nothing here bounds (a parameter, an import, another
 * resource's attribute): counted at this length. Secrets Manager's longest secret name is 512.
 */
const UNBOUNDED_VALUE_LONGEST = 512;
/** SNS's longest topic name. */
const SNS_TOPIC_NAME_LONGEST = 256;
/** ECS's longest cluster and service names. */
const ECS_NAME_LONGEST = 255;
/** A secret name CloudFormation generates: the logical id (at most 255) and a random suffix. */
const GENERATED_SECRET_NAME_LONGEST = 255 + 13;

/**
 * `value` at its longest at deploy: its literal parts as written, each part known only then at the
 * longest it can be (`longest` gives it for a part, or a pseudo parameter's, or the unbounded length).
 */
function atLongest(
  stack: Stack,
  value: string,
  longest: (part: unknown) => number | undefined = () => undefined,
) {
  if (!Token.isUnresolved(value)) return value;
  const resolved: unknown = stack.resolve(value);
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  const [separator, parts] = join ?? ['', [resolved]];
  return parts
    .map((part) =>
      typeof part === 'string'
        ? part
        : 'x'.repeat(
            longest(part) ??
              PSEUDO_PARAMETER_LONGEST[(part as { Ref?: string }).Ref ?? ''] ??
              UNBOUNDED_VALUE_LONGEST,
          ),
    )
    .join(separator);
}

/**
 * The longest the target can be at deploy. The identity's domain and the set's and secret's names
 * count as the template states them; what is known only at deploy, at the longest it can be; a
 * value of any other field that is a token, at the unbounded length.
 */
function longestTarget(stack: Stack, target: HealthTarget, props: HealthChecksProps): string {
  const domain = (props.identity.node.defaultChild as ses.CfnEmailIdentity | undefined)?.emailIdentity;
  const setName = (props.configurationSet?.node.defaultChild as ses.CfnConfigurationSet | undefined)?.name;
  const secret = props.secret.node.defaultChild as secretsmanager.CfnSecret | undefined;
  const region = atLongest(stack, target.region);
  const name = (value: string | undefined, longest: number) =>
    value === undefined ? 'x'.repeat(longest) : atLongest(stack, value, () => longest);
  const longest: HealthTarget = {
    ...target,
    stackName: atLongest(stack, target.stackName),
    // The default names the stack and the Region, each at its longest when a token.
    ...(target.cliOptions !== undefined && { cliOptions: atLongest(stack, target.cliOptions) }),
    region,
    identity: name(domain ?? target.identity, 253), // a domain name
    ...(target.configurationSetName && {
      configurationSetName: name(setName ?? target.configurationSetName, 64), // SES's longest set name
    }),
    // A secret of this stack: arn:<partition>:secretsmanager:<Region>:<account>:secret:<name>-<6>;
    // another one (imported): its ARN as given, each deploy-time part at its longest.
    secretId: secret
      ? `arn:aws-us-gov:secretsmanager:${region}:123456789012:secret:${name(secret.name, GENERATED_SECRET_NAME_LONGEST)}-AbCdEf`
      : atLongest(stack, target.secretId),
    // A topic's ARN: arn:<partition>:sns:<Region>:<account>:<name of up to 256 characters>.
    ...(target.webhook && {
      webhook: {
        url: atLongest(stack, target.webhook.url),
        topicArn: `arn:aws-us-gov:sns:${region}:123456789012:${'x'.repeat(SNS_TOPIC_NAME_LONGEST)}`,
      },
    }),
    // A service's long ARN as given; one of a service of the stack (known at deploy):
    // arn:<partition>:ecs:<Region>:<account>:service/<cluster>/<service>, each name at ECS's longest.
    ...(target.ecsServices && {
      ecsServices: target.ecsServices.map((arn) =>
        Token.isUnresolved(arn)
          ? `arn:aws-us-gov:ecs:${region}:123456789012:service/${'x'.repeat(ECS_NAME_LONGEST)}/${'x'.repeat(ECS_NAME_LONGEST)}`
          : arn,
      ),
    }),
  };
  return JSON.stringify(longest).replace(/\$\{Token\[[^\]]*\]\}/g, 'x'.repeat(UNBOUNDED_VALUE_LONGEST));
}

/**
 * The bytes a function's `variables` take as Lambda measures them: the JSON of the whole map, with
 * NodeFunction's own, each quote in a value escaped (its error quotes this "String measured").
 */
function environmentBytes(variables: Record<string, string>): number {
  return Buffer.byteLength(JSON.stringify({ ...NODE_FUNCTION_ENVIRONMENT, ...variables }));
}

/**
 * The leaked-credential steps, for the alarms on account-wide figures (quota, send rate, send
 * anomaly). The figure counts every sender of the account in the Region, and one environment
 * holds these alarms, so the steps are for the environment that sends, named by the operator; this
 * one's options are given as an example. Named once: five copies of a long stack name would pass
 * CloudWatch's 1024 characters.
 */
export function leakedCredentialSteps(cliOptions: string): string {
  return (
    `Unexpected volume? Treat an SMTP password as leaked. The figure counts every sender of the account in this Region: find the environment that sends (its dashboard's "sends of this environment"), then run with its options (this one's: ${cliOptions}): ` +
    "1) npx --no -- ses-smtp pause (--scope account: the whole account); 2) npx --no -- ses-smtp revoke deactivates its SMTP user's keys and rotates; " +
    '3) npx --no -- ses-smtp env for the apps; 4) npx --no -- ses-smtp resume (same --scope). Then find where it leaked (repositories, logs, CI variables).'
  );
}

/** CloudWatch evaluates at most 7 days of 1-hour periods. */
const MAX_EVALUATION_HOURS = 168;
/** SQS reports a queue while it is active: up to six hours after the last call on it. */
const SQS_ACTIVE_HOURS = 6;
/** Runs of every check in a row that could not tell before the alarm (3 days by default). */
const UNDETERMINED_RUNS = 3;

/** A schedule's longest gap between runs, in hours; undefined when it cannot be told. */
function scheduleGap(schedule: events.Schedule): number | undefined {
  const expression = schedule.expressionString;
  return Token.isUnresolved(expression) ? undefined : scheduleGapHours(expression);
}

/**
 * The doctor's checks on a schedule: a function (daily by default; identity, sending, quota,
 * credentials and SMTP login hourly) that runs the shared checks module, publishes one metric per
 * check in the SesSmtp/Health namespace (1 passed, 0 failed) and the quota figures, and an alarm
 * per check whose description says what to do.
 * Also the quota and send-rate alarms and an anomaly-detection alarm on the account's send volume.
 * The stale-use guard's alarm is made apart (SmtpCredentials.metricRotationBlocked and
 * rotationBlockedAlarmOptions): it must exist even when the scheduled checks are turned off.
 */
export class HealthChecks extends Construct {
  public readonly function: lambda.Function;
  /** Every alarm this construct made, for a dashboard's alarm panel. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /**
   * The alarm of each check, by check id. The quota check's is the critical quota alarm, made
   * only with accountAlarms (the quota is the account's).
   */
  public readonly checkAlarms: Record<string, cloudwatch.Alarm> = {};
  private readonly environmentName: string;
  private readonly topic: sns.ITopic;
  private readonly cliOptions: string;
  /** The services checkEcsServices was given, and their keys (a token's resolved form). */
  private readonly ecsServiceArns: string[] = [];
  private readonly ecsServiceKeys = new Set<string>();
  private ecsServicesPolicy?: iam.PolicyStatement;

  constructor(scope: Construct, id: string, props: HealthChecksProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const env = props.environmentName;
    this.environmentName = env;
    this.topic = props.topic;
    const quotaPercent = props.quotaPercent ?? { warning: 80, critical: 95 };
    const sendRatePercent = props.sendRatePercent ?? 80;
    const { warning, critical } = quotaPercent;
    if (!(warning > 0 && warning < critical && critical <= 100)) {
      throw new Error(
        `quotaPercent must have 0 < warning < critical <= 100, got: warning ${warning}, critical ${critical}`,
      );
    }
    if (!Token.isUnresolved(sendRatePercent) && !(sendRatePercent > 0 && sendRatePercent <= 100)) {
      throw new Error(`sendRatePercent must be more than 0 and at most 100, got: ${sendRatePercent}`);
    }

    // The checks' fixes name the environment as the alarms do.
    const cliOptions = alarmCliOptions(this, props.cliOptions);
    const target: HealthTarget = {
      environmentName: env,
      cliOptions,
      stackName: stack.stackName,
      // What `cdk deploy` takes, where the stack's name is not it.
      stackPath: cdkStackPath(stack),
      region: stack.region,
      identity: props.identity.emailIdentityName,
      ...(props.configurationSet && { configurationSetName: props.configurationSet.configurationSetName }),
      secretId: props.secret.secretArn,
      rotationDays: props.rotationDays,
      previousKeyQuietDays: props.previousKeyQuietDays ?? 7,
      expectProductionAccess: props.expectProductionAccess ?? true,
      quotaPercent,
      sendRatePercent,
      ...(props.webhook && { webhook: { url: props.webhook.url, topicArn: props.webhook.topic.topicArn } }),
      dns: props.dns,
    };
    // The SMTP login (each run): the Region's endpoint, whose password the secret holds, on 587 whatever
    // port the apps use. It proves the credentials; Lambda cannot reach SES on 25 (AWS blocks
    // outbound 25 from functions outside a VPC), and 465/2465 differ only in when TLS starts.
    const smtp = { SMTP_HOST: smtpEndpoint(stack.region), SMTP_PORT: '587' };
    // The endpoint at its longest, as the target: a Region known only at deploy is a token here.
    const longestSmtp = { ...smtp, SMTP_HOST: atLongest(stack, smtp.SMTP_HOST) };
    const queues = props.keepReporting ?? [];
    const keepReporting: Record<string, string> = queues.length
      ? { KEEP_REPORTING_QUEUES: stack.toJsonString(queues.map((q) => q.queueUrl)) }
      : {};
    // Each queue URL at its longest: https://sqs.<Region>.amazonaws.com/<account>/<80-character name>.
    const longestQueue = () =>
      `https://sqs.${atLongest(stack, stack.region)}.amazonaws.com/123456789012/${'x'.repeat(80)}`;
    const longestQueues: Record<string, string> = queues.length
      ? { KEEP_REPORTING_QUEUES: JSON.stringify(queues.map(longestQueue)) }
      : {};
    // The services restarted after each rotation come later (checkEcsServices): the settings are
    // measured again with them when the app is synthesized.
    const tooLong = (ecsServices: readonly string[]) => {
      const bytes = environmentBytes({
        HEALTH_TARGET: longestTarget(stack, { ...target, ...(ecsServices.length && { ecsServices }) }, props),
        ...longestSmtp,
        ...longestQueues,
      });
      if (bytes <= LAMBDA_ENVIRONMENT_BYTES) return undefined;
      const services = ecsServices.length
        ? `, and the ARNs of the ${ecsServices.length} ECS services restarted after each rotation${ecsServices.some((arn) => Token.isUnresolved(arn)) ? ' (one of a service of the stack counts at its longest, about 570 bytes)' : ''}`
        : '';
      return (
        `environment "${env}": health: the health check's settings can take up to ${bytes} bytes at deploy, more than the ${LAMBDA_ENVIRONMENT_BYTES} bytes Lambda allows for environment variables: ` +
        `they carry the DNS values the check compares and the webhook URL${services}; shorten apexSpf.otherTxtValues, the DMARC report URIs or feedback.webhookUrl${ecsServices.length ? ', list fewer services' : ''}, or set health.enabled to false`
      );
    };
    const problem = tooLong([]);
    if (problem) throw new ConfigError([problem]);
    this.node.addValidation({
      validate: () => {
        const late = this.ecsServiceArns.length ? tooLong(this.ecsServiceArns) : undefined;
        return late ? [late] : [];
      },
    });
    this.cliOptions = cliOptions;
    this.function = new NodeFunction(this, 'Function', {
      handlerDir: 'health-check',
      description:
        'Runs the ses-smtp doctor checks on a schedule and publishes one CloudWatch metric per check',
      // A run took 63 s when every DNS lookup and both SMTP logins waited their longest (measured
      // with a resolver and an SMTP server that never answer); each finished check's metric is
      // written at once, so a run cut short keeps those.
      timeout: Duration.minutes(2),
      environment: {
        // With the services checkEcsServices adds, whenever it is called.
        HEALTH_TARGET: Lazy.string({
          produce: () =>
            stack.toJsonString({
              ...target,
              ...(this.ecsServiceArns.length && { ecsServices: [...this.ecsServiceArns] }),
            }),
        }),
        ...smtp,
        ...keepReporting,
      },
    });
    this.grantChecks(props);

    const run = (ruleId: string, schedule: events.Schedule, checks: 'all' | 'quota', description: string) =>
      new events.Rule(this, ruleId, {
        description,
        schedule,
        targets: [
          new targets.LambdaFunction(this.function, {
            event: events.RuleTargetInput.fromObject({ checks }),
            retryAttempts: 2,
          }),
        ],
      });
    const schedules = {
      all: props.schedule ?? events.Schedule.rate(Duration.days(1)),
      quota: props.quotaSchedule ?? events.Schedule.rate(Duration.hours(1)),
    };
    run('Schedule', schedules.all, 'all', `Runs every SES SMTP health check of environment ${env}`);
    run(
      'QuotaSchedule',
      schedules.quota,
      'quota',
      `Runs the SES identity, sending, quota, credentials and SMTP login checks of environment ${env}`,
    );

    this.addAlarms(props, quotaPercent, sendRatePercent, cliOptions);
    // Each schedule is watched by its runs' own point (the daily run publishes every check). New
    // ids, not the invocation-count alarm's "NotRunningAlarm": CloudFormation replaces the alarm,
    // and a new alarm starts in INSUFFICIENT_DATA without notifying, where one updated in place
    // keeps its state (PutMetricAlarm) and would report the stopped runs of a metric just born.
    const gapAll = scheduleGap(schedules.all);
    this.watchRuns('AllRunsStoppedAlarm', 'every check', schedules.all, gapAll, 'all');
    this.watchRuns(
      'QuotaRunsStoppedAlarm',
      'the identity, sending, quota, credentials and SMTP login checks',
      schedules.quota,
      scheduleGap(schedules.quota),
      'quota',
    );
    this.watchUndetermined(gapAll, cliOptions);
    this.warnQueuesFallSilent(queues.length, [gapAll, scheduleGap(schedules.quota)]);
  }

  /**
   * A warning when no schedule is sure to read the keepReporting queues within SQS's six hours:
   * the reads are what keep those queues reporting, and an age alarm that does not breach on
   * missing data (the app feedback queue's 3 days) would never fire on a queue gone silent.
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/MonitorSQSwithCloudWatch.html
   */
  private warnQueuesFallSilent(queues: number, gaps: (number | undefined)[]) {
    if (queues === 0 || gaps.some((gap) => gap !== undefined && gap <= SQS_ACTIVE_HOURS)) return;
    Annotations.of(this).addWarningV2(
      'ses-smtp:health-queues-fall-silent',
      `health checks schedules: neither runs at least every ${SQS_ACTIVE_HOURS} hours, yet each run's read of ${queues} queue(s) (dead-letter and feedback queues) is what keeps SQS reporting them (a queue is active for CloudWatch up to ${SQS_ACTIVE_HOURS} hours after the last call on it): between runs their alarms can go without data and miss messages nobody takes. Set quotaSchedule (health.quotaSchedule) to "rate(1 hour)", the default, or another rate of at most ${SQS_ACTIVE_HOURS} hours`,
    );
  }

  /**
   * An alarm that says when the runs of `schedule` stop: no RunFinished point of `run` for the
   * schedule's longest gap and two hours. The check alarms keep their last state between runs
   * (IGNORE), so without this a rule disabled, a permission removed, every invocation failing or
   * the metrics' log group deleted would leave them green. It tells by INSUFFICIENT_DATA (every
   * point of its range missing, TreatMissingData MISSING), which it notifies like ALARM: a new
   * alarm starts there, so a new environment is not reported before its first run. CloudWatch
   * evaluates at most 7 days; a schedule with longer gaps (or one it cannot tell) gets a warning.
   */
  private watchRuns(
    id: string,
    what: string,
    schedule: events.Schedule,
    gap: number | undefined,
    run: 'all' | 'quota',
  ) {
    const expression = schedule.expressionString;
    const periods = gap === undefined ? undefined : Math.ceil(gap) + 2;
    if (periods === undefined || periods > MAX_EVALUATION_HOURS) {
      Annotations.of(this).addWarningV2(
        'ses-smtp:health-schedule-unwatched',
        `health checks schedule "${expression}": ${gap === undefined ? 'its longest gap between runs cannot be told (L, W or #, or a year)' : `runs up to ${Math.round(gap)} hours apart`}, longer than CloudWatch can watch (7 days), so no alarm says when ${what} stop running`,
      );
      return;
    }
    const alarm = new cloudwatch.Alarm(this, id, {
      metric: this.metricRunFinished(run),
      alarmDescription: `INSUFFICIENT_DATA here means the SES SMTP health function has not run ${what} for ${periods} hours (environment ${this.environmentName}; schedule ${expression}): their alarms show stale states. Check that the function's EventBridge rules are enabled and that its invocations succeed (AWS/Events FailedInvocations), and read the function's log (${this.function.logGroup.logGroupName}).`,
      threshold: 1,
      evaluationPeriods: periods,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
      actionsEnabled: true,
    });
    this.notify(alarm).addInsufficientDataAction(new actions.SnsAction(this.topic));
  }

  /**
   * An alarm on checks that keep failing to tell (throttled or failing AWS calls, a resolver that
   * does not answer, SMTP's temporary answers, a consent lookup that fails): such a check publishes
   * no point, so its alarm keeps the last state, which is right for a day and blind for a week.
   * ALARM when UNDETERMINED_RUNS runs of every check within as many of the schedule's longest gaps
   * and an hour (73 hours for rate(1 day)) each had a check that could not tell. The window always
   * holds the last 3 runs, so the alarm stays on while they go on, even when a run's time crosses
   * an hour's edge; it may hold a fourth (3 of the last 4 runs alarm), as CloudWatch counts every
   * real point of its evaluation range, which reaches a little further when points are few. A run
   * that tells clears it within about an hour. Fewer runs where 3 gaps pass CloudWatch's 7 days;
   * none below 2. Points are hourly (Minimum): a run every few minutes counts by the hour. A run
   * that did not finish writes no point: the watchers' case.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
   */
  private watchUndetermined(gap: number | undefined, cliOptions: string) {
    if (gap === undefined) return; // the runs-stopped watcher warns about such a schedule
    const hoursPerRun = Math.max(1, gap);
    // The hour more keeps the oldest of the runs in while a later run lands an hour later.
    const runs = Math.min(UNDETERMINED_RUNS, Math.floor((MAX_EVALUATION_HOURS - 1) / hoursPerRun));
    if (runs < 2) return;
    const periods = Math.ceil(runs * hoursPerRun) + 1;
    this.alarm('UndeterminedAlarm', this.metricChecksUndetermined('all'), {
      alarmDescription: `SES SMTP health checks could not tell in ${runs} runs of every check within ${periods} hours (environment ${this.environmentName}): a check that cannot tell publishes no point and its alarm keeps its last state, so a fault there goes unseen. The function's log (${this.function.logGroup.logGroupName}) names each check ("could not tell") and why: AWS calls throttled or failing (its role, AWS Health), a resolver that does not answer, SES's temporary SMTP answers, a rotation left unfinished. npx --no -- ses-smtp doctor ${cliOptions} runs the same checks from where you are.`,
      threshold: 1,
      evaluationPeriods: periods,
      datapointsToAlarm: runs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** The CheckPassed metric of one check (1 passed, 0 failed or warned). */
  public metricCheck(checkId: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.healthMetric(CHECK_METRIC, { Check: checkId }, 'Minimum', props);
  }

  /** One point per finished run of a schedule: `all` (every check) or `quota` (the hourly run). */
  public metricRunFinished(run: 'all' | 'quota', props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.healthMetric(RUN_METRIC, { Run: run }, 'SampleCount', props);
  }

  /** Per finished run of a schedule, how many checks could not tell (published no CheckPassed point). */
  public metricChecksUndetermined(
    run: 'all' | 'quota',
    props: cloudwatch.MetricOptions = {},
  ): cloudwatch.Metric {
    return this.healthMetric(UNDETERMINED_METRIC, { Run: run }, 'Minimum', props);
  }

  /** A quota figure the function publishes (see QUOTA_METRICS). */
  public metricQuota(metricName: QuotaMetricName, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.healthMetric(metricName, {}, 'Maximum', props);
  }

  /** A metric of the function's EMF lines: hourly, by environment and `dimensions`. */
  private healthMetric(
    metricName: string,
    dimensions: Record<string, string>,
    statistic: string,
    props: cloudwatch.MetricOptions,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: HEALTH_NAMESPACE,
      metricName,
      dimensionsMap: { Environment: this.environmentName, ...dimensions },
      statistic,
      period: Duration.hours(1),
      ...props,
    });
  }

  /** Read-only calls, on the environment's own resources where the action has a resource type. */
  private grantChecks(props: HealthChecksProps) {
    const fn = this.function;
    const stack = Stack.of(this);
    if (props.keepReporting?.length) {
      // The attributes only: no message is read, so neither the queue's key nor ReceiveMessage.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadTheQueuesAttributes',
          actions: ['sqs:GetQueueAttributes'],
          resources: props.keepReporting.map((q) => q.queueArn),
        }),
      );
    }
    const sesResources = [props.identity.emailIdentityArn];
    const sesActions = ['ses:GetEmailIdentity'];
    if (props.configurationSet) {
      // Its switches and reputation metrics; whether an event destination publishes its feedback.
      sesActions.push('ses:GetConfigurationSet', 'ses:GetConfigurationSetEventDestinations');
      sesResources.push(
        stack.formatArn({
          service: 'ses',
          resource: 'configuration-set',
          resourceName: props.configurationSet.configurationSetName,
        }),
      );
    }
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheIdentityAndConfigurationSet',
        actions: sesActions,
        resources: sesResources,
      }),
    );
    if (props.webhook) {
      // Whether the webhook confirmed its subscription: this topic's subscriptions only.
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ListTheWebhookTopicsSubscriptions',
          actions: ['sns:ListSubscriptionsByTopic'],
          resources: [props.webhook.topic.topicArn],
        }),
      );
    }
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadAccountStatusAndSendMetrics',
        // Neither action has a resource type: IAM accepts only "*".
        actions: ['ses:GetAccount', 'cloudwatch:GetMetricData'],
        resources: ['*'],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheSmtpUsersKeys',
        // Last use (the previous key's check), whether the current key still exists and is active,
        // and the user's keys that neither AWSCURRENT nor AWSPREVIOUS holds (a repair keeps one);
        // whether it still has a policy (SES accepts the login of a user without, refuses its sends).
        actions: [
          'iam:GetAccessKeyLastUsed',
          'iam:ListAccessKeys',
          'iam:ListUserPolicies',
          'iam:ListAttachedUserPolicies',
          'iam:ListGroupsForUser',
        ],
        resources: [props.smtpUser.userArn],
      }),
    );
    // The secret's value shows whether it holds credentials and which key AWSPREVIOUS holds, and
    // the SMTP login uses AWSCURRENT's (AWSPENDING's version says whether a rotation runs);
    // the function never logs it. Decrypt only through Secrets Manager, in the role's own policy
    // (the key policy is left alone: it trusts the account's IAM policies).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadOnlyThisSecret',
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        resources: [props.secret.secretArn],
      }),
    );
    if (props.secret.encryptionKey) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'DecryptTheSecretThroughSecretsManager',
          actions: ['kms:Decrypt'],
          resources: [props.secret.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.${stack.urlSuffix}` },
          },
        }),
      );
    }
    acknowledgeNagFinding(fn.role!, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:GetAccount (account-level sending status and quota) and cloudwatch:GetMetricData (the AWS/SES Send metric) have no resource type, so IAM only accepts "*"; both are read-only.',
    });
  }

  private alarm(id: string, metric: cloudwatch.IMetric, props: cloudwatch.CreateAlarmOptions) {
    const alarm = new cloudwatch.Alarm(this, id, { ...props, metric, actionsEnabled: true });
    return this.notify(alarm);
  }

  private notify<T extends cloudwatch.Alarm>(alarm: T): T {
    // The topic is read through its interface: any ITopic works (CloudWatch needs the topic's key
    // to allow cloudwatch.amazonaws.com, which OperatorAlarms grants for its own topic).
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  private addAlarms(
    props: HealthChecksProps,
    quotaPercent: PercentLevels,
    sendRatePercent: number,
    cliOptions: string,
  ) {
    const env = props.environmentName;
    const leaked = leakedCredentialSteps(cliOptions);
    for (const check of CHECK_CATALOG) {
      // The webhook check runs (and publishes) only for an environment with a webhook; the ECS
      // services check, once checkEcsServices is given services.
      if (
        check.id === QUOTA.id ||
        check.id === ECS_SERVICES.id ||
        (check.id === WEBHOOK.id && !props.webhook)
      )
        continue;
      this.checkAlarms[check.id] = this.checkAlarm(check, cliOptions);
    }

    // Account-wide figures: alarmed on by one environment of the account and Region (in the
    // order they always had, so that an upgrade leaves the dashboard's alarm panel as it was).
    const accountWide = props.accountAlarms ?? true;
    if (accountWide) this.addQuotaAlarms(props, quotaPercent, sendRatePercent, leaked);

    this.alarm('ErrorsAlarm', this.function.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }), {
      alarmDescription: `The SES SMTP health-check function failed (crash, timeout or bad settings; environment ${env}): the checks after the failure and the run's RunFinished point did not publish. Read its log (${this.function.logGroup.logGroupName}); a settings error names the field.`,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (accountWide) this.addSendAnomalyAlarm(props, leaked);
  }

  /** A check's alarm, its description the catalog's runbook. */
  private checkAlarm(check: CheckInfo, cliOptions: string) {
    // The catalog's runbooks are the doctor's too (run for one environment): name the options once.
    return this.alarm(`Check${pascal(check.id)}Alarm`, this.metricCheck(check.id), {
      alarmDescription: `SES SMTP health check "${check.id}" failed (environment ${this.environmentName}). ${check.runbook}${check.runbook.includes('ses-smtp ') ? ` (options for this environment: ${cliOptions})` : ''} The function's log (${this.function.logGroup.logGroupName}) shows the details.`,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // A check runs once a day: between runs the alarm keeps the state of the last run.
      // (MISSING would turn it INSUFFICIENT_DATA an hour after each run, since every data point
      // of its evaluation range is missing then.) The RunsStopped alarms cover runs that stop.
      // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
  }

  /**
   * Checks that the ECS services restarted after each rotation (their long ARNs, or a service of
   * the stack's serviceArn) exist and are ACTIVE: the restart function only logs one that does not
   * (the first credentials come before the app's services), so an ARN with a typo, or a service
   * recreated in another cluster, would keep the previous key until the next rotation deletes it.
   * The first call adds the check's alarm and the function's ecs:DescribeServices on exactly these
   * services. SesSmtp calls it for every service SmtpCredentials restarts by its ARN (not one of
   * the stack, which the stack's deploy creates).
   */
  public checkEcsServices(...serviceArns: string[]): void {
    const stack = Stack.of(this);
    for (const arn of serviceArns) {
      const key = Token.isUnresolved(arn) ? JSON.stringify(stack.resolve(arn)) : arn;
      if (this.ecsServiceKeys.has(key)) continue;
      this.ecsServiceKeys.add(key);
      this.ecsServiceArns.push(arn);
      if (!this.ecsServicesPolicy) {
        // The service is DescribeServices' only resource type (ecs:cluster is an optional
        // condition key): the grant names each service, its cluster in its long ARN.
        // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
        this.ecsServicesPolicy = new iam.PolicyStatement({
          sid: 'DescribeTheRestartedServicesOnly',
          actions: ['ecs:DescribeServices'],
          resources: [],
        });
        this.function.addToRolePolicy(this.ecsServicesPolicy);
        this.checkAlarms[ECS_SERVICES.id] = this.checkAlarm(ECS_SERVICES, this.cliOptions);
      }
      this.ecsServicesPolicy.addResources(arn);
    }
  }

  /** The alarms on the account's quota and send rate. */
  private addQuotaAlarms(
    props: HealthChecksProps,
    quotaPercent: PercentLevels,
    sendRatePercent: number,
    leaked: string,
  ) {
    const env = props.environmentName;
    for (const level of ['warning', 'critical'] as const) {
      const percent = quotaPercent[level];
      const alarm = this.alarm(
        `Quota${level === 'warning' ? 'Warning' : 'Critical'}Alarm`,
        this.metricQuota(QUOTA_METRICS.quotaUsedPercent),
        {
          alarmDescription: `${level.toUpperCase()}: ${percent} % or more of the account's SES 24-hour sending quota is used (watched by environment ${env}): past 100 % SES answers "Daily message quota exceeded" and sends fail. Find what sends more than usual (a loop, a bulk job); ask for a higher quota in Service Quotas before you reach it. ${leaked}`,
          threshold: percent,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          // Hourly runs, hourly periods: a run late by a minute leaves a period empty. Keep the state.
          treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        },
      );
      if (level === 'critical') this.checkAlarms[QUOTA.id] = alarm;
    }
    this.alarm('SendRateAlarm', this.metricQuota(QUOTA_METRICS.peakSendRatePercent), {
      alarmDescription: `The busiest minute of the last hour reached ${sendRatePercent} % or more of the account's SES maximum send rate (watched by environment ${env}): past 100 % SES answers "Maximum sending rate exceeded" and sends fail. Spread bulk sends out (a queue with a rate limit), or ask for a higher rate in Service Quotas. ${leaked}`,
      threshold: sendRatePercent,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
  }

  /** The anomaly alarm on the account's send volume. */
  private addSendAnomalyAlarm(props: HealthChecksProps, leaked: string) {
    const env = props.environmentName;
    if (props.sendAnomalyDetection ?? true) {
      this.notify(
        new cloudwatch.AnomalyDetectionAlarm(this, 'SendAnomalyAlarm', {
          metric: metricSendingCount('Send', { period: Duration.minutes(15) }),
          stdDevs: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          // No mail sent is not an anomaly to page for.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          actionsEnabled: true,
          alarmDescription: `The account's SES send volume is far above its usual pattern for 30 minutes (anomaly detection, watched by environment ${env}; accurate after about two weeks of history). A bulk job or a loop in the app, or a leaked SMTP password sending spam. ${leaked} Turn this alarm off with health.sendAnomalyDetection false.`,
        }),
      );
    }
  }
}

/**
 * Rotations the stale-use guard stopped, published by the rotation function of the environment
 * `environmentName` (its ENVIRONMENT_NAME). SmtpCredentials.metricRotationBlocked() passes the name
 * its own function publishes: prefer it.
 */
export function metricRotationBlocked(
  environmentName: string,
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: HEALTH_NAMESPACE,
    metricName: ROTATION_BLOCKED_METRIC,
    dimensionsMap: { Environment: environmentName },
    statistic: 'Sum',
    period: Duration.hours(1),
    ...props,
  });
}

/** The stale-use guard's alarm: any rotation it stopped, with what to do. */
export function rotationBlockedAlarmOptions(
  environmentName: string,
  cliOptions: string,
): cloudwatch.CreateAlarmOptions {
  checkCliOptions(cliOptions);
  const env = environmentName;
  return {
    alarmDescription: `A credential rotation STOPPED before deleting the previous SMTP key: SES used it within the quiet period after the last rotation replaced it (environment ${env}). Apps keep sending. The rotation function's log (ERROR "rotation step failed") names the key id (the app's SMTP username). Give that app the current credentials (npx --no -- ses-smtp env ${cliOptions}); once the old key is unused for credentials.previousKeyQuietDays, run npx --no -- ses-smtp rotate with the same options. To rotate anyway (that app stops sending), set credentials.rotateWhilePreviousKeyInUse to true and deploy. No app of yours has that key? Someone else sends with it: npx --no -- ses-smtp revoke ${cliOptions}.`,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
}

function pascal(id: string): string {
  return id.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
}
