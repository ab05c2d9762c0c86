import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetAccountCommand, PutSuppressedDestinationCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { awsError, throttling } from '../support/fake-aws';
import { captureLambdaLogs } from '../support/lambda-logs';

/* The feedback function's handler as Lambda runs it: an SQS batch in, partial batch failures and EMF metrics out. */

process.env.AWS_REGION = 'eu-west-1';
process.env.ENVIRONMENT_NAME = 'staging';
process.env.MAX_RECEIVE_COUNT = '2';
let handler: typeof import('../../lambda/ses-feedback/index.js').handler;
beforeAll(async () => {
  ({ handler } = await import('../../lambda/ses-feedback/index.js'));
});

const sesMock = mockClient(SESv2Client);
let logs: ReturnType<typeof captureLambdaLogs>;
beforeEach(() => {
  sesMock.reset();
  logs = captureLambdaLogs();
});
afterEach(() => jest.restoreAllMocks());

const bounce = JSON.parse(
  fs.readFileSync(
    path.join(__dirname, '..', 'fixtures', 'ses-events', 'ses_event_bounce_permanent.json'),
    'utf8',
  ),
).payload;
const record = (messageId: string, body: string): SQSRecord =>
  ({ messageId, body, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSRecord;
const run = (records: SQSRecord[], remainingMs = 30_000) =>
  (handler as (e: SQSEvent, c: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>)(
    { Records: records },
    { getRemainingTimeInMillis: () => remainingMs } as Context,
  );

/** The EMF documents CloudWatch takes metrics from. */
const emf = () =>
  logs.metrics() as (Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string }[] } })[];

describe('ses-feedback handler', () => {
  test('suppresses the bounced address, reports no failure and prints its metrics', async () => {
    sesMock.on(PutSuppressedDestinationCommand).resolves({});
    await expect(run([record('m1', JSON.stringify(bounce))])).resolves.toEqual({ batchItemFailures: [] });
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand).map((c) => c.args[0].input)).toEqual([
      { EmailAddress: 'nobody@example.net', Reason: 'BOUNCE' },
    ]);
    const docs = emf();
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) {
      expect(d._aws.CloudWatchMetrics[0].Namespace).toBe('SesSmtp/Feedback');
      expect(d.Environment).toBe('staging');
    }
    expect(docs.find((d) => d.RecipientsSuppressed !== undefined)?.RecipientsSuppressed).toBe(1);
  });

  test("the queue's receive limit (MAX_RECEIVE_COUNT) sets where a receive starts", async () => {
    sesMock.on(PutSuppressedDestinationCommand).resolves({});
    const fifty = JSON.parse(
      fs.readFileSync(
        path.join(__dirname, '..', 'fixtures', 'ses-events', 'own_bounce_permanent_50_recipients.json'),
        'utf8',
      ),
    ).payload;
    const second = { ...record('m1', JSON.stringify(fifty)), attributes: { ApproximateReceiveCount: '2' } };
    await run([second as unknown as SQSRecord]);
    // Receive 2 of 2 starts halfway (of 5, it would start a fifth of the way).
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand)[0].args[0].input.EmailAddress).toBe(
      'user25@example.net',
    );
  });

  test('a throttled suppression fails that record alone; the metrics still go out', async () => {
    sesMock.on(PutSuppressedDestinationCommand).rejectsOnce(throttling()).resolves({});
    const other = { ...bounce, bounce: { ...bounce.bounce, feedbackId: 'another-feedback-id' } };
    await expect(
      run([record('m1', JSON.stringify(bounce)), record('m2', JSON.stringify(other))]),
    ).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand)).toHaveLength(2);
    expect(emf().find((d) => d.SuppressionFailures !== undefined)?.SuppressionFailures).toBe(1);
  });

  // The invocation's time left reaches the batch: near the timeout, the records not begun go back
  // to the queue whole, rather than the timeout failing the batch, finished records too.
  test('with little of the invocation left, every record not begun is deferred, counted', async () => {
    sesMock.on(PutSuppressedDestinationCommand).resolves({});
    const failures = await run(
      [record('m1', JSON.stringify(bounce)), record('m2', JSON.stringify(bounce))],
      1_000,
    );
    expect(failures).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand)).toHaveLength(0);
    expect(emf().find((d) => d.DeferredRecords !== undefined)?.DeferredRecords).toBe(2);
  });

  test('a malformed record is a batch item failure, counted', async () => {
    await expect(run([record('bad', '{"not":"ses"}')])).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'bad' }],
    });
    expect(sesMock.calls()).toHaveLength(0);
    expect(emf().find((d) => d.MalformedMessages !== undefined)?.MalformedMessages).toBe(1);
  });

  // Last: the module keeps GetAccount's answer for an hour, across invocations.
  test('in the sandbox a refused suppression is done; GetAccount is asked once, after the first refusal, and kept', async () => {
    sesMock
      .on(PutSuppressedDestinationCommand)
      .rejects(awsError('BadRequestException', 'The input you provided is invalid.'));
    sesMock.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false });
    await expect(run([record('m1', JSON.stringify(bounce))])).resolves.toEqual({ batchItemFailures: [] });
    await expect(run([record('m2', JSON.stringify(bounce))])).resolves.toEqual({ batchItemFailures: [] });
    expect(sesMock.commandCalls(GetAccountCommand)).toHaveLength(1);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand)).toHaveLength(2);
  });

  test('an hour later GetAccount is asked again: with production access by then, a refusal fails its record', async () => {
    sesMock
      .on(PutSuppressedDestinationCommand)
      .rejects(awsError('BadRequestException', 'The input you provided is invalid.'));
    sesMock.on(GetAccountCommand).resolves({ ProductionAccessEnabled: true });
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 3_600_001);
    await expect(run([record('p1', JSON.stringify(bounce))])).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'p1' }],
    });
    expect(sesMock.commandCalls(GetAccountCommand)).toHaveLength(1);
  });

  test('a GetAccount read that failed is not kept: the next refusal asks again', async () => {
    sesMock
      .on(PutSuppressedDestinationCommand)
      .rejects(awsError('BadRequestException', 'The input you provided is invalid.'));
    sesMock.on(GetAccountCommand).rejectsOnce(throttling()).resolves({ ProductionAccessEnabled: false });
    // Past the answer the test before kept (at its now + 1 h + 1 ms) by more than its hour, however
    // few milliseconds passed since: two hours ahead left 1 ms to spare, and a fast run kept it.
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 3 * 3_600_000);
    await expect(run([record('t1', JSON.stringify(bounce))])).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 't1' }],
    });
    await expect(run([record('t2', JSON.stringify(bounce))])).resolves.toEqual({ batchItemFailures: [] });
    expect(sesMock.commandCalls(GetAccountCommand)).toHaveLength(2);
  });

  // SES's GetAccount may leave out a false ProductionAccessEnabled: only true is production access.
  test('a GetAccount answer without ProductionAccessEnabled is the sandbox: the refused record is done', async () => {
    sesMock
      .on(PutSuppressedDestinationCommand)
      .rejects(awsError('BadRequestException', 'The input you provided is invalid.'));
    sesMock.on(GetAccountCommand).resolves({});
    // Past the answers the tests before kept (up to their now + 3 h) by more than an hour.
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 6 * 3_600_000);
    await expect(run([record('u1', JSON.stringify(bounce))])).resolves.toEqual({ batchItemFailures: [] });
    expect(sesMock.commandCalls(GetAccountCommand)).toHaveLength(1);
  });
});
