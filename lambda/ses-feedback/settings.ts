// The feedback handler's deployment settings, apart from its code: the construct sets them, and
// the tests drive the handler with them (this module imports nothing).

/**
 * How the feedback handler takes its queue: one message per invocation, and time for the largest
 * bounce (50 recipients) at 600 ms a suppression call (SES throttling) within one of them. A record
 * that runs out of time goes back whole, and each of its receives counts towards the dead-letter
 * queue: with ten a batch, one slow record used up its own receives and deferred the nine others
 * (each deferral a receive too), so a throttled burst reached the dead-letter queue with most of
 * its recipients never tried. The queue's visibility timeout is six times the function's (Lambda's
 * advice).
 */
export const FEEDBACK_HANDLER = { batchSize: 1, timeoutSeconds: 90 } as const;
