/** A mistake in how the CLI was called or configured: one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A check or action that failed for a reason the message explains: exit code 1. */
export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
