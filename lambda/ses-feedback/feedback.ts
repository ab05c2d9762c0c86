/*
 * Parsing and deciding for SES sending feedback, with no I/O: what a message says and what to do
 * about it. Understands configuration-set events (`eventType`) and the older identity
 * notifications (`notificationType`), delivered raw or inside the SNS envelope.
 *
 * @see https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
 * @see https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
 */

import { domainOf, MAILBOX_SIMULATOR } from '../../lib/config/senders';
import { QUOTED } from '../../lib/config/syntax';

/** SQS bodies above this are refused before parsing (SES events are a few KiB; 256 KiB is SNS's limit). */
export const MAX_BODY_BYTES = 256 * 1024;
/**
 * SES sends to at most 50 recipients per message: twice that leaves room should the limit grow;
 * more is not an SES event.
 */
export const MAX_RECIPIENTS = 100;

/** A message the handler can never process: retrying it cannot help, it belongs in the DLQ. */
export class MalformedMessageError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'MalformedMessageError';
  }
}

export type SuppressionReason = 'BOUNCE' | 'COMPLAINT';

export interface FeedbackDecision {
  /** Normalized event type: Bounce, Complaint, Delivery, Send, Reject, DeliveryDelay, ... */
  readonly eventType: string;
  /** Permanent, Transient or Undetermined for bounces; "None" otherwise. */
  readonly bounceType: string;
  readonly subType?: string;
  /** Recipients to put on the account suppression list, with the reason. */
  readonly suppress: { readonly address: string; readonly reason: SuppressionReason }[];
  /** Recipients named by the event but not suppressed (transient bounce, already suppressed, ...). */
  readonly notSuppressed: number;
  /** Recipients without a usable address: redacted by the ISP (complaints), or not an address. */
  readonly redacted: number;
  /**
   * A bounce's or complaint's identity (SES's feedbackId, else the message id), for de-duplicating
   * a redelivery within a batch; none for other events, which SES gives no id of their own (a
   * message has several DeliveryDelay events, say).
   */
  readonly feedbackId?: string;
  /** SES's id of the mail, as logged: cut to TAG_CHARS (SES's are about 60 characters). */
  readonly sesMessageId: string;
  readonly format: 'event' | 'notification';
  /** Why nothing was suppressed, when nothing was. */
  readonly note?: string;
  /** For bounces and complaints: which mail it was, for an operator who looks for the cause. */
  readonly mail?: MailSummary;
}

/**
 * What tells one mail from another in the log: the sender and the app's own message tags (an
 * `X-SES-MESSAGE-TAGS: mailer=UserMailer` header from the app arrives as `tags.mailer`; SES's own
 * `ses:` tags are left out). SES gives each mail a Message-ID of its own, so the app's logs cannot
 * be matched on that. Not the subject: it may carry a person's data, as a body does.
 */
export interface MailSummary {
  readonly from?: string;
  readonly tags?: Record<string, string[]>;
}

/** SES message tags: at most 50 a message, names and values of at most 256 ASCII characters. */
const MAX_TAGS = 50;
const TAG_CHARS = 256;
/** An app's tag has one value; SES's own may have a few. More are not logged. */
const MAX_TAG_VALUES = 10;

const EVENT_TYPES = new Map<string, string>([
  ['Bounce', 'Bounce'],
  ['Complaint', 'Complaint'],
  ['Delivery', 'Delivery'],
  ['Send', 'Send'],
  ['Reject', 'Reject'],
  ['Open', 'Open'],
  ['Click', 'Click'],
  ['Rendering Failure', 'RenderingFailure'],
  ['DeliveryDelay', 'DeliveryDelay'],
  ['Subscription', 'Subscription'],
]);
const NOTIFICATION_TYPES = new Map<string, string>([
  ['Bounce', 'Bounce'],
  ['Complaint', 'Complaint'],
  ['Delivery', 'Delivery'],
  ['AmazonSnsSubscriptionSucceeded', 'SubscriptionSucceeded'],
]);
const BOUNCE_TYPES = new Set(['Permanent', 'Transient', 'Undetermined']);
/**
 * A recipient address as SES reports it: SES sent to it, so its own syntax is taken (legacy
 * addresses like "taro.@docomo.ne.jp", a final dot), and a quoted local part (RFC 5321 §4.1.2,
 * "john doe"@example.com) may hold spaces, commas and "@". Not a redaction placeholder, a bare
 * name or a display-name form. The domain's dot is matched as its first one after its first
 * character: a class that also takes dots before it backtracks quadratically on a run of dots
 * (minutes for a 256 KiB body, which anyone who may publish to the topic can send).
 */
const ADDRESS = new RegExp(`^(?:[^\\s@<>",;]+|${QUOTED})@[^\\s@<>",;][^\\s@<>",;.]*\\.[^\\s@<>",;]+$`);
/**
 * The longest address there is: a path is at most 256 octets, angle brackets included (RFC 5321
 * §4.5.3.1.3). A longer "recipient" (a forged event, a remote MTA's DSN) is no mailbox SES
 * delivered to: it is counted, neither sent to PutSuppressedDestination on every receive nor
 * repeated, up to 256 KiB of it, in the log line of the addresses suppressed or refused.
 */
const MAX_ADDRESS_OCTETS = 254;
/** SES marks feedback for an address that is already on the account suppression list. */
const ALREADY_SUPPRESSED = 'OnAccountSuppressionList';
/**
 * Feedback for the mailbox simulator's addresses (bounce@, complaint@, with or without a +label)
 * is counted, not suppressed. SES keeps them off the suppression list itself ("The mailbox
 * simulator email address isn't placed on the Amazon SES suppression list", SES Developer Guide,
 * "Using the mailbox simulator manually"); and a sandbox account, where the simulator is the way
 * to prove the feedback path, may not call PutSuppressedDestination at all: every receive of the
 * bounce failed, and it ended in the dead-letter queue and its alarm.
 * @see https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html#send-email-simulator
 */
const SIMULATED = 'mailbox simulator address: counted, not suppressed (SES keeps it off the list)';
const simulated = (address: string) => domainOf(address) === MAILBOX_SIMULATOR;

/**
 * The recipients to suppress for `reason` when `act` (the mailbox simulator's never), and how many
 * of `valid` are only counted: all when not `act`, else the simulator's.
 */
function suppression(valid: readonly string[], act: boolean, reason: 'BOUNCE' | 'COMPLAINT') {
  const suppress = act ? valid.filter((a) => !simulated(a)).map((address) => ({ address, reason })) : [];
  return { suppress, notSuppressed: valid.length - suppress.length };
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedMessageError(`${what} is not JSON`);
  }
}

function field<T>(obj: Json, key: string, check: (v: unknown) => v is T, what: string): T {
  const value = obj[key];
  if (!check(value)) throw new MalformedMessageError(`${what}.${key} is missing or not ${checkName(check)}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
function checkName(check: (v: unknown) => boolean): string {
  return check === isString ? 'a string' : check === isArray ? 'a list' : 'an object';
}

/**
 * How much of a value from the message an error or a log line repeats: enough to recognise it
 * (SES's longest name, "OnAccountSuppressionList", is 24), never a body of up to 256 KiB.
 */
const QUOTED_CHARS = 40;

/** `value`, from the message, as an error quotes it: a string cut to QUOTED_CHARS, else its kind. */
function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, QUOTED_CHARS));
  if (isArray(value)) return 'a list';
  return isObject(value) ? 'an object' : String(value);
}

/** A subtype as logged: SES's are short names, so only a forged one is cut. */
const subTypeOf = (value: unknown) => (typeof value === 'string' ? value.slice(0, QUOTED_CHARS) : undefined);

/**
 * What SES publishes, as plain text, to a topic when an event destination is created for it: no
 * event. (It reaches the queue whenever the subscription exists first; as JSON it would fail
 * every receive and end in the dead-letter queue, setting off its alarm.)
 */
export const SES_DESTINATION_NOTICE = 'Successfully validated SNS topic for Amazon SES event publishing.';

/**
 * The SES event inside an SQS body: the body itself (raw message delivery) or the `Message` of
 * an SNS envelope. Returns undefined for SNS housekeeping messages and SES's notice that an
 * event destination was set up, which carry no SES event.
 */
export function unwrap(body: string): Json | undefined {
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    throw new MalformedMessageError(`message body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  if (body.trim() === '') throw new MalformedMessageError('message body is empty');
  if (body.trim() === SES_DESTINATION_NOTICE) return undefined;
  const outer = parseJson(body, 'message body');
  if (!isObject(outer)) throw new MalformedMessageError('message body is not a JSON object');
  if (!('Type' in outer)) return outer;
  if (outer.Type === 'SubscriptionConfirmation' || outer.Type === 'UnsubscribeConfirmation') return undefined;
  if (outer.Type !== 'Notification')
    throw new MalformedMessageError(`SNS envelope of unknown Type ${quote(outer.Type)}`);
  const message = field(outer, 'Message', isString, 'SNS envelope');
  if (message.trim() === SES_DESTINATION_NOTICE) return undefined;
  const inner = parseJson(message, 'SNS Message');
  if (!isObject(inner)) throw new MalformedMessageError('SNS Message is not a JSON object');
  return inner;
}

/** What to do about one SES event. Throws MalformedMessageError when it is not a valid one. */
export function decide(event: Json): FeedbackDecision {
  const format = 'eventType' in event ? 'event' : 'notificationType' in event ? 'notification' : undefined;
  if (!format) throw new MalformedMessageError('neither eventType nor notificationType is present');
  const rawType = event[format === 'event' ? 'eventType' : 'notificationType'];
  if (typeof rawType !== 'string')
    throw new MalformedMessageError(
      `${format === 'event' ? 'eventType' : 'notificationType'} is not a string`,
    );
  const eventType = (format === 'event' ? EVENT_TYPES : NOTIFICATION_TYPES).get(rawType);
  if (!eventType)
    throw new MalformedMessageError(
      `unknown ${format === 'event' ? 'eventType' : 'notificationType'} ${quote(rawType)}`,
    );

  if (eventType === 'SubscriptionSucceeded') {
    return {
      eventType,
      bounceType: 'None',
      suppress: [],
      notSuppressed: 0,
      redacted: 0,
      sesMessageId: '',
      format,
      note: 'SNS subscription notice',
    };
  }
  const mail = field(event, 'mail', isObject, 'event');
  const sesMessageId = field(mail, 'messageId', isString, 'mail');
  // The whole id tells feedback apart (feedbackId below); the log lines repeat a forged one cut.
  const base = { eventType, format, sesMessageId: sesMessageId.slice(0, TAG_CHARS), redacted: 0 } as const;
  const about = { mail: summary(mail) };

  if (eventType === 'Bounce') {
    const bounce = field(event, 'bounce', isObject, 'event');
    const bounceType = field(bounce, 'bounceType', isString, 'bounce');
    if (!BOUNCE_TYPES.has(bounceType))
      throw new MalformedMessageError(`unknown bounceType ${quote(bounceType)}`);
    const subType = subTypeOf(bounce.bounceSubType);
    // One unusable entry must not keep its co-recipients off the suppression list: it is counted.
    const recipients = addresses(field(bounce, 'bouncedRecipients', isArray, 'bounce'), 'bouncedRecipients');
    // An empty feedbackId is none: as a key it would make different events one.
    const feedbackId = isString(bounce.feedbackId) ? bounce.feedbackId : sesMessageId;
    const act = bounceType === 'Permanent' && subType !== ALREADY_SUPPRESSED;
    const { suppress, notSuppressed } = suppression(recipients.valid, act, 'BOUNCE');
    return {
      ...base,
      ...about,
      bounceType,
      subType,
      feedbackId,
      redacted: recipients.redacted,
      suppress,
      notSuppressed,
      note: !act
        ? subType === ALREADY_SUPPRESSED
          ? 'already on the account suppression list'
          : `${bounceType} bounce: counted, not suppressed`
        : recipients.redacted > 0
          ? `${recipients.redacted} bounced recipient(s) without a usable address: counted, not suppressed`
          : notSuppressed > 0
            ? SIMULATED
            : undefined,
    };
  }

  if (eventType === 'Complaint') {
    const complaint = field(event, 'complaint', isObject, 'event');
    const subType = subTypeOf(complaint.complaintSubType);
    const recipients = addresses(
      field(complaint, 'complainedRecipients', isArray, 'complaint'),
      'complainedRecipients',
    );
    const feedbackId = isString(complaint.feedbackId) ? complaint.feedbackId : sesMessageId;
    // "not-spam" (RFC 5965 §7.3): the reporter says the mail is not spam, a correction: no suppression.
    // In any letter case: no other type reads "not-spam" in another case, so a reporter's "Not-Spam"
    // is taken for one rather than suppress the address on a correction.
    const type = complaint.complaintFeedbackType;
    const notSpam = typeof type === 'string' && type.trim().toLowerCase() === 'not-spam';
    const act = subType !== ALREADY_SUPPRESSED && !notSpam;
    const { suppress, notSuppressed } = suppression(recipients.valid, act, 'COMPLAINT');
    return {
      ...base,
      ...about,
      bounceType: 'None',
      subType,
      feedbackId,
      // A report that names nobody (the ISP removed the recipient) still stands for one recipient.
      redacted: recipients.valid.length === 0 ? Math.max(recipients.redacted, 1) : recipients.redacted,
      suppress,
      notSuppressed,
      note: notSpam
        ? 'not-spam feedback report: counted, not suppressed'
        : !act
          ? 'already on the account suppression list'
          : recipients.valid.length === 0
            ? 'complaint without a usable recipient address (redacted by the ISP)'
            : notSuppressed > 0
              ? SIMULATED
              : undefined,
    };
  }

  // Delivery, Send, Reject, DeliveryDelay, RenderingFailure, Open, Click, Subscription: counted only.
  return {
    ...base,
    bounceType: 'None',
    suppress: [],
    notSuppressed: 0,
    note: 'counted only',
  };
}

/** The sender and app tags of an event's `mail`, each only when present and well formed. */
function summary(mail: Json): MailSummary | undefined {
  const from = isString(mail.source) ? mail.source.slice(0, TAG_CHARS) : undefined;
  const appTags = Object.entries(isObject(mail.tags) ? mail.tags : {})
    .filter(([name, values]) => !name.startsWith('ses:') && isArray(values))
    .slice(0, MAX_TAGS)
    .map(([name, values]) => [
      name.slice(0, TAG_CHARS),
      (values as unknown[])
        .filter(isString)
        .slice(0, MAX_TAG_VALUES)
        .map((v) => v.slice(0, TAG_CHARS)),
    ]);
  const result = {
    ...(from && { from }),
    ...(appTags.length > 0 && { tags: Object.fromEntries(appTags) }),
  };
  return Object.keys(result).length ? result : undefined;
}

/** Valid addresses of a recipient list; entries without a usable address are counted, not refused. */
function addresses(list: unknown[], what: string): { valid: string[]; redacted: number } {
  if (list.length > MAX_RECIPIENTS)
    throw new MalformedMessageError(`${what} has ${list.length} entries, more than ${MAX_RECIPIENTS}`);
  const valid: string[] = [];
  let redacted = 0;
  for (const entry of list) {
    const address = isObject(entry) ? entry.emailAddress : undefined;
    const trimmed = typeof address === 'string' ? address.trim() : '';
    if (Buffer.byteLength(trimmed, 'utf8') <= MAX_ADDRESS_OCTETS && ADDRESS.test(trimmed))
      valid.push(trimmed);
    else redacted++;
  }
  return { valid: [...new Set(valid)], redacted };
}
