import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../lib/config/load';
import { SesSmtpStack } from '../lib/ses-smtp-stack';
import { buildStack, envConfig, synthStack, testApp } from './helpers';
import { CHECKS } from '../lambda/shared/checks';
import { QUOTA_METRICS } from '../lambda/shared/health-metrics';

describe('SesSmtpStack', () => {
  test("used directly, under a name of the app's: alarm texts name that stack, the config's terminationProtection holds, a conflicting env is refused", () => {
    const stack = new SesSmtpStack(testApp(), 'Mail', {
      environmentName: 'test',
      config: envConfig({ terminationProtection: true }),
      stackName: 'acme-mail',
      description: 'Our mail stack',
    });
    const texts = JSON.stringify(Template.fromStack(stack).toJSON().Resources);
    expect(texts).toContain('npx --no -- ses-smtp rotate --stack acme-mail --region eu-west-1');
    expect(texts).not.toContain('--env test');
    expect(stack.terminationProtection).toBe(true);
    expect(stack.templateOptions.description).toBe('Our mail stack');
    const withEnv = (env: { account?: string; region?: string }) => () =>
      new SesSmtpStack(testApp(), 'Other', { environmentName: 'test', config: envConfig(), env });
    expect(withEnv({ account: '123456789012', region: 'eu-west-1' })).not.toThrow();
    expect(withEnv({ region: 'us-east-1' })).toThrow(
      /^SesSmtpStack props: field "env": got region "us-east-1", expected the environment's \(region "eu-west-1"\) or none: /,
    );
    expect(withEnv({ account: '999999999999', region: 'us-east-1' })).toThrow(
      /^[^\n]*got account "999999999999", region "us-east-1", expected the environment's \(account "123456789012", region "eu-west-1"\)[^\n]*$/,
    );
    expect(withEnv({ account: '999999999999' })).toThrow(ConfigError);
    // An env that names only the account still deploys to the environment's Region.
    const accountOnly = withEnv({ account: '123456789012' })();
    expect([accountOnly.account, accountOnly.region]).toEqual(['123456789012', 'eu-west-1']);
    // A config built by hand in JavaScript, from before acknowledgedWarnings: nothing to accept.
    const { acknowledgedWarnings: _left, ...older } = envConfig();
    expect(
      () =>
        new SesSmtpStack(testApp(), 'Older', {
          environmentName: 'test',
          config: older as ReturnType<typeof envConfig>,
        }),
    ).not.toThrow();
  });

  test('stateful resources keep their logical ids (a rename would replace them)', () => {
    const { template } = synthStack();
    const ids = (type: string) => Object.keys(template.findResources(type));
    expect(ids('AWS::SES::EmailIdentity')).toEqual(['SendingDomainIdentity93CB5B91']);
    expect(ids('AWS::IAM::User')).toEqual(['SmtpCredentialsUserB2C70464']);
    expect(ids('AWS::SES::ConfigurationSet')).toEqual(['SendingFeedbackConfigurationSetB9C610FB']);
    expect(ids('AWS::SecretsManager::Secret')).toEqual(['SmtpCredentialsSecret6169657E']);
    expect(ids('AWS::KMS::Key').sort()).toEqual(
      ['MessagingKey9A79A2B1', 'SmtpCredentialsSecretKeyD0764CED'].sort(),
    );
  });

  // CloudFormation refuses a new ServiceToken on a custom resource ("Modifying service token is not
  // allowed"): a function under a new logical id (so a new ARN) would fail, and roll back, every
  // update of a deployed stack. A custom resource under a new id is harmless (a Create, then the
  // old one's Delete in the cleanup, which keeps the keys and waits for nothing). ServiceToken:
  // "Updates aren't supported".
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cfn-customresource.html
  test('the custom resources keep their functions: a new ServiceToken fails every update', () => {
    const { template } = synthStack();
    const tokens = Object.values(
      template.toJSON().Resources as Record<string, { Type: string; Properties: { ServiceToken: unknown } }>,
    )
      .filter((r) => r.Type.startsWith('Custom::'))
      .map((r) => [r.Type, r.Properties.ServiceToken]);
    expect(Object.fromEntries(tokens)).toEqual({
      'Custom::SmtpUserKeyCleanup': { 'Fn::GetAtt': ['SmtpCredentialsKeyCleanupFunctionF287DEB6', 'Arn'] },
      'Custom::SmtpCredentialsReady': {
        'Fn::GetAtt': ['SmtpCredentialsCredentialsReadyFunction88BA10F9', 'Arn'],
      },
    });
  });

  test('each logical id is allocated once, however many synth passes ask for it', () => {
    const allocate = jest.spyOn(
      Stack.prototype as unknown as { allocateLogicalId(element: CfnElement): string },
      'allocateLogicalId',
    );
    try {
      // A stack of its own: synthStack() may return one a test before synthesized.
      const stack = buildStack();
      Template.fromStack(stack);
      const elements = stack.node.findAll().filter(CfnElement.isCfnElement);
      const allocated = allocate.mock.calls.map(([element]) => element.node.path);
      expect(allocated.sort()).toEqual(elements.map((element) => element.node.path).sort());
    } finally {
      allocate.mockRestore();
    }
  });

  test('outputs tell an operator where the credentials are, never what they are', () => {
    const { template } = synthStack({ region: 'us-east-2' });
    const outputs = template.findOutputs('*');
    expect(outputs.SmtpHost.Value).toBe('email-smtp.us-east-2.amazonaws.com');
    expect(outputs.SmtpPort.Value).toBe('587');
    expect(outputs.SmtpSecretArn.Value).toEqual({ Ref: 'SmtpCredentialsSecret6169657E' });
    expect(outputs.SmtpUserName.Value).toEqual({ Ref: 'SmtpCredentialsUserB2C70464' });
    expect(outputs.GetSmtpCredentialsCommand.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'aws secretsmanager get-secret-value --region us-east-2 --secret-id ',
          { Ref: 'SmtpCredentialsSecret6169657E' },
          ' --query SecretString --output text',
        ],
      ],
    });
    expect(JSON.stringify(outputs)).not.toMatch(/password|SecretAccessKey|AKIA/i);
  });

  // CloudFormation names the handler's log group ("<stack>-SendingFeedbackHandlerLogs...-<random>"),
  // not /aws/lambda/<function>: an operator paged by these alarms cannot guess it.
  test("the alarms that send the operator to the feedback handler's log name its log group", () => {
    const { template } = synthStack();
    const logGroup = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) =>
      /^SendingFeedbackHandlerLogs[0-9A-F]{8}$/.test(id),
    );
    expect(logGroup).toBeDefined();
    const texts = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .map((a) => JSON.stringify(a.Properties.AlarmDescription))
      .filter((text) =>
        /feedback handler('s)? logs?\b|feedback handler's event source|bounce\/complaint handler/.test(text),
      );
    // The 8 rate alarms, the dead letters, the queue's age and the handler's errors.
    expect(texts).toHaveLength(11);
    for (const text of texts) expect(text).toContain(JSON.stringify({ Ref: logGroup }));
    // The queue's age alarm: the command that enables the handler's mapping names it (its UUID).
    const [mapping] = Object.keys(template.findResources('AWS::Lambda::EventSourceMapping'));
    const enable = `update-event-source-mapping --uuid ",${JSON.stringify({ Ref: mapping })},"`;
    expect(texts.filter((text) => text.includes(enable))).toHaveLength(1);
  });

  test("with an app queue: its URL and its dead-letter queue's ARN are outputs, and the dead letters alarm", () => {
    const { template } = synthStack({ feedback: { appQueue: true } });
    const outputs = template.findOutputs('*');
    const queueId = (suffix: string) =>
      Object.keys(template.findResources('AWS::SQS::Queue')).find((id) =>
        new RegExp(`^SendingFeedback${suffix}[0-9A-F]{8}$`).test(id),
      );
    const deadLetters = { 'Fn::GetAtt': [queueId('AppDeadLetterQueue'), 'Arn'] };
    expect(outputs.AppFeedbackQueueUrl.Value).toEqual({ Ref: queueId('AppQueue') });
    expect(outputs.AppFeedbackDeadLetterQueueArn.Value).toEqual(deadLetters);
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      a.Properties.AlarmDescription?.['Fn::Join']?.[1]?.[0]?.startsWith?.(
        "Bounce/complaint events in the app's",
      ),
    );
    expect(alarm?.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId('AppDeadLetterQueue'), 'QueueName'] } },
      ],
      AlarmActions: [{ Ref: expect.stringMatching(/^OperatorAlarmsTopic/) }],
    });
    expect(JSON.stringify(alarm?.Properties.AlarmDescription)).toContain(JSON.stringify(deadLetters));
    const age = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
      (a) =>
        a.Properties.MetricName === 'ApproximateAgeOfOldestMessage' &&
        JSON.stringify(a.Properties.Dimensions).includes(queueId('AppQueue')!),
    );
    expect(age?.Properties).toMatchObject({ Statistic: 'Maximum', Threshold: 3 * 86400, Period: 300 });
    expect(synthStack().template.findOutputs('*').AppFeedbackDeadLetterQueueArn).toBeUndefined();
  });

  test('with a webhook: its topic and dead-letter queue are outputs, the dead letters alarm gives the queue, the health function checks the subscription', () => {
    const { template } = synthStack({ feedback: { webhookUrl: 'https://app.example.com/ses' } });
    const queueId = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) =>
      /^SendingFeedbackWebhookDeadLetterQueue[0-9A-F]{8}$/.test(id),
    );
    expect(template.findOutputs('*').WebhookFeedbackDeadLetterQueueUrl.Value).toEqual({ Ref: queueId });
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find(
      (a) =>
        a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        JSON.stringify(a.Properties.Dimensions).includes(queueId!),
    );
    expect(alarm?.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^OperatorAlarmsTopic/) }]);
    expect(JSON.stringify(alarm?.Properties.AlarmDescription)).toContain(JSON.stringify({ Ref: queueId }));
    expect(synthStack().template.findOutputs('*').WebhookFeedbackDeadLetterQueueUrl).toBeUndefined();
    // The webhook's own topic, where its subscription waits for the app's confirmation.
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic')).find((id) =>
      /^SendingFeedbackWebhookTopic[0-9A-F]{8}$/.test(id),
    );
    expect(template.findOutputs('*').WebhookFeedbackTopicArn.Value).toEqual({ Ref: topicId });
    expect(synthStack().template.findOutputs('*').WebhookFeedbackTopicArn).toBeUndefined();
    // The health function checks that subscription daily: it gets the URL and that topic.
    const health = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).startsWith('Runs the ses-smtp doctor checks'),
    )!;
    const target = health.Properties.Environment.Variables.HEALTH_TARGET['Fn::Join'][1];
    expect(target.filter((part: unknown) => typeof part === 'string').join('')).toContain(
      '"webhook":{"url":"https://app.example.com/ses","topicArn":"',
    );
    expect(target).toContainEqual({ Ref: topicId });
  });

  // Without an environments file, ses-smtp doctor and dns read the settings from that function
  // (with health.enabled false there is none: test/constructs/health-checks.test.ts).
  test("the health-check function's name is an output", () => {
    const { template } = synthStack();
    expect(template.findOutputs('*').HealthCheckFunctionName.Value).toEqual({
      Ref: expect.stringMatching(/^HealthChecksFunction[0-9A-F]{8}$/),
    });
  });

  // A count alarmed on at ">= 1" must read its period's Sum: Lambda publishes Errors as 1 per
  // failed invocation and 0 per good one, so their Average reaches 1 only when every one failed
  // (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html). A queue's depth
  // or age reads its Maximum. And a count that stays missing means nothing happened: not breaching.
  test('each alarm reads its metric with the statistic, comparison and missing-data rule it needs', () => {
    const { template } = synthStack({
      feedback: { appQueue: true, webhookUrl: 'https://app.example.com/ses' },
    });
    const table: Record<string, string[]> = {};
    for (const { Properties: a } of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      if (!a.MetricName) continue;
      const key = `${a.Namespace} ${a.MetricName}`;
      const row = `${a.Statistic} ${a.ComparisonOperator} ${a.TreatMissingData}`;
      table[key] = [...new Set([...(table[key] ?? []), row])].sort();
    }
    const count = ['Sum GreaterThanOrEqualToThreshold notBreaching'];
    expect(table).toEqual({
      'AWS/Events TriggeredRules': count,
      'AWS/Lambda Errors': count,
      'AWS/SNS NumberOfNotificationsFailed': count,
      'SesSmtp/Health RotationBlockedPreviousKeyInUse': count,
      'AWS/SES Reputation.BounceRate': ['Maximum GreaterThanOrEqualToThreshold ignore'],
      'AWS/SES Reputation.ComplaintRate': ['Maximum GreaterThanOrEqualToThreshold ignore'],
      'AWS/SQS ApproximateAgeOfOldestMessage': ['Maximum GreaterThanOrEqualToThreshold notBreaching'],
      'AWS/SQS ApproximateNumberOfMessagesVisible': ['Maximum GreaterThanOrEqualToThreshold ignore'],
      'SesSmtp/Health CheckPassed': ['Minimum LessThanThreshold ignore'],
      'SesSmtp/Health ChecksUndetermined': ['Minimum GreaterThanOrEqualToThreshold notBreaching'],
      'SesSmtp/Health PeakSendRatePercent': ['Maximum GreaterThanOrEqualToThreshold ignore'],
      'SesSmtp/Health QuotaUsedPercent': ['Maximum GreaterThanOrEqualToThreshold ignore'],
      'SesSmtp/Health RunFinished': ['SampleCount LessThanThreshold missing'],
    });
  });

  test('rotation failures reach the operator topic through alarms that say what to do', () => {
    const { template } = synthStack();
    const topic = { Ref: expect.stringMatching(/^OperatorAlarmsTopic/) };
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const failed = alarms.find((a) => a.MetricName === 'TriggeredRules');
    expect(failed).toMatchObject({
      Namespace: 'AWS/Events',
      Dimensions: [
        { Name: 'RuleName', Value: { Ref: expect.stringMatching(/^SmtpCredentialsRotationFailedRule/) } },
      ],
      Statistic: 'Sum',
      // Told within 5 minutes, not at the end of an hour's period.
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      OKActions: [topic],
    });
    expect(JSON.stringify(failed?.AlarmDescription)).toMatch(
      /rotation FAILED.*The current credentials are unchanged.*npx --no -- ses-smtp rotate --env test/,
    );
    const errors = alarms.find(
      (a) => a.MetricName === 'Errors' && JSON.stringify(a.Dimensions).includes('RotationFunction'),
    );
    expect(errors).toMatchObject({
      Namespace: 'AWS/Lambda',
      Period: 3600,
      Threshold: 1,
      AlarmActions: [topic],
    });
  });

  test("the dead-letter alarm's command names this stack's dead-letter queue", () => {
    const { template } = synthStack();
    const [queue] = Object.keys(template.findResources('AWS::SQS::Queue')).filter((id) =>
      id.startsWith('SendingFeedbackDeadLetterQueue'),
    );
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) =>
      JSON.stringify(a.Properties.Dimensions ?? []).includes(queue),
    );
    expect(alarm?.Properties.AlarmDescription).toEqual({
      'Fn::Join': [
        '',
        [
          expect.stringMatching(/^Bounce\/complaint messages .* the feedback handler's logs \($/),
          { Ref: expect.stringMatching(/^SendingFeedbackHandlerLogs/) },
          expect.stringMatching(/--source-arn $/),
          { 'Fn::GetAtt': [queue, 'Arn'] },
          expect.stringMatching(/^ --region [a-z]{2}-[a-z]+-\d\)\.$/),
        ],
      ],
    });
  });

  test('alarm emails subscribe to the operator topic', () => {
    const { template } = synthStack({ alarms: { emails: ['ops@example.com', 'oncall@example.com'] } });
    template.resourcePropertiesCountIs('AWS::SNS::Subscription', { Protocol: 'email' }, 2);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  test.each(['route53', 'manual'])('cdk-nag AwsSolutions reports nothing unacknowledged (%s DNS)', (mode) => {
    const dns =
      mode === 'route53'
        ? { mode, hostedZoneId: 'Z0123456789EXAMPLE0AB', zoneName: 'example.com' }
        : { mode };
    const { stack } = synthStack({
      dns,
      apexSpf: { enabled: true },
      verifiedEmailAddresses: ['dev@example.com'],
      feedback: { webhookUrl: 'https://app.example.com/ses', appQueue: true, additionalEvents: ['REJECT'] },
      alarms: { emails: ['ops@example.com'] },
      credentials: { restartEcsServices: ['arn:aws:ecs:eu-west-1:123456789012:service/prod/web'] },
    });
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      ),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('addresses that constructs would give one construct id ("/" is "--") synthesize, each its own resource', () => {
    const addresses = ['a/b@gmail.com', 'a--b@gmail.com'];
    const { template } = synthStack({ verifiedEmailAddresses: addresses, alarms: { emails: addresses } });
    for (const address of addresses) {
      template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: address });
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: address });
    }
  });

  test('sandbox: the SMTP user may send to the verified test recipients, from any address at the domain', () => {
    const { template } = synthStack({ verifiedEmailAddresses: ['dev@example.org', 'qa@example.net'] });
    const [userPolicy] = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => p.Properties.Users,
    );
    const [statement] = userPolicy.Properties.PolicyDocument.Statement;
    const recipients = Object.entries(template.findResources('AWS::SES::EmailIdentity'))
      .filter(([, r]) => String(r.Properties.EmailIdentity).includes('@'))
      .map(([id]) => id);
    expect(recipients).toHaveLength(2);
    const refs = JSON.stringify(statement.Resource);
    for (const id of recipients)
      expect(refs).toContain(`":ses:eu-west-1:123456789012:identity/",{"Ref":"${id}"}`);
    expect(statement.Condition).toEqual({ StringLike: { 'ses:FromAddress': ['*@example.com'] } });
  });

  test("the configuration set is the identity's default, and the SMTP user may send through it", () => {
    const { template } = synthStack();
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'example.com',
      ConfigurationSetAttributes: {
        ConfigurationSetName: { Ref: 'SendingFeedbackConfigurationSetB9C610FB' },
      },
    });
    const [userPolicy] = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => p.Properties.Users,
    );
    expect(JSON.stringify(userPolicy.Properties.PolicyDocument)).toContain(':configuration-set/');
  });

  // The key cleanup with either policy: the rollback of a failed first deploy deletes the user
  // even with "retain" (RetainExceptOnCreate); with "retain" a stack deletion keeps its keys.
  test.each([
    ['retain', { UserName: Match.anyValue(), KeepKeysOnStackDelete: 'true' }],
    ['destroy', { UserName: Match.anyValue(), KeepKeysOnStackDelete: Match.absent() }],
  ])('Lambda functions with removalPolicy %s', (removalPolicy, cleanupProperties) => {
    const { template } = synthStack({ removalPolicy });
    const descriptions = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (f) => f.Properties.Description as string,
    );
    expect(descriptions).toHaveLength(5);
    expect(descriptions.some((d) => d.startsWith('Rotates the SES SMTP credentials'))).toBe(true);
    expect(descriptions.some((d) => d.startsWith('Holds the first deploy'))).toBe(true);
    expect(descriptions.some((d) => d.startsWith('Puts permanently bounced'))).toBe(true);
    expect(descriptions.some((d) => d.startsWith('Runs the ses-smtp doctor checks'))).toBe(true);
    expect(descriptions.some((d) => d.startsWith('Deletes the SMTP user access keys'))).toBe(true);
    template.hasResourceProperties('Custom::SmtpUserKeyCleanup', {
      ...cleanupProperties,
      ServiceTimeout: '300',
    });
  });

  // Every setting of the environments file that SesSmtp hands to a construct, at a value other
  // than its default: a setting dropped on the way (the construct's default then) fails here.
  describe('every setting reaches the template', () => {
    const { template } = synthStack({
      dns: {
        mode: 'route53',
        hostedZoneId: 'Z0123456789EXAMPLE0AB',
        zoneName: 'example.com',
        ttlSeconds: 300,
      },
      mailFrom: { subdomain: 'bounce', behaviorOnMxFailure: 'REJECT_MESSAGE' },
      dmarc: { policy: 'reject', dkimAlignment: 'strict', spfAlignment: 'relaxed' },
      credentials: { rotationDays: 30, previousKeyQuietDays: 3, rotateWhilePreviousKeyInUse: true },
      feedback: {
        additionalEvents: ['REJECT', 'DELIVERY_DELAY'],
        rawMessageDelivery: false,
        appQueue: true,
        webhookUrl: 'https://hooks.example.com/ses',
      },
      health: {
        schedule: 'rate(6 hours)',
        quotaSchedule: 'rate(30 minutes)',
        expectProductionAccess: false,
        sendRatePercent: 60,
        sendAnomalyDetection: false,
      },
    });
    const functionNamed = (start: string) =>
      Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
        String(f.Properties.Description).startsWith(start),
      )!.Properties;
    /** The health-check function's target, tokens as "token". */
    const healthTarget = () => {
      const joined = functionNamed('Runs the ses-smtp doctor checks')
        .Environment.Variables.HEALTH_TARGET['Fn::Join'][1].map((part: unknown) =>
          typeof part === 'string' ? part : `"<${JSON.stringify(part).length}>"`,
        )
        .join('');
      return JSON.parse(joined.replace(/""<\d+>""/g, '"token"').replace(/"<\d+>"/g, 'token'));
    };

    test('the rotation: its schedule, quiet period, override and environment name (the dimension its alarm watches)', () => {
      template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        RotationRules: { AutomaticallyAfterDays: 30 },
      });
      const variables = functionNamed('Rotates').Environment.Variables;
      expect(variables).toMatchObject({
        ENVIRONMENT_NAME: 'test',
        PREVIOUS_KEY_QUIET_DAYS: '3',
        ROTATE_WHILE_PREVIOUS_KEY_IN_USE: 'true',
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'RotationBlockedPreviousKeyInUse',
        Dimensions: [{ Name: 'Environment', Value: variables.ENVIRONMENT_NAME }],
      });
    });

    test('the identity and records: MAIL FROM behaviour, TTL, DMARC alignment', () => {
      template.hasResourceProperties('AWS::SES::EmailIdentity', {
        MailFromAttributes: { MailFromDomain: 'bounce.example.com', BehaviorOnMxFailure: 'REJECT_MESSAGE' },
      });
      const records = Object.values(template.findResources('AWS::Route53::RecordSet')).map(
        (r) => r.Properties,
      );
      expect(new Set(records.map((r) => r.TTL))).toEqual(new Set(['300']));
      expect(records.find((r) => r.Name === '_dmarc.example.com.')!.ResourceRecords[0]).toMatch(
        /p=reject;.* adkim=s; aspf=r"$/,
      );
    });

    test('feedback: the extra event types, the webhook over HTTPS, the SNS envelope to the app queue', () => {
      const destination = Object.values(
        template.findResources('AWS::SES::ConfigurationSetEventDestination'),
      ).map((d) => d.Properties.EventDestination.MatchingEventTypes)[0];
      expect(destination).toEqual(expect.arrayContaining(['reject', 'deliveryDelay']));
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'https',
        Endpoint: 'https://hooks.example.com/ses',
      });
      const appQueueSubscription = (t: Template) =>
        Object.values(t.findResources('AWS::SNS::Subscription')).find((sub) =>
          JSON.stringify(sub.Properties.Endpoint).includes('SendingFeedbackAppQueue'),
        )!.Properties;
      // SNS's envelope to the app queue, as asked (raw delivery is the default).
      expect(appQueueSubscription(template).RawMessageDelivery).toBe(false);
      expect(
        appQueueSubscription(synthStack({ feedback: { appQueue: true } }).template).RawMessageDelivery,
      ).toBe(true);
    });

    test('the health checks: schedules, production access, send-rate level, rotation days, no anomaly alarm', () => {
      const schedules = Object.values(template.findResources('AWS::Events::Rule')).map(
        (r) => r.Properties.ScheduleExpression,
      );
      expect(schedules).toEqual(expect.arrayContaining(['rate(6 hours)', 'rate(30 minutes)']));
      expect(healthTarget()).toMatchObject({
        expectProductionAccess: false,
        sendRatePercent: 60,
        rotationDays: 30,
        previousKeyQuietDays: 3,
        dns: { mailFromSubdomain: 'bounce', dmarc: expect.objectContaining({ policy: 'reject' }) },
      });
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
      expect(JSON.stringify(alarms)).not.toMatch(/ANOMALY_DETECTION_BAND/);
      // The default does have it: the setting, not chance, removed it.
      expect(JSON.stringify(synthStack().template.findResources('AWS::CloudWatch::Alarm'))).toMatch(
        /ANOMALY_DETECTION_BAND/,
      );
    });
  });

  // The defaults as numbers, written out (not computed from the constants the code uses): a
  // changed level, metric or queue is a changed promise to the operator.
  test('the default levels, metrics, retention and retries, as numbers', () => {
    const { template } = synthStack();
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const thresholds = (metric: string) =>
      alarms.filter((a) => a.MetricName === metric).map((a) => a.Threshold);
    // SES reviews an account at 5 % bounces and 0.1 % complaints: critical there, warning before.
    expect(thresholds('Reputation.BounceRate')).toEqual([0.02, 0.05, 0.02, 0.05]);
    expect(thresholds('Reputation.ComplaintRate')).toEqual([0.0005, 0.001, 0.0005, 0.001]);
    // SNS's failed deliveries of the feedback topic, and the age of the handler's own queue.
    expect(alarms.find((a) => a.MetricName === 'NumberOfNotificationsFailed')!.Dimensions).toEqual([
      { Name: 'TopicName', Value: { 'Fn::GetAtt': ['SendingFeedbackTopic032FDA89', 'TopicName'] } },
    ]);
    expect(alarms.find((a) => a.MetricName === 'ApproximateAgeOfOldestMessage')!.Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': ['SendingFeedbackQueue7AF6AC0B', 'QueueName'] } },
    ]);
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 4 * 86400,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
    // Both scheduled health runs are retried; every function's log is kept 90 days.
    const retries = Object.values(template.findResources('AWS::Events::Rule')).flatMap((r) =>
      (r.Properties.Targets ?? []).flatMap((t: { RetryPolicy?: unknown }) =>
        t.RetryPolicy ? [t.RetryPolicy] : [],
      ),
    );
    expect(retries).toEqual([{ MaximumRetryAttempts: 2 }, { MaximumRetryAttempts: 2 }]);
    const retention = Object.values(template.findResources('AWS::Logs::LogGroup')).map(
      (g) => g.Properties.RetentionInDays,
    );
    expect(new Set(retention)).toEqual(new Set([90]));
    // One blocked rotation is enough to page.
    expect(
      alarms
        .filter((a) => a.MetricName === 'RotationBlockedPreviousKeyInUse')
        .map((a) => [a.Threshold, a.ComparisonOperator]),
    ).toEqual([[1, 'GreaterThanOrEqualToThreshold']]);
    // A key scheduled for deletion by mistake can be cancelled for a week.
    expect(
      Object.values(template.findResources('AWS::KMS::Key')).map((k) => k.Properties.PendingWindowInDays),
    ).toEqual([7, 7]);
    // The app's queue: 7 days, and an event failed 5 times goes to its dead-letter queue.
    const appQueue = Object.entries(
      synthStack({ feedback: { appQueue: true } }).template.findResources('AWS::SQS::Queue'),
    ).find(([id]) => id.startsWith('SendingFeedbackAppQueue'))![1].Properties;
    expect([appQueue.MessageRetentionPeriod, appQueue.RedrivePolicy.maxReceiveCount]).toEqual([7 * 86400, 5]);
    // The credentials-rotated topic refuses publishers without TLS, as the feedback topic does.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: Match.stringLikeRegexp('^SmtpCredentialsRotatedTopic') }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  test('tags from config and the environment tag reach the resources and the stack', () => {
    const { stack, template } = synthStack({ tags: { team: 'mail' } });
    // CloudFormation stack tags: what cost reports and tag policies read for the stack itself.
    expect(stack.tags.tagValues()).toEqual({ 'ses-smtp:environment': 'test', team: 'mail' });
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      Tags: [
        { Key: 'ses-smtp:environment', Value: 'test' },
        { Key: 'team', Value: 'mail' },
      ],
    });
  });

  test('the stack deploys to the configured account and Region', () => {
    const { stack } = synthStack({ region: 'us-east-2' });
    expect([stack.account, stack.region]).toEqual(['123456789012', 'us-east-2']);
  });
});

/*
 * "What it costs to run" against the templates: the numbers of each row, in the order the row
 * gives them. An alarm is billed per metric it lists, an anomaly detection alarm as 3
 * (https://aws.amazon.com/cloudwatch/pricing/).
 */
describe('the cost section counts what the templates hold', () => {
  const README = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const section = README.slice(
    README.indexOf('\n### What it costs to run\n'),
    README.indexOf('\n## SMTP credentials\n'),
  );
  const row = (name: string) => {
    const line = section.split('\n').find((l) => l.startsWith(`| ${name} `));
    const [, , count, fewer] = line!.split('|').map((c) => c.trim());
    const numbers = (text: string) => [...text.matchAll(/\b\d+\b/g)].map(([n]) => Number(n));
    return { count: numbers(count), fewer: numbers(fewer) };
  };
  const ALL_OPTIONS = {
    feedback: {
      webhookUrl: 'https://app.example.com/ses',
      appQueue: true,
      additionalEvents: ['REJECT', 'DELIVERY_DELAY', 'RENDERING_FAILURE'],
    },
    credentials: { restartEcsServices: ['arn:aws:ecs:eu-west-1:123456789012:service/app/web'] },
  };
  const resources = (env: Record<string, unknown>, type: string) =>
    Object.values(synthStack(env).template.findResources(type)).map(
      (r) => r.Properties as Record<string, unknown>,
    );
  const alarms = (env: Record<string, unknown> = {}) => resources(env, 'AWS::CloudWatch::Alarm');
  const alarmMetrics = (env: Record<string, unknown> = {}) =>
    alarms(env)
      .map((a) =>
        a.ThresholdMetricId
          ? 3
          : a.Metrics
            ? (a.Metrics as object[]).filter((m) => 'MetricStat' in m).length
            : 1,
      )
      .reduce((x, y) => x + y, 0);

  test('alarms, billed alarm metrics, and what the options add and remove', () => {
    const all = alarms().length;
    const metrics = alarmMetrics();
    const math = alarms().filter((a) => a.Metrics && !a.ThresholdMetricId);
    expect(math).toHaveLength(1);
    // The anomaly alarm, the one health.sendAnomalyDetection removes (health-checks.test.ts), is
    // billed as 3 metrics.
    const anomaly = alarms().filter((a) => a.ThresholdMetricId);
    expect(anomaly).toHaveLength(1);
    const added = (alarms(ALL_OPTIONS).length - all) / 3;
    expect(row('CloudWatch alarms').count).toEqual([
      all,
      metrics,
      3,
      (math[0].Metrics as object[]).filter((m) => 'MetricStat' in m).length,
      alarms(ALL_OPTIONS).length,
      added,
    ]);
    const healthOff = { health: { enabled: false } };
    const accountOff = { alarms: { accountAlarms: false } };
    expect(row('CloudWatch alarms').fewer).toEqual([
      alarms(healthOff).length,
      all - anomaly.length,
      3,
      all - alarms(accountOff).length,
      alarms(healthOff).length - alarms({ ...healthOff, ...accountOff }).length,
    ]);
  });

  test('health series, dashboard, keys, secret, scheduled runs and queues read', () => {
    const always = CHECKS.filter((c) => !c.appliesTo).length;
    const quota = Object.keys(QUOTA_METRICS).length;
    // RunFinished and ChecksUndetermined, per schedule.
    expect(row('CloudWatch custom metrics').count.slice(0, 4)).toEqual([
      always + quota + 2 * 2,
      quota,
      2,
      CHECKS.length + quota + 2 * 2,
    ]);
    expect(row('CloudWatch dashboard').count).toEqual([resources({}, 'AWS::CloudWatch::Dashboard').length]);
    expect(row('KMS keys').count[0]).toBe(resources({}, 'AWS::KMS::Key').length);
    expect(resources(ALL_OPTIONS, 'AWS::KMS::Key')).toHaveLength(resources({}, 'AWS::KMS::Key').length);
    expect(row('Secrets Manager secrets').count).toEqual([
      resources({}, 'AWS::SecretsManager::Secret').length,
    ]);

    const schedules = resources({}, 'AWS::Events::Rule')
      .map((r) => r.ScheduleExpression)
      .filter(Boolean)
      .sort();
    expect(schedules).toEqual(['rate(1 day)', 'rate(1 hour)']);
    expect(section).toContain('runs 25 times a day with the default schedules');
    // KEEP_REPORTING_QUEUES: a JSON list of the queues' URLs, one Ref each.
    const queuesRead = (env: Record<string, unknown>) => {
      const variables = resources(env, 'AWS::Lambda::Function').map(
        (f) => (f.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
      );
      const list = variables.find((v) => 'KEEP_REPORTING_QUEUES' in v)!.KEEP_REPORTING_QUEUES;
      return JSON.stringify(list).split('{"Ref":').length - 1;
    };
    const [fewest, most] = [queuesRead({}), queuesRead(ALL_OPTIONS)];
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six'];
    const prose = section.replace(/\s+/g, ' ');
    expect(prose).toContain(`reads ${words[fewest]} to ${words[most]} queues' attributes`);
    // 25 runs a day, 31 days, each queue read once a run, rounded up to the hundred.
    const requests = Math.ceil((most * 25 * 31) / 100) * 100;
    expect(prose).toContain(`(up to about ${requests.toLocaleString('en-US')} SQS requests a month)`);
  });
});
