/*
 * How long a rotation keeps the previous key after the last rotation replaced it, whatever IAM
 * says of its use: the quiet period, but never as long as the rotation interval. Secrets Manager
 * rotates anywhere within the UTC day a rotation is due, so two scheduled rotations can come a
 * day less the interval apart: a hold of at most `rotationDays` - 1 never stops a scheduled one.
 * The quiet period itself (how far back a use by SES counts) is not capped.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html
 */
export function replacedKeyHoldDays(quietDays: number, rotationDays: number): number {
  return Math.max(0, Math.min(quietDays, rotationDays - 1));
}

/**
 * The shortest rotation interval: with a daily rotation, Secrets Manager may run two rotations
 * minutes apart (late on one UTC day, early on the next), and the second would delete the key the
 * first replaced, with no hold, while an app that read the secret just before still holds it.
 * From 2 days, the previous key stays at least a day.
 */
export const MIN_ROTATION_DAYS = 2;

/** What a rotation interval below MIN_ROTATION_DAYS is told. */
export const ROTATION_DAYS_EXPECTED = `a whole number of days from ${MIN_ROTATION_DAYS} to 1000 (Secrets Manager may run two daily rotations minutes apart, and the second would delete the key the first replaced while apps still hold it)`;
