import {
  AccessKeyMetadata,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';

/*
 * When and where an access key was last used, as IAM reports it (GetAccessKeyLastUsed), and
 * whether that means an app still sends mail with it.
 *
 * What AWS documents, and what this code assumes:
 * - GetAccessKeyLastUsed returns "the date and time of last use, along with the AWS service and
 *   Region that were specified in the last request made with that key"; LastUsedDate is null and
 *   ServiceName and Region are "N/A" when the key "has not been used since IAM began tracking this
 *   information" (April 22, 2015) or "there is no sign-in data associated with the user".
 *   https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccessKeyLastUsed.html
 *   https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyLastUsed.html
 * - The IAM credential report names the service by its namespace ("s3", "ec2") and records only the
 *   first use within 15 minutes, so the date can be up to 15 minutes old.
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_getting-report.html
 * - An SMTP login to SES is authorized by IAM as ses:SendRawEmail for the key's user (the SMTP
 *   user's policy allows that action only), so we expect an SMTP send to show as ServiceName "ses".
 *   An operator reading IAM for an SMTP user saw "last used ... against `ses-smtp`"
 *   (https://github.com/femiwiki/femiwiki/issues/528): that name counts as SES too (SES_SERVICES),
 *   and the report suggests SMTP sends do update the last-used data, which no AWS page we found
 *   states in so many words (we could not observe it without an AWS account). If they do not,
 *   LastUsedDate stays absent and the guard lets the rotation proceed, exactly as it did before the
 *   guard existed (it never makes a rotation less safe, it can only stop one).
 */

/** IAM's last-use record of one key; "N/A" and a missing date are normalised to undefined. */
export interface KeyLastUse {
  readonly accessKeyId: string;
  /** The IAM user the key belongs to. */
  readonly userName?: string;
  readonly lastUsed?: Date;
  /** The service namespace, like "ses". */
  readonly service?: string;
  readonly region?: string;
}

/** The service namespace that SES SMTP and API sends are recorded under. */
export const SES_SERVICE = 'ses';
/**
 * Every name IAM's last use may give an SES send: the namespace, and "ses-smtp", seen for an SMTP
 * user. A name missed here would read as another service, and the guard would delete a key an
 * app still sends with; one too many can only stop a rotation.
 */
export const SES_SERVICES: readonly string[] = [SES_SERVICE, 'ses-smtp'];

/** True when `service` (a last use's ServiceName) is SES's. */
export const isSesService = (service: string | undefined): boolean =>
  service !== undefined && SES_SERVICES.includes(service);

const DAY_MS = 86_400_000;

/**
 * IAM's last-use record of `accessKeyId`, or undefined when IAM has no such key (deleted by a
 * rotation or by hand: nothing can send with it).
 */
export async function keyLastUse(iam: IAMClient, accessKeyId: string): Promise<KeyLastUse | undefined> {
  let r;
  try {
    r = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return undefined;
    throw error;
  }
  const used = r.AccessKeyLastUsed;
  const known = (v: string | undefined) => (v && v !== 'N/A' ? v : undefined);
  const lastUsed = used?.LastUsedDate ? new Date(used.LastUsedDate) : undefined;
  return {
    accessKeyId,
    ...(r.UserName && { userName: r.UserName }),
    ...(lastUsed && !Number.isNaN(lastUsed.getTime()) && { lastUsed }),
    ...(known(used?.ServiceName) && { service: known(used?.ServiceName) }),
    ...(known(used?.Region) && { region: known(used?.Region) }),
  };
}

/** An access key as IAM has it now: its user, and whether SES would accept it. */
export type AccessKeyState =
  | {
      /** IAM's status: only an Active key signs anything (AccessKeyMetadata: Active | Inactive | Expired). */
      readonly status: 'Active' | 'Inactive' | 'Expired';
      readonly userName: string;
      /** When IAM created the key (ListAccessKeys' CreateDate). */
      readonly createdAt?: Date;
    }
  | { readonly status: 'deleted' };

/** The two IAM reads accessKeyState makes; a caller may give its own (a per-run cache). */
export interface KeyLookups {
  keyLastUse(accessKeyId: string): Promise<KeyLastUse | undefined>;
  accessKeys(userName: string): Promise<AccessKeyMetadata[]>;
}

/**
 * Whether IAM still has the key and it is active: ListAccessKeys of its user gives its status.
 * Without `userName`, GetAccessKeyLastUsed names the user (or answers NoSuchEntity for a deleted
 * key).
 */
export async function accessKeyState(
  iam: IAMClient,
  accessKeyId: string,
  userName?: string,
  lookups: KeyLookups = {
    keyLastUse: (id) => keyLastUse(iam, id),
    accessKeys: (user) => userAccessKeys(iam, user),
  },
): Promise<AccessKeyState> {
  userName ??= (await lookups.keyLastUse(accessKeyId))?.userName;
  const key = userName && (await lookups.accessKeys(userName)).find((k) => k.AccessKeyId === accessKeyId);
  if (!key || !userName) return { status: 'deleted' };
  return {
    // Anything but Active is refused, a status IAM adds later too (as Inactive).
    status: key.Status === 'Active' || key.Status === 'Expired' ? key.Status : 'Inactive',
    userName,
    ...(key.CreateDate && { createdAt: key.CreateDate }),
  };
}

/** The access keys of IAM user `userName` (at most two: IAM's limit, so one page). */
export async function userAccessKeys(iam: IAMClient, userName: string): Promise<AccessKeyMetadata[]> {
  return (await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? [];
}

/** Whole days since the last use (0 for a date in the future: clocks differ). */
export function daysSinceUse(use: KeyLastUse, now: Date): number | undefined {
  if (!use.lastUsed) return undefined;
  return Math.max(0, (now.getTime() - use.lastUsed.getTime()) / DAY_MS);
}

/**
 * How long apps have to stop using a key after the current credentials replaced it (the moment
 * replacementTime gives). AWS's Secrets Manager caching clients refresh a secret every hour by
 * default
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/retrieving-secrets_cache-python.html).
 * Two hours cover both, with room.
 */
export const REPLACEMENT_GRACE_MS = 2 * 3_600_000;

/** True when SES recorded a use of the key within the last `quietDays` days. */
export function usedBySesWithin(use: KeyLastUse, now: Date, quietDays: number): boolean {
  const age = daysSinceUse(use, now);
  return isSesService(use.service) && age !== undefined && age < quietDays;
}

/**
 * True when IAM's record shows an app still sending with the key: SES used it within the last
 * `quietDays` days and, for a key the current credentials replaced at `replacedAt`, later than
 * REPLACEMENT_GRACE_MS after that. Before then the key was the current one, and every app rightly
 * sent with it: a use then says nothing about an app left behind. While the grace runs (`now`
 * within it), any use since the replacement counts: an app may not have switched yet, and a key
 * is not deleted on that hope. IAM keeps only the last use: an app left behind whose last send
 * fell within the grace, and that has not sent since, looks switched.
 */
export function stillSendsWith(use: KeyLastUse, now: Date, quietDays: number, replacedAt?: Date): boolean {
  if (!usedBySesWithin(use, now, quietDays)) return false;
  if (!replacedAt) return true;
  const graceEnd = replacedAt.getTime() + REPLACEMENT_GRACE_MS;
  return use.lastUsed!.getTime() > (withinGrace(now, replacedAt) ? replacedAt.getTime() : graceEnd);
}

/**
 * When the current credentials replaced the previous ones, as AWS records it: the later of the
 * AWSCURRENT version's CreatedDate and the secret's LastRotatedDate. RotateSecret makes the
 * version when a rotation starts, before the stage move by the rotation's length (testSecret
 * waits for the new key to work), or by days for a rotation Secrets Manager retried later; the
 * rotation's end comes right after its move (LastRotatedDate: "the most recent date and time that
 * the Secrets Manager rotation process was successfully completed", in the API reference's
 * SecretListEntry). The later of the two is then the move, so the hold on the replaced key runs
 * from it, and the key's uses while it was still current (before the move, plus the grace) are
 * not taken for an app left behind. A stage moved back by hand (no rotation) leaves both dates
 * before the move: the hold is shorter then, as it always was for that case, and the stale-use
 * guard counts more uses, not fewer.
 */
export function replacementTime(currentCreated?: Date, lastRotated?: Date): Date | undefined {
  if (!currentCreated || !lastRotated) return currentCreated ?? lastRotated;
  return currentCreated > lastRotated ? currentCreated : lastRotated;
}

/** The moment `days` days after `from`. */
export function daysAfter(from: Date, days: number): Date {
  return new Date(from.getTime() + days * DAY_MS);
}

/** True while apps still have time to switch from a key the current credentials replaced. */
export function withinGrace(now: Date, replacedAt: Date): boolean {
  return now.getTime() <= replacedAt.getTime() + REPLACEMENT_GRACE_MS;
}

/** One phrase for messages: "last used with ses in eu-west-1 at <ISO> (1 day ago)". */
export function describeUse(use: KeyLastUse, now: Date): string {
  const age = daysSinceUse(use, now);
  if (!use.lastUsed || age === undefined) {
    return 'no last-use data in IAM (never used since IAM began tracking on 2015-04-22, or no data)';
  }
  const days = Math.floor(age);
  const ago = days === 0 ? 'less than a day ago' : days === 1 ? '1 day ago' : `${days} days ago`;
  return `last used with ${use.service ?? 'an unknown service'} in ${use.region ?? 'an unknown Region'} at ${use.lastUsed.toISOString()} (${ago})`;
}
