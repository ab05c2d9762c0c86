/*
 * The stale-use guard's quiet period against the rotation interval. A rotation keeps the previous
 * key for the whole quiet period after the last rotation replaced it, so the period must end
 * before the next scheduled rotation: Secrets Manager rotates anywhere within the UTC day a
 * rotation is due, so two scheduled rotations can come a day less the interval apart.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html
 */

/** The quiet period when none is given: 7 days, or a day less than a shorter interval (0: off). */
export function defaultQuietDays(rotationDays: number): number {
  return Math.max(0, Math.min(7, rotationDays - 1));
}

/** What a quiet period must be for this interval, or undefined when it is one. */
export function quietDaysProblem(quietDays: number, rotationDays: number): string | undefined {
  if (quietDays === 0 || quietDays <= rotationDays - 1) return undefined;
  return `at most ${rotationDays - 1} days with a rotation every ${rotationDays} days, or 0 to turn the guard off: a rotation keeps the previous key for the quiet period after the last one replaced it, and a scheduled rotation can come a day early (Secrets Manager rotates anywhere within the due day), so a longer period would stop every scheduled rotation`;
}
