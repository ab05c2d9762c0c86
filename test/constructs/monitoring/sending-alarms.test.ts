import { NestedStack, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SendingAlarms, SendingAlarmsProps } from '../../../lib/constructs/monitoring/sending-alarms';
import { SendingDashboard } from '../../../lib/constructs/monitoring/sending-dashboard';
import { metricReputationRate } from '../../../lib/constructs/monitoring/ses-metrics';
import { OperatorAlarms } from '../../../lib/constructs/operator-alarms';
import { IFeedbackMonitoring } from '../../../lib/constructs/sending-feedback';
import { IRotationMonitoring } from '../../../lib/constructs/smtp-credentials';
import { testApp } from '../../helpers';

// The monitoring constructs take interfaces: anything that exposes these metrics can be watched.
const count = (metricName: string) =>
  new cloudwatch.Metric({ namespace: 'Test', metricName, statistic: 'Sum' });
const feedback: IFeedbackMonitoring = {
  configurationSetName: 'my-set',
  metricReputationRate: (rate, options) =>
    metricReputationRate(rate, { configurationSetName: 'my-set' }, options),
  metricDeadLetters: () => count('DeadLetters'),
  metricQueueDepth: () => count('QueueDepth'),
  metricHandlerErrors: () => count('HandlerErrors'),
  metricDeliveryFailures: () => count('DeliveryFailures'),
  metricOldestMessageAge: () =>
    new cloudwatch.Metric({ namespace: 'Test', metricName: 'OldestAge', statistic: 'Maximum' }),
  metricHandled: (name) => count(name),
};
const credentials: IRotationMonitoring = {
  rotationLogGroupName: '/aws/lambda/rotation',
  metricRotationFailures: () => count('RotationFailures'),
  metricRotationErrors: () => count('RotationErrors'),
  metricRotationSteps: () => count('RotationSteps'),
};

let defaults: ReturnType<typeof buildWith> | undefined;
/** The stack of these props; without any, the one default stack of this file, built once: read it only. */
function build(props?: Partial<SendingAlarmsProps>) {
  return props === undefined ? (defaults ??= buildWith()) : buildWith(props);
}

function buildWith(props: Partial<SendingAlarmsProps> = {}) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const sink = new OperatorAlarms(stack, 'Ops', { encryptionKey: new kms.Key(stack, 'Key') });
  const alarms = new SendingAlarms(stack, 'Alarms', {
    environmentName: 'prod',
    alarms: sink,
    feedback,
    credentials,
    ...props,
  });
  new SendingDashboard(stack, 'Dashboard', {
    environmentName: 'prod',
    feedback: props.feedback ?? feedback,
    credentials,
    rateThresholds: {
      Bounce: { warning: 2, critical: 5 },
      Complaint: { warning: 0.05, critical: 0.1 },
    },
    alarms: sink.alarms,
  });
  return { alarms, template: Template.fromStack(stack) };
}

const alarmList = (template: Template) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
    (a) => a.Properties as Record<string, unknown>,
  );

describe('SendingAlarms', () => {
  // Failures that reach no other alarm: a handler that takes nothing (its event source mapping
  // off, its role unable to decrypt the queue) fails nothing and dead-letters nothing, only the age
  // of what waits shows it; a queue or key policy that shuts SNS out is a client-side error, which
  // SNS drops at once, so nothing reaches the queue.
  test.each([
    [
      'feedback that waits an hour or more in the queue',
      'OldestAge',
      3600,
      /an hour or more.*not suppressed.*event source mapping/,
    ],
    [
      'a notification SNS fails to deliver',
      'DeliveryFailures',
      1,
      /SNS could not deliver.*queue policy or KMS key.*--revert-drift/,
    ],
  ])('%s raises an alarm', (_what, metricName, threshold, text) => {
    const alarm = alarmList(build().template).find((a) => a.MetricName === metricName);
    expect(alarm).toMatchObject({
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmDescription: expect.stringMatching(text),
    });
  });

  // These alarms mean a policy changed outside CloudFormation. A deploy of the unchanged template
  // leaves it so (a change set compares templates, README "Changed or deleted by hand"): the text
  // gives the drift-aware deploy, of this stack (by its construct path, as the CDK CLI selects it).
  test.each([
    ['DeliveryFailures', undefined, false],
    ['CredentialEvents', 'Stage/MailStack', false],
    // The CDK CLI selects no nested stack: it deploys one with its top-level stack.
    ['CredentialEvents', 'Stage/MailStack', true],
  ])(
    'the %s alarm restores the policies with a drift-aware deploy (%s, nested: %s)',
    (metricName, path, nested) => {
      const app = testApp();
      const [scope, id] = path ? [new Stage(app, 'Stage'), 'MailStack'] : [app, 'Test'];
      const top = new Stack(scope, id, {
        stackName: path ? 'Mail' : undefined,
        env: { account: '123456789012', region: 'eu-west-1' },
      });
      const stack = nested ? new NestedStack(top, 'Inner') : top;
      const sink = new OperatorAlarms(stack, 'Ops', { encryptionKey: new kms.Key(stack, 'Key') });
      new SendingAlarms(stack, 'Alarms', {
        environmentName: 'prod',
        alarms: sink,
        feedback,
        credentials: { ...credentials, metricEventDeliveryFailures: () => count('CredentialEvents') },
      });
      const description: unknown = alarmList(Template.fromStack(stack)).find(
        (a) => a.MetricName === metricName,
      )?.AlarmDescription;
      // In a nested stack the text names the stack by a token: an Fn::Join of its pieces.
      const text =
        typeof description === 'string' ? description : JSON.stringify(description).replace(/","/g, '');
      // CDK CLI 2.1109.0 and older take --revert-drift silently and make a plain deploy.
      expect(text).toContain(
        `a drift-aware one does (CDK CLI 2.1110.0 or later): npx cdk deploy ${path ?? 'Test'} --revert-drift`,
      );
      expect(text).toContain('a deploy of the unchanged template does not restore them');
      expect(text).not.toMatch(/redeploy the stack to restore/);
    },
  );

  // SNS counts every failed attempt to an HTTPS subscription in the topic's
  // NumberOfNotificationsFailed, retries that later deliver included (sns-monitoring-using-
  // cloudwatch.html): the webhook has a topic of its own, so the alarm means the queues only, and
  // its attempts page no one (its dead-letter alarm is its signal); the dashboard shows them.
  test("the delivery-failure alarm is the queues': the webhook's failed attempts raise none, the dashboard shows them", () => {
    const text = String(
      alarmList(build().template).find((a) => a.MetricName === 'DeliveryFailures')?.AlarmDescription,
    );
    expect(text).toContain("The app's webhook has a topic of its own and does not count here");
    expect(text).not.toContain('A webhook counts here');
    expect(text).toContain('"Feedback handled" still counting events');
    expect(text.length).toBeLessThanOrEqual(1024);

    const withWebhook = build({
      feedback: {
        ...feedback,
        metricWebhookDeliveryFailures: (o) => count('WebhookDeliveryFailures').with(o ?? {}),
        metricWebhookDeadLetters: (o) => count('WebhookDeadLetters').with(o ?? {}),
      },
    }).template;
    const watched = alarmList(withWebhook).map((a) => a.MetricName);
    expect(watched).toContain('WebhookDeadLetters');
    expect(watched).not.toContain('WebhookDeliveryFailures');
    const body = JSON.stringify(
      Object.values(withWebhook.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody,
    );
    expect(body).toContain('WebhookDeliveryFailures');
    expect(body).toContain('App webhook: failed delivery attempts');
    const without = JSON.stringify(
      Object.values(build().template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody,
    );
    expect(without).not.toContain('App webhook');
  });

  // A message the handler keeps failing stays its receives long (maxReceiveCount x the visibility
  // timeout) before the dead-letter queue: the age alarm must not take that for "nothing takes them".
  test.each([
    [undefined, 3600, 'an hour or more'],
    [5 * 540, 3600, 'an hour or more'],
    // 10 minutes to spare: retries that end within them of the hour wait for the next one.
    [3000, 3600, 'an hour or more'],
    [3001, 2 * 3600, '2 hours or more'],
    [7 * 540, 2 * 3600, '2 hours or more'],
    [10 * 540, 2 * 3600, '2 hours or more'],
  ])('with retries taking %j s, the age alarm waits %j s', (retrySeconds, threshold, text) => {
    const alarm = alarmList(build({ feedback: { ...feedback, retrySeconds } }).template).find(
      (a) => a.MetricName === 'OldestAge',
    );
    expect(alarm).toMatchObject({ Threshold: threshold, AlarmDescription: expect.stringContaining(text) });
  });

  test("the dead-letter alarm gives the command that moves the messages back, with the queue's ARN and Region", () => {
    const description = (template: Template) =>
      alarmList(template).find((a) => a.MetricName === 'DeadLetters')?.AlarmDescription;
    const arn = 'arn:aws:sqs:eu-west-1:123456789012:dead-letters';
    expect(description(build({ feedback: { ...feedback, deadLetterQueueArn: arn } }).template)).toContain(
      `(aws sqs start-message-move-task --source-arn ${arn} --region eu-west-1).`,
    );
    // An implementation without the ARN: the output that holds it.
    expect(description(build().template)).toContain(
      '(aws sqs start-message-move-task --source-arn <FeedbackDeadLetterQueueArn output> --region eu-west-1).',
    );
  });

  test("an app queue's dead letters raise an alarm that gives the move command; none without an app queue", () => {
    const arn = 'arn:aws:sqs:eu-west-1:123456789012:app-dead-letters';
    const withApp = build({
      feedback: {
        ...feedback,
        appDeadLetterQueueArn: arn,
        metricAppDeadLetters: () => count('AppDeadLetters'),
        metricAppOldestMessageAge: () =>
          new cloudwatch.Metric({ namespace: 'Test', metricName: 'AppOldestAge', statistic: 'Maximum' }),
      },
    });
    expect(withApp.alarms.alarms).toHaveLength(16);
    // An app that takes nothing fails nothing: only the age of what waits shows it, days before
    // SQS deletes the events (7 days).
    expect(alarmList(withApp.template).find((a) => a.MetricName === 'AppOldestAge')).toMatchObject({
      Threshold: 3 * 86400,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmDescription: expect.stringMatching(
        /waited 3 days or more .*SQS deletes each 7 days after it arrived/,
      ),
    });
    expect(alarmList(withApp.template).find((a) => a.MetricName === 'AppDeadLetters')).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
      AlarmDescription: expect.stringMatching(
        new RegExp(
          `^Bounce/complaint events in the app's feedback queue failed every receive .*deletes each 14 days .*` +
            `\\(aws sqs start-message-move-task --source-arn ${arn} --region eu-west-1\\)\\.$`,
        ),
      ),
    });
    // A SendingFeedback without an app queue answers undefined: no alarm.
    const without = build({
      feedback: {
        ...feedback,
        metricAppDeadLetters: () => undefined,
        metricAppOldestMessageAge: () => undefined,
      },
    });
    expect(without.alarms.alarms).toHaveLength(14);
  });

  test("a webhook's dead letters raise an alarm that gives the commands to read and delete them; none without a webhook", () => {
    const url = 'https://sqs.eu-west-1.amazonaws.com/123456789012/webhook-dead-letters';
    const withWebhook = build({
      feedback: {
        ...feedback,
        webhookDeadLetterQueueUrl: url,
        metricWebhookDeadLetters: () => count('WebhookDeadLetters'),
      },
    });
    expect(withWebhook.alarms.alarms).toHaveLength(15);
    expect(alarmList(withWebhook.template).find((a) => a.MetricName === 'WebhookDeadLetters')).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
      AlarmDescription: expect.stringMatching(
        new RegExp(
          `^Bounce/complaint events the app's webhook did not take .*SQS deletes each 14 days .*The suppression list is not affected.*` +
            `\\(aws sqs receive-message --queue-url ${url} --max-number-of-messages 10 --message-attribute-names All --region eu-west-1\\)` +
            // A message read and left comes back once its visibility timeout ends: the app would get it again.
            `.*\\(aws sqs delete-message --queue-url ${url} --receipt-handle HANDLE --region eu-west-1\\)\\.$`,
        ),
      ),
    });
    const without = build({ feedback: { ...feedback, metricWebhookDeadLetters: () => undefined } });
    expect(without.alarms.alarms).toHaveLength(14);
    // A feedback setup that does not know its queue's URL: both commands name the output that does.
    const unknownUrl = build({
      feedback: { ...feedback, metricWebhookDeadLetters: () => count('WebhookDeadLetters') },
    });
    const description = alarmList(unknownUrl.template).find(
      (a) => a.MetricName === 'WebhookDeadLetters',
    )?.AlarmDescription;
    expect(String(description).split('--queue-url <WebhookFeedbackDeadLetterQueueUrl output> ')).toHaveLength(
      3,
    );
  });

  test("the queue-age alarm names the handler's event source mappings in the stack's Region", () => {
    const description = alarmList(
      build({ feedback: { ...feedback, handlerFunctionName: 'handler-fn' } }).template,
    ).find((a) => a.MetricName === 'OldestAge')?.AlarmDescription;
    expect(description).toContain(
      '(aws lambda list-event-source-mappings --function-name handler-fn --region eu-west-1)',
    );
    // With the mapping's UUID, the command that enables it (Lambda resumes where it stopped).
    const withMapping = alarmList(
      build({
        feedback: { ...feedback, handlerFunctionName: 'handler-fn', handlerEventSourceMappingId: 'uuid-1' },
      }).template,
    ).find((a) => a.MetricName === 'OldestAge')?.AlarmDescription;
    expect(withMapping).toContain(
      '(aws lambda list-event-source-mappings --function-name handler-fn --region eu-west-1; to enable it: aws lambda update-event-source-mapping --uuid uuid-1 --enabled --region eu-west-1)',
    );
  });

  test('rates for the account and the configuration set, then pipeline and rotation alarms', () => {
    const { alarms, template } = build();
    expect(alarms.alarms).toHaveLength(14);
    const rates = alarmList(template).filter((a) => String(a.MetricName).startsWith('Reputation.'));
    expect(rates.filter((a) => a.Dimensions === undefined)).toHaveLength(4);
    expect(rates.filter((a) => JSON.stringify(a.Dimensions ?? []).includes('my-set'))).toHaveLength(4);
    for (const name of ['HandlerErrors', 'RotationFailures', 'RotationErrors']) {
      expect(alarmList(template).find((a) => a.MetricName === name)).toMatchObject({
        Namespace: 'Test',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
    }
    // A dead-letter queue's depth: a queue nobody touches may stop reporting while it still holds
    // messages, which must not read as "OK".
    expect(alarmList(template).find((a) => a.MetricName === 'DeadLetters')).toMatchObject({
      Namespace: 'Test',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
  });

  test.each([
    ['Reputation.BounceRate', 'bounce', 'AWS reviews an account at 5 % and may pause its sending at 10 %'],
    [
      'Reputation.ComplaintRate',
      'complaint',
      'AWS reviews an account at 0.1 % and may pause its sending at 0.5 %',
    ],
  ])('%s alarms say what the level means and what to do', (metricName, word, levels) => {
    for (const a of alarmList(build().template).filter((x) => x.MetricName === metricName)) {
      expect(a.AlarmDescription).toMatch(
        new RegExp(
          `^(WARNING|CRITICAL): SES ${word} rate \\((account|configuration set), environment prod\\)`,
        ),
      );
      expect(a.AlarmDescription).toContain(levels);
      expect(a.AlarmDescription).toMatch(/the feedback handler('s log| logs)/);
      expect(a.TreatMissingData).toBe('ignore');
    }
  });

  test.each([
    [undefined, 'npx --no -- ses-smtp rotate --stack Test --region eu-west-1'],
    ['--env prod', 'npx --no -- ses-smtp rotate --env prod'],
  ])('rotation alarms name the log group and the command to run (cliOptions %s)', (cliOptions, command) => {
    const rotation = alarmList(build({ cliOptions }).template).filter((x) =>
      String(x.MetricName).startsWith('Rotation'),
    );
    expect(rotation.length).toBeGreaterThan(0);
    for (const a of rotation) {
      expect(a.AlarmDescription).toContain('/aws/lambda/rotation');
      expect(a.AlarmDescription).toContain(command);
      // A blocked rotation fails too, and rotating again is blocked again: that alarm's steps.
      expect(a.AlarmDescription).toMatch(
        /With the RotationBlocked alarm too .*follow that alarm's steps instead\.$/,
      );
    }
  });

  test('accountAlarms: false keeps only the configuration set rate alarms', () => {
    const { alarms, template } = build({ accountAlarms: false });
    expect(alarms.alarms).toHaveLength(10);
    const rates = alarmList(template).filter((a) => String(a.MetricName).startsWith('Reputation.'));
    expect(rates).toHaveLength(4);
    expect(rates.every((a) => JSON.stringify(a.Dimensions ?? []).includes('my-set'))).toBe(true);
  });

  test.each([
    [{ warning: 0.2, critical: 0.1 }, 'complaintRatePercent must have 0 < warning < critical < 0.5'],
    [{ warning: 0.1, critical: 0.5 }, 'complaintRatePercent must have 0 < warning < critical < 0.5'],
  ])('refuses complaint levels %j', (complaintRatePercent, message) => {
    expect(() => build({ complaintRatePercent })).toThrow(message);
  });

  test('the dashboard lists every alarm of the sink', () => {
    const { template } = build();
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    const ids = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(ids).toHaveLength(14);
    for (const id of ids) expect(body).toContain(`{"Fn::GetAtt":["${id}","Arn"]}`);
    expect(dashboard.Properties.DashboardName).toBe('SesSmtp-prod');
  });
});
