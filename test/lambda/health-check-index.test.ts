import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetConfigurationSetEventDestinationsCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { promises as dnsPromises } from 'node:dns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { HealthTarget } from '../../lambda/shared/checks';
import { FEEDBACK_TOPIC_ARN } from '../support/fake-aws';
import { exampleHealthTarget } from '../support/health-target';
import { captureLambdaLogs } from '../support/lambda-logs';

const TARGET: HealthTarget = exampleHealthTarget('SesSmtp-prod');

const ses = mockClient(SESv2Client);
const cw = mockClient(CloudWatchClient);
const sqs = mockClient(SQSClient);

type HandlerModule = typeof import('../../lambda/health-check/index');
const savedEnv = process.env;
afterEach(() => {
  process.env = savedEnv;
});

/**
 * Loads the handler module with `env` (kept until the test ends), as an execution environment
 * starts. `fresh` loads it in an isolated registry: its SDK clients are then not the mocked ones.
 */
function load(env: NodeJS.ProcessEnv, fresh = false): HandlerModule {
  process.env = { ...savedEnv, AWS_REGION: 'eu-west-1', ...env };
  let mod!: HandlerModule;
  if (fresh) jest.isolateModules(() => (mod = jest.requireActual('../../lambda/health-check/index')));
  else mod = jest.requireActual('../../lambda/health-check/index');
  return mod;
}

describe('health-check handler', () => {
  beforeEach(() => {
    ses.reset();
    cw.reset();
    sqs.reset();
  });

  test('reads its target on the first invocation and writes the quota metrics as EMF on stdout', async () => {
    ses.on(GetAccountCommand).resolves({
      ProductionAccessEnabled: true,
      SendingEnabled: true,
      EnforcementStatus: 'HEALTHY',
      SendQuota: { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 190 },
    });
    ses.on(GetConfigurationSetCommand).resolves({
      SendingOptions: { SendingEnabled: true },
      ReputationOptions: { ReputationMetricsEnabled: true },
    });
    ses.on(GetConfigurationSetEventDestinationsCommand).resolves({
      EventDestinations: [
        {
          Name: 'Feedback',
          Enabled: true,
          MatchingEventTypes: ['BOUNCE', 'COMPLAINT'],
          SnsDestination: {
            TopicArn: FEEDBACK_TOPIC_ARN,
          },
        },
      ],
    });
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'sends', Values: [30, 12] }] });
    const { handler } = load({ HEALTH_TARGET: JSON.stringify(TARGET) });
    const logs = captureLambdaLogs();
    try {
      const result = await handler({ checks: 'quota' }, {} as Context, () => undefined);
      // The identity, the secret and the SMTP endpoint are not set up here: those checks fail too.
      expect(result).toEqual({ checks: 5, failed: ['identity', 'quota', 'credentials', 'smtp-login'] });
    } finally {
      jest.restoreAllMocks();
    }
    const docs = logs.metrics();
    expect(docs).toContainEqual(expect.objectContaining({ Check: 'quota', CheckPassed: 0 }));
    expect(docs).toContainEqual(
      expect.objectContaining({ QuotaUsedPercent: 95, SentLast24Hours: 190, PeakSendRatePercent: 50 }),
    );
  });

  test("a run's clients log in at the function's SMTP_HOST and SMTP_PORT", () => {
    const { runClients } = load({ SMTP_HOST: 'email-smtp.eu-west-1.amazonaws.com', SMTP_PORT: '587' });
    expect(runClients().smtp?.endpoint()).toEqual({ host: 'email-smtp.eu-west-1.amazonaws.com', port: 587 });
  });

  test("a run's resolver asks a lookup answered SERVFAIL again, 10 s later", async () => {
    const { runClients } = load({});
    const servfail = Object.assign(new Error('queryTxt ESERVFAIL example.com'), { code: 'ESERVFAIL' });
    const lookup = jest
      .spyOn(dnsPromises.Resolver.prototype, 'resolveTxt')
      .mockRejectedValueOnce(servfail)
      .mockResolvedValueOnce([['v=spf1 -all']]);
    jest.useFakeTimers();
    try {
      const answer = runClients().resolver.resolveTxt('example.com');
      await jest.advanceTimersByTimeAsync(9_999);
      expect(lookup).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(1);
      await expect(answer).resolves.toEqual([['v=spf1 -all']]);
      expect(lookup).toHaveBeenCalledTimes(2);
    } finally {
      jest.useRealTimers();
      lookup.mockRestore();
    }
  });

  // SQS reports a queue to CloudWatch only for six hours after a call on it: the dead-letter and
  // app queues' alarms would fall silent on queues nobody touches.
  test('each run reads the attributes of every queue KEEP_REPORTING_QUEUES names; a refused read is a warning', async () => {
    const dlq = 'https://sqs.eu-west-1.amazonaws.com/123456789012/SesSmtp-prod-FeedbackDLQ';
    const app = 'https://sqs.eu-west-1.amazonaws.com/123456789012/SesSmtp-prod-AppQueue';
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: dlq })
      .resolves({ Attributes: { ApproximateNumberOfMessages: '2' } });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: app }).rejects(
      Object.assign(new Error('not authorized to perform: sqs:GetQueueAttributes'), {
        name: 'AccessDenied',
      }),
    );
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true, SendingEnabled: true });
    const { handler } = load(
      { HEALTH_TARGET: JSON.stringify(TARGET), KEEP_REPORTING_QUEUES: JSON.stringify([dlq, app]) },
      false,
    );
    const logs = captureLambdaLogs();
    try {
      await handler({ checks: 'quota' }, {} as Context, () => undefined);
    } finally {
      jest.restoreAllMocks();
    }
    expect(sqs.commandCalls(GetQueueAttributesCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: dlq, AttributeNames: ['ApproximateNumberOfMessages'] },
      { QueueUrl: app, AttributeNames: ['ApproximateNumberOfMessages'] },
    ]);
    expect(logs.entries().filter((e) => e.level === 'WARN' && String(e.message).includes('queue'))).toEqual([
      expect.objectContaining({
        message: 'could not read a queue: SQS may stop reporting it, and its alarms with it',
        queue: app,
        errorName: 'AccessDenied',
      }),
    ]);
    // The checks ran all the same: their run metric is written.
    expect(logs.metrics()).toContainEqual(expect.objectContaining({ Run: 'quota', RunFinished: 1 }));
  });

  test.each([
    ['not JSON', '[https://sqs'],
    ['not a list of URLs', JSON.stringify({ queue: 'https://sqs.eu-west-1.amazonaws.com/1/q' })],
    ['a name, not a URL', JSON.stringify(['SesSmtp-prod-FeedbackDLQ'])],
  ])('a KEEP_REPORTING_QUEUES that is %s fails the invocation, naming the variable', async (_what, value) => {
    const { handler } = load({ HEALTH_TARGET: JSON.stringify(TARGET), KEEP_REPORTING_QUEUES: value }, true);
    await expect(handler({}, {} as Context, () => undefined)).rejects.toThrow(
      'KEEP_REPORTING_QUEUES must be a JSON array of queue URLs: the HealthChecks construct writes it',
    );
  });

  test('a missing target fails the invocation, naming the variable', async () => {
    const { handler } = load({ HEALTH_TARGET: '' }, true);
    await expect(handler({}, {} as Context, () => undefined)).rejects.toThrow('HEALTH_TARGET is not set');
  });
});
