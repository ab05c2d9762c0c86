import { z } from 'zod';
import { ECS_SERVICE_ARN } from '../../lambda/restart-ecs-services/services';
import { MIN_ROTATION_DAYS, ROTATION_DAYS_EXPECTED } from './quiet-period';
import { SES_SMTP_WARNING_IDS } from './warning-ids';
import { ENVIRONMENT_TAG } from '../stack-name';
import {
  asciiAddressDomain,
  asciiDomain,
  AWS_REGION_RE,
  cronProblem,
  DMARC_URI_RE,
  DMARC_URI_SIZE_RE,
  dmarcUriKey,
  DNS_LABEL_RE,
  EMAIL_RE,
  HOST_NAME,
  HTTPS_URL_RE,
  invisibleCharacter,
  invisibleHint,
  joinersInContextShown,
  isHttpsUrl,
  HOST_NAME_ANY_LENGTH_RE,
  LOCAL_PART_RE,
  localPartFits,
  SENDER_RE,
  spfTermProblem,
  URL_PASSWORD_RE,
} from './syntax';

/*
 * The environments file, as one zod schema. The app validates with it, and
 * `npm run schema` turns it into config/environments.schema.json for editors, so the two
 * cannot drift apart.
 *
 * Convention for error texts given here: they complete the sentence "expected ...", because
 * the loader prints every problem as `got <value>, expected <text>`.
 */

/**
 * z.strictObject whose unknown-key error lists the fields that are allowed: those of the object
 * that parsed (a schema derived with .omit() or .extend() keeps this error, not its fields).
 */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `a known field (one of: ${Object.keys((issue.inst as z.ZodObject).shape).join(', ')})`
        : undefined,
  });
}

/** A string matching `re`; `expected` is used both when it is not a string and when it does not match. */
function text(re: RegExp, expected: string) {
  return z.string({ error: expected }).regex(re, { error: expected });
}

/**
 * A list whose entries must differ (they become construct ids, record values or subscriptions):
 * each repeat is one problem at its own index. `key` says when two entries are the same.
 */
function uniqueList<T extends z.ZodType>(item: T, key: (value: z.output<T>) => string = String) {
  return (
    z
      .array(item)
      .superRefine((list, ctx) => {
        const seen = new Map<string, number>();
        list.forEach((value, i) => {
          const k = key(value);
          const first = seen.get(k);
          if (first === undefined) seen.set(k, i);
          else
            ctx.addIssue({
              code: 'custom',
              path: [i],
              input: value,
              message: `each entry once (the same as entry [${first}]); remove the repeat`,
            });
        });
      })
      // For editors: JSON Schema's exact repeats, which the key above finds too.
      .meta({ uniqueItems: true })
  );
}

/**
 * A host name in any letter case, with an optional trailing dot (the absolute form): at most 253
 * characters without that dot (RFC 1035's 255 octets on the wire, less the length octets).
 */
const DOMAIN_RE = new RegExp(`^(?=.{1,253}\\.?$)${HOST_NAME}\\.?$`);

/**
 * A domain name. DNS compares names case-insensitively (RFC 4343) and "example.com." is the
 * absolute form of "example.com": both are accepted and normalized to lower case without the dot.
 */
const DOMAIN_EXPECTED =
  'a domain name like "example.com" or "bücher.example" (letters, digits and "-" per label; a non-ASCII name is taken in its punycode form, "xn--...")';
/** DOMAIN_EXPECTED, with the invisible character to remove or the length to cut, if one is the fault. */
function domainExpected(input: unknown): string {
  if (typeof input !== 'string') return DOMAIN_EXPECTED;
  const shown = joinersInContextShown(input);
  return `${DOMAIN_EXPECTED}${invisibleHint(shown) || nameLengthHint(input.replace(/\.$/, ''))}`;
}

/**
 * The limit a name of letters, digits and "-" breaks, to end an "expected ..." text; else "". RFC
 * 1035 §2.3.4: a label of at most 63 characters, a name of at most 253 written as text (255
 * octets on the wire). Counted in the punycode form DNS gets, which is longer than the Unicode
 * one ("bücher" is "xn--bcher-kva").
 */
function nameLengthHint(name: string): string {
  const ascii = asciiDomain(name);
  if (!HOST_NAME_ANY_LENGTH_RE.test(ascii)) return '';
  const long = ascii.split('.').find((label) => label.length > 63);
  if (long !== undefined)
    return `: each label at most 63 characters (RFC 1035 §2.3.4), and "${long.slice(0, 20)}..." has ${long.length}`;
  return ascii.length > 253
    ? `: at most 253 characters (RFC 1035 §2.3.4), and this name has ${ascii.length}`
    : '';
}

/**
 * A string that matches `re` once its non-ASCII domain is in punycode form (`toAscii`; IDNA, RFC
 * 5890: "bücher.example" is "xn--bcher-kva.example"), with `expected(input)` as the message. The
 * pattern it states is `re`, or any text with a non-ASCII character: the JSON Schema's too, which
 * cannot convert, so an editor never refuses such a name. The value is still as written: each
 * schema keeps the converted form as it keeps a value (a transform, or an overwrite that leaves
 * the enclosing group's default in the JSON Schema).
 */
function idnaText(re: RegExp, toAscii: (value: string) => string, expected: (input: unknown) => string) {
  return z
    .string({ error: expected(undefined) })
    .regex(new RegExp(`${re.source}|[^\\x00-\\x7f]`), {
      error: (issue) => expected(issue.input),
      abort: true,
    })
    .refine((value) => re.test(toAscii(value)), { error: (issue) => expected(issue.input), abort: true });
}

export const domainName = idnaText(DOMAIN_RE, asciiDomain, domainExpected).transform((name) =>
  asciiDomain(name).toLowerCase().replace(/\.$/, ''),
);

const EMAIL_EXPECTED =
  'an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters)';

/**
 * EMAIL_EXPECTED, with the fix for the inputs people write: "Name <address>" (the address alone:
 * a display name belongs in the app's mailer), an invisible character, and a non-ASCII local part
 * (SES takes none; a non-ASCII domain is taken, in its punycode form).
 */
function emailExpected(input: unknown): string {
  if (typeof input !== 'string') return EMAIL_EXPECTED;
  const named = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(input);
  if (named)
    return `${EMAIL_EXPECTED}: the address alone, "${named[1]}" (a display name goes in the app's mailer)`;
  const at = input.lastIndexOf('@');
  // A joiner IDNA takes in the domain is part of its name (domainInvisibleCharacter).
  const shown = at < 0 ? input : `${input.slice(0, at + 1)}${joinersInContextShown(input.slice(at + 1))}`;
  if (invisibleCharacter(shown)) return `${EMAIL_EXPECTED}${invisibleHint(shown)}`;
  // SES does not support SMTPUTF8 (RFC 6531): a local part is 7-bit ASCII (SES API reference, Destination).
  if (at > 0 && /[^ -~]/.test(input.slice(0, at)))
    return `${EMAIL_EXPECTED}: a local part in ASCII (SES takes no international characters before the "@")`;
  // The absolute form "example.com." is a domain name, not an address's domain (RFC 5321 §4.1.2).
  const relative = input.replace(/\.$/, '');
  if (at > 0 && relative !== input && EMAIL_RE.test(asciiAddressDomain(relative)) && localPartFits(relative))
    return `${EMAIL_EXPECTED}: no final "." after the domain, ${JSON.stringify(relative)}`;
  // RFC 5322 §3.2.3: dot-atom; a quoted local part may hold any dots, but few mailboxes have one.
  if (at > 0 && !input.startsWith('"') && /^\.|\.\.|\.$/.test(input.slice(0, at)))
    return `${EMAIL_EXPECTED}: no "." at the start or end of the local part, nor two in a row`;
  // A length, when both parts are well formed but one is too long (the local part named first).
  const domain = input.slice(at + 1);
  if (at > 0 && LOCAL_PART_RE.test(input.slice(0, at)) && HOST_NAME_ANY_LENGTH_RE.test(asciiDomain(domain))) {
    if (at > 64) return `${EMAIL_EXPECTED}: this local part has ${at}`;
    const hint = nameLengthHint(domain);
    if (hint) return `${EMAIL_EXPECTED}${hint.replace(': ', ': in the domain, ')}`;
    // RFC 5321 §4.5.3.1.3: a path of 256 octets, the angle brackets included.
    const length = asciiAddressDomain(input).length;
    if (length > 254)
      return `${EMAIL_EXPECTED}: at most 254 characters in all, and this address has ${length}`;
  }
  return EMAIL_EXPECTED;
}

/** An email address as SES takes it (see syntax.ts); the domain part is compared case-insensitively. */
// overwrite, not transform: a transform would drop the enclosing group's default from the JSON Schema.
export const emailAddress = idnaText(EMAIL_RE, asciiAddressDomain, emailExpected)
  .refine(localPartFits, { error: (issue) => emailExpected(issue.input) })
  .overwrite(asciiAddressDomain);

/**
 * An address as SES tells identities apart: the domain in any case (DNS), the local part as
 * written (SES: an address identity is case-sensitive; RFC 5321 §2.4 lets a host tell them apart).
 */
export const addressKey = (address: string) => {
  const at = address.lastIndexOf('@');
  return `${address.slice(0, at)}@${address.slice(at + 1).toLowerCase()}`;
};

/**
 * An address the SMTP user sends from. The IAM `ses:FromAddress` condition compares case-sensitively
 * and its default patterns name the domain in lower case, so the domain part is normalized to lower
 * case (as `domain` is); the local part stays as written (RFC 5321 §2.4: it may be case-sensitive).
 */
// overwrite, not transform: a transform would drop the enclosing group's default from the JSON Schema.
const senderAddress = emailAddress.overwrite(addressKey);

const SENDER_EXPECTED =
  'an email address like "billing@example.com", "*@example.com" (every address there) or "*@*.example.com" (every subdomain)';
/** A sender entry: an exact address, "*@" and a domain, or "*@*." and a domain; normalized as senderAddress. */
// "*@*.bücher.example" too: IDNA takes the "*" label as it is.
const senderEntry = idnaText(SENDER_RE, asciiAddressDomain, () => SENDER_EXPECTED)
  .refine(localPartFits, { error: SENDER_EXPECTED })
  .overwrite(asciiAddressDomain)
  .overwrite(addressKey);

const TAG_KEY_EXPECTED = 'a tag key of 1-128 letters, digits, spaces and _ . : / = + - @';
const TAG_VALUE_EXPECTED = 'a tag value of at most 256 letters, digits, spaces and _ . : / = + - @';

/** The AWS tag character set: Unicode letters, digits and spaces, and _ . : / = + - @. */
const TAG_TEXT = /^[\p{L}\p{N}\p{Zs}_.:/=+\-@]*$/u;

const ACCOUNT_EXPECTED = 'a 12-digit AWS account id';

/**
 * ACCOUNT_EXPECTED, with the fix for the ways people write one: as a JSON number (it is all
 * digits; "expected a 12-digit AWS account id" alone would leave them puzzled; and ids may start
 * with 0, "012345678901", which a number loses) or grouped with dashes or spaces, "1234-5678-9012".
 */
function accountExpected(input: unknown): string {
  if (typeof input === 'number') {
    const digits = Number.isSafeInteger(input) && input >= 0 ? String(input) : '';
    const quotedId = digits.length === 12 ? `: "${digits}"` : ', like "123456789012"';
    return `${ACCOUNT_EXPECTED} as a string, in quotes${quotedId} (a JSON number would lose an id's leading zeros)`;
  }
  const digits = typeof input === 'string' ? input.replace(/[\s-]/g, '') : '';
  return /^\d{12}$/.test(digits) && digits !== input
    ? `${ACCOUNT_EXPECTED}: the 12 digits alone, "${digits}"`
    : ACCOUNT_EXPECTED;
}

/** An AWS account id: 12 digits, in a string. */
const accountId = z
  .string({ error: (issue) => accountExpected(issue.input) })
  .regex(/^\d{12}$/, { error: (issue) => accountExpected(issue.input) });

/** An AWS Region name, like "eu-west-1" (AWS_REGION_RE: the CLI's --region takes the same). */
export const awsRegion = text(AWS_REGION_RE, 'an AWS Region like "eu-west-1"');

/** The name of an environment, like "production": a key of the environments file. */
export const environmentName = text(
  /^[a-z][a-z0-9-]{0,30}$/,
  'an environment name: 1 to 31 of a-z, 0-9 and "-", starting with a letter',
);

const Route53Dns = strict({
  mode: z.literal('route53'),
  /**
   * Id of the public hosted zone that holds the domain (no lookup happens at synth). The
   * "/hostedzone/Z..." form that `aws route53 list-hosted-zones` prints is accepted too.
   */
  hostedZoneId: text(
    /^(\/hostedzone\/)?Z[A-Z0-9]{1,31}$/,
    'a Route53 hosted zone id like "Z0123456789ABCDEFGHIJ" or "/hostedzone/Z0123456789ABCDEFGHIJ"',
  ).transform((id) => id.replace(/^\/hostedzone\//, '')),
  /** Name of that hosted zone: the domain itself or one of its parents. */
  zoneName: domainName,
  /** TTL of every record this stack writes, in seconds. */
  ttlSeconds: z.number().int().min(60).max(172800).default(3600),
});

const ManualDns = strict({
  mode: z.literal('manual'),
  /** TTL suggested in the zone-file lines the stack outputs, in seconds. */
  ttlSeconds: z.number().int().min(60).max(172800).default(3600),
});

const MailFrom = strict({
  /** Label under the domain used as the MAIL FROM (envelope sender) domain. */
  // overwrite, not transform: the JSON Schema then keeps this default and the group's.
  subdomain: text(DNS_LABEL_RE, 'one DNS label like "mail" (letters, digits, "-")')
    .overwrite((label) => label.toLowerCase())
    .default('mail'),
  /** What SES does with a send while the MAIL FROM domain is not verified (a new subdomain: PENDING). */
  behaviorOnMxFailure: z.enum(['USE_DEFAULT_VALUE', 'REJECT_MESSAGE']).default('USE_DEFAULT_VALUE'),
});

const DMARC_URI_EXPECTED =
  'a report URI like "mailto:dmarc@example.com" or "mailto:dmarc@example.com!10m" (RFC 7489 §6.4: an RFC 3986 URI in ASCII; %-encode "," ";" "!", spaces, <>"\\^`{|} and non-ASCII inside it, like %2C; a mailto domain in letters of any script is taken in its punycode form)';

/**
 * A mailto: report URI whose one address has a domain in Unicode, with that domain in its
 * punycode form (as the environments file takes every domain): the ASCII a URI must be, and the
 * name a receiver looks the report consent up under. Anything else as written.
 */
function asciiMailtoDomain(uri: string): string {
  const mailto = /^(mailto:[^@?!]+@)([^@?!%]+)((?:![0-9]+[kmgt]?)?)$/i.exec(uri);
  return mailto ? `${mailto[1]}${asciiDomain(mailto[2])}${mailto[3]}` : uri;
}

/** A mail domain (HOST_NAME, at most 253 characters), as a mailto address's domain must be. */
const MAIL_DOMAIN_RE = new RegExp(`^(?=.{1,253}$)${HOST_NAME}$`);

/**
 * What keeps a mailto: URI from naming one address, to end "this one has ..."; undefined when it
 * names one, or is not a mailto: URI. RFC 6068 §2: the part before "?" is an addr-spec (RFC 5322
 * §3.4.1), "local-part@domain", with a "@" in the local part only inside a quoted string
 * (%22...%22); the domain a host name (%-encoded UTF-8 is IDN text) or an address literal.
 * "mailto:dmarc" or "mailto:dmarc@example" is a valid URI, and the reports go nowhere.
 */
function mailtoProblem(uri: string): string | undefined {
  const to = /^mailto:([^?]*)/i.exec(uri.replace(DMARC_URI_SIZE_RE, ''))?.[1];
  if (to === undefined) return undefined;
  const at = to.lastIndexOf('@');
  if (at < 0) return 'no "@" and domain';
  const local = to.slice(0, at);
  if (local === '') return 'no local part before the "@"';
  if (local.includes('@') && !/^%22.*%22$/i.test(local))
    return `an "@" in the local part ${JSON.stringify(local)} outside quotes (%22...%22)`;
  const domain = to.slice(at + 1);
  if (/^\[.+\]$/.test(domain)) return undefined;
  let name: string;
  try {
    name = asciiDomain(decodeURIComponent(domain));
  } catch {
    name = domain; // not UTF-8 once decoded: refused below
  }
  return MAIL_DOMAIN_RE.test(name)
    ? undefined
    : `the domain ${JSON.stringify(domain)}, which is no host name like "example.com"`;
}

/** Whether `uri` is one report URI the schema takes (its mailto domain in punycode form). */
const isDmarcUri = (uri: string) =>
  DMARC_URI_RE.test(asciiMailtoDomain(uri)) && mailtoProblem(uri) === undefined;

/**
 * DMARC_URI_EXPECTED, with the fix for the entries people copy from a DMARC record: several URIs
 * in one ("rua=mailto:a@x,mailto:b@x" lists them with commas: %-encoding that comma, as the
 * generic text says, would make one broken address of them), the "rua="/"ruf=" tag, or an
 * address without its "mailto:".
 */
function dmarcUriExpected(input: unknown): string {
  if (typeof input !== 'string') return DMARC_URI_EXPECTED;
  const untagged = input.replace(/^\s*ru[af]\s*=\s*/i, '');
  const parts = untagged.split(/\s*[,;]\s*/).filter((part) => part !== '');
  if (parts.length > 1 && parts.every(isDmarcUri))
    return `${DMARC_URI_EXPECTED}: one URI per entry, ${parts.map((part) => JSON.stringify(part)).join(', ')}`;
  // A record's tags end in ";" ("rua=mailto:a@x;"): one URI and its separator are that URI alone.
  const alone = parts.length === 1 ? parts[0] : untagged;
  if (alone !== input && isDmarcUri(alone)) {
    const dropped = [untagged !== input && 'tag', alone !== untagged && 'separator'].filter(Boolean);
    return `${DMARC_URI_EXPECTED}: the URI alone, without the ${dropped.join(' and ')}, ${JSON.stringify(alone)}`;
  }
  if (!alone.includes(':') && isDmarcUri(`mailto:${alone}`))
    return `${DMARC_URI_EXPECTED}: an address with its scheme, ${JSON.stringify(`mailto:${alone}`)}`;
  const mailto = mailtoProblem(input);
  if (mailto !== undefined && DMARC_URI_RE.test(asciiMailtoDomain(input)))
    return `${DMARC_URI_EXPECTED}: a mailto URI holds one address, "local-part@domain", and this one has ${mailto}`;
  return DMARC_URI_EXPECTED;
}

// overwrite, not transform: a transform would drop the enclosing group's default from the JSON Schema.
const DmarcReportUri = idnaText(DMARC_URI_RE, asciiMailtoDomain, dmarcUriExpected)
  .refine((uri) => mailtoProblem(uri) === undefined, { error: (issue) => dmarcUriExpected(issue.input) })
  .overwrite(asciiMailtoDomain);

const Dmarc = strict({
  /** Set to false when the domain already publishes a DMARC record managed elsewhere. */
  enabled: z.boolean().default(true),
  policy: z.enum(['none', 'quarantine', 'reject']).default('quarantine'),
  /** Policy for subdomains ("sp="); omitted from the record when not set, so subdomains inherit `policy`. */
  subdomainPolicy: z.enum(['none', 'quarantine', 'reject']).optional(),
  /** Percentage of failing mail the policy applies to ("pct="). */
  percentage: z.number().int().min(0).max(100).default(100),
  /** Aggregate report destinations ("rua="), each optionally with a size limit like "!10m". */
  aggregateReportUris: uniqueList(DmarcReportUri, dmarcUriKey).max(10).default([]),
  /** Forensic (failure) report destinations ("ruf="), each optionally with a size limit like "!10m". */
  forensicReportUris: uniqueList(DmarcReportUri, dmarcUriKey).max(10).default([]),
  /** When receivers send failure reports ("fo="): "0", "1", "d", "s"; omitted when not set ("0"). */
  failureReportOptions: uniqueList(
    z.enum(['0', '1', 'd', 's'], {
      error: 'one of "0" (all of DKIM and SPF failed), "1" (any failed), "d" (DKIM failed), "s" (SPF failed)',
    }),
  )
    .min(1, 'at least one option, or no "failureReportOptions" field (receivers then take "0")')
    .optional(),
  /** DKIM alignment ("adkim="): relaxed or strict. */
  dkimAlignment: z.enum(['relaxed', 'strict']).default('relaxed'),
  /** SPF alignment ("aspf="): relaxed or strict. */
  spfAlignment: z.enum(['relaxed', 'strict']).default('relaxed'),
});

const ApexSpf = strict({
  /** Write the domain's apex TXT record set (SPF plus every other apex TXT value). */
  enabled: z.boolean().default(false),
  /**
   * SPF terms the domain already uses for other senders (RFC 7208: mechanisms with an optional
   * qualifier, macros, a/mx with CIDR lengths, ip4/ip6, and modifiers), like "include:_spf.google.com".
   */
  otherMechanisms: uniqueList(
    z.string({ error: 'an SPF term like "include:_spf.google.com"' }).superRefine((term, ctx) => {
      const problem = spfTermProblem(term);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: term });
    }),
    (t) => t.toLowerCase(),
  ).default([]),
  /** The final "all" qualifier. */
  all: z.enum(['~all', '-all', '?all']).default('~all'),
  /**
   * Every other TXT value already published at the apex (site verifications...), kept in the same
   * record set: printable ASCII, as the zone-file output splits a value into 255-byte strings.
   */
  otherTxtValues: uniqueList(
    z
      .string()
      .min(1)
      .max(4000)
      .regex(/^[\x20-\x7e]*$/, {
        error:
          'a TXT value of printable ASCII characters (letters, digits, space and punctuation), like "google-site-verification=abc123"',
      }),
  ).default([]),
});

const Credentials = strict({
  /** Days between automatic rotations of the SMTP credentials (see MIN_ROTATION_DAYS). */
  rotationDays: z
    .number()
    .int()
    .min(MIN_ROTATION_DAYS, { error: ROTATION_DAYS_EXPECTED })
    .max(1000)
    .default(90),
  /**
   * Addresses the SMTP user may send from (the IAM `ses:FromAddress` condition): exact addresses,
   * "*@example.com" (every address at that domain) or "*@*.example.com" (at every subdomain).
   * Default: every address at `domain`, and at the domain of `fromAddress` when that is a
   * subdomain. List exact addresses to allow only those.
   */
  allowedFromAddresses: uniqueList(senderEntry, addressKey).min(1).optional(),
  /**
   * Days without SES use after which the previous key may be deleted by a rotation. A key SES used
   * more recently is still in an app: the rotation stops and alarms instead. A rotation also keeps
   * the key this long after the last rotation replaced it (at most rotationDays - 1). 0 turns the
   * guard off.
   */
  previousKeyQuietDays: z.number().int().min(0).max(365).default(7),
  /** Rotate even when the previous key is still in use (the app using it stops sending). */
  rotateWhilePreviousKeyInUse: z.boolean().default(false),
  /**
   * ECS services whose tasks are replaced (a forced new deployment) after each rotation, by their
   * long ARN, arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE, in the environment's account and
   * Region: ECS reads a task's secrets only as it starts.
   */
  restartEcsServices: uniqueList(
    z.string().regex(ECS_SERVICE_ARN, {
      error:
        'the long ARN of an ECS service, "arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE" (a short ARN, "service/SERVICE", names no cluster, which ECS UpdateService needs: migrate the service to the long ARN format)',
    }),
  ).default([]),
});

/** Warning and critical levels below `max`; with `criticalAtMax` the critical level may be `max` itself. */
const Threshold = (what: string, max: number, criticalAtMax = false) =>
  strict({
    warning: z.number().gt(0).lt(max),
    critical: criticalAtMax ? z.number().gt(0).max(max) : z.number().gt(0).lt(max),
  }).describe(what);

const Alarms = strict({
  /** Email addresses subscribed to the operator alarm topic (each must confirm the subscription). */
  emails: uniqueList(emailAddress, addressKey).default([]),
  /**
   * Whether this environment creates the alarms on account-wide figures: the account's bounce
   * and complaint rates (per account and Region in SES), and the quota, send-rate and send
   * anomaly alarms. When no environment of an account and Region sets it, the first one listed
   * in the file that does not set false does, among those with health checks if any has them (the
   * quota, send-rate and anomaly alarms live in the health checks); at most one may set it to true.
   */
  accountAlarms: z.boolean().optional(),
  /** Bounce rate alarm levels in percent (AWS reviews an account at 5 %, may pause it at 10 %). */
  bounceRatePercent: Threshold('bounce rate, percent', 10).default({ warning: 2, critical: 5 }),
  /** Complaint rate alarm levels in percent (AWS reviews an account at 0.1 %, may pause it at 0.5 %). */
  complaintRatePercent: Threshold('complaint rate, percent', 0.5).default({ warning: 0.05, critical: 0.1 }),
});

const SCHEDULE_EXPECTED =
  'an EventBridge schedule expression like "rate(1 day)", "rate(6 hours)" or "cron(0 6 * * ? *)"';

/**
 * What a rate expression of the right shape but the wrong value or unit should be, or a cron of the
 * wrong number of fields; else SCHEDULE_EXPECTED.
 */
function scheduleExpected(input: unknown): string {
  const cron = typeof input === 'string' ? /^cron\((.*)\)$/.exec(input) : null;
  if (cron) return cronProblem(cron[1].trim().split(/\s+/)) ?? SCHEDULE_EXPECTED;
  const rate = typeof input === 'string' ? /^rate\((\d+) (minute|hour|day)s?\)$/.exec(input) : null;
  if (!rate) return SCHEDULE_EXPECTED;
  const value = Number(rate[1]);
  const unit = rate[2];
  return value < 1
    ? `a rate of at least 1, like "rate(1 ${unit})"`
    : `"rate(${value} ${value === 1 ? unit : `${unit}s`})": EventBridge takes the unit in the singular for 1 and in the plural above 1, like "rate(1 ${unit})" or "rate(2 ${unit}s)"`;
}

/**
 * An EventBridge schedule expression: a rate of at least 1 with its unit singular for 1 and plural
 * above ("rate(1 day)", "rate(2 days)"; EventBridge refuses "rate(1 days)" and "rate(2 day)"), or a
 * cron whose six fields EventBridge takes (see cronProblem).
 */
const SCHEDULE = z
  .string({ error: SCHEDULE_EXPECTED })
  .regex(
    /^(rate\(0*(1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|cron\(\S+ \S+ \S+ \S+ \S+ \S+\))$/,
    { error: (issue) => scheduleExpected(issue.input) },
  )
  .superRefine((expression, ctx) => {
    const cron = /^cron\((\S+(?: \S+){5})\)$/.exec(expression);
    const problem = cron && cronProblem(cron[1].split(' '));
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: expression });
  });

const Health = strict({
  /** Run the health checks on a schedule, with an alarm per check. */
  enabled: z.boolean().default(true),
  /** When every check runs. */
  schedule: SCHEDULE.default('rate(1 day)'),
  /**
   * When the identity, sending, quota, credentials and SMTP login checks run on their own: a day's
   * quota can be used up within hours, and a deleted identity or key stops every app at any hour.
   */
  quotaSchedule: SCHEDULE.default('rate(1 hour)'),
  /** An account still in the SES sandbox fails the "sandbox" check (false for a staging environment). */
  expectProductionAccess: z.boolean().default(true),
  /** Shares of the 24-hour sending quota that raise the warning and critical alarms, percent. */
  quotaPercent: Threshold('24-hour quota used, percent', 100, true).default({ warning: 80, critical: 95 }),
  /** Share of the maximum send rate (peak minute of the last hour) that raises an alarm, percent. */
  sendRatePercent: z.number().gt(0).max(100).default(80),
  /** Anomaly-detection alarm on the account's send volume (a leaked password sending spam). */
  sendAnomalyDetection: z.boolean().default(true),
});

const WEBHOOK_URL_EXPECTED =
  'an https:// URL whose host is a domain name or an IP address (a port, if any, from 1 to 65535), like "https://app.example.com/ses"';

/**
 * WEBHOOK_URL_EXPECTED, with the form to write for a host in non-ASCII letters (SNS takes the
 * URL as written: its host in punycode, as a browser would send it).
 */
function webhookUrlExpected(input: unknown): string {
  if (typeof input !== 'string' || !/[^\p{ASCII}]/u.test(input)) return WEBHOOK_URL_EXPECTED;
  let href = '';
  try {
    href = new URL(input).href;
  } catch {
    // No URL at all: the plain text says what one looks like.
  }
  return HTTPS_URL_RE.test(href) && isHttpsUrl(href)
    ? `${WEBHOOK_URL_EXPECTED}: its host in punycode form, "${href}"`
    : WEBHOOK_URL_EXPECTED;
}

const Feedback = strict({
  /** Events published besides BOUNCE and COMPLAINT (which are always on). */
  additionalEvents: uniqueList(z.enum(['REJECT', 'DELIVERY_DELAY', 'RENDERING_FAILURE'])).default([]),
  /** Deliver SES's JSON to the queue without the SNS envelope. */
  rawMessageDelivery: z.boolean().default(true),
  /**
   * The app's own HTTPS endpoint subscribed to the feedback topic. The scheme is case-insensitive
   * (RFC 3986 §3.1) and written in lower case, the form aws-cdk-lib's UrlSubscription takes.
   */
  webhookUrl: z
    .string({ error: WEBHOOK_URL_EXPECTED })
    // SNS would send it as basic auth, but the template (and CloudFormation's console) would show
    // it to anyone who can read the stack: the app checks each message's SNS signature instead.
    .refine((url) => !URL_PASSWORD_RE.test(url), {
      error:
        'an https:// URL without a password: the template would hold it in plain text; leave the user and password out and verify the SNS signature of each message in the app',
      abort: true,
    })
    .regex(HTTPS_URL_RE, { error: (issue) => webhookUrlExpected(issue.input) })
    .refine(isHttpsUrl, { error: WEBHOOK_URL_EXPECTED })
    .overwrite((url) => `https${url.slice('https'.length)}`)
    .optional(),
  /** Also create a queue for the app that receives the same events. */
  appQueue: z.boolean().default(false),
});

const GITHUB_ENVIRONMENT = text(
  /^[A-Za-z0-9._-]{1,255}$/,
  'a GitHub environment name: letters, digits, ".", "_" and "-", like "production"',
);

/** How GitHub Actions reaches one environment. Defaults are applied in lib/config/github.ts (they derive from the name). */
/**
 * Synth warnings a team has weighed and accepts, each id (as the synth's "Acknowledge with" line
 * names it after "Annotation::") with the reason: the synth stops printing them. A reason is
 * required, as for cdk-nag's acknowledgements: the next reader of the file needs it.
 */
const AcknowledgedWarnings = z
  .record(
    text(
      /^(?:Annotation::)?[^\s:]+:\S+$/,
      'a warning id as the synth names it, like "ses-smtp:no-alarm-recipients"',
    )
      .max(256, { error: 'a warning id of at most 256 characters' })
      // This package's own are known: a misspelt one would accept nothing, and say nothing.
      .refine(
        (id) => {
          const bare = id.replace(/^Annotation::/, '');
          return !/^ses-smtp:/i.test(bare) || SES_SMTP_WARNING_IDS.includes(bare);
        },
        { error: `one of this package's warning ids (${SES_SMTP_WARNING_IDS.join(', ')})` },
      ),
    z
      .string({ error: 'the reason, a text' })
      .trim()
      .min(1, { error: 'the reason the warning is accepted, a text that is not empty' })
      .max(1024, { error: 'a reason of at most 1024 characters' }),
  )
  .default({});

const GitHubEnvironment = strict({
  /**
   * GitHub environment of the jobs that deploy this environment; its protection rules (required
   * reviewers, branches) gate the deploy. Default: the environment's name.
   */
  environment: GITHUB_ENVIRONMENT.optional(),
  /**
   * GitHub environment of the pull-request jobs that preview this environment with `cdk diff`
   * (a read-only role). Default: the deploy environment's name followed by "-preview".
   */
  previewEnvironment: GITHUB_ENVIRONMENT.optional(),
});

export const EnvironmentSchema = strict({
  /** AWS account id the environment deploys to. */
  account: accountId,
  /** AWS Region; SES must offer SMTP there. */
  region: awsRegion,
  /**
   * The sending domain (an SES domain identity): at most 209 characters, as the DKIM CNAMEs
   * "<32-character token>._domainkey.<domain>" and the MAIL FROM name must fit DNS's 253.
   */
  domain: domainName,
  /** Where the DNS records go: a Route53 hosted zone, or printed for another DNS provider. */
  dns: z.discriminatedUnion('mode', [Route53Dns, ManualDns], {
    error: 'an object with "mode": "route53" (plus hostedZoneId and zoneName) or "mode": "manual"',
  }),
  /** Default sender address, at the domain or one of its subdomains other than the MAIL FROM domain. */
  fromAddress: senderAddress,
  mailFrom: MailFrom.default({ subdomain: 'mail', behaviorOnMxFailure: 'USE_DEFAULT_VALUE' }),
  dmarc: Dmarc.default({
    enabled: true,
    policy: 'quarantine',
    percentage: 100,
    aggregateReportUris: [],
    forensicReportUris: [],
    dkimAlignment: 'relaxed',
    spfAlignment: 'relaxed',
  }),
  apexSpf: ApexSpf.default({ enabled: false, otherMechanisms: [], all: '~all', otherTxtValues: [] }),
  /** Recipient addresses verified as SES email identities, for testing while the account is in the sandbox. */
  verifiedEmailAddresses: uniqueList(emailAddress, addressKey).default([]),
  credentials: Credentials.default({
    rotationDays: 90,
    previousKeyQuietDays: 7,
    rotateWhilePreviousKeyInUse: false,
    restartEcsServices: [],
  }),
  feedback: Feedback.default({ additionalEvents: [], rawMessageDelivery: true, appQueue: false }),
  alarms: Alarms.default({
    emails: [],
    bounceRatePercent: { warning: 2, critical: 5 },
    complaintRatePercent: { warning: 0.05, critical: 0.1 },
  }),
  health: Health.default({
    enabled: true,
    schedule: 'rate(1 day)',
    quotaSchedule: 'rate(1 hour)',
    expectProductionAccess: true,
    quotaPercent: { warning: 80, critical: 95 },
    sendRatePercent: 80,
    sendAnomalyDetection: true,
  }),
  /**
   * Tags put on every resource of the environment's stack: at most 49 (AWS allows 50 per resource
   * and the stack adds "ses-smtp:environment"); keys of 1-128 and values of 0-256 letters, digits,
   * spaces and _ . : / = + - @; keys may not start with "aws:" (reserved for AWS, any case), and
   * no two keys (nor a key and the stack's) may be equal ignoring letter case, as IAM compares them.
   */
  tags: z
    .record(
      z
        .string()
        .min(1, { error: TAG_KEY_EXPECTED })
        .max(128, { error: TAG_KEY_EXPECTED })
        .regex(TAG_TEXT, { error: TAG_KEY_EXPECTED })
        .refine((k) => !/^aws:/i.test(k), {
          error: 'a tag key that does not start with "aws:" (AWS reserves that prefix in any letter case)',
        })
        .refine((k) => k.toLowerCase() !== ENVIRONMENT_TAG, {
          error: `a tag key other than "${ENVIRONMENT_TAG}" in any letter case (the stack sets it to the environment name; IAM compares tag keys case-insensitively)`,
        }),
      z
        .string({ error: 'a text' })
        .max(256, { error: TAG_VALUE_EXPECTED })
        .regex(TAG_TEXT, { error: TAG_VALUE_EXPECTED }),
    )
    .refine((tags) => Object.keys(tags).length <= 49, {
      error: `at most 49 tags (AWS allows 50 per resource; the stack adds "${ENVIRONMENT_TAG}")`,
    })
    .meta({ maxProperties: 49 })
    .superRefine((tags, ctx) => {
      // IAM refuses "Duplicate tag keys" on the user and roles for keys equal ignoring case.
      const seen = new Map<string, string>();
      for (const key of Object.keys(tags)) {
        const first = seen.get(key.toLowerCase());
        if (first === undefined) seen.set(key.toLowerCase(), key);
        else
          ctx.addIssue({
            code: 'invalid_key',
            origin: 'record',
            path: [key],
            input: key,
            issues: [],
            message: `a tag key that differs from ${JSON.stringify(first)} in more than letter case (IAM compares tag keys case-insensitively); remove or rename one`,
          });
      }
    })
    .default({}),
  /** "retain" keeps the identity, DNS records, secret and keys when the stack is deleted. */
  removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
  /** CloudFormation termination protection on the environment's stack (`cdk destroy` and stack deletion are refused). */
  terminationProtection: z.boolean().default(false),
  /** The GitHub environments that deploy and preview this environment (needs the top-level "github"). */
  github: GitHubEnvironment.default({}),
  /** Synth warnings of this environment's stack accepted, by id, each with its reason. */
  acknowledgedWarnings: AcknowledgedWarnings,
});

const GitHub = strict({
  /**
   * The repository whose workflows deploy, as "owner/name", spelled as GitHub shows it: the deploy
   * roles trust only this repository's environments (the OIDC "sub" claim is compared exactly).
   */
  repository: text(
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/,
    'a GitHub repository as "owner/name", like "acme/web-app"',
  ),
  /**
   * Accounts that already have GitHub's OIDC provider (token.actions.githubusercontent.com); their
   * access stack uses it instead of creating one (an account holds at most one per URL).
   */
  existingOidcProviderAccounts: z.array(accountId).default([]),
  /**
   * The Region of every account's access stack (its roles and the OIDC provider are global, the
   * stack is not). Without it, each account's stack goes to the Region of its first environment in
   * the file, and moves when that environment is removed or reordered: a moved stack is a new
   * stack, which fails on the OIDC provider the old one holds.
   */
  accessRegion: awsRegion.optional(),
  /**
   * The numeric ids of the repository's owner and of the repository, for a repository whose OIDC
   * tokens carry GitHub's immutable subject, "repo:OWNER@OWNER_ID/REPO@REPO_ID:..." (the default
   * for repositories created or renamed on or after 2026-07-15; older ones can opt in). The roles
   * then trust that subject: a new repository that takes the name later has other ids. Both or
   * neither; `gh api repos/OWNER/REPO --jq '[.owner.id, .id]'` prints them.
   */
  ownerId: z.number().int().min(1).optional(),
  repositoryId: z.number().int().min(1).optional(),
  /**
   * Synth warnings of the access stacks accepted, by id, each with its reason (a layout chosen
   * knowingly: ses-smtp:deployersShareAccount, ses-smtp:accessRegionFollowsFile).
   */
  acknowledgedWarnings: AcknowledgedWarnings,
});

export const ConfigFileSchema = strict({
  $schema: z.string().optional(),
  /** Regions to accept besides the built-in list of SES SMTP Regions. */
  additionalSmtpRegions: uniqueList(awsRegion).default([]),
  /** GitHub Actions deploys: adds one SesSmtpDeployAccess-<account> stack per account (see README). */
  github: GitHub.optional(),
  environments: z
    .record(environmentName, EnvironmentSchema)
    .refine((envs) => Object.keys(envs).length > 0, 'at least one environment')
    .meta({ minProperties: 1 }),
});

// The types of what it gives are plain, in types.ts (test/config/settings.test.ts checks them
// against z.output of these schemas): the package's declarations then never reach zod's.
export type {
  AlarmsConfig,
  ApexSpfConfig,
  ConfigFile,
  DmarcConfig,
  DnsConfig,
  EnvironmentConfig,
  FeedbackConfig,
  GitHubConfig,
  HealthConfig,
  ParsedConfigFile,
  ParsedEnvironment,
} from './types';
