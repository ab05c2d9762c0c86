import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMESPACE } from '../../lambda/ses-feedback/process';
import { ReputationMonitoring } from '../../lib/constructs/reputation-monitoring';
import { FEEDBACK_METRICS_NAMESPACE } from '../../lib/constructs/sending-feedback';
import { buildStack, synthStack } from '../helpers';

type Alarm = Record<string, unknown> & {
  Dimensions?: { Name: string; Value: unknown }[];
  AlarmDescription?: { 'Fn::Join': [string, unknown[]] };
};
const alarmsOf = (template: Template): Alarm[] =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as Alarm);

describe('ReputationMonitoring', () => {
  test.each([
    ['Reputation.BounceRate', 'account', [0.02, 0.05]],
    ['Reputation.BounceRate', 'configuration set', [0.02, 0.05]],
    ['Reputation.ComplaintRate', 'account', [0.0005, 0.001]],
    ['Reputation.ComplaintRate', 'configuration set', [0.0005, 0.001]],
  ])(
    '%s (%s): warning and critical alarms on the fraction; a quiet hour keeps the state (missing data ignored)',
    (metricName, scope, levels) => {
      const { template } = synthStack();
      const matching = alarmsOf(template).filter(
        (a) =>
          a.MetricName === metricName &&
          (scope === 'account' ? a.Dimensions === undefined : a.Dimensions !== undefined),
      );
      expect(matching.map((a) => a.Threshold).sort()).toEqual(levels);
      for (const alarm of matching) {
        expect(alarm).toMatchObject({
          Namespace: 'AWS/SES',
          Statistic: 'Maximum',
          Period: 3600,
          EvaluationPeriods: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          // As the SES guide advises: an hour without mail must not send a false "OK".
          TreatMissingData: 'ignore',
          AlarmActions: [{ Ref: expect.stringMatching(/^OperatorAlarmsTopic/) }],
        });
        if (scope !== 'account') {
          expect(alarm.Dimensions).toEqual([
            {
              Name: 'ses:configuration-set',
              Value: { Ref: expect.stringMatching(/^SendingFeedbackConfigurationSet/) },
            },
          ]);
        }
        // The text, then the feedback handler's log group (a Ref) that it names.
        expect(alarm.AlarmDescription?.['Fn::Join'][1][0]).toMatch(
          /^(WARNING|CRITICAL): SES (bounce|complaint) rate .* AWS reviews an account at .* may pause its sending at/,
        );
      }
    },
  );

  test('levels come from config (percent in config, fraction in the alarm)', () => {
    const { template } = synthStack({
      alarms: {
        bounceRatePercent: { warning: 1, critical: 3 },
        complaintRatePercent: { warning: 0.02, critical: 0.08 },
      },
    });
    const thresholds = (name: string) =>
      [
        ...new Set(
          alarmsOf(template)
            .filter((a) => a.MetricName === name)
            .map((a) => a.Threshold),
        ),
      ].sort();
    expect(thresholds('Reputation.BounceRate')).toEqual([0.01, 0.03]);
    expect(thresholds('Reputation.ComplaintRate')).toEqual([0.0002, 0.0008]);
  });

  // 0.07 / 100 is 0.0007000000000000001 in floating point: "at or above 0.07 %" would then miss a
  // rate of exactly 0.0007, and the dashboard's line would sit a hair off the alarm's level.
  test('a level in percent becomes the fraction it names, in the alarm and on the dashboard', () => {
    const { template } = synthStack({
      alarms: { complaintRatePercent: { warning: 0.07, critical: 0.35 } },
    });
    const thresholds = alarmsOf(template)
      .filter((a) => a.MetricName === 'Reputation.ComplaintRate')
      .map((a) => a.Threshold);
    expect([...new Set(thresholds)].sort()).toEqual([0.0007, 0.0035]);
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    expect(body).toContain('\\"value\\":0.0007,');
    expect(body).toContain('\\"value\\":0.0035,');
  });

  test('dead-letter queue and handler errors are alarmed on', () => {
    const alarms = alarmsOf(synthStack().template);
    expect(alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toMatchObject({
      Namespace: 'AWS/SQS',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [expect.stringMatching(/^SendingFeedbackDeadLetterQueue/), 'QueueName'] },
        },
      ],
      Threshold: 1,
      TreatMissingData: 'ignore',
    });
    const handlerErrors = alarms.find(
      (a) => a.MetricName === 'Errors' && JSON.stringify(a.Dimensions).includes('SendingFeedbackHandler'),
    );
    expect(handlerErrors).toMatchObject({
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      Period: 300,
      TreatMissingData: 'notBreaching',
    });
    // Counts that should stay zero: no data means nothing failed. Rates: no data means no mail.
    // The dead-letter queue's depth: no data (a queue nobody touches) keeps the state.
    const ours = alarms.filter(
      (a) =>
        a.MetricName &&
        // By the metric, not the text (the rotation alarms' texts name the RotationBlocked alarm).
        !/HealthCheck|SesSmtp\/Health|RotationBlocked|SesSmtp\/Rotation/.test(
          JSON.stringify([a.Namespace, a.MetricName, a.Dimensions]),
        ),
    );
    for (const a of ours) {
      const keeps =
        String(a.MetricName).startsWith('Reputation.') ||
        a.MetricName === 'ApproximateNumberOfMessagesVisible';
      expect([a.MetricName, a.TreatMissingData]).toEqual([a.MetricName, keeps ? 'ignore' : 'notBreaching']);
    }
    expect(ours).toHaveLength(14);
    // 8 reputation + DLQ + queue age + SNS delivery + handler errors + 2 rotation alarms + credential
    // event delivery + the stale-use guard + 18 health alarms (10 checks, 2 quota levels, send rate,
    // send anomaly, 2 watchers of the runs, checks that keep not telling, errors), all to the
    // operator topic.
    expect(alarms).toHaveLength(34);

    for (const a of alarms)
      expect(a.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^OperatorAlarmsTopic/) }]);
  });

  test('credential events EventBridge could not deliver (either rule, FailedInvocations) are alarmed on', () => {
    const { template } = synthStack();
    const rules = template.findResources('AWS::Events::Rule');
    const ruleId = (prefix: string) => Object.keys(rules).find((id) => id.startsWith(prefix))!;
    const [alarm] = Object.entries(template.findResources('AWS::CloudWatch::Alarm'))
      .filter(([id]) => id.startsWith('OperatorAlarmsCredentialEventDeliveryFailuresAlarm'))
      .map(([, a]) => a.Properties);
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: expect.stringMatching(/^OperatorAlarmsTopic/) }],
    });
    const failedInvocations = (ruleName: string) =>
      expect.objectContaining({
        MetricStat: expect.objectContaining({
          Metric: {
            Namespace: 'AWS/Events',
            MetricName: 'FailedInvocations',
            Dimensions: [{ Name: 'RuleName', Value: { Ref: ruleName } }],
          },
          Stat: 'Sum',
        }),
        ReturnData: false,
      });
    expect(alarm.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Expression: 'FILL(rotated, 0) + FILL(failed, 0)', ReturnData: true }),
        failedInvocations(ruleId('SmtpCredentialsRotationSucceededRule')),
        failedInvocations(ruleId('SmtpCredentialsRotationFailedRule')),
      ]),
    );
    expect(alarm.Metrics).toHaveLength(3);
  });

  test('dashboard per environment shows sending, both rates against the levels, queues and rotation', () => {
    const { template } = synthStack();
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard.Properties.DashboardName).toBe('SesSmtp-test');
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    // The alarm panel lists every alarm of the environment, rotation alarms included.
    const alarmIds = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarmIds).toHaveLength(34);
    for (const id of alarmIds) expect(body).toContain(`{"Fn::GetAtt":["${id}","Arn"]}`);
    for (const text of [
      "Sending (account, and this environment's sends, per hour)",
      'Bounce rate (fraction) against the alarm levels',
      'Complaint rate (fraction) against the alarm levels',
      'warning 2 %',
      'critical 0.1 %',
      'Feedback queue and dead-letter queue depth',
      'Credential rotation',
      'Reputation.BounceRate',
      'TriggeredRules',
    ]) {
      expect(body).toContain(text);
    }
  });

  // A graph line on a resource other than the one the alarms watch, or a hard-coded Region, shows
  // an empty or wrong graph while every alarm is right: follow each line to its resource.
  test("the dashboard's lines point at the stack's own resources, in the stack's Region", () => {
    const { stack, template } = synthStack();
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    // The body is a Fn::Join of JSON text and tokens: parse it with each token as a placeholder.
    const tokens: unknown[] = [];
    const text = (dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[])
      .map((part) => (typeof part === 'string' ? part : `«${tokens.push(part) - 1}»`))
      .join('');
    const token = (value: unknown) => {
      const m = /^«(\d+)»$/.exec(String(value));
      return m ? tokens[Number(m[1])] : value;
    };
    const widgets = (
      JSON.parse(text) as { widgets: { type: string; properties: Record<string, unknown> }[] }
    ).widgets.map((w) => w.properties);
    const graphs = widgets.filter((w) => w.metrics);
    expect(graphs).toHaveLength(6);
    for (const w of widgets) expect(token(w.region)).toEqual(w.alarms ? undefined : { Ref: 'AWS::Region' });

    /** label -> [namespace, metric name, dimensions] of each plain metric line. */
    const lines = new Map<string, [unknown, unknown, Record<string, unknown>]>();
    for (const w of graphs)
      for (const line of w.metrics as unknown[][]) {
        const options = line[line.length - 1] as { label: string; expression?: string };
        if (options.expression) continue;
        const dims = Object.fromEntries(
          Array.from({ length: (line.length - 3) / 2 }, (_, i) => [line[2 + 2 * i], token(line[3 + 2 * i])]),
        );
        lines.set(options.label, [line[0], line[1], dims]);
      }
    const ref = (c: { node: { defaultChild?: unknown } }) => ({
      Ref: stack.getLogicalId(c.node.defaultChild as never),
    });
    const queueName = (q: { node: { defaultChild?: unknown } }) => ({
      'Fn::GetAtt': [stack.getLogicalId(q.node.defaultChild as never), 'QueueName'],
    });
    const depth = (q: { node: { defaultChild?: unknown } }) => [
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      { QueueName: queueName(q) },
    ];
    const ofFunction = (metric: string, fn: { node: { defaultChild?: unknown } }) => [
      'AWS/Lambda',
      metric,
      { FunctionName: ref(fn) },
    ];
    const set = { 'ses:configuration-set': ref(stack.feedback.configurationSet) };
    expect(Object.fromEntries(lines)).toEqual({
      'sends of this environment': ['AWS/SES', 'Send', set],
      'sends (account)': ['AWS/SES', 'Send', {}],
      deliveries: ['AWS/SES', 'Delivery', {}],
      bounces: ['AWS/SES', 'Bounce', {}],
      complaints: ['AWS/SES', 'Complaint', {}],
      account: expect.anything(),
      'configuration set': expect.anything(),
      queue: depth(stack.feedback.queue),
      'dead-letter queue': depth(stack.feedback.deadLetterQueue),
      'handler errors': ofFunction('Errors', stack.feedback.handler),
      'rotation steps run': ofFunction('Invocations', stack.credentials.rotationFunction),
      'rotation step errors': ofFunction('Errors', stack.credentials.rotationFunction),
      'rotations failed': ['AWS/Events', 'TriggeredRules', { RuleName: expect.anything() }],
    });
    // This environment's sends are what its configuration set's CloudWatch destination publishes:
    // SEND events under the configuration set auto-tag, the set's own name when a message has none.
    const toCloudWatch = Object.values(template.findResources('AWS::SES::ConfigurationSetEventDestination'))
      .map((r) => r.Properties)
      .filter((p) => p.EventDestination.CloudWatchDestination);
    expect(toCloudWatch).toEqual([
      {
        ConfigurationSetName: set['ses:configuration-set'],
        EventDestination: {
          Enabled: true,
          MatchingEventTypes: ['send'],
          CloudWatchDestination: {
            DimensionConfigurations: [
              {
                DimensionName: 'ses:configuration-set',
                DimensionValueSource: 'messageTag',
                DefaultDimensionValue: set['ses:configuration-set'],
              },
            ],
          },
        },
      },
    ]);
    // Each rate graph: the account line and the configuration set's, as the rate alarms watch them.
    const rateLines = graphs
      .filter((w) => String(w.title).includes(' rate '))
      .flatMap((w) => (w.metrics as unknown[][]).map((l) => JSON.stringify(l.slice(0, -1).map(token))));
    expect(rateLines).toEqual(
      ['Reputation.BounceRate', 'Reputation.ComplaintRate'].flatMap((name) => [
        JSON.stringify(['AWS/SES', name]),
        JSON.stringify(['AWS/SES', name, 'ses:configuration-set', set['ses:configuration-set']]),
      ]),
    );
    // The failed-rotation line counts the rule the RotationFailed alarm counts.
    const failedAlarm = alarmsOf(template).find((a) => a.MetricName === 'TriggeredRules');
    expect(failedAlarm?.Dimensions).toEqual([
      { Name: 'RuleName', Value: lines.get('rotations failed')![2].RuleName },
    ]);
  });

  // An alarm without a Unit evaluates the data of whatever unit was published; one whose Unit
  // differs from the published one (our EMF metrics have none or Count, AWS's their own) gets no
  // data, ever.
  test('no alarm names a Unit', () => {
    const alarms = alarmsOf(synthStack().template);
    expect(alarms.filter((a) => a.Unit !== undefined)).toEqual([]);
    for (const a of alarms)
      for (const m of (a.Metrics ?? []) as { MetricStat?: { Unit?: string } }[])
        expect(m.MetricStat?.Unit).toBeUndefined();
  });

  test.each([
    [
      { warning: 5, critical: 2 },
      'bounceRatePercent must have 0 < warning < critical < 10 (the rate at which AWS may pause sending), got: warning 5, critical 2',
    ],
    [
      { warning: 5, critical: 12 },
      'bounceRatePercent must have 0 < warning < critical < 10 (the rate at which AWS may pause sending), got: warning 5, critical 12',
    ],
  ])('refuses bounce levels %j', (bounceRatePercent, message) => {
    const stack = buildStack();
    expect(
      () =>
        new ReputationMonitoring(stack, 'Again', {
          environmentName: 'x',
          alarms: stack.operatorAlarms,
          feedback: stack.feedback,
          credentials: stack.credentials,
          bounceRatePercent,
        }),
    ).toThrow(message);
  });

  // One leak pages once, not once per environment of the account and Region.
  test('accountAlarms: false leaves out every alarm on account-wide figures; the configuration set keeps its own', () => {
    const alarms = alarmsOf(synthStack({ alarms: { accountAlarms: false } }).template);
    const rates = alarms.filter((a) => String(a.MetricName).startsWith('Reputation.'));
    expect(rates).toHaveLength(4);
    for (const a of rates) {
      expect(a.Dimensions).toEqual([{ Name: 'ses:configuration-set', Value: expect.anything() }]);
    }
    const accountWide = (a: (typeof alarms)[number]) =>
      (String(a.MetricName).startsWith('Reputation.') && a.Dimensions === undefined) ||
      ['QuotaUsedPercent', 'PeakSendRatePercent'].includes(String(a.MetricName)) ||
      JSON.stringify(a.Metrics ?? '').includes('"MetricName":"Send"');
    const all = alarmsOf(synthStack().template);
    // The 4 account rate alarms, the 2 quota alarms, the send-rate and the send anomaly alarms.
    expect(all.filter(accountWide)).toHaveLength(8);
    expect(alarms.filter(accountWide)).toEqual([]);
    expect(alarms).toHaveLength(all.length - 8);
  });

  test("the alarm panel also lists alarms added after the dashboard (it reads the sink's live list)", () => {
    const stack = buildStack();
    const late = stack.operatorAlarms.alarmOnAny(
      'LateAlarm',
      new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }),
      'added after the dashboard',
    );
    const template = Template.fromStack(stack);
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const lateId = stack.getLogicalId(late.node.defaultChild as cloudwatch.CfnAlarm);
    expect(JSON.stringify(dashboard.Properties.DashboardBody)).toContain(
      `{"Fn::GetAtt":["${lateId}","Arn"]}`,
    );
  });

  test('the dashboard keeps its logical id (it has a fixed name: a replacement would delete the new one)', () => {
    const { template } = synthStack();
    expect(Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))).toEqual([
      'MonitoringDashboard0C3675C6',
    ]);
  });

  test("the handler's metric namespace is the one the dashboard searches", () => {
    expect(FEEDBACK_METRICS_NAMESPACE).toBe(METRIC_NAMESPACE);
  });
});
