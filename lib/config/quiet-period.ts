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
