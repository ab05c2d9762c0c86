import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutSuppressedDestinationCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  decide,
  MalformedMessageError,
  MAX_BODY_BYTES,
  SES_DESTINATION_NOTICE,
  unwrap,
} from '../../lambda/ses-feedback/feedback';
import {
  ABORT_BEFORE_TIMEOUT_MS,
  processBatch,
  ProcessDeps,
  suppressionOrder,
  TIME_RESERVE_MS,
} from '../../lambda/ses-feedback/process';
import { FEEDBACK_HANDLER } from '../../lambda/ses-feedback/settings';
import { createLogger } from '../../lambda/shared/logger';
import { MetricBatch } from '../../lambda/shared/metrics';
import { emfProblems } from '../support/emf';
import { awsError, Faults, throttling } from '../support/fake-aws';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'ses-events');
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')).payload;

/** The SNS envelope SQS receives when raw message delivery is off. */
const envelope = (event: unknown) =>
  JSON.stringify({
    Type: 'Notification',
    MessageId: 'sns-1',
    TopicArn: 'arn:aws:sns:eu-west-1:123456789012:feedback',
    Message: JSON.stringify(event),
    Timestamp: '2025-01-15T10:00:06.000Z',
  });

let counter = 0;
const record = (body: string, messageId = `m${++counter}`): SQSRecord =>
  ({ messageId, body, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSRecord;

/** The account suppression list, as SES keeps it: one entry per address, last reason wins. */
class FakeSuppressionList {
  readonly entries = new Map<string, string>();
  readonly faults = new Faults();
  put(input: { EmailAddress?: string; Reason?: string }) {
    this.faults.check('PutSuppressedDestination');
    this.entries.set(input.EmailAddress!, input.Reason!);
    return {};
  }
}

const sesMock = mockClient(SESv2Client);
let list: FakeSuppressionList;
let logs: string[];
let metrics: MetricBatch;

beforeEach(() => {
  sesMock.reset();
  list = new FakeSuppressionList();
  sesMock.on(PutSuppressedDestinationCommand).callsFake((input) => list.put(input));
  logs = [];
  metrics = new MetricBatch('SesSmtp/Feedback', { Environment: 'test' });
});

const run = (records: SQSRecord[], deps: Partial<ProcessDeps> = {}) =>
  processBatch(records, {
    ses: new SESv2Client({ region: 'eu-west-1' }),
    log: createLogger({}, (l) => logs.push(l)),
    metrics,
    ...deps,
  });

/** Metric values summed by name from the EMF lines. */
function metricTotals(): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const line of metrics.flush()) {
    expect(emfProblems(line)).toEqual([]);
    const doc = JSON.parse(line);
    for (const { Name } of doc._aws.CloudWatchMetrics[0].Metrics)
      totals[Name] = (totals[Name] ?? 0) + doc[Name];
  }
  return totals;
}

describe('feedback decisions on the sample events', () => {
  test.each<[string, string, string, [string, string][]]>([
    ['ses_event_bounce_permanent', 'Bounce', 'Permanent', [['nobody@example.net', 'BOUNCE']]],
    ['ses_event_bounce_transient', 'Bounce', 'Transient', []],
    ['ses_event_complaint', 'Complaint', 'None', [['annoyed@example.com', 'COMPLAINT']]],
    ['ses_notification_bounce_legacy', 'Bounce', 'Permanent', [['gone@example.net', 'BOUNCE']]],
    ['own_notification_complaint_legacy', 'Complaint', 'None', [['recipient@example.org', 'COMPLAINT']]],
    ['own_complaint_already_suppressed', 'Complaint', 'None', []],
    ['own_complaint_redacted_recipient', 'Complaint', 'None', []],
    ['own_event_delivery', 'Delivery', 'None', []],
  ])('%s', (name, eventType, bounceType, suppress) => {
    const decision = decide(fixture(name));
    expect([decision.eventType, decision.bounceType]).toEqual([eventType, bounceType]);
    expect(decision.suppress.map((s) => [s.address, s.reason])).toEqual(suppress);
  });

  // SES gives each mail a Message-ID of its own: the app's logs cannot be matched on it.
  test('a complaint says which mail it was: sender and the app tags, not SES own tags nor the subject', () => {
    const event = fixture('ses_event_complaint') as { mail: { tags: Record<string, string[]> } };
    expect(decide(event).mail).toEqual({ from: 'Example App <no-reply@mail.example.com>' });
    event.mail.tags.mailer = ['UserMailer'];
    event.mail.tags.action = ['password_reset'];
    expect(decide(event).mail?.tags).toEqual({ mailer: ['UserMailer'], action: ['password_reset'] });
  });

  test('what a forged event could make long is capped: 50 tags, 10 values each, 256 characters', () => {
    const event = fixture('ses_event_complaint') as { mail: { tags: Record<string, string[]> } };
    for (let i = 0; i < 60; i++) event.mail.tags[`t${i}`] = [`v${i}`];
    event.mail.tags.t0 = Array.from({ length: 20 }, (_, i) => `${'x'.repeat(300)}${i}`);
    const tags = decide(event).mail?.tags ?? {};
    expect(Object.keys(tags)).toHaveLength(50);
    expect(tags.t0).toHaveLength(10);
    expect(tags.t0[0]).toHaveLength(256);
  });

  test('a mail without sender or tags has no summary, and a delivery carries none', () => {
    const event = fixture('ses_event_bounce_permanent') as { mail: { source?: string; tags?: unknown } };
    event.mail.tags = { 'ses:configuration-set': ['set'], broken: 'not a list' };
    delete event.mail.source;
    expect(decide(event).mail).toBeUndefined();
    expect(decide(fixture('own_event_delivery')).mail).toBeUndefined();
  });

  // The strings of the SES guide's "Contents of event data" and "Notification contents" pages, as
  // SES writes them ("Rendering Failure" with a space), to the EventType dimension of the metrics.
  // An event type the handler did not know would fail every receive and end in the dead-letter
  // queue: REJECT and RENDERING_FAILURE are `feedback.additionalEvents` choices.
  test.each([
    ['eventType', 'Bounce', 'Bounce'],
    ['eventType', 'Complaint', 'Complaint'],
    ['eventType', 'Delivery', 'Delivery'],
    ['eventType', 'Send', 'Send'],
    ['eventType', 'Reject', 'Reject'],
    ['eventType', 'Open', 'Open'],
    ['eventType', 'Click', 'Click'],
    ['eventType', 'Rendering Failure', 'RenderingFailure'],
    ['eventType', 'DeliveryDelay', 'DeliveryDelay'],
    ['eventType', 'Subscription', 'Subscription'],
    ['notificationType', 'Bounce', 'Bounce'],
    ['notificationType', 'Complaint', 'Complaint'],
    ['notificationType', 'Delivery', 'Delivery'],
    ['notificationType', 'AmazonSnsSubscriptionSucceeded', 'SubscriptionSucceeded'],
  ])('%s "%s" is the event type %s', (key, value, eventType) => {
    const base = fixture(
      value === 'Complaint' ? 'ses_event_complaint' : 'ses_event_bounce_permanent',
    ) as Record<string, unknown>;
    const { eventType: _e, ...rest } = base;
    expect(decide({ ...rest, [key]: value }).eventType).toBe(eventType);
  });

  test('an Undetermined bounce is counted, not suppressed: only a Permanent one is', () => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: Record<string, unknown> };
    event.bounce.bounceType = 'Undetermined';
    event.bounce.bounceSubType = 'Undetermined';
    expect(decide(event)).toMatchObject({
      bounceType: 'Undetermined',
      suppress: [],
      notSuppressed: 1,
      note: 'Undetermined bounce: counted, not suppressed',
    });
  });

  // SES sent to the address, so its syntax is taken as SES reports it, and a quoted local part
  // (RFC 5321 §4.1.2) may hold what an unquoted one may not.
  test.each([
    ['"john doe"@example.com', true],
    ['"a,b@c"@example.com', true],
    ['First.Last+tag@Example.COM', true],
    ["o'brien@example.co.uk", true],
    ['user@xn--bcher-kva.example', true],
    ['taro.@docomo.ne.jp', true],
    ['taro..yamada@ezweb.ne.jp', true],
    ['user@example.com.', true],
    ['Name <user@example.com>', false],
    ['a<b@example.com', false],
    ['"unterminated@example.com', false],
    ['user@example', false],
    ['a@b@example.com', false],
    ['redacted', false],
  ])('the bounced recipient %s is an address: %s', (address, valid) => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
    event.bounce.bouncedRecipients = [{ emailAddress: address, status: '5.1.1' }];
    expect(decide(event)).toMatchObject({
      suppress: valid ? [{ address, reason: 'BOUNCE' }] : [],
      redacted: valid ? 0 : 1,
    });
  });

  // Anyone who may publish to the topic or the queue can send any body of up to 256 KiB: the address
  // check must stay linear (a domain of dots backtracked quadratically: minutes, past the timeout).
  test.each([
    ['a domain of dots', `a@${'.'.repeat(250_000)};`],
    ['a local part of dots', `${'.'.repeat(250_000)}@`],
    ['an unterminated quote', `"${'a'.repeat(250_000)}`],
    ['backslashes in a quote', `"${'\\'.repeat(125_000)}`],
  ])('a recipient of %s is checked in linear time', (_name, address) => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
    event.bounce.bouncedRecipients = [{ emailAddress: address }];
    const began = performance.now();
    expect(decide(event).redacted).toBe(1);
    expect(performance.now() - began).toBeLessThan(500);
  });

  // RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets. Octets, not
  // characters: 121 "ü" are 242 octets.
  test.each([
    ['254 octets', true, `${'a'.repeat(242)}@example.com`],
    ['255 octets', false, `${'a'.repeat(243)}@example.com`],
    ['254 octets, 133 characters', true, `${'ü'.repeat(121)}@example.com`],
    ['256 octets, 134 characters', false, `${'ü'.repeat(122)}@example.com`],
  ])('a bounced recipient of %s is an address: %s', (_name, valid, address) => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
    event.bounce.bouncedRecipients = [{ emailAddress: address }];
    expect(decide(event)).toMatchObject({ suppress: valid ? [{ address }] : [], redacted: valid ? 0 : 1 });
  });

  // A forged event (or a remote MTA's DSN) may name a "recipient" of any length up to the body's:
  // no call for it, no log line that repeats it, and the event's real recipient is still suppressed.
  test('a recipient longer than any address is counted: no suppression call, not logged, the others suppressed', async () => {
    const long = `${'x'.repeat(200_000)}@example.net`;
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
    event.bounce.bouncedRecipients.push({ emailAddress: long });
    expect(await run([record(JSON.stringify(event), 'long')])).toEqual([]);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand).map((c) => c.args[0].input)).toEqual([
      { EmailAddress: 'nobody@example.net', Reason: 'BOUNCE' },
    ]);
    expect(metricTotals()).toEqual({ Events: 1, RecipientsSuppressed: 1, RecipientsRedacted: 1 });
    expect(logs.join('\n')).not.toContain('x'.repeat(300));
  });

  test('a recipient named twice in one bounce is suppressed once (surrounding spaces trimmed)', () => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
    event.bounce.bouncedRecipients = [
      { emailAddress: 'twice@example.org' },
      { emailAddress: ' twice@example.org ' },
      { emailAddress: 'once@example.org' },
    ];
    const decision = decide(event);
    expect(decision.suppress.map((s) => s.address)).toEqual(['twice@example.org', 'once@example.org']);
    expect(decision.redacted).toBe(0);
  });

  test('transient bounce: both recipients counted, none suppressed', () => {
    expect(decide(fixture('ses_event_bounce_transient'))).toMatchObject({
      notSuppressed: 2,
      note: 'Transient bounce: counted, not suppressed',
    });
  });

  test('a bounced recipient without a usable address is counted; the others are still suppressed', () => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
    event.bounce.bouncedRecipients = [
      { status: '5.1.1' },
      { emailAddress: 'nobody' },
      ...event.bounce.bouncedRecipients,
    ];
    const decision = decide(event);
    expect(decision.suppress).toEqual([{ address: 'nobody@example.net', reason: 'BOUNCE' }]);
    expect(decision).toMatchObject({
      redacted: 2,
      note: '2 bounced recipient(s) without a usable address: counted, not suppressed',
    });
  });

  test.each(['not-spam', 'Not-Spam', ' NOT-SPAM '])(
    'a "not-spam" feedback report (a correction, RFC 5965) is counted, not suppressed: %j',
    (type) => {
      const event = fixture('ses_event_complaint') as { complaint: Record<string, unknown> };
      expect(decide(event).suppress).toHaveLength(1);
      event.complaint.complaintFeedbackType = type;
      expect(decide(event)).toMatchObject({
        suppress: [],
        notSuppressed: 1,
        note: 'not-spam feedback report: counted, not suppressed',
      });
    },
  );

  test('redacted complaint recipient is counted and explained', () => {
    // The report names no recipient at all: the complaint still stands for one recipient we cannot name.
    expect(decide(fixture('own_complaint_redacted_recipient'))).toMatchObject({
      redacted: 1,
      suppress: [],
      note: 'complaint without a usable recipient address (redacted by the ISP)',
    });
    const withPlaceholder = fixture('ses_event_complaint') as {
      complaint: { complainedRecipients: unknown[] };
    };
    withPlaceholder.complaint.complainedRecipients = [
      { emailAddress: 'redacted' },
      { emailAddress: 'real@example.org' },
    ];
    expect(decide(withPlaceholder)).toMatchObject({
      redacted: 1,
      suppress: [{ address: 'real@example.org', reason: 'COMPLAINT' }],
    });
  });

  test('the SNS envelopes from the samples unwrap to the same event', () => {
    const http = fixture('sns_http_envelope_bounce');
    expect(unwrap(JSON.stringify(http))).toEqual(fixture('ses_event_bounce_permanent'));
    const lambdaSns = (fixture('lambda_sns_event_complaint') as { Records: { Sns: unknown }[] }).Records[0]
      .Sns;
    expect(unwrap(JSON.stringify(lambdaSns))).toEqual(fixture('ses_event_complaint'));
  });

  // SES publishes this plain text to the topic when the configuration set's event destination is
  // created (as quoted in ope-tech/laravel-ses#10): with the queue subscribed first, it arrives.
  test.each([
    ['raw delivery', SES_DESTINATION_NOTICE],
    [
      'SNS envelope',
      JSON.stringify({ Type: 'Notification', MessageId: 'm', Message: SES_DESTINATION_NOTICE }),
    ],
  ])("SES's notice that the event destination is set up carries no event (%s)", (_name, body) => {
    expect(unwrap(body)).toBeUndefined();
    // Anything else that is not JSON is still malformed.
    expect(() => unwrap(body.replace('Successfully', 'Unsuccessfully'))).toThrow(MalformedMessageError);
  });

  test.each(['SubscriptionConfirmation', 'UnsubscribeConfirmation'])('an SNS %s carries no event', (Type) => {
    expect(unwrap(JSON.stringify({ Type, Message: 'confirm', SubscribeURL: 'https://x' }))).toBeUndefined();
  });

  test('an SNS envelope of another Type is malformed, whatever its Message holds', () => {
    const message = JSON.stringify(fixture('ses_event_bounce_permanent'));
    expect(() => unwrap(JSON.stringify({ Type: 'Bogus', Message: message }))).toThrow(
      new MalformedMessageError('SNS envelope of unknown Type "Bogus"'),
    );
    expect(() => unwrap(JSON.stringify({ Type: `Bogus${'!'.repeat(100)}`, Message: message }))).toThrow(
      new MalformedMessageError(`SNS envelope of unknown Type "Bogus${'!'.repeat(35)}"`),
    );
    expect(() => unwrap(JSON.stringify({ Type: ['Notification'], Message: message }))).toThrow(
      new MalformedMessageError('SNS envelope of unknown Type a list'),
    );
  });
});

describe('processBatch', () => {
  test.each([
    ['raw delivery', (e: unknown) => JSON.stringify(e)],
    ['SNS envelope', envelope],
  ])('suppresses permanent bounces and complaints (%s), counts the rest', async (_name, wrap) => {
    const failures = await run(
      [
        'ses_event_bounce_permanent',
        'ses_event_bounce_transient',
        'ses_event_complaint',
        'own_event_delivery',
      ].map((n) => record(wrap(fixture(n)))),
    );
    expect(failures).toEqual([]);
    expect(Object.fromEntries(list.entries)).toEqual({
      'nobody@example.net': 'BOUNCE',
      'annoyed@example.com': 'COMPLAINT',
    });
    expect(metricTotals()).toEqual({ Events: 4, RecipientsSuppressed: 2 });
  });

  test("the log line of a complaint names the mail: the operator's way to find what draws complaints", async () => {
    const event = fixture('ses_event_complaint') as { mail: { tags: Record<string, string[]> } };
    event.mail.tags.mailer = ['UserMailer'];
    await run([record(JSON.stringify(event))]);
    const processed = logs.map((l) => JSON.parse(l)).find((l) => l.message === 'feedback processed');
    expect(processed).toMatchObject({
      eventType: 'Complaint',
      suppressed: ['annoyed@example.com'],
      from: 'Example App <no-reply@mail.example.com>',
      tags: { mailer: ['UserMailer'] },
    });
    expect(processed).not.toHaveProperty('subject');
  });

  test('fifty recipients of one bounce are all suppressed', async () => {
    await run([record(JSON.stringify(fixture('own_bounce_permanent_50_recipients')))]);
    expect(list.entries.size).toBe(50);
    expect(list.entries.get('user49@example.net')).toBe('BOUNCE');
  });

  test('near the end of the invocation the rest of the batch goes back to the queue, and its retry converges', async () => {
    // Ten bounces of 50 recipients each; every suppression call takes 100 ms of a 30 s invocation.
    const bounces = Array.from({ length: 10 }, (_, n) => {
      const event = fixture('own_bounce_permanent_50_recipients') as {
        bounce: { feedbackId: string; bouncedRecipients: { emailAddress: string }[] };
      };
      event.bounce.feedbackId = `feedback-${n}`;
      for (const r of event.bounce.bouncedRecipients) r.emailAddress = `${n}-${r.emailAddress}`;
      return record(JSON.stringify(event), `m${n}`);
    });
    let elapsed = 0;
    const leftAtEachCall: number[] = [];
    sesMock.on(PutSuppressedDestinationCommand).callsFake((input) => {
      leftAtEachCall.push(30_000 - elapsed);
      elapsed += 100;
      return list.put(input);
    });
    /** One invocation of 30 s on the fake clock. */
    const invoke = (records: typeof bounces) =>
      processBatch(records, {
        ses: new SESv2Client({ region: 'eu-west-1' }),
        log: createLogger({}, (l) => logs.push(l)),
        metrics,
        timeLeftMs: () => 30_000 - elapsed,
      });

    const failures = await invoke(bounces);
    // Five records done (250 calls), the sixth started (its retry repeats upserts), four deferred.
    expect(failures.map((f) => f.itemIdentifier)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9']);
    expect(Math.min(...leftAtEachCall)).toBeGreaterThanOrEqual(TIME_RESERVE_MS);
    expect(list.entries.size).toBe(251);
    // The sixth record's first address is on the list too: counted by the receive that finishes it.
    expect(metricTotals()).toEqual({ Events: 5, RecipientsSuppressed: 250, DeferredRecords: 4 });
    const deferredLine = logs
      .map((l) => JSON.parse(l))
      .find((l) => l.message?.includes('nearly out of time: the rest of the batch goes back to the queue'));
    // The ids of the records never tried: the one line that names them, for the dead-letter runbook.
    expect(deferredLine).toMatchObject({ deferred: 4, sqsMessageIds: ['m6', 'm7', 'm8', 'm9'] });

    elapsed = 0;
    const retried = bounces.filter((b) => failures.some((f) => f.itemIdentifier === b.messageId));
    expect(await invoke(retried)).toEqual([]);
    expect(list.entries.size).toBe(500);
    // Each address counted once over both invocations.
    expect(metricTotals()).toEqual({ Events: 5, RecipientsSuppressed: 250 });
  });

  /**
   * SQS and the event source mapping around processBatch, on an invocation clock: each invocation
   * takes up to `batchSize` visible messages in queue order and has `timeoutSeconds`; a reported
   * failure is a receive, and the `maxReceiveCount`th sends the message to the dead-letter queue.
   * Every suppression call costs `callMs` of the invocation (SES throttling).
   */
  async function drain(
    bodies: string[],
    settings: { batchSize: number; timeoutSeconds: number; maxReceiveCount: number; callMs: number },
  ) {
    let elapsed = 0;
    sesMock.on(PutSuppressedDestinationCommand).callsFake((input) => {
      elapsed += settings.callMs;
      return list.put(input);
    });
    const queue = bodies.map((body, i) => ({ id: `m${i}`, body, receives: 0 }));
    const deadLetters: string[] = [];
    let invocations = 0;
    while (queue.length > 0) {
      const batch = queue.splice(0, settings.batchSize);
      for (const message of batch) message.receives++;
      elapsed = 0;
      invocations++;
      const failures = await processBatch(
        batch.map(
          (m) =>
            ({
              messageId: m.id,
              body: m.body,
              attributes: { ApproximateReceiveCount: String(m.receives) },
            }) as unknown as SQSRecord,
        ),
        {
          ses: new SESv2Client({ region: 'eu-west-1' }),
          log: createLogger({}, (l) => logs.push(l)),
          metrics,
          timeLeftMs: () => settings.timeoutSeconds * 1000 - elapsed,
          maxReceiveCount: settings.maxReceiveCount,
        },
      );
      for (const message of batch) {
        if (!failures.some((f) => f.itemIdentifier === message.id)) continue;
        if (message.receives >= settings.maxReceiveCount) deadLetters.push(message.id);
        else queue.push(message);
      }
    }
    return { suppressed: list.entries.size, deadLetters, invocations };
  }

  /** `count` bounces of 50 recipients each, every address its own. */
  const bigBounces = (count: number) =>
    Array.from({ length: count }, (_, n) => {
      const event = structuredClone(fixture('own_bounce_permanent_50_recipients')) as {
        bounce: { feedbackId: string; bouncedRecipients: { emailAddress: string }[] };
      };
      event.bounce.feedbackId = `feedback-${n}`;
      for (const r of event.bounce.bouncedRecipients) r.emailAddress = `${n}-${r.emailAddress}`;
      return JSON.stringify(event);
    });

  // The deployed settings (FEEDBACK_HANDLER, the queue's 5 receives) under SES throttling each call
  // to 600 ms: a burst of the largest bounces is handled, none reaches the dead-letter queue.
  test('a burst of 50-recipient bounces under throttling, with the deployed settings: all suppressed, none dead-lettered', async () => {
    const deployed = { ...FEEDBACK_HANDLER, maxReceiveCount: 5, callMs: 600 };
    expect(await drain(bigBounces(10), deployed)).toEqual({
      suppressed: 500,
      deadLetters: [],
      invocations: 10,
    });
    expect(metricTotals()).toEqual({ Events: 10, RecipientsSuppressed: 500 });
  });

  // What the settings were: ten a batch in 30 s. The first record used its invocation, deferred
  // the nine others (a receive each), and went back whole on every receive: in queue order it
  // leads every batch, so its 50 recipients were the only ones suppressed.
  test('the earlier settings (10 a batch, 30 s) dead-lettered that burst, most recipients never tried', async () => {
    const earlier = { batchSize: 10, timeoutSeconds: 30, maxReceiveCount: 5, callMs: 600 };
    const { suppressed, deadLetters } = await drain(bigBounces(10), earlier);
    expect(deadLetters).toHaveLength(10);
    expect(suppressed).toBe(50);
  });

  // SES throttling each call to 600 ms: one 30 s invocation gets through 42 of a bounce's 50, and
  // the record goes back each time; every recipient must still be suppressed within its receives.
  test('a bounce with more recipients than one invocation has time for: each is suppressed within its receives', async () => {
    let elapsed = 0;
    sesMock.on(PutSuppressedDestinationCommand).callsFake((input) => {
      elapsed += 600;
      return list.put(input);
    });
    const body = JSON.stringify(fixture('own_bounce_permanent_50_recipients'));
    const suppressedAfter: number[] = [];
    for (const count of [1, 2]) {
      elapsed = 0;
      const received = {
        ...record(body, 'm1'),
        attributes: { ApproximateReceiveCount: String(count) },
      } as unknown as SQSRecord;
      const failures = await processBatch([received], {
        ses: new SESv2Client({ region: 'eu-west-1' }),
        log: createLogger({}, (l) => logs.push(l)),
        metrics,
        timeLeftMs: () => 30_000 - elapsed,
        maxReceiveCount: 5,
      });
      expect(failures).toEqual([{ itemIdentifier: 'm1' }]);
      suppressedAfter.push(list.entries.size);
    }
    // The first receive suppresses the first 42; the second starts 10 along and reaches the last 8.
    expect(suppressedAfter).toEqual([42, 50]);
  });

  test.each([
    [1, 0],
    [2, 10],
    [5, 40],
    [6, 0],
  ])('receive %d of a 50-recipient record with a limit of 5 starts at recipient %d', (count, start) => {
    const recipients = Array.from({ length: 50 }, (_, i) => i);
    expect(suppressionOrder(recipients, { count, limit: 5 })[0]).toBe(start);
    expect(suppressionOrder(recipients, { count, limit: 5 }).sort((a, b) => a - b)).toEqual(recipients);
  });

  test('a suppression call still running near the timeout is aborted: its record and the rest go back', async () => {
    // SES does not answer; the SDK would retry with backoff past the function's timeout.
    const signals: AbortSignal[] = [];
    const silent = {
      send: (_command: unknown, options: { abortSignal: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          signals.push(options.abortSignal);
          options.abortSignal.addEventListener('abort', () =>
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
          );
        }),
    } as unknown as SESv2Client;
    jest.useFakeTimers({ now: 0 });
    try {
      const invocationEnds = TIME_RESERVE_MS + 1_000;
      const batch = processBatch(
        [
          record(JSON.stringify(fixture('ses_event_bounce_permanent')), 'm1'),
          record(JSON.stringify(fixture('ses_event_complaint')), 'm2'),
        ],
        {
          ses: silent,
          log: createLogger({}, (l) => logs.push(l)),
          metrics,
          timeLeftMs: () => invocationEnds - Date.now(),
        },
      );
      await jest.advanceTimersByTimeAsync(invocationEnds - ABORT_BEFORE_TIMEOUT_MS - 1);
      expect(signals.map((signal) => signal.aborted)).toEqual([false]);
      await jest.advanceTimersByTimeAsync(1);
      expect(await batch).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }]);
      expect(Date.now()).toBe(invocationEnds - ABORT_BEFORE_TIMEOUT_MS);
    } finally {
      jest.useRealTimers();
    }
    expect(metricTotals()).toEqual({ DeferredRecords: 1 });
  });

  test("each call's abort timer ends with its call: none is left running after the batch", async () => {
    const sent: unknown[] = [];
    const answering = { send: async (command: unknown) => void sent.push(command) } as unknown as SESv2Client;
    jest.useFakeTimers({ now: 0 });
    try {
      const records = [
        record(JSON.stringify(fixture('ses_event_bounce_permanent')), 'm1'),
        record(JSON.stringify(fixture('ses_event_complaint')), 'm2'),
      ];
      expect(await run(records, { ses: answering, timeLeftMs: () => 900_000 - Date.now() })).toEqual([]);
      expect(sent).toHaveLength(2);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  // Delivered twice in a batch (SNS may), it is the same complaint: counted once, as its event is.
  test('a complaint whose recipient was redacted reaches the RecipientsRedacted metric, once', async () => {
    const complaint = fixture('own_complaint_redacted_recipient');
    expect(await run([record(JSON.stringify(complaint)), record(envelope(complaint))])).toEqual([]);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand)).toHaveLength(0);
    expect(metricTotals()).toEqual({ Events: 1, RecipientsRedacted: 1 });
  });

  // SES keeps the simulator's addresses off the suppression list, and a sandbox account may not call
  // PutSuppressedDestination: README's step 4 (a send to bounce@simulator.amazonses.com before
  // production access) ended in the dead-letter queue, and the dashboard counted no event.
  test.each([
    ['bounce', 'ses_event_bounce_permanent', 'bounce@simulator.amazonses.com'],
    ['bounce with a label', 'ses_event_bounce_permanent', 'bounce+step4@Simulator.AmazonSES.com'],
    ['complaint', 'ses_event_complaint', 'complaint@simulator.amazonses.com'],
  ])('a %s from the mailbox simulator is counted, with no suppression call', async (_name, name, address) => {
    const event = fixture(name) as {
      mail: { destination: string[] };
      bounce?: { bouncedRecipients: { emailAddress: string }[] };
      complaint?: { complainedRecipients: { emailAddress: string }[] };
    };
    event.mail.destination = [address];
    (event.bounce?.bouncedRecipients ?? event.complaint!.complainedRecipients)[0].emailAddress = address;
    // The sandbox: SES refuses every call (the guide names no error for it).
    sesMock.on(PutSuppressedDestinationCommand).rejects(new Error('not available in the sandbox'));
    expect(await run([record(JSON.stringify(event), 'sim')])).toEqual([]);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand)).toHaveLength(0);
    expect(metricTotals()).toEqual({ Events: 1 });
    expect(logs.map((l) => JSON.parse(l)).find((l) => l.sqsMessageId === 'sim')).toMatchObject({
      message: 'feedback processed',
      suppressed: [],
      notSuppressed: 1,
      note: expect.stringContaining('mailbox simulator'),
    });
  });

  test('a bounce to the simulator and a real recipient suppresses the real one only', () => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
    event.bounce.bouncedRecipients.push({ emailAddress: 'bounce@simulator.amazonses.com' });
    expect(decide(event)).toMatchObject({
      suppress: [{ address: 'nobody@example.net', reason: 'BOUNCE' }],
      notSuppressed: 1,
      note: expect.stringContaining('mailbox simulator'),
    });
    // Not a look-alike domain.
    event.bounce.bouncedRecipients = [{ emailAddress: 'bounce@simulator.amazonses.com.evil.example' }];
    expect(decide(event).suppress).toHaveLength(1);
  });

  test('an address already on the suppression list is not put again', async () => {
    await run([record(JSON.stringify(fixture('own_complaint_already_suppressed')))]);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand)).toHaveLength(0);
  });

  // SES's own "OnAccountSuppressionList" bounce: putting the address again would turn a COMPLAINT
  // entry into a BOUNCE one, and count a suppression that did not happen.
  test('a bounce SES gave because the address is on the suppression list is not put again', async () => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bounceSubType: string } };
    event.bounce.bounceSubType = 'OnAccountSuppressionList';
    expect(await run([record(JSON.stringify(event))])).toEqual([]);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand)).toHaveLength(0);
    expect(metricTotals().RecipientsSuppressed ?? 0).toBe(0);
  });

  test('metrics are split by event type and bounce type', () => {
    // Two transient bounces: the second one's own feedback id (the same one twice counts once).
    const another = fixture('ses_event_bounce_transient') as { bounce: { feedbackId: string } };
    another.bounce.feedbackId = `${another.bounce.feedbackId}-another`;
    return run([
      ...['ses_event_bounce_permanent', 'ses_event_bounce_transient'].map((n) =>
        record(JSON.stringify(fixture(n))),
      ),
      record(JSON.stringify(another)),
    ]).then(() => {
      const docs = metrics.flush().map((l) => JSON.parse(l));
      const events = docs
        .filter((d) => 'Events' in d)
        .map((d) => [d.EventType, d.BounceType, d.Events, d.Environment]);
      expect(events).toEqual(
        expect.arrayContaining([
          ['Bounce', 'Permanent', 1, 'test'],
          ['Bounce', 'Transient', 2, 'test'],
        ]),
      );
      expect(docs[0]._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: 'SesSmtp/Feedback',
        Dimensions: [['Environment', 'EventType', 'BounceType']],
      });
    });
  });

  // SES publishes a DeliveryDelay event per delay: they share the message id, not the event.
  test('two DeliveryDelay events of one message count as two; one bounce delivered twice as one', async () => {
    const delay = (at: string) => ({
      eventType: 'DeliveryDelay',
      mail: { messageId: 'delayed-message', timestamp: '2026-11-29T10:00:00.000Z', source: 'a@example.com' },
      deliveryDelay: {
        timestamp: at,
        delayType: 'TransientCommunicationFailure',
        delayedRecipients: [{ emailAddress: 'slow@example.org', status: '4.4.1' }],
      },
    });
    const same = JSON.stringify(fixture('ses_event_bounce_permanent'));
    // Without its feedbackId (SES always sends one; a forged or trimmed event may not), the bounce
    // is told by its message id.
    const bare = fixture('ses_event_bounce_permanent') as { bounce: { feedbackId?: string } };
    delete bare.bounce.feedbackId;
    await run([
      record(JSON.stringify(delay('2026-11-29T10:15:00.000Z'))),
      record(JSON.stringify(delay('2026-11-29T11:15:00.000Z'))),
      record(same),
      record(same),
      record(JSON.stringify(bare)),
      record(JSON.stringify(bare)),
    ]);
    const docs = metrics.flush().map((l) => JSON.parse(l));
    const events = Object.fromEntries(docs.filter((d) => 'Events' in d).map((d) => [d.EventType, d.Events]));
    expect(events).toEqual({ DeliveryDelay: 2, Bounce: 2 });
  });

  // As a bounce: a complaint without its feedbackId is told by its message id, so the same one
  // delivered twice is applied and counted once, and another mail's complaint is its own.
  test('a complaint without a feedbackId is told by its message id: twice in a batch counts once', async () => {
    const bare = (messageId: string) => {
      const event = fixture('ses_event_complaint') as {
        mail: { messageId: string };
        complaint: { feedbackId?: string };
      };
      delete event.complaint.feedbackId;
      event.mail.messageId = messageId;
      return event;
    };
    expect(decide(bare('mail-1')).feedbackId).toBe('mail-1');
    await run([
      record(JSON.stringify(bare('mail-1'))),
      record(envelope(bare('mail-1'))),
      record(JSON.stringify(bare('mail-2'))),
    ]);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand).map((c) => c.args[0].input)).toEqual([
      { EmailAddress: 'annoyed@example.com', Reason: 'COMPLAINT' },
      { EmailAddress: 'annoyed@example.com', Reason: 'COMPLAINT' },
    ]);
    expect(metricTotals()).toEqual({ Events: 2, RecipientsSuppressed: 2 });
  });

  test.each([
    ['ses_event_complaint', 'complaint'],
    ['ses_event_bounce_permanent', 'bounce'],
  ] as const)(
    'an empty feedbackId is none (%s): two events by their message ids, not one',
    async (name, kind) => {
      const withEmptyId = (messageId: string) => {
        const event = fixture(name) as { mail: { messageId: string } } & Record<
          string,
          { feedbackId?: string }
        >;
        event[kind].feedbackId = '';
        event.mail.messageId = messageId;
        return event;
      };
      expect(decide(withEmptyId('mail-1')).feedbackId).toBe('mail-1');
      await run([
        record(JSON.stringify(withEmptyId('mail-1'))),
        record(JSON.stringify(withEmptyId('mail-2'))),
      ]);
      expect(metricTotals()).toMatchObject({ Events: 2 });
    },
  );

  // Counted once: by the receive that finishes the record, or by its last before the dead-letter queue.
  test('addresses a record suppressed before it failed (one address refused) count on its last receive', async () => {
    sesMock.on(PutSuppressedDestinationCommand).callsFake((input) => {
      if (input.EmailAddress === 'user07@example.net')
        throw Object.assign(new Error('Invalid address'), { name: 'BadRequestException' });
      return list.put(input);
    });
    const body = JSON.stringify(fixture('own_bounce_permanent_50_recipients'));
    const receive = (count: number) =>
      processBatch(
        [{ ...record(body, 'm1'), attributes: { ApproximateReceiveCount: String(count) } } as SQSRecord],
        {
          ses: new SESv2Client({ region: 'eu-west-1' }),
          log: createLogger({}, (l) => logs.push(l)),
          metrics,
        },
      );
    expect(await receive(1)).toEqual([{ itemIdentifier: 'm1' }]);
    expect(list.entries.size).toBe(49);
    expect(metricTotals()).toEqual({ SuppressionFailures: 1 });
    expect(await receive(5)).toEqual([{ itemIdentifier: 'm1' }]);
    expect(metricTotals()).toEqual({ RecipientsSuppressed: 49, SuppressionFailures: 1 });
  });

  const bounce = () => JSON.parse(JSON.stringify(fixture('ses_event_bounce_permanent')));
  const MALFORMED: [string, string][] = [
    ['not JSON', 'this is not json'],
    ['empty body', '   '],
    ['JSON array', '[1,2,3]'],
    ['JSON null', 'null'],
    ['JSON string', '"Bounce"'],
    ['envelope of unknown Type', JSON.stringify({ Type: 'Teapot', Message: '{}' })],
    // The reason quotes the Type: a long one must not make the line as long as the body.
    ['envelope of a long unknown Type', JSON.stringify({ Type: 'T'.repeat(10_000), Message: '{}' })],
    ['envelope whose Type is an object', JSON.stringify({ Type: { t: 'T'.repeat(10_000) }, Message: '{}' })],
    ['envelope without Message', JSON.stringify({ Type: 'Notification' })],
    ['envelope Message not JSON', JSON.stringify({ Type: 'Notification', Message: '{oops' })],
    ['envelope Message is an array', JSON.stringify({ Type: 'Notification', Message: '[]' })],
    ['no event type at all', JSON.stringify({ mail: { messageId: 'x' } })],
    ['eventType is a number', JSON.stringify({ ...bounce(), eventType: 7 })],
    ['unknown eventType', JSON.stringify({ ...bounce(), eventType: 'Teleport' })],
    ['unknown notificationType', JSON.stringify({ notificationType: 'Echo', mail: { messageId: 'x' } })],
    ['bounce object missing', JSON.stringify({ ...bounce(), bounce: undefined })],
    [
      'bounceType unknown',
      JSON.stringify({ ...bounce(), bounce: { ...bounce().bounce, bounceType: 'Soft' } }),
    ],
    [
      'bouncedRecipients not a list',
      JSON.stringify({
        ...bounce(),
        bounce: { ...bounce().bounce, bouncedRecipients: 'nobody@example.net' },
      }),
    ],
    ['mail missing', JSON.stringify({ ...bounce(), mail: undefined })],
    ['mail.messageId wrong type', JSON.stringify({ ...bounce(), mail: { messageId: 42 } })],
    // An empty message id is no id: malformed, as a missing one (it would be the dedupe key).
    ['mail.messageId empty', JSON.stringify({ ...bounce(), mail: { ...bounce().mail, messageId: '' } })],
    [
      'mail.messageId missing',
      JSON.stringify({ ...bounce(), mail: { ...bounce().mail, messageId: undefined } }),
    ],
    ['complaint object missing', JSON.stringify({ eventType: 'Complaint', mail: { messageId: 'x' } })],
    [
      'complainedRecipients not a list',
      JSON.stringify({
        eventType: 'Complaint',
        complaint: { complainedRecipients: {} },
        mail: { messageId: 'x' },
      }),
    ],
    [
      'too many recipients',
      JSON.stringify({
        ...bounce(),
        bounce: {
          ...bounce().bounce,
          bouncedRecipients: Array.from({ length: 101 }, (_, i) => ({ emailAddress: `u${i}@example.net` })),
        },
      }),
    ],
    ['oversized body', JSON.stringify({ ...bounce(), padding: 'x'.repeat(MAX_BODY_BYTES) })],
  ];

  test('a body of exactly the largest size SQS carries is read; one byte more is malformed', () => {
    const sized = (bytes: number) => {
      const empty = JSON.stringify({ ...bounce(), padding: '' });
      return JSON.stringify({ ...bounce(), padding: 'x'.repeat(bytes - Buffer.byteLength(empty)) });
    };
    expect(Buffer.byteLength(sized(MAX_BODY_BYTES))).toBe(MAX_BODY_BYTES);
    expect(unwrap(sized(MAX_BODY_BYTES))).toMatchObject({ eventType: 'Bounce' });
    expect(() => unwrap(sized(MAX_BODY_BYTES + 1))).toThrow(
      `message body is larger than ${MAX_BODY_BYTES} bytes`,
    );
    // Bytes, not characters: two bytes each, these are fewer characters than the limit.
    const wide = JSON.stringify({ ...bounce(), padding: 'é'.repeat(MAX_BODY_BYTES / 2) });
    expect(wide.length).toBeLessThan(MAX_BODY_BYTES);
    expect(() => unwrap(wide)).toThrow(`message body is larger than ${MAX_BODY_BYTES} bytes`);
  });

  test.each(MALFORMED)(
    'malformed (%s): only that item fails, the rest of the batch is processed',
    async (_name, body) => {
      const bad = record(body, 'bad');
      const before = record(JSON.stringify(fixture('ses_event_complaint')), 'good-1');
      const after = record(envelope(fixture('ses_event_bounce_permanent')), 'good-2');
      const failures = await run([before, bad, after]);
      expect(failures).toEqual([{ itemIdentifier: 'bad' }]);
      expect([...list.entries.keys()].sort()).toEqual(['annoyed@example.com', 'nobody@example.net']);
      expect(metricTotals()).toMatchObject({ MalformedMessages: 1, Events: 2 });
      const logged = logs.map((l) => JSON.parse(l)).find((l) => l.sqsMessageId === 'bad');
      expect(logged).toMatchObject({ level: 'ERROR', message: expect.stringContaining('dead-letter queue') });
      expect(JSON.stringify(logged).length).toBeLessThan(1000);
      // Its retries (SQS receives it again) log again but count no second malformed message.
      const again = { ...bad, attributes: { ...bad.attributes, ApproximateReceiveCount: '2' } };
      expect(await run([again])).toEqual([{ itemIdentifier: 'bad' }]);
      expect(metricTotals().MalformedMessages ?? 0).toBe(0);
      expect(logs.filter((l) => JSON.parse(l).sqsMessageId === 'bad')).toHaveLength(2);
    },
  );

  test('a throttled suppression call fails that item for a retry, which converges without duplicates', async () => {
    list.faults.failNext('PutSuppressedDestination', throttling());
    const batch = [
      record(JSON.stringify(fixture('ses_event_bounce_permanent')), 'b'),
      record(JSON.stringify(fixture('ses_event_complaint')), 'c'),
    ];
    expect(await run(batch)).toEqual([{ itemIdentifier: 'b' }]);
    expect([...list.entries.keys()]).toEqual(['annoyed@example.com']);
    expect(metricTotals()).toMatchObject({ SuppressionFailures: 1 });

    // SQS redelivers only the failed item: SES is called for its recipient only.
    sesMock.resetHistory();
    expect(await run([batch[0]])).toEqual([]);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand).map((c) => c.args[0].input)).toEqual([
      { EmailAddress: 'nobody@example.net', Reason: 'BOUNCE' },
    ]);
    expect(Object.fromEntries(list.entries)).toEqual({
      'annoyed@example.com': 'COMPLAINT',
      'nobody@example.net': 'BOUNCE',
    });
  });

  test('an address SES refuses (BadRequest) fails the record, after its other addresses are suppressed', async () => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
    event.bounce.bouncedRecipients = ['first', 'refused', 'third'].map((name) => ({
      emailAddress: `${name}@example.net`,
    }));
    sesMock.on(PutSuppressedDestinationCommand).callsFake((input) => {
      if (input.EmailAddress === 'refused@example.net')
        throw awsError('BadRequestException', 'The input you provided is invalid.');
      return list.put(input);
    });
    expect(await run([record(JSON.stringify(event), 'b')])).toEqual([{ itemIdentifier: 'b' }]);
    expect([...list.entries.keys()]).toEqual(['first@example.net', 'third@example.net']);
    const logged = logs.map((l) => JSON.parse(l)).find((l) => l.sqsMessageId === 'b');
    expect(logged).toMatchObject({
      level: 'WARN',
      errorName: 'BadRequestException',
      errorMessage: 'SES refused to suppress 1 address(es): The input you provided is invalid.',
      refused: ['refused@example.net'],
    });
  });

  describe('in the SES sandbox, where SES refuses every PutSuppressedDestination', () => {
    const refuseAll = () =>
      sesMock
        .on(PutSuppressedDestinationCommand)
        .rejects(awsError('BadRequestException', 'The input you provided is invalid.'));

    test('a refused record is done, counted and not suppressed: a retry would only dead-letter it', async () => {
      refuseAll();
      const asked: string[] = [];
      const inSandbox = async () => (asked.push('GetAccount'), true);
      const records = ['ses_event_bounce_permanent', 'ses_event_complaint'].map((n) =>
        record(JSON.stringify(fixture(n)), n),
      );
      expect(await run(records, { inSandbox })).toEqual([]);
      expect(asked.length).toBeGreaterThan(0);
      expect(metricTotals()).toEqual({ Events: 2 });
      const lines = logs.map((l) => JSON.parse(l));
      for (const n of ['ses_event_bounce_permanent', 'ses_event_complaint'])
        expect(lines.find((l) => l.sqsMessageId === n)).toMatchObject({
          level: 'INFO',
          suppressed: [],
          notSuppressed: 1,
          refused: [expect.stringContaining('@')],
          note: expect.stringMatching(
            /^the account is in the SES sandbox, where SES refuses PutSuppressedDestination/,
          ),
        });
    });

    test('out of the sandbox, or when that cannot be told, a refusal still fails its record', async () => {
      refuseAll();
      const bounce = () => [record(JSON.stringify(fixture('ses_event_bounce_permanent')), 'b')];
      expect(await run(bounce(), { inSandbox: async () => false })).toEqual([{ itemIdentifier: 'b' }]);
      expect(
        await run(bounce(), {
          inSandbox: async () => {
            throw awsError('AccessDeniedException', 'not authorized to perform ses:GetAccount');
          },
        }),
      ).toEqual([{ itemIdentifier: 'b' }]);
      // On the record's own line: the operator finds which message it held back.
      expect(
        logs
          .map((l) => JSON.parse(l))
          .find((l) => l.message === 'could not tell whether the account is in the SES sandbox'),
      ).toMatchObject({ level: 'WARN', sqsMessageId: 'b', errorName: 'AccessDeniedException' });
    });

    test('addresses SES took before a refusal the sandbox explains are logged as suppressed, as they are counted', async () => {
      // SES refuses every call in the sandbox; one that succeeds means the kept GetAccount answer
      // predates a grant of production access. What the handler did put on the list must show.
      const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
      event.bounce.bouncedRecipients = ['first', 'refused'].map((name) => ({
        emailAddress: `${name}@example.net`,
      }));
      sesMock.on(PutSuppressedDestinationCommand).callsFake((input) => {
        if (input.EmailAddress === 'refused@example.net')
          throw awsError('BadRequestException', 'The input you provided is invalid.');
        return list.put(input);
      });
      expect(await run([record(JSON.stringify(event), 's')], { inSandbox: async () => true })).toEqual([]);
      expect([...list.entries.keys()]).toEqual(['first@example.net']);
      expect(metricTotals()).toMatchObject({ RecipientsSuppressed: 1 });
      expect(logs.map((l) => JSON.parse(l)).find((l) => l.sqsMessageId === 's')).toMatchObject({
        level: 'INFO',
        suppressed: ['first@example.net'],
        refused: ['refused@example.net'],
        notSuppressed: 1,
      });
    });

    test('a throttled call is no refusal: the sandbox is not asked, and the record goes back', async () => {
      list.faults.failNext('PutSuppressedDestination', throttling());
      let asked = 0;
      const failures = await run([record(JSON.stringify(fixture('ses_event_complaint')), 'c')], {
        inSandbox: async () => (asked++, true),
      });
      expect(failures).toEqual([{ itemIdentifier: 'c' }]);
      expect(asked).toBe(0);
    });
  });

  test('a throttled call stops the record at that address: the rest are not called, and nothing is "refused"', async () => {
    const event = fixture('ses_event_bounce_permanent') as { bounce: { bouncedRecipients: unknown[] } };
    event.bounce.bouncedRecipients = ['first', 'second', 'third'].map((name) => ({
      emailAddress: `${name}@example.net`,
    }));
    list.faults.failNext('PutSuppressedDestination', throttling());
    expect(await run([record(JSON.stringify(event), 'b')])).toEqual([{ itemIdentifier: 'b' }]);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand)).toHaveLength(1);
    const logged = logs.map((l) => JSON.parse(l)).find((l) => l.sqsMessageId === 'b');
    expect(logged).toMatchObject({ level: 'WARN', errorName: 'ThrottlingException' });
    expect(logged).not.toHaveProperty('refused');
  });

  test('a 5xx from SES is retried the same way', async () => {
    list.faults.failNext('PutSuppressedDestination', awsError('InternalFailure', 'internal error', 500));
    expect(await run([record(JSON.stringify(fixture('ses_event_complaint')), 'x')])).toEqual([
      { itemIdentifier: 'x' },
    ]);
  });

  test('duplicates within a batch are applied once; a redelivery repeats only the same idempotent calls', async () => {
    const same = JSON.stringify(fixture('own_bounce_permanent_50_recipients'));
    const inputs = () => sesMock.commandCalls(PutSuppressedDestinationCommand).map((c) => c.args[0].input);
    await run([record(same), record(same), record(envelope(fixture('own_bounce_permanent_50_recipients')))]);
    const first = inputs();
    expect(first).toHaveLength(50);
    expect(new Set(first.map((i) => i.EmailAddress)).size).toBe(50);
    expect(first.every((i) => i.Reason === 'BOUNCE')).toBe(true);
    // And counted once: one bounce, 50 recipients suppressed.
    expect(metricTotals()).toEqual({ Events: 1, RecipientsSuppressed: 50 });

    // A later invocation has no memory of the first: SQS redelivery calls SES again, with exactly
    // the same (address, reason) pairs, which the suppression list stores as an upsert.
    sesMock.resetHistory();
    await run([record(same)]);
    expect(inputs()).toEqual(first);
  });

  // The key is the feedback (SES's feedbackId) with the address, not the address alone: SNS
  // delivering one bounce twice makes one call, another bounce of the same recipient its own.
  test('within a batch a bounce delivered twice is applied once; another bounce of the same recipient again', async () => {
    const another = fixture('ses_event_bounce_permanent') as { bounce: { feedbackId: string } };
    another.bounce.feedbackId = `${another.bounce.feedbackId}-another`;
    await run([
      record(JSON.stringify(fixture('ses_event_bounce_permanent'))),
      record(envelope(fixture('ses_event_bounce_permanent'))),
      record(JSON.stringify(another)),
    ]);
    expect(sesMock.commandCalls(PutSuppressedDestinationCommand).map((c) => c.args[0].input)).toEqual([
      { EmailAddress: 'nobody@example.net', Reason: 'BOUNCE' },
      { EmailAddress: 'nobody@example.net', Reason: 'BOUNCE' },
    ]);
    expect(metricTotals()).toEqual({ Events: 2, RecipientsSuppressed: 2 });
  });

  // SES's subtypes are short names; the line repeats one from the message, so a forged one is cut.
  test.each(['bounce', 'complaint'] as const)(
    'a long %s subtype is logged cut to 40 characters',
    async (kind) => {
      const event = fixture(
        kind === 'bounce' ? 'ses_event_bounce_permanent' : 'ses_event_complaint',
      ) as Record<string, Record<string, unknown>>;
      event[kind][kind === 'bounce' ? 'bounceSubType' : 'complaintSubType'] = 'S'.repeat(10_000);
      expect(await run([record(JSON.stringify(event), 'long')])).toEqual([]);
      const processed = logs.map((l) => JSON.parse(l)).find((l) => l.sqsMessageId === 'long');
      expect(processed).toMatchObject({ message: 'feedback processed', subType: 'S'.repeat(40) });
    },
  );

  // SES's message ids are about 60 characters; a forged one of up to 256 KiB is cut in the line,
  // and still tells two bounces apart by all of it.
  test('a long mail.messageId is logged cut to 256 characters', async () => {
    const bare = (tail: string) => {
      const event = fixture('ses_event_bounce_permanent') as {
        mail: { messageId: string };
        bounce: { feedbackId?: string };
      };
      delete event.bounce.feedbackId;
      event.mail.messageId = `${'M'.repeat(100_000)}${tail}`;
      return event;
    };
    const failures = await run([
      record(JSON.stringify(bare('1')), 'a'),
      record(JSON.stringify(bare('2')), 'b'),
    ]);
    expect(failures).toEqual([]);
    const processed = logs.map((l) => JSON.parse(l)).filter((l) => l.message === 'feedback processed');
    expect(processed.map((l) => l.sesMessageId)).toEqual(['M'.repeat(256), 'M'.repeat(256)]);
    expect(metricTotals()).toMatchObject({ Events: 2 });
    const sample = fixture('ses_event_bounce_permanent') as { mail: { messageId: string } };
    expect(decide(sample).sesMessageId).toBe(sample.mail.messageId);
  });

  test('logs carry no message bodies, and addresses only of suppressed recipients', async () => {
    await run(
      ['ses_event_bounce_permanent', 'ses_event_bounce_transient', 'own_event_delivery'].map((n) =>
        record(JSON.stringify(fixture(n))),
      ),
    );
    const text = logs.join('\n');
    expect(text).not.toMatch(/Subject|Welcome|diagnosticCode|commonHeaders/);
    expect(text).not.toContain('full-box@example.org');
    expect(text).toContain('nobody@example.net');
  });
});
