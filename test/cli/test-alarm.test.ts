import {
  AlarmHistoryItem,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  MetricAlarm,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { actionOutcome, alarmPeriod, pickAlarm } from '../../lib/cli/commands/test-alarm';
import { awsError } from '../support/fake-aws';
import {
  ALARM_TOPIC_ARN,
  cw,
  expectNoAwsCalls,
  healthyAws,
  healthyZone,
  REGION,
  run,
  stackWithOutputs,
  tmp,
  withSteppingClock,
  writeConfig,
} from './harness';
import { startDnsServer } from '../support/dns-server';
import * as fs from 'node:fs';
import * as path from 'node:path';

const KMS_DENIED =
  'null (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: 4fea0cd9-2182-432e-a0a0-5442996cc605; Proxy: null)';

/**
 * CloudWatch's alarms and their action history, as DescribeAlarms and DescribeAlarmHistory report
 * them. SetAlarmState moves an alarm; a change of state runs the actions of the new state, and each
 * action's outcome is written to the history in CloudWatch's words: published, or `refusal` (what
 * the topic's or its key's policy makes SNS answer), or nothing at all with `silent`.
 */
class FakeCloudWatch {
  readonly alarms: MetricAlarm[] = [];
  readonly history: AlarmHistoryItem[] = [];
  refusal?: string;
  silent = false;
  /** History reads after SetAlarmState before its outcomes show (CloudWatch runs actions async). */
  lag = 0;
  /** More reads before one action's outcome shows than the others' (a slower target). */
  readonly actionLag = new Map<string, number>();
  /** What every history read throws once an alarm was set to ALARM (the network, a throttle). */
  historyError?: Error;
  private fired = false;
  private pending: (() => void)[] = [];
  private clock = Date.now();

  alarm(
    name: string,
    state: MetricAlarm['StateValue'],
    period: number,
    actions = [ALARM_TOPIC_ARN],
    treatMissingData = 'notBreaching',
  ) {
    this.alarms.push({
      AlarmName: name,
      StateValue: state,
      Period: period,
      AlarmActions: actions,
      ActionsEnabled: true,
      TreatMissingData: treatMissingData,
    });
  }

  stateOf(name: string) {
    return this.alarms.find((a) => a.AlarmName === name)?.StateValue;
  }

  /** An outcome already in the history (from before the test). */
  record(name: string, arn: string, refusal?: string, at = new Date(this.clock - 3_600_000)) {
    this.history.push({
      AlarmName: name,
      Timestamp: at,
      HistoryItemType: 'Action',
      HistorySummary:
        refusal === undefined
          ? `Successfully executed action ${arn}`
          : `Failed to execute action ${arn}. Received error: "${refusal}"`,
    });
  }

  wire(): void {
    cw.on(DescribeAlarmsCommand).callsFake((input) => ({
      MetricAlarms: this.alarms.filter(
        (a) =>
          (!input.AlarmNames || input.AlarmNames.includes(a.AlarmName!)) &&
          (!input.ActionPrefix || (a.AlarmActions ?? []).some((x) => x.startsWith(input.ActionPrefix))),
      ),
    }));
    cw.on(DescribeAlarmHistoryCommand).callsFake((input) => {
      if (this.fired && this.historyError) throw this.historyError;
      if (this.pending.length && this.lag-- <= 0) this.pending.splice(0).forEach((show) => show());
      return {
        AlarmHistoryItems: this.history
          .filter(
            (i) =>
              (!input.AlarmName || i.AlarmName === input.AlarmName) &&
              (!input.HistoryItemType || i.HistoryItemType === input.HistoryItemType) &&
              (!input.StartDate || i.Timestamp! >= input.StartDate),
          )
          .sort((a, b) => b.Timestamp!.getTime() - a.Timestamp!.getTime()),
      };
    });
    cw.on(SetAlarmStateCommand).callsFake((input) => {
      const alarm = this.alarms.find((a) => a.AlarmName === input.AlarmName);
      if (!alarm) throw awsError('ResourceNotFound', `alarm ${input.AlarmName} does not exist`, 404);
      const changed = alarm.StateValue !== input.StateValue;
      alarm.StateValue = input.StateValue;
      alarm.StateReason = input.StateReason;
      this.fired ||= input.StateValue === 'ALARM';
      this.clock += 2000;
      if (changed && input.StateValue === 'ALARM' && !this.silent) {
        const at = new Date(this.clock);
        for (const arn of alarm.AlarmActions ?? []) {
          let later = this.actionLag.get(arn) ?? 0;
          const show = () =>
            later-- > 0 ? this.pending.push(show) : this.record(alarm.AlarmName!, arn, this.refusal, at);
          this.pending.push(show);
        }
      }
      return {};
    });
  }
}

let config: string;
let aws: FakeCloudWatch;
beforeEach(() => {
  healthyAws();
  config = writeConfig();
  aws = new FakeCloudWatch();
  aws.wire();
});
const cli = (args: string[], options = {}) => run(['test-alarm', ...args, '--config', config], options);
const setCalls = () => cw.commandCalls(SetAlarmStateCommand).map((c) => c.args[0].input);

describe('test-alarm', () => {
  // A metric math alarm (the credential events' FILL of two rules) has no Period of its own.
  test("a metric math alarm counts by its queries' period, and the question names it", async () => {
    aws.alarm('SesSmtp-prod-AQueueAge-1', 'OK', 300);
    aws.alarms.push({
      AlarmName: 'SesSmtp-prod-CredentialEvents-5',
      StateValue: 'OK',
      AlarmActions: [ALARM_TOPIC_ARN],
      ActionsEnabled: true,
      TreatMissingData: 'notBreaching',
      Metrics: [
        { Id: 'expr_1', Expression: 'FILL(rotated, 0) + FILL(failed, 0)', ReturnData: true },
        { Id: 'rotated', MetricStat: { Metric: {}, Period: 60, Stat: 'Sum' }, ReturnData: false },
        { Id: 'failed', MetricStat: { Metric: {}, Period: 60, Stat: 'Sum' }, ReturnData: false },
      ],
    });
    const r = await cli([], { answer: true });
    expect(r.code).toBe(0);
    expect(r.questions).toEqual([
      expect.stringMatching(
        /^Set alarm SesSmtp-prod-CredentialEvents-5 to ALARM .* at its next evaluation \(its period: 60 s\)\. \[y\/N\] $/,
      ),
    ]);
  });

  test("fires the stack's OK alarm with the shortest period, after asking, and reports the publish", async () => {
    aws.alarm('SesSmtp-prod-AQueueAge-1', 'OK', 300);
    aws.alarm('SesSmtp-prod-Errors-2', 'OK', 60);
    // Someone added a Lambda action to this one: firing it would invoke the function.
    aws.alarm('SesSmtp-prod-Fast-0', 'OK', 10, [
      ALARM_TOPIC_ARN,
      'arn:aws:lambda:eu-west-1:123456789012:function:f',
    ]);
    aws.alarm('SesSmtp-prod-Dlq-3', 'INSUFFICIENT_DATA', 60);
    aws.alarm('SesSmtp-prod-Bounce-4', 'ALARM', 60);
    aws.alarm('Other-app-alarm', 'OK', 10, ['arn:aws:sns:eu-west-1:123456789012:other']);
    const r = await cli([], { answer: true });
    expect(r.code).toBe(0);
    expect(r.questions).toEqual([
      `Set alarm SesSmtp-prod-Errors-2 to ALARM for a test? Its actions run (${ALARM_TOPIC_ARN}): everyone subscribed gets a notification that says it is a test. CloudWatch sets the alarm back at its next evaluation (its period: 60 s). [y/N] `,
    ]);
    expect(setCalls()).toEqual([
      expect.objectContaining({ AlarmName: 'SesSmtp-prod-Errors-2', StateValue: 'ALARM' }),
    ]);
    expect(setCalls()[0].StateReason).toMatch(/^A test by ses-smtp test-alarm, not a real alarm/);
    expect(r.stdout).toBe(
      `✓ CloudWatch published the test of SesSmtp-prod-Errors-2 to ${ALARM_TOPIC_ARN}: each confirmed subscriber gets it (doctor lists them)\n`,
    );
  });

  test("a KMS refusal fails (exit 1) with AWS's error and the key policy to fix", async () => {
    aws.alarm('SesSmtp-prod-Errors-2', 'OK', 60);
    aws.refusal = KMS_DENIED;
    const r = await cli(['--yes']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `✗ CloudWatch could not publish the test of SesSmtp-prod-Errors-2 to ${ALARM_TOPIC_ARN}: ${KMS_DENIED}\n` +
        "    → the topic's KMS key policy must let cloudwatch.amazonaws.com use kms:GenerateDataKey* and kms:Decrypt (this stack's key does: redeploy it with this version, and look for a change made outside CloudFormation)\n",
    );
  });

  test('a topic policy refusal points at the topic policy', async () => {
    aws.alarm('SesSmtp-prod-Errors-2', 'OK', 60);
    aws.refusal = `CloudWatch Alarms is not authorized to perform: SNS:Publish on resource: ${ALARM_TOPIC_ARN}`;
    const r = await cli(['--yes']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("→ the topic's policy must let cloudwatch.amazonaws.com sns:Publish");
  });

  test("an outcome recorded before the test is not taken for the test's", async () => {
    aws.alarm('SesSmtp-prod-Errors-2', 'OK', 60);
    aws.record('SesSmtp-prod-Errors-2', ALARM_TOPIC_ARN, KMS_DENIED, new Date(Date.now() - 60_000));
    aws.lag = 2; // the old outcome is all there is at the first reads
    const ok = await cli(['--yes']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('✓ CloudWatch published the test');

    // And the other way round: an old success does not hide the test's refusal.
    aws.alarms[0].StateValue = 'OK';
    aws.refusal = KMS_DENIED;
    aws.lag = 2;
    const refused = await cli(['--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('✗ CloudWatch could not publish the test');
  });

  test('no outcome within --timeout: exit 1 with the command that reads the history', async () => {
    aws.alarm('SesSmtp-prod-Errors-2', 'OK', 60);
    aws.silent = true;
    const r = await withSteppingClock(() => cli(['--yes', '--timeout', '30']));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `✗ no outcome recorded for ${ALARM_TOPIC_ARN} within 30 s\n` +
        `    → read the alarm's history: aws cloudwatch describe-alarm-history --alarm-name SesSmtp-prod-Errors-2 --history-item-type Action --region ${REGION}\n`,
    );
    // It read the history more than once before it gave up.
    expect(cw.commandCalls(DescribeAlarmHistoryCommand).length).toBeGreaterThan(3);
  });

  // Missing data keeps such an alarm's state: with a quiet metric (a dead-letter queue nobody
  // touches) the test's ALARM would stay, and the next real breach would notify no one.
  test('an alarm whose missing data keeps its state is picked last, and set back after the test', async () => {
    aws.alarm('SesSmtp-prod-DeadLetters-1', 'OK', 60, [ALARM_TOPIC_ARN], 'ignore');
    aws.alarm('SesSmtp-prod-Errors-2', 'OK', 300);
    const picked = await cli(['--yes']);
    expect(picked.code).toBe(0);
    expect(setCalls()).toEqual([expect.objectContaining({ AlarmName: 'SesSmtp-prod-Errors-2' })]);

    cw.resetHistory();
    const r = await cli(['--alarm', 'SesSmtp-prod-DeadLetters-1'], { answer: true });
    expect(r.code).toBe(0);
    expect(r.questions[0]).toContain(
      'everyone subscribed gets a notification that says it is a test. Its missing data keeps its state, so test-alarm sets it back to OK after the test. [y/N] ',
    );
    expect(setCalls().map((c) => [c.AlarmName, c.StateValue])).toEqual([
      ['SesSmtp-prod-DeadLetters-1', 'ALARM'],
      ['SesSmtp-prod-DeadLetters-1', 'OK'],
    ]);
    expect(setCalls()[1].StateReason).toMatch(/^The test by ses-smtp test-alarm is over: back to OK/);
    expect(aws.stateOf('SesSmtp-prod-DeadLetters-1')).toBe('OK');
    expect(r.stdout).toContain(`✓ CloudWatch published the test of SesSmtp-prod-DeadLetters-1`);
  });

  test('an alarm that keeps its state is set back even when the wait fails, to the state it had', async () => {
    aws.alarm('SesSmtp-prod-Rate-1', 'INSUFFICIENT_DATA', 3600, [ALARM_TOPIC_ARN], 'ignore');
    aws.silent = true;
    const timedOut = await withSteppingClock(() => cli(['--yes', '--timeout', '30']));
    expect(timedOut.code).toBe(1);
    expect(setCalls().map((c) => c.StateValue)).toEqual(['ALARM', 'INSUFFICIENT_DATA']);
    expect(aws.stateOf('SesSmtp-prod-Rate-1')).toBe('INSUFFICIENT_DATA');

    cw.resetHistory();
    // The history read before the test answers; the reads after it fail.
    cw.on(DescribeAlarmHistoryCommand)
      .resolvesOnce({ AlarmHistoryItems: [] })
      .rejects(awsError('Throttling', 'Rate exceeded', 400));
    const refused = await cli(['--alarm', 'SesSmtp-prod-Rate-1', '--yes', '--timeout', '30']);
    expect([refused.code, refused.stderr]).toEqual([
      1,
      expect.stringContaining('reading its history failed (Throttling: Rate exceeded)'),
    ]);
    expect(setCalls().map((c) => c.StateValue)).toEqual(['ALARM', 'INSUFFICIENT_DATA']);
    expect(aws.stateOf('SesSmtp-prod-Rate-1')).toBe('INSUFFICIENT_DATA');
  });

  // Left in ALARM, an alarm whose missing data keeps its state runs no action at a real breach.
  test.each([
    ['after the outcomes were read', false],
    ['after the wait failed', true],
  ])(
    'setting it back fails %s: exit 1, the alarm named as left in ALARM, with the command that sets it back',
    async (_when, waitFails) => {
      aws.alarm('SesSmtp-prod-Rate-1', 'OK', 3600, [ALARM_TOPIC_ARN], 'ignore');
      cw.on(SetAlarmStateCommand, { StateValue: 'OK' }).rejects(awsError('Throttling', 'Rate exceeded', 400));
      if (waitFails)
        cw.on(DescribeAlarmHistoryCommand)
          .resolvesOnce({ AlarmHistoryItems: [] })
          .rejects(awsError('Throttling', 'Rate exceeded', 400));
      const r = await withSteppingClock(() => cli(['--yes', '--timeout', '30']));
      expect(r.code).toBe(1);
      expect(aws.stateOf('SesSmtp-prod-Rate-1')).toBe('ALARM');
      expect(r.stderr.trim().split('\n').at(-1)).toBe(
        `ses-smtp: the test left alarm SesSmtp-prod-Rate-1 in ALARM: setting it back to OK failed (Throttling: Rate exceeded), and while it stays in ALARM (its missing data keeps its state) a real breach notifies no one; set it back: aws cloudwatch set-alarm-state --alarm-name SesSmtp-prod-Rate-1 --state-value OK --state-reason 'Set back after a test by ses-smtp test-alarm' --region ${REGION}`,
      );
    },
  );

  test('every alarm in ALARM: exit 1, nothing set', async () => {
    aws.alarm('SesSmtp-prod-Errors-2', 'ALARM', 60);
    const r = await cli(['--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`every alarm that publishes to ${ALARM_TOPIC_ARN} is in ALARM now`);
    expect(setCalls()).toEqual([]);
  });

  test('no alarm publishes to the topic: exit 1, nothing set', async () => {
    const r = await cli(['--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no alarm in ${REGION} publishes to ${ALARM_TOPIC_ARN}`);
    expect(setCalls()).toEqual([]);
  });

  test('--alarm NAME fires that alarm, and is checked first', async () => {
    aws.alarm('SesSmtp-prod-Errors-2', 'OK', 60);
    aws.alarm('Mine', 'OK', 300, ['arn:aws:sns:eu-west-1:123456789012:pager']);
    const r = await cli(['--alarm', 'Mine', '--yes']);
    expect(r.code).toBe(0);
    expect(setCalls()).toEqual([expect.objectContaining({ AlarmName: 'Mine' })]);
    expect(r.stdout).toContain('published the test of Mine to arn:aws:sns:eu-west-1:123456789012:pager');

    const missing = await cli(['--alarm', 'Nope', '--yes']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `ses-smtp: --alarm Nope: no metric alarm of that name in ${REGION} (a composite alarm is not tested: name one of its metric alarms); pass the name as the CloudWatch console shows it (or --region)\n`,
    );

    aws.alarm('Quiet', 'OK', 60, []);
    const quiet = await cli(['--alarm', 'Quiet', '--yes']);
    expect(quiet.code).toBe(2);
    expect(quiet.stderr).toContain('--alarm Quiet: it has no alarm action to test');
    // Actions switched off (put-metric-alarm --no-actions-enabled): firing it notifies nobody.
    aws.alarm('Muted', 'OK', 60);
    aws.alarms.find((a) => a.AlarmName === 'Muted')!.ActionsEnabled = false;
    const muted = await cli(['--alarm', 'Muted', '--yes']);
    expect([muted.code, muted.stderr]).toEqual([
      2,
      'ses-smtp: --alarm Muted: it has no alarm action to test (or its actions are disabled); pick an alarm that notifies a topic\n',
    ]);

    // Actions that are not SNS topics would stop, scale or run things: refused before any change.
    const terminate = 'arn:aws:automate:eu-west-1:ec2:terminate';
    aws.alarm('Fleet', 'OK', 60, [ALARM_TOPIC_ARN, terminate]);
    const fleet = await cli(['--alarm', 'Fleet', '--yes']);
    expect(fleet.code).toBe(2);
    expect(fleet.stderr).toBe(
      `ses-smtp: --alarm Fleet: it has actions that are not SNS topics (${terminate}), which firing it would run: pick an alarm whose actions only notify\n`,
    );

    const firing = await cli(['--alarm', 'Mine', '--yes']);
    expect(firing.code).toBe(1);
    expect(firing.stderr).toContain('--alarm Mine is in ALARM already');
    expect(setCalls()).toHaveLength(1);
  });

  test('"no" changes nothing, exit 1; not on a terminal without --yes, exit 2', async () => {
    aws.alarm('SesSmtp-prod-Errors-2', 'OK', 60);
    const no = await cli([], { answer: false });
    expect(no.code).toBe(1);
    expect(no.stderr).toContain('nothing changed (test-alarm not confirmed)');
    const json = await cli(['--json'], { answer: false });
    expect([json.code, JSON.parse(json.stdout)]).toEqual([
      1,
      { ok: false, error: 'nothing changed (test-alarm not confirmed)' },
    ]);
    const batch = await cli([], { interactive: false, answer: true });
    expect(batch.code).toBe(2);
    expect(batch.stderr).toContain('not on a terminal, so it cannot ask for confirmation: add --yes');
    expect(setCalls()).toEqual([]);
  });

  test('an alarm with two topics: it waits for the outcome of each, the slower one too', async () => {
    const pager = 'arn:aws:sns:eu-west-1:123456789012:pager';
    aws.alarm('Mine', 'OK', 300, [ALARM_TOPIC_ARN, pager]);
    aws.actionLag.set(pager, 2);
    const r = await cli(['--alarm', 'Mine', '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`published the test of Mine to ${ALARM_TOPIC_ARN}`);
    expect(r.stdout).toContain(`published the test of Mine to ${pager}`);
    expect(r.waits).toEqual([5000, 5000]);
  });

  // The alarm fired and its actions run: a rerun would notify the subscribers again.
  test('a history read that fails after the alarm fired: says it was sent and where the outcome shows, exit 1', async () => {
    aws.alarm('Mine', 'OK', 300);
    aws.historyError = awsError('ThrottlingException', 'Rate exceeded', 400);
    const r = await cli(['--alarm', 'Mine', '--yes']);
    expect(r.code).toBe(1);
    expect(setCalls()).toHaveLength(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('ses-smtp:'))).toEqual([
      `ses-smtp: the test of Mine was sent (CloudWatch set it to ALARM and runs its actions), but reading its history failed (ThrottlingException: Rate exceeded); to see the outcome, read the alarm's history: aws cloudwatch describe-alarm-history --alarm-name Mine --history-item-type Action --region eu-west-1 (running test-alarm again would notify the subscribers a second time)`,
    ]);
  });

  test('--json: the alarm and each action', async () => {
    aws.alarm('SesSmtp-prod-Errors-2', 'OK', 60);
    aws.refusal = KMS_DENIED;
    const r = await cli(['--yes', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      alarm: 'SesSmtp-prod-Errors-2',
      actions: [{ arn: ALARM_TOPIC_ARN, result: 'failed', error: KMS_DENIED }],
    });
  });

  test('a stack without the output OperatorAlarmTopicArn: one line with the fix, exit 2, nothing set', async () => {
    stackWithOutputs('SesSmtp-prod', {
      SmtpSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x',
    });
    const r = await cli(['--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'ses-smtp: stack SesSmtp-prod has no output OperatorAlarmTopicArn: redeploy it with this version, or pass --alarm NAME\n',
    );
    expect(setCalls()).toEqual([]);
  });

  test('without an environments file and --stack: one line, exit 2, no AWS call', async () => {
    const home = process.cwd();
    process.chdir(fs.mkdtempSync(path.join(tmp, 'app-'))); // no config/environments.json here
    try {
      const r = await run(['test-alarm', '--region', REGION, '--yes']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'ses-smtp: --stack is missing: without an environments file pass --stack NAME (its output OperatorAlarmTopicArn names the alarms), or --alarm NAME\n',
      );
      expectNoAwsCalls();
    } finally {
      process.chdir(home);
    }
  });
});

describe('actionOutcome', () => {
  const item = (summary: string): AlarmHistoryItem => ({ AlarmName: 'a', HistorySummary: summary });
  test("reads CloudWatch's two summaries", () => {
    expect(actionOutcome(item(`Successfully executed action ${ALARM_TOPIC_ARN}`), ALARM_TOPIC_ARN)).toEqual({
      alarmName: 'a',
      actionArn: ALARM_TOPIC_ARN,
      succeeded: true,
      at: undefined,
    });
    expect(
      actionOutcome(
        item(`Failed to execute action ${ALARM_TOPIC_ARN}. Received error: "${KMS_DENIED}"`),
        ALARM_TOPIC_ARN,
      ),
    ).toEqual({
      alarmName: 'a',
      actionArn: ALARM_TOPIC_ARN,
      succeeded: false,
      at: undefined,
      error: KMS_DENIED,
    });
  });
  test('another topic whose ARN starts with this one is not this one', () => {
    expect(
      actionOutcome(item(`Successfully executed action ${ALARM_TOPIC_ARN}-2`), ALARM_TOPIC_ARN),
    ).toBeUndefined();
    expect(actionOutcome(item('Alarm updated from OK to ALARM'), ALARM_TOPIC_ARN)).toBeUndefined();
  });
  test("a refusal is one, whatever its error says: CloudWatch's success text counts at the start only", () => {
    const refusal = `Failed to execute action ${ALARM_TOPIC_ARN}. Received error: "Successfully executed action ${ALARM_TOPIC_ARN} is not what SNS answered"`;
    expect(actionOutcome(item(refusal), ALARM_TOPIC_ARN)).toMatchObject({
      succeeded: false,
      error: `Successfully executed action ${ALARM_TOPIC_ARN} is not what SNS answered`,
    });
  });
  test('pickAlarm: OK before INSUFFICIENT_DATA, then the shortest period, then the name', () => {
    const a = (AlarmName: string, StateValue: MetricAlarm['StateValue'], Period: number): MetricAlarm => ({
      AlarmName,
      StateValue,
      Period,
      AlarmActions: [ALARM_TOPIC_ARN],
    });
    expect(
      pickAlarm([a('z', 'INSUFFICIENT_DATA', 60), a('b', 'OK', 300), a('a', 'OK', 300)], ALARM_TOPIC_ARN)
        ?.AlarmName,
    ).toBe('a');
    expect(
      pickAlarm([a('z', 'INSUFFICIENT_DATA', 60), a('y', 'ALARM', 10)], ALARM_TOPIC_ARN)?.AlarmName,
    ).toBe('z');
    // A metric math alarm's period is its queries' (the longest): here 600 s, after "b" at 300 s.
    const math = (AlarmName: string, periods: number[]): MetricAlarm => ({
      AlarmName,
      StateValue: 'OK',
      AlarmActions: [ALARM_TOPIC_ARN],
      Metrics: [
        { Id: 'e', Expression: 'm0 + m1', ReturnData: true },
        ...periods.map((Period, i) => ({ Id: `m${i}`, MetricStat: { Metric: {}, Period, Stat: 'Sum' } })),
      ],
    });
    expect(pickAlarm([math('a', [60, 600]), a('b', 'OK', 300)], ALARM_TOPIC_ARN)?.AlarmName).toBe('b');
    expect(pickAlarm([math('c', [60, 120]), a('b', 'OK', 300)], ALARM_TOPIC_ARN)?.AlarmName).toBe('c');
    expect(alarmPeriod({ ...math('d', [60]), Metrics: [{ Id: 'e', Expression: 'x', Period: 900 }] })).toBe(
      900,
    );
    expect(alarmPeriod({ AlarmName: 'none' })).toBeUndefined();
    // The shorter period wins over the name: "z" at 60 s before "b" at 300 s.
    expect(
      pickAlarm([a('b', 'OK', 300), a('z', 'OK', 60), a('c', 'INSUFFICIENT_DATA', 10)], ALARM_TOPIC_ARN)
        ?.AlarmName,
    ).toBe('z');
  });
});

describe('doctor: the alarms can notify', () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  beforeAll(async () => {
    dns = await startDnsServer(healthyZone());
  });
  afterAll(() => dns.close());
  const doctor = () => run(['doctor', '--config', config, '--resolver', dns.address]);
  const line = (stdout: string) => stdout.match(/^.*the alarms (can notify|fire but).*$/m)?.[0];
  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);

  test('the newest outcome is a publish: ✓ with its time and alarm', async () => {
    aws.record('SesSmtp-prod-Errors-2', ALARM_TOPIC_ARN, KMS_DENIED, new Date('2026-11-20T10:00:00Z'));
    aws.record('SesSmtp-prod-Dlq-3', ALARM_TOPIC_ARN, undefined, new Date('2026-11-25T10:00:00Z'));
    aws.record(
      'Other',
      'arn:aws:sns:eu-west-1:123456789012:other',
      KMS_DENIED,
      new Date('2026-11-28T10:00:00Z'),
    );
    const r = await doctor();
    expect(line(r.stdout)).toBe(
      '✓ the alarms can notify (CloudWatch published to the operator topic): last (2026-11-25T10:00:00.000Z, SesSmtp-prod-Dlq-3)',
    );
  });

  test('the newest outcome is a refusal: ✗, exit 1, with the fix and test-alarm', async () => {
    aws.record('SesSmtp-prod-Dlq-3', ALARM_TOPIC_ARN, undefined, daysAgo(10));
    const last = daysAgo(5);
    aws.record('SesSmtp-prod-Errors-2', ALARM_TOPIC_ARN, KMS_DENIED, last);
    const r = await doctor();
    expect(r.code).toBe(1);
    expect(line(r.stdout)).toBe(
      `✗ the alarms fire but tell no one: CloudWatch could not publish to the operator topic (${last.toISOString()}, SesSmtp-prod-Errors-2): ${KMS_DENIED}`,
    );
    expect(r.stdout).toMatch(
      /→ the topic's KMS key policy must let .*; then prove it: ses-smtp test-alarm --env prod/,
    );
  });

  test('no outcome in 30 days: information, and how to prove the path', async () => {
    aws.record('SesSmtp-prod-Errors-2', ALARM_TOPIC_ARN, KMS_DENIED, daysAgo(31));
    const r = await doctor();
    expect(r.stdout).toContain(
      '· the alarms can notify (CloudWatch published to the operator topic): no alarm notified in the last 30 days: to prove the path, fire one: ses-smtp test-alarm --env prod',
    );
  });

  // One read of the account's history, newest first: other topics' actions can fill whole pages.
  test('it reads up to 10 pages: an outcome on the 10th is found, one on the 11th is not', async () => {
    const last = daysAgo(5);
    /** The history in pages of one item: other topics' publishes, the operator topic's refusal on page `at`. */
    const paged = (at: number) =>
      cw.on(DescribeAlarmHistoryCommand).callsFake(({ NextToken }) => {
        const page = NextToken === undefined ? 1 : Number(NextToken);
        const [name, arn] =
          page === at
            ? ['SesSmtp-prod-Errors-2', ALARM_TOPIC_ARN]
            : ['Other', 'arn:aws:sns:eu-west-1:123456789012:other'];
        const summary =
          page === at
            ? `Failed to execute action ${arn}. Received error: "${KMS_DENIED}"`
            : `Successfully executed action ${arn}`;
        return {
          AlarmHistoryItems: [
            { AlarmName: name, Timestamp: last, HistoryItemType: 'Action', HistorySummary: summary },
          ],
          NextToken: String(page + 1),
        };
      });
    const tokens = () => cw.commandCalls(DescribeAlarmHistoryCommand).map((c) => c.args[0].input.NextToken);

    paged(10);
    const tenth = await doctor();
    expect(tenth.code).toBe(1);
    expect(line(tenth.stdout)).toBe(
      `✗ the alarms fire but tell no one: CloudWatch could not publish to the operator topic (${last.toISOString()}, SesSmtp-prod-Errors-2): ${KMS_DENIED}`,
    );
    expect(tokens()).toEqual([undefined, '2', '3', '4', '5', '6', '7', '8', '9', '10']);

    cw.resetHistory();
    paged(11);
    const eleventh = await doctor();
    expect(eleventh.stdout).toContain(
      '· the alarms can notify (CloudWatch published to the operator topic): no alarm notified in the last 30 days',
    );
    expect(tokens()).toHaveLength(10);
  });

  test('history refused: could not tell', async () => {
    cw.on(DescribeAlarmHistoryCommand).rejects(awsError('AccessDenied', 'not authorized', 403));
    const r = await doctor();
    expect(r.stdout).toContain(
      '· the alarms can notify (CloudWatch published to the operator topic): could not tell: AccessDenied (it reads cloudwatch:DescribeAlarmHistory)',
    );
  });
});
