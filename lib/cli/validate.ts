/*
 * Checks of values given on the command line beyond the option table's (choices): each throws a
 * UsageError naming the option, the value and what it accepts. The rules are the environments
 * file's where the file has the same kind of value, so the CLI refuses nothing the file accepts.
 */
import { emailAddress } from '../config/schema';
import { UsageError } from './errors';

/**
 * An email address given to `option`, checked as the environments file checks its addresses
 * (RFC 5321/5322: dot-atom or quoted local part, like `"john doe"@example.com`).
 */
export function checkEmailAddress(option: string, value: string): void {
  const result = emailAddress.safeParse(value);
  if (!result.success) {
    throw new UsageError(
      `${option}: got ${JSON.stringify(value)}, expected ${result.error.issues[0].message}`,
    );
  }
}
