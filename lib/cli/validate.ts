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

/**
 * An AWS Region name in the forms of AWS's partitions (the regionRegex of each partition in the
 * SDK's endpoint data): a commercial area (us, eu, ap, sa, ca, me, af, il, mx) or China (cn),
 * optionally GovCloud or an isolated partition (us-gov, us-iso, us-isob, us-isof, eu-isoe), or the
 * European Sovereign Cloud (eusc-de); then a direction and a number. Regions AWS opens later in
 * these partitions match too ("ap-southeast-7", "us-isob-east-1", "eusc-de-east-1").
 */
export const AWS_REGION_RE =
  /^(?:(?:us|eu|ap|sa|ca|me|af|il|mx|cn)-(?:(?:gov|iso[a-z]?)-)?|eusc-de-)[a-z]+-[0-9]+$/;

/** A Region name given to `option`. */
export function checkRegion(option: string, value: string): void {
  if (!AWS_REGION_RE.test(value)) {
    throw new UsageError(
      `${option}: got ${JSON.stringify(value)}, expected an AWS Region name like "eu-west-1" or "us-gov-west-1" (area, direction, number)`,
    );
  }
}
