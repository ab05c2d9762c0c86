import { setTimeout as delay } from 'node:timers/promises';
import {
  AlarmHistoryItem,
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  MetricAlarm,
  SetAlarmStateCommand,
  type StateValue,
} from '@aws-sdk/client-cloudwatch';
import type { CheckResult } from '../output';
import { CliContext } from '../context';
import { CheckFailed, errorLine, UsageError } from '../errors';
import { shellOption } from '../shell';

/** An SNS topic's ARN: the only kind of alarm action this fires (others stop, scale or run things). */
const SNS_ARN = /^arn:aws[a-z-]*:sns:/;

/** Between two reads of the alarm's history, until each action has an outcome or --timeout. */
const POLL_MS = 5000;

/*
 * An alarm that fires but cannot publish looks like coverage and tells no one: CloudWatch needs the
 * topic policy's sns:Publish and, for an encrypted topic, the key policy's kms:GenerateDataKey* and
 * kms:Decrypt, and a refusal shows only as one line of the alarm's history ("Failed to execute
 * action arn:aws:sns:... Received error: ..."). No template test can prove AWS accepts those grants;
 * these two read that line: `test-alarm` after making an alarm fire, `doctor` from past alarms.
 */

/** What CloudWatch recorded for one of an alarm's actions: published, or refused and why. */
export interface ActionOutcome {
  readonly alarmName: string;
  readonly actionArn: string;
  readonly succeeded: boolean;
  readonly at?: Date;
  /** CloudWatch's error text when it failed (the service's words, no secret in them). */
  readonly error?: string;
}

/**
 * The outcome an Action item of the alarm history records for `actionArn`, if it is about that
 * action. CloudWatch writes "Successfully executed action ARN" or "Failed to execute action ARN.
 * Received error: "..."" (the summary; its HistoryData is not documented).
 */
export function actionOutcome(item: AlarmHistoryItem, actionArn: string): ActionOutcome | undefined {
  const summary = item.HistorySummary ?? '';
  const at = summary.indexOf(` action ${actionArn}`);
  const after = summary.charAt(at + ` action ${actionArn}`.length);
  if (at < 0 || !['', '.', ' '].includes(after)) return undefined;
  const succeeded = /^Successfully executed\b/i.test(summary);
  if (!succeeded && !/^Failed to execute\b/i.test(summary)) return undefined;
  const error = /Received error:\s*"?(.*?)"?\s*$/s.exec(summary)?.[1];
  return {
    alarmName: item.AlarmName ?? '',
    actionArn,
    succeeded,
    at: item.Timestamp,
    ...(!succeeded && { error: error || summary }),
  };
}

/** What to change for an action CloudWatch could not run, from its error text. */
export function actionFix(outcome: ActionOutcome, region: string): string {
  const error = outcome.error ?? '';
  if (/KMS|encryption key/i.test(error)) {
    return "the topic's KMS key policy must let cloudwatch.amazonaws.com use kms:GenerateDataKey* and kms:Decrypt (this stack's key does: redeploy it with this version, and look for a change made outside CloudFormation)";
  }
  if (/SNS:Publish|not authorized/i.test(error)) {
    return "the topic's policy must let cloudwatch.amazonaws.com sns:Publish for this account's alarms (redeploy the stack with this version, and look for a policy changed outside CloudFormation)";
  }
  return historyCommand(outcome.alarmName, region);
}

/** Where CloudWatch says what became of an alarm's actions. */
function historyCommand(alarmName: string, region: string): string {
  return `read the alarm's history: aws cloudwatch describe-alarm-history ${shellOption('--alarm-name', alarmName)} --history-item-type Action --region ${region}`;
}

/** The stack's alarms that publish to `topicArn` (DescribeAlarms by action prefix, every page). */
async function alarmsOf(cw: CloudWatchClient, topicArn: string): Promise<MetricAlarm[]> {
  const alarms: MetricAlarm[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cw.send(
      new DescribeAlarmsCommand({ ActionPrefix: topicArn, AlarmTypes: ['MetricAlarm'], NextToken }),
    );
    alarms.push(...(page?.MetricAlarms ?? []));
    NextToken = page?.NextToken;
  } while (NextToken);
  return alarms;
}

/** The Action items of one alarm's history since `since`, newest first. */
async function actionHistory(
  cw: CloudWatchClient,
  alarmName: string,
  since: Date,
): Promise<AlarmHistoryItem[]> {
  const page = await cw.send(
    new DescribeAlarmHistoryCommand({
      AlarmName: alarmName,
      HistoryItemType: 'Action',
      StartDate: since,
      ScanBy: 'TimestampDescending',
      MaxRecords: 100,
    }),
  );
  return page?.AlarmHistoryItems ?? [];
}

/** The operator topic of the stack: its output OperatorAlarmTopicArn. */
async function operatorTopic(ctx: CliContext): Promise<string> {
  if (ctx.stackName === undefined) {
    throw new UsageError(
      '--stack is missing: without an environments file pass --stack NAME (its output OperatorAlarmTopicArn names the alarms), or --alarm NAME',
    );
  }
  return ctx.stackOutput('OperatorAlarmTopicArn', {
    notFound: 'pass --alarm NAME (and --region), or --stack where it lives',
    several: 'pass --alarm NAME (which one is meant is not known)',
    missing: 'redeploy it with this version, or pass --alarm NAME',
  });
}

/**
 * An alarm whose missing data keeps its state stays in the ALARM a test set while its metric has
 * no data (a quiet dead-letter queue, a quiet reputation rate): the test must set it back.
 */
const keepsState = (a: MetricAlarm) => a.TreatMissingData === 'ignore';

/**
 * How often CloudWatch evaluates the alarm, in seconds: its Period, or for a metric math alarm
 * (which has none) the longest period of its queries.
 */
export function alarmPeriod(alarm: MetricAlarm): number | undefined {
  if (alarm.Period) return alarm.Period;
  const periods = (alarm.Metrics ?? [])
    .map((m) => m.Period ?? m.MetricStat?.Period ?? 0)
    .filter((p) => p > 0);
  return periods.length ? Math.max(...periods) : undefined;
}

/**
 * The alarm to fire: one not in ALARM (a transition runs the alarm actions; staying in ALARM runs
 * none), one that CloudWatch sets back by itself before one whose missing data keeps its state,
 * OK before INSUFFICIENT_DATA, then the shortest period (CloudWatch sets it back soonest), then by
 * name, so the same alarm is picked each time.
 */
export function pickAlarm(alarms: readonly MetricAlarm[], topicArn: string): MetricAlarm | undefined {
  const rank = (a: MetricAlarm) => (keepsState(a) ? 2 : 0) + (a.StateValue === 'OK' ? 0 : 1);
  return alarms
    .filter((a) => a.StateValue !== 'ALARM' && a.ActionsEnabled !== false)
    .filter((a) => (a.AlarmActions ?? []).includes(topicArn))
    .filter((a) => (a.AlarmActions ?? []).every((arn) => SNS_ARN.test(arn)))
    .sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (alarmPeriod(a) ?? Infinity) - (alarmPeriod(b) ?? Infinity) ||
        (a.AlarmName ?? '').localeCompare(b.AlarmName ?? ''),
    )[0];
}

/**
 * Reads the alarm's history until each action has an outcome after `before` that is not one of
 * `seen` (recorded before the test), or the timeout: the outcomes found, by action.
 */
async function waitForOutcomes(
  ctx: CliContext,
  cw: CloudWatchClient,
  test: { name: string; actions: string[]; before: Date; seen: Set<string> },
  options: TestAlarmOptions,
): Promise<Map<string, ActionOutcome>> {
  const { name, actions, before, seen } = test;
  const outcomes = new Map<string, ActionOutcome>();
  const sleep = options.sleep ?? delay;
  const deadline = Date.now() + (options.timeoutSeconds ?? 120) * 1000;
  try {
    for (;;) {
      ctx.out.progress(`waiting for CloudWatch to run the actions of ${name} ...`);
      const fresh = (await actionHistory(cw, name, before)).filter(
        (i) => !seen.has(`${i.Timestamp?.toISOString()} ${i.HistorySummary}`),
      );
      for (const arn of actions) {
        if (outcomes.has(arn)) continue;
        const outcome = fresh.map((i) => actionOutcome(i, arn)).find((o) => o !== undefined);
        if (outcome) outcomes.set(arn, outcome);
      }
      if (outcomes.size === actions.length || Date.now() >= deadline) break;
      await sleep(POLL_MS);
    }
  } finally {
    ctx.out.progressDone();
  }
  return outcomes;
}

export interface TestAlarmOptions {
  /** --alarm: the alarm to fire, instead of one of the stack's. */
  readonly alarm?: string;
  /** How long to wait for CloudWatch to record the actions. @default 120 */
  readonly timeoutSeconds?: number;
  readonly confirm: (question: string) => Promise<boolean>;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * `test-alarm`: sets one alarm of the stack to ALARM (SetAlarmState, with a reason that says it is
 * a test), then reads the alarm's history until CloudWatch records the outcome of each of its
 * alarm actions: published to the topic, or refused with AWS's error. Exit 1 when any was refused.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html
 */
export async function testAlarmCommand(ctx: CliContext, options: TestAlarmOptions): Promise<number> {
  const cw = ctx.client(CloudWatchClient);
  let alarm: MetricAlarm | undefined;
  if (options.alarm !== undefined) {
    const found = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [options.alarm] }));
    alarm = found?.MetricAlarms?.[0];
    if (!alarm) {
      throw new UsageError(
        `--alarm ${options.alarm}: no metric alarm of that name in ${ctx.region} (a composite alarm is not tested: name one of its metric alarms); pass the name as the CloudWatch console shows it (or --region)`,
      );
    }
    if (!alarm.AlarmActions?.length || alarm.ActionsEnabled === false) {
      throw new UsageError(
        `--alarm ${options.alarm}: it has no alarm action to test (or its actions are disabled); pick an alarm that notifies a topic`,
      );
    }
    // Other actions would stop, scale or reboot things, or run an SSM action, not notify.
    const others = alarm.AlarmActions.filter((arn) => !SNS_ARN.test(arn));
    if (others.length) {
      throw new UsageError(
        `--alarm ${options.alarm}: it has actions that are not SNS topics (${others.join(', ')}), which firing it would run: pick an alarm whose actions only notify`,
      );
    }
    if (alarm.StateValue === 'ALARM') {
      throw new CheckFailed(
        `--alarm ${options.alarm} is in ALARM already, and staying in ALARM runs no action: pick another alarm, or wait until it is OK`,
      );
    }
  } else {
    const topicArn = await operatorTopic(ctx);
    const alarms = await alarmsOf(cw, topicArn);
    alarm = pickAlarm(alarms, topicArn);
    if (!alarm) {
      throw new CheckFailed(
        alarms.length === 0
          ? `no alarm in ${ctx.region} publishes to ${topicArn}: is the stack deployed in this Region?`
          : `every alarm that publishes to ${topicArn} is in ALARM now, has its actions disabled, or has an action that is not an SNS topic (firing it would run that): fix what they report, or pass --alarm NAME`,
      );
    }
  }
  const name = alarm.AlarmName ?? '';
  const actions = (alarm.AlarmActions ?? []).filter((a) => a.startsWith('arn:'));
  const seconds = alarmPeriod(alarm);
  const period = seconds ? ` (its period: ${seconds} s)` : '';
  // The state to set back: the alarm is OK or INSUFFICIENT_DATA here (one in ALARM was refused).
  const restore = keepsState(alarm) ? (alarm.StateValue ?? 'INSUFFICIENT_DATA') : undefined;
  const back = restore
    ? `Its missing data keeps its state, so test-alarm sets it back to ${restore} after the test`
    : `CloudWatch sets the alarm back at its next evaluation${period}`;
  const question = `Set alarm ${name} to ALARM for a test? Its actions run (${actions.join(', ')}): everyone subscribed gets a notification that says it is a test. ${back}. [y/N] `;
  if (!(await options.confirm(question))) {
    throw new CheckFailed('nothing changed (test-alarm not confirmed)');
  }

  // The newest outcome already recorded: the test's are those after it (CloudWatch's clock, not this one's).
  const before = new Date(Date.now() - 15 * 60_000);
  const earlier = await actionHistory(cw, name, before);
  const seen = new Set(earlier.map((i) => `${i.Timestamp?.toISOString()} ${i.HistorySummary}`));
  await cw.send(
    new SetAlarmStateCommand({
      AlarmName: name,
      StateValue: 'ALARM',
      StateReason: `A test by ses-smtp test-alarm, not a real alarm: it checks that CloudWatch can notify. ${
        restore
          ? `test-alarm sets the alarm back to ${restore} after the test.`
          : 'The alarm returns to its real state at its next evaluation.'
      }`,
    }),
  );

  let outcomes: Map<string, ActionOutcome>;
  try {
    outcomes = await waitForOutcomes(ctx, cw, { name, actions, before, seen }, options);
  } catch (e) {
    // The alarm fired: its actions run without this command. A rerun would notify the subscribers
    // a second time, so the line says where the outcome shows instead.
    // errorLine, not describeError: its advice would be to run it again.
    throw new CheckFailed(
      `the test of ${name} was sent (CloudWatch set it to ALARM and runs its actions), but reading its history failed (${errorLine(e)}); to see the outcome, ${historyCommand(name, ctx.region)} (running test-alarm again would notify the subscribers a second time)`,
    );
  } finally {
    // Even when the wait failed: a test must not leave a red alarm behind, which would also keep
    // the next real breach from notifying (staying in ALARM runs no action).
    if (restore) await setBack(cw, name, restore, ctx.region);
  }

  const results: CheckResult[] = actions.map((arn) => {
    const outcome = outcomes.get(arn);
    if (!outcome) {
      return {
        id: 'test-alarm',
        status: 'fail',
        title: `no outcome recorded for ${arn} within ${options.timeoutSeconds ?? 120} s`,
        fix: historyCommand(name, ctx.region),
      };
    }
    return outcome.succeeded
      ? {
          id: 'test-alarm',
          status: 'ok',
          title: `CloudWatch published the test of ${name} to ${arn}`,
          detail: 'each confirmed subscriber gets it (doctor lists them)',
        }
      : {
          id: 'test-alarm',
          status: 'fail',
          title: `CloudWatch could not publish the test of ${name} to ${arn}`,
          detail: outcome.error,
          fix: actionFix(outcome, ctx.region),
        };
  });
  if (ctx.out.json) {
    ctx.out.document({
      alarm: name,
      actions: actions.map((arn) => {
        const o = outcomes.get(arn);
        return { arn, result: o ? (o.succeeded ? 'published' : 'failed') : 'unknown', error: o?.error };
      }),
    });
  }
  for (const r of results) ctx.out.check(r);
  return results.every((r) => r.status === 'ok') ? 0 : 1;
}

/**
 * Sets an alarm whose missing data keeps its state back to `state` after its test. When that
 * fails, a CheckFailed (in place of any error of the wait) names the alarm left in ALARM and the
 * command that sets it back: a rerun of test-alarm would fire another alarm, and this one would
 * stay in ALARM until its metric has data again.
 */
async function setBack(cw: CloudWatchClient, name: string, state: StateValue, region: string): Promise<void> {
  try {
    await cw.send(
      new SetAlarmStateCommand({
        AlarmName: name,
        StateValue: state,
        StateReason: `The test by ses-smtp test-alarm is over: back to ${state}, the state before it. The next evaluation with data sets the real state.`,
      }),
    );
  } catch (e) {
    throw new CheckFailed(
      `the test left alarm ${name} in ALARM: setting it back to ${state} failed (${errorLine(e)}), and while it stays in ALARM (its missing data keeps its state) a real breach notifies no one; set it back: aws cloudwatch set-alarm-state ${shellOption('--alarm-name', name)} --state-value ${state} --state-reason 'Set back after a test by ses-smtp test-alarm' --region ${region}`,
    );
  }
}

/**
 * For doctor: the newest outcome CloudWatch recorded, over the last `days`, of an alarm action that
 * publishes to `topicArn`. A failure means the alarms fire and tell no one. One read of the
 * account's action history, newest first, up to 10 pages (1,000 actions).
 */
export async function checkAlarmDelivery(
  ctx: CliContext,
  topicArn: string,
  now: Date,
  days = 30,
): Promise<CheckResult> {
  const title = 'the alarms can notify (CloudWatch published to the operator topic)';
  const cw = ctx.client(CloudWatchClient);
  let newest: ActionOutcome | undefined;
  try {
    let NextToken: string | undefined;
    for (let page = 0; page < 10 && !newest; page++) {
      const read = await cw.send(
        new DescribeAlarmHistoryCommand({
          HistoryItemType: 'Action',
          StartDate: new Date(now.getTime() - days * 86_400_000),
          ScanBy: 'TimestampDescending',
          MaxRecords: 100,
          NextToken,
        }),
      );
      newest = (read?.AlarmHistoryItems ?? [])
        .map((i) => actionOutcome(i, topicArn))
        .find((o) => o !== undefined);
      NextToken = read?.NextToken;
      if (!NextToken) break;
    }
  } catch (e) {
    return {
      id: 'alarm-delivery',
      status: 'info',
      title: `${title}: could not tell`,
      detail: `${(e as Error).name} (it reads cloudwatch:DescribeAlarmHistory)`,
    };
  }
  const test = ctx.rerun('test-alarm');
  if (!newest) {
    return {
      id: 'alarm-delivery',
      status: 'info',
      title: `${title}: no alarm notified in the last ${days} days`,
      detail: `to prove the path, fire one: ${test}`,
    };
  }
  const when = newest.at ? ` (${newest.at.toISOString()}, ${newest.alarmName})` : '';
  if (newest.succeeded) return { id: 'alarm-delivery', status: 'ok', title, detail: `last${when}` };
  return {
    id: 'alarm-delivery',
    status: 'fail',
    title: `the alarms fire but tell no one: CloudWatch could not publish to the operator topic${when}`,
    detail: newest.error,
    fix: `${actionFix(newest, ctx.region)}; then prove it: ${test}`,
  };
}
