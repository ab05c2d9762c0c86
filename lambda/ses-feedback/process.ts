import { PutSuppressedDestinationCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { SQSBatchItemFailure, SQSRecord } from 'aws-lambda';
import { describeError, Logger } from '../shared/logger';
import { MetricBatch } from '../shared/metrics';
import { decide, FeedbackDecision, MalformedMessageError, unwrap } from './feedback';

export { FEEDBACK_NAMESPACE as METRIC_NAMESPACE } from '../shared/metrics';

export interface ProcessDeps {
  readonly ses: SESv2Client;
  readonly log: Logger;
  readonly metrics: MetricBatch;
  /** Milliseconds the invocation has left (Lambda's context.getRemainingTimeInMillis). */
  readonly timeLeftMs?: () => number;
  /**
   * The queue's receive limit before the dead-letter queue (its redrive policy's maxReceiveCount).
   * @default 5 (SendingFeedback's default)
   */
  readonly maxReceiveCount?: number;
  /**
   * Whether the account is in the SES sandbox, where SES refuses PutSuppressedDestination. Asked
   * only after a refusal. @default - never asked: every refusal fails its record
   */
  readonly inSandbox?: () => Promise<boolean>;
}

/**
 * No suppression call starts with less time left than this. A batch of bounces to many
 * recipients can need hundreds of calls that SES may throttle; a timeout would fail the whole
 * batch, done records included, and bring each one nearer the dead-letter queue.
 */
export const TIME_RESERVE_MS = 5_000;
/** A call still running (retries and backoff included) is aborted this long before the timeout. */
export const ABORT_BEFORE_TIMEOUT_MS = 2_000;

/** The invocation's time is nearly up: this record and the rest go back to the queue. */
class OutOfTimeError extends Error {}

/** SES refused some of a record's addresses (BadRequest); the record's other addresses were done. */
class AddressesRefusedError extends Error {
  constructor(
    readonly refused: string[],
    cause: unknown,
  ) {
    super(`SES refused to suppress ${refused.length} address(es): ${(cause as Error).message}`, { cause });
    this.name = (cause as Error).name;
  }
}

/** Less than TIME_RESERVE_MS left: start no more calls. Without a clock (tests), never. */
const outOfTime = (timeLeftMs?: () => number) => timeLeftMs !== undefined && timeLeftMs() < TIME_RESERVE_MS;

/**
 * Processes one SQS batch and returns the records to retry. A record fails alone: a malformed
 * one goes to the DLQ after the queue's receive limit, a throttled suppression call is retried,
 * and neither blocks the rest of the batch. Suppression is an upsert, so a redelivered record
 * changes nothing; within a batch the same feedback is applied once.
 */
export async function processBatch(records: SQSRecord[], deps: ProcessDeps): Promise<SQSBatchItemFailure[]> {
  const failures: SQSBatchItemFailure[] = [];
  const applied = new Set<string>();
  /** Bounces and complaints already counted in this batch (SNS may deliver one twice). */
  const counted = new Set<string>();
  for (const [index, record] of records.entries()) {
    if (outOfTime(deps.timeLeftMs)) {
      const deferred = records.slice(index);
      deps.metrics.add('DeferredRecords', deferred.length);
      // Their ids: a message deferred on each of its receives reaches the dead-letter queue never
      // tried, and this line is the only one that names it (at most a batch, 10 ids).
      deps.log.warn('the invocation is nearly out of time: the rest of the batch goes back to the queue', {
        deferred: deferred.length,
        sqsMessageIds: deferred.map((r) => r.messageId),
      });
      failures.push(...deferred.map((r) => ({ itemIdentifier: r.messageId })));
      break;
    }
    const log = deps.log.child({ sqsMessageId: record.messageId });
    let decision: FeedbackDecision | undefined;
    try {
      const event = unwrap(record.body);
      if (!event) {
        log.info('SNS housekeeping message, or SES setting up its event destination: nothing to do');
        continue;
      }
      decision = decide(event);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      // Counted once per message, on its first receive: SQS hands it over up to maxReceiveCount
      // times before the dead-letter queue, and each time it is as malformed.
      const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
      if (receiveCount <= 1) deps.metrics.add('MalformedMessages', 1);
      log.error('malformed feedback message: it goes to the dead-letter queue after its retries', {
        reason: error.message,
        receiveCount,
      });
      failures.push({ itemIdentifier: record.messageId });
      continue;
    }
    const receive = {
      count: Number(record.attributes?.ApproximateReceiveCount ?? 1),
      limit: deps.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
    };
    const tally = { suppressed: 0 };
    /** The addresses SES refused in the sandbox (none elsewhere: a refusal there fails the record). */
    let sandboxRefused: string[] | undefined;
    try {
      try {
        await apply(decision, applied, deps.ses, receive, tally, deps.timeLeftMs);
      } catch (error) {
        if (!(error instanceof AddressesRefusedError) || !(await inSandbox(deps, log))) throw error;
        // The sandbox refuses the call ("you can't use the PutSuppressedDestination API operation
        // until your account is removed from the sandbox"), every time: a retry would only take
        // the record to the dead-letter queue. SES suppresses these itself there (the
        // configuration set's suppression reasons): the record is done.
        sandboxRefused = error.refused;
      }
    } catch (error) {
      // A record that goes back is counted by the receive that finishes it (its calls repeat
      // then); on its last receive, before the dead-letter queue, by this one.
      if (receive.count >= receive.limit) addSuppressed(deps.metrics, decision, tally.suppressed);
      // Calls already made are upserts: the retry repeats them harmlessly.
      failures.push({ itemIdentifier: record.messageId });
      if (error instanceof OutOfTimeError) continue; // the next record is deferred with the rest
      deps.metrics.add('SuppressionFailures', 1);
      log.warn('suppression call failed: the message will be retried', {
        sesMessageId: decision.sesMessageId,
        ...describeError(error),
        ...(error instanceof AddressesRefusedError && { refused: error.refused }),
      });
      continue;
    }
    // Dimensions as FEEDBACK_METRIC_DIMENSIONS lists them (the dashboard searches exactly those).
    // A feedback id seen again in the batch is the same feedback delivered twice; an event
    // without one counts each time.
    const { feedbackId } = decision;
    if (feedbackId === undefined || !counted.has(feedbackId)) {
      if (feedbackId !== undefined) counted.add(feedbackId);
      deps.metrics.add('Events', 1, { EventType: decision.eventType, BounceType: decision.bounceType });
      deps.metrics.add('RecipientsRedacted', decision.redacted, { EventType: decision.eventType });
    }
    addSuppressed(deps.metrics, decision, tally.suppressed);
    log.info('feedback processed', {
      format: decision.format,
      eventType: decision.eventType,
      bounceType: decision.bounceType,
      subType: decision.subType,
      sesMessageId: decision.sesMessageId,
      // Addresses only where an action was taken on them: they are what an operator may need to undo.
      // In the sandbox, those SES did not refuse (none, unless the kept GetAccount answer is older
      // than a grant of production access), as RecipientsSuppressed counts them; the refused apart.
      suppressed: decision.suppress.map((s) => s.address).filter((a) => !sandboxRefused?.includes(a)),
      notSuppressed: decision.notSuppressed + (sandboxRefused?.length ?? 0),
      ...(sandboxRefused && { refused: sandboxRefused }),
      redacted: decision.redacted,
      note: sandboxRefused
        ? 'the account is in the SES sandbox, where SES refuses PutSuppressedDestination: not suppressed by this handler (SES suppresses bounces and complaints itself, by the configuration set)'
        : decision.note,
      ...decision.mail,
    });
  }
  return failures;
}

/** Whether the account is in the SES sandbox; false when that cannot be told (the record then fails). */
async function inSandbox(deps: ProcessDeps, log: Logger): Promise<boolean> {
  try {
    return (await deps.inSandbox?.()) ?? false;
  } catch (error) {
    log.warn('could not tell whether the account is in the SES sandbox', describeError(error));
    return false;
  }
}

/** SendingFeedback's maxReceiveCount when the function is not told its queue's. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

/**
 * The record's suppressions in the order this receive makes them: the Nth receive of the
 * message starts (N - 1) / limit of the way along, wrapping. A bounce to more recipients than
 * one invocation has time for (50, with SES throttling each call) gets each recipient near the
 * front of one of its receives, instead of the first ones every time and the last ones never.
 */
export function suppressionOrder<T>(suppress: readonly T[], receive: { count: number; limit: number }): T[] {
  const step = Math.ceil(suppress.length / Math.max(1, receive.limit));
  const start = suppress.length ? (Math.max(0, receive.count - 1) * step) % suppress.length : 0;
  return [...suppress.slice(start), ...suppress.slice(0, start)];
}

function addSuppressed(metrics: MetricBatch, decision: FeedbackDecision, count: number): void {
  if (count > 0) metrics.add('RecipientsSuppressed', count, { EventType: decision.eventType });
}

/**
 * Suppresses the decision's addresses, counting in `tally` each one it put on the list (not those
 * done earlier in the batch).
 */
async function apply(
  decision: FeedbackDecision,
  applied: Set<string>,
  ses: SESv2Client,
  receive: { count: number; limit: number },
  tally: { suppressed: number },
  timeLeftMs?: () => number,
): Promise<void> {
  const refused: string[] = [];
  let refusal: unknown;
  for (const { address, reason } of suppressionOrder(decision.suppress, receive)) {
    const key = `${decision.feedbackId}|${address}|${reason}`;
    if (applied.has(key)) continue;
    if (outOfTime(timeLeftMs)) throw new OutOfTimeError();
    // The SDK retries (adaptive, up to 5 attempts) within one send: the signal bounds them all.
    const abort = new AbortController();
    const timer = timeLeftMs && setTimeout(() => abort.abort(), timeLeftMs() - ABORT_BEFORE_TIMEOUT_MS);
    try {
      await ses.send(new PutSuppressedDestinationCommand({ EmailAddress: address, Reason: reason }), {
        abortSignal: abort.signal,
      });
    } catch (error) {
      if (abort.signal.aborted) throw new OutOfTimeError();
      // This address's own problem: the addresses after it are still suppressed, then the record
      // fails. Throttling and server errors stop the record (the retry does the rest).
      if ((error as Error).name !== 'BadRequestException') throw error;
      refused.push(address);
      refusal ??= error;
      continue;
    } finally {
      clearTimeout(timer);
    }
    applied.add(key);
    tally.suppressed++;
  }
  if (refused.length) throw new AddressesRefusedError(refused, refusal);
}
