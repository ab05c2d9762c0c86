import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';

/*
 * What the standards say is valid, for the values of the environments file that end up in mail
 * headers, DNS records, IAM conditions and EventBridge rules. Each pattern is defined once here;
 * the schema uses it.
 */

// --- Email addresses (RFC 5321 §4.1.2 and §4.5.3.1, RFC 5322 §3.2.3 and §3.4.1) ---------------

/** RFC 5322 atext: the characters of an unquoted local part. */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
/** dot-atom: atext runs joined by single dots (no leading, trailing or doubled dot). */
const DOT_ATOM = `${ATEXT}+(?:\\.${ATEXT}+)*`;
/** RFC 5321 Quoted-string: printable ASCII and space, with backslash pairs. */
export const QUOTED = '"(?:[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\x20-\\x7e])*"';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/**
 * A top-level label starts with a letter (no all-numeric TLD); "xn--" IDN labels qualify, and so
 * does one letter (RFC 1123 §2.1 sets no minimum).
 */
const TOP_LABEL = '[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** A host name in any letter case (DNS compares names case-insensitively, RFC 4343). */
export const HOST_NAME = `(?:${LABEL}\\.)+${TOP_LABEL}`;
/** HOST_NAME without its label lengths: a name that matches this and not HOST_NAME is too long. */
export const HOST_NAME_ANY_LENGTH_RE = new RegExp(`^${HOST_NAME.replaceAll('{0,61}', '*')}$`);
/**
 * A label of a host a program connects to (a URL's or an SMTP host): "_" taken too, as RFC 3986's
 * reg-name and resolvers take it (Docker service names, some internal zones); mail domains keep
 * LABEL, as SES and receivers do.
 */
export const CONNECT_LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';

/** One DNS label (RFC 1035 letters, digits and "-"; any letter case, RFC 4343). */
export const DNS_LABEL_RE = new RegExp(`^${LABEL}$`);

/**
 * An email address as SES takes it: a dot-atom or quoted local part of at most 64 octets, "@",
 * and a host name (SES does not send to address literals; non-ASCII domains go in as punycode).
 * The whole address is at most 254 octets (a 256-octet path minus the angle brackets).
 */
export const EMAIL_RE = new RegExp(`^(?=[\\x20-\\x7e]{3,254}$)(?:${DOT_ATOM}|${QUOTED})@${HOST_NAME}$`);

/**
 * An entry of a sender list: an address, "*@" and a domain (every address at it), or "*@*." and
 * a domain (every address at any of its subdomains).
 */
export const SENDER_RE = new RegExp(
  `^(?:\\*@(?:\\*\\.)?${HOST_NAME}|(?=[\\x20-\\x7e]{3,254}$)(?:${DOT_ATOM}|${QUOTED})@${HOST_NAME})$`,
);

/** A local part as EMAIL_RE takes it, whatever its length. */
export const LOCAL_PART_RE = new RegExp(`^(?:${DOT_ATOM}|${QUOTED})$`);

/** RFC 5321 §4.5.3.1.1: the local part is at most 64 octets. */
export function localPartFits(address: string): boolean {
  return address.lastIndexOf('@') <= 64;
}

// --- HTTPS URLs (RFC 3986 §3, RFC 9110 §4.2.2) -----------------------------------------------

const IPV4 =
  '(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';

/**
 * An https URL: the scheme in any letter case (RFC 3986 §3.1), an optional user, a host name
 * (CONNECT_LABEL labels), an IPv4 address or a bracketed IPv6 address, an optional port, then a
 * path, query or fragment.
 * The IPv6 address and the port number are checked by isHttpsUrl.
 */
export const HTTPS_URL_RE = new RegExp(
  `^[Hh][Tt][Tt][Pp][Ss]://(?:[^\\s/?#@]*@)?(?:(?:${CONNECT_LABEL}\\.)+${TOP_LABEL}\\.?|${IPV4}|\\[([0-9A-Fa-f:.]+)\\])(?::([0-9]*))?(?:[/?#]\\S*)?$`,
);

/**
 * A password in the user part of an http(s) URL (RFC 3986 §3.2.1, "user:password@"), read as a
 * browser reads it: after the scheme and any number of slashes, the user up to the first ":", the
 * password up to the last "@" before the path, query or fragment, whatever either holds (a quote,
 * a space, a backslash, an "@"). Group 2 is what comes before the password.
 */
const HTTP_PASSWORD = '([Hh][Tt][Tt][Pp][Ss]?:\\/*[^/?#:]*:)[^/?#]*@';

/** A value that is an http(s) URL with a password (HTTP_PASSWORD at its start). */
export const URL_PASSWORD_RE = new RegExp(`^()${HTTP_PASSWORD}`);

/** The same anywhere in a text, where a scheme can begin. */
const HTTP_PASSWORD_IN_TEXT_RE = new RegExp(`(^|[^A-Za-z0-9+.-])${HTTP_PASSWORD}`, 'g');

/**
 * The password of a URL of any scheme anywhere in a text: after a scheme and at least one slash
 * (so that "Alerts: Ops: no-reply@example.com" is no URL). A scheme begins where the character
 * before it cannot be part of one: "\b" would begin one after each "." or "-" of a run like
 * "a.a.a.a" too, and scan the rest of the run from each, in time quadratic in its length.
 */
const URL_PASSWORD_IN_TEXT_RE = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:[\\/]+[^\\/?#@:]*:)[^\\/?#]*@/g;

/**
 * What a user meant as a password but a browser reads otherwise: "user:" after the scheme and a
 * slash, then a "/", "?" or "#" before an "@" in the same word (`https://hook:pa/ss@app.example.com`,
 * a generated password with a "/"; no valid URL). Up to the word's last "@": a URL with an "@" in
 * its path and a port (`https://h.example.com:8443/u/@me`) loses its port and path in the line.
 * Each run is bounded, and a scheme begins as in URL_PASSWORD_IN_TEXT_RE: a text of many "a:" or
 * "a." would otherwise take time quadratic in its length.
 */
const MEANT_PASSWORD_IN_TEXT_RE =
  /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:[\\/]+[^\s\\/?#@:]{0,256}:)[^\s/?#@]{0,256}[/?#]\S{0,1024}@/g;

/**
 * `text` with the password of every URL in it shown as "***": http(s) ones as URL_PASSWORD_RE
 * reads them (a value it refuses is never shown with its password), then those of other schemes,
 * then what a user meant as one (MEANT_PASSWORD_IN_TEXT_RE).
 */
export function maskUrlPassword(text: string): string {
  return text
    .replace(HTTP_PASSWORD_IN_TEXT_RE, '$1$2***@')
    .replace(URL_PASSWORD_IN_TEXT_RE, '$1***@')
    .replace(MEANT_PASSWORD_IN_TEXT_RE, '$1***@');
}

/**
 * Whether `url` matches HTTPS_URL_RE with a valid IPv6 address, when its host is one, and a TCP
 * port (1 to 65535, RFC 9293 §3.1: 0 is reserved and reaches no server; empty is the default
 * port, RFC 3986 §3.2.3).
 */
export function isHttpsUrl(url: string): boolean {
  const match = HTTPS_URL_RE.exec(url);
  const port = match?.[2] ?? '';
  return (
    match !== null &&
    (match[1] === undefined || isIPv6(match[1])) &&
    (port === '' || (Number(port) >= 1 && Number(port) <= 65535))
  );
}

// --- DMARC report URIs (RFC 7489 §6.4, RFC 3986 §3.1) ----------------------------------------

/** The size limit that may end a `dmarc-uri` ("!10m"). */
const DMARC_URI_SIZE = '![0-9]+[kmgtKMGT]?';

/**
 * One `dmarc-uri`: an absolute URI, optionally followed by "!" and a size limit with an optional
 * unit (k, m, g, t; any case). Commas, semicolons and "!" inside the URI must be %-encoded, as
 * they separate URIs, tags and the size limit. Any scheme is valid; receivers must support
 * "mailto:" (RFC 7489 §6.2), and scheme names are case-insensitive. The URI is RFC 3986's: ASCII
 * letters, digits and - . _ ~ : / ? # [ ] @ $ & ' ( ) * + =, every other character %-encoded
 * (a space, <>"\^`{|}, non-ASCII text as its UTF-8 bytes).
 */
export const DMARC_URI_RE = new RegExp(
  `^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\\-._~:/?#[\\]@$&'()*+=]|%[0-9A-Fa-f]{2})+(?:${DMARC_URI_SIZE})?$`,
);

/** The size limit that may end a `dmarc-uri`, to take the URI alone. */
export const DMARC_URI_SIZE_RE = new RegExp(`${DMARC_URI_SIZE}$`);

/**
 * A report URI in one spelling, so that two that name the same destination compare equal: the
 * scheme and the host in lower case (RFC 3986 §6.2.2.1), a mailto address's domain too (RFC 5321
 * §2.4: its local part may be case-sensitive, so "Rua@" and "rua@" can be two mailboxes), and the
 * size limit's unit ("!10M" is "!10m": RFC 7489 §6.4's strings are case-insensitive, RFC 5234
 * §2.3). Text without a scheme is left as it is.
 */
export function dmarcUriKey(uri: string): string {
  const colon = uri.indexOf(':');
  if (colon < 0) return uri;
  const scheme = uri.slice(0, colon).toLowerCase();
  const rest = uri.slice(colon + 1).replace(DMARC_URI_SIZE_RE, (size) => size.toLowerCase());
  if (scheme === 'mailto') {
    // The address ends where its header fields ("?") or the size limit ("!") begin.
    const end = rest.search(/[?!]|$/);
    const at = rest.lastIndexOf('@', end);
    return at < 0
      ? `${scheme}:${rest}`
      : `${scheme}:${rest.slice(0, at)}${rest.slice(at, end).toLowerCase()}${rest.slice(end)}`;
  }
  // The host, after any user part (which may be case-sensitive).
  const authority = /^\/\/[^/?#]*/.exec(rest)?.[0] ?? '';
  const host = authority.lastIndexOf('@') + 1 || 2;
  return `${scheme}:${authority.slice(0, host)}${authority.slice(host).toLowerCase()}${rest.slice(authority.length)}`;
}

// --- SPF terms (RFC 7208 §4.6.1, §5, §6, §7.1) ------------------------------------------------

/** A macro of a term: c, r and t are for explanation text only (RFC 7208 §7.2), not for terms. */
const MACRO_EXPAND = '%\\{[slodiphvSLODIPHV][0-9]*[rR]?[-.+,/_=]*\\}|%%|%_|%-';
/** macro-string: visible characters except "%", which only starts a macro. */
const MACRO_STRING = `(?:${MACRO_EXPAND}|[\\x21-\\x24\\x26-\\x7e])*`;
/** RFC 7208 toplabel: not all-numeric; a hyphen only inside. */
const SPF_TOP_LABEL = '(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])';
/** domain-spec: a macro-string ending in "." and a top label (a trailing dot allowed) or a macro. */
const DOMAIN_SPEC = new RegExp(`^${MACRO_STRING}(?:\\.${SPF_TOP_LABEL}\\.?|${MACRO_EXPAND})$`);
const DUAL_CIDR = /(?:\/([0-9]{1,2}))?(?:\/\/([0-9]{1,3}))?$/;
/** A prefix length without leading zeros (RFC 7208 §5.6: ip4-cidr-length, ip6-cidr-length). */
const PREFIX_LENGTH = /^(?:0|[1-9][0-9]{0,2})$/;

/**
 * Whether `spec` is a domain-spec whose literal labels a receiver can look up: besides the syntax,
 * every label without a macro 1 to 63 characters and a name without macros at most 253 (RFC 7208
 * §4.3: a malformed name makes check_host() return "none", and an include of it a permerror).
 */
function isDomainSpec(spec: string): boolean {
  if (!DOMAIN_SPEC.test(spec)) return false;
  const name = spec.replace(/\.$/, '');
  const labels = name.replace(/%\{[^}]*\}|%[%_-]/g, '%').split('.');
  return (
    labels.every((label) => label.includes('%') || (label.length >= 1 && label.length <= 63)) &&
    (name.includes('%') || name.length <= 253)
  );
}

/**
 * Why one term of an SPF record (other than "v=spf1" and the final "all") is not valid, as the
 * "expected ..." half of a message; undefined when it is valid. Mechanism and modifier names are
 * case-insensitive; domains may use macros; a and mx take a dual CIDR length ("a/24//64").
 */
export function spfTermProblem(term: string): string | undefined {
  const example = 'like "include:_spf.google.com", "ip4:192.0.2.0/24", "a/24//64" or "exists:%{i}._spf.%{d}"';
  if (/%\{[crtCRT]/.test(term)) {
    return `no macro %{c}, %{r} or %{t} in a term: RFC 7208 §7.2 allows them in explanation text only (receivers return permerror), ${example}`;
  }
  const modifier = /^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/s.exec(term);
  if (modifier) {
    const name = modifier[1].toLowerCase();
    if (name === 'v') return 'an SPF term without "v=spf1": the stack writes the version tag itself';
    if (name === 'redirect') {
      // include: authorizes the servers the redirect target does; the record's "all" then ends it.
      const include = isDomainSpec(modifier[2]) ? `"include:${modifier[2]}"` : '"include:<domain>"';
      return `${include} in place of a "redirect=" modifier (the same servers, then apexSpf.all): the stack writes its own "all", and RFC 7208 §6.1 ignores redirect when "all" is present`;
    }
    return new RegExp(`^${MACRO_STRING}$`).test(modifier[2]) && (name !== 'exp' || isDomainSpec(modifier[2]))
      ? undefined
      : `a modifier "name=value" whose value is a macro-string (RFC 7208 §6, §7.1), ${example}`;
  }
  const m = /^([+?~-]?)([A-Za-z0-9]+)(?::(.*))?$/s.exec(term.replace(DUAL_CIDR, '') || term);
  const mechanism = m?.[2].toLowerCase();
  const arg = m?.[3];
  const cidr = DUAL_CIDR.exec(term)!;
  const [ip4Len, ip6Len] = [cidr[1], cidr[2]].map((v) => (v === undefined ? undefined : Number(v)));
  const cidrOk =
    [cidr[1], cidr[2]].every((v) => v === undefined || PREFIX_LENGTH.test(v)) &&
    (ip4Len === undefined || ip4Len <= 32) &&
    (ip6Len === undefined || ip6Len <= 128);
  switch (mechanism) {
    case 'all':
      return 'no "all" here: set "apexSpf.all" ("~all", "-all" or "?all"), it ends the record';
    case 'include':
    case 'exists':
      return arg !== undefined && cidr[0] === '' && isDomainSpec(arg)
        ? undefined
        : `"${mechanism}:" and a domain (macros allowed), ${example}`;
    case 'ptr':
      return (arg === undefined || isDomainSpec(arg)) && cidr[0] === ''
        ? undefined
        : `"ptr" or "ptr:" and a domain, ${example}`;
    case 'a':
    case 'mx':
      return (arg === undefined || isDomainSpec(arg)) && cidrOk
        ? undefined
        : `"${mechanism}", an optional ":domain" and optional prefix lengths "/0-32" and "//0-128", ${example}`;
    case 'ip4': {
      const [address, len, ...rest] = (/^[+?~-]?ip4:(.*)$/is.exec(term)?.[1] ?? '').split('/');
      return isIPv4(address) &&
        rest.length === 0 &&
        (len === undefined || (PREFIX_LENGTH.test(len) && Number(len) <= 32))
        ? undefined
        : `"ip4:" and an IPv4 address with an optional prefix length /0-32, ${example}`;
    }
    case 'ip6': {
      const value = /^[+?~-]?ip6:(.*)$/is.exec(term)?.[1] ?? '';
      const slash = value.lastIndexOf('/');
      const [address, len] = slash < 0 ? [value, undefined] : [value.slice(0, slash), value.slice(slash + 1)];
      // RFC 7208 §5.6 takes an RFC 4291 address: Node's isIPv6 also takes a zone index ("%eth0").
      return isIPv6(address) &&
        !address.includes('%') &&
        (len === undefined || (PREFIX_LENGTH.test(len) && Number(len) <= 128))
        ? undefined
        : `"ip6:" and an IPv6 address (RFC 4291, no "%" zone index) with an optional prefix length /0-128, ${example}`;
    }
    default:
      return `an SPF mechanism (all, include, a, mx, ptr, ip4, ip6, exists) or modifier (name=value), ${example}`;
  }
}

/** SPF terms that cost a DNS lookup under RFC 7208 §4.6.4 (names in any case). */
export function spfLookupCount(terms: readonly string[]): number {
  return terms.filter((t) =>
    /^[+?~-]?(include:|a(?![^:/])|mx(?![^:/])|ptr(?![^:])|exists:|redirect=)/i.test(t),
  ).length;
}

// --- EventBridge cron expressions (Amazon EventBridge User Guide, "Cron expressions reference") ---

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names that stand for min, min + 1, ... (any letter case). */
  readonly names?: readonly string[];
  /** The wildcards of the field as EventBridge documents them, for the message. */
  readonly wildcards: string;
  /** An item made with the field's own wildcards (L, W, #), besides values, ranges and "*". */
  readonly special?: (item: string, field: CronField) => boolean;
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** The six fields of cron(minutes hours day-of-month month day-of-week year). */
const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59, wildcards: ', - * /' },
  { name: 'hours', min: 0, max: 23, wildcards: ', - * /' },
  {
    name: 'day-of-month',
    min: 1,
    max: 31,
    wildcards: ', - * ? / L W',
    // L: the last day (L-3: three days before it; LW: the last weekday); 15W: the weekday nearest the 15th.
    special: (item, field) =>
      /^(L(-[0-9]{1,2})?|LW)$/.test(item) ||
      (/^[0-9]{1,2}W$/.test(item) && cronValue(field, item.slice(0, -1))),
  },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES, wildcards: ', - * /' },
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: DAY_NAMES,
    // "/" is not documented here but taken in every field: better than refusing a schedule that works.
    wildcards: ', - * ? L #',
    // L: the last day of the week; 6L: the last Friday of the month.
    special: (item, field) => item === 'L' || (/L$/.test(item) && cronValue(field, item.slice(0, -1))),
  },
  { name: 'year', min: 1970, max: 2199, wildcards: ', - * /' },
];

const CRON_EXAMPLE = 'like "cron(0 6 * * ? *)" (06:00 UTC daily) or "cron(0/15 8-17 ? * MON-FRI *)"';

/**
 * Why the six fields of an EventBridge cron expression are not valid, as the "expected ..." half
 * of a message; undefined when they are. Each field takes its values and wildcards, and exactly one
 * of day-of-month and day-of-week is "?": EventBridge takes no value nor "*" in both.
 */
export function cronProblem(fields: readonly string[]): string | undefined {
  if (fields.length !== CRON_FIELDS.length) {
    return `an EventBridge cron of six fields (minutes hours day-of-month month day-of-week year), ${CRON_EXAMPLE}`;
  }
  for (const [i, field] of CRON_FIELDS.entries()) {
    if (!cronFieldValid(field, fields[i])) {
      const names = field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : '';
      return `an EventBridge cron whose ${field.name} field takes ${field.min}-${field.max}${names} and the wildcards ${field.wildcards} (not "${fields[i]}"), ${CRON_EXAMPLE}`;
    }
  }
  if ((fields[2] === '?') === (fields[4] === '?')) {
    return `an EventBridge cron with "?" in exactly one of day-of-month and day-of-week (the other says which days), ${CRON_EXAMPLE}`;
  }
  return undefined;
}

function cronFieldValid(field: CronField, text: string): boolean {
  if (text === '?') return field.wildcards.includes('?');
  // "#" picks one weekday of the month (3#2: the second Tuesday) and stands alone in its field.
  if (text.includes('#')) {
    const [day, nth, ...rest] = text.split('#');
    return field.wildcards.includes('#') && rest.length === 0 && cronValue(field, day) && /^[1-5]$/.test(nth);
  }
  return text.split(',').every((item) => {
    if (field.special?.(item, field)) return true;
    const [range, step, ...rest] = item.split('/');
    if (rest.length > 0 || (step !== undefined && !/^[0-9]+$/.test(step))) return false;
    if (range === '*') return true;
    const [from, to, ...more] = range.split('-');
    return more.length === 0 && cronValue(field, from) && (to === undefined || cronValue(field, to));
  });
}

/** One value of a cron field: a number in its range, or one of its names. */
function cronValue(field: CronField, text: string): boolean {
  if (/^[0-9]+$/.test(text)) return Number(text) >= field.min && Number(text) <= field.max;
  return field.names?.includes(text.toUpperCase()) ?? false;
}

/**
 * The values a cron field takes (day-of-week: 1 = Sunday), or undefined for the wildcards that
 * depend on the month (L, W, #): those schedules are not simulated.
 */
function cronFieldValues(field: CronField, text: string): number[] | undefined {
  if (text === '?' || text === '*') return range(field.min, field.max, 1);
  if (text.includes('#') || text.split(',').some((item) => field.special?.(item, field))) return undefined;
  const number = (value: string) =>
    /^[0-9]+$/.test(value) ? Number(value) : field.min + field.names!.indexOf(value.toUpperCase());
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [span, step] = item.split('/');
    const [from, to] = span === '*' ? [field.min, field.max] : span.split('-').map(number);
    const last = to ?? (step === undefined ? from : field.max);
    const stride = step === undefined ? 1 : Number(step);
    // A range that wraps ("FRI-MON") runs to the end of the field and on from its start.
    const items =
      last >= from
        ? range(from, last, stride)
        : [...range(from, field.max, stride), ...range(field.min, last, stride)];
    for (const value of items) values.add(value);
  }
  return [...values].sort((x, y) => x - y);
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += Math.max(1, step)) out.push(v);
  return out;
}

const HOUR_MS = 3_600_000;
const RATE_UNIT_HOURS: Record<string, number> = { minute: 1 / 60, hour: 1, day: 24 };

/**
 * The longest time between two runs of an EventBridge schedule, in hours: exact for rate(),
 * found for cron() by listing its runs over two years from 2027 (a leap year and one that is not).
 * Undefined when it cannot be told: L, W or # (the days depend on the month), a year field that
 * is not "*" (the schedule ends), or an expression that is not one of these.
 */
export function scheduleGapHours(expression: string): number | undefined {
  const rate = /^rate\(([0-9]+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) return Number(rate[1]) * RATE_UNIT_HOURS[rate[2]];
  const cron = /^cron\((.*)\)$/.exec(expression)?.[1].trim().split(/\s+/);
  if (!cron || cronProblem(cron) || cron[5] !== '*') return undefined;
  const [minutes, hours, days, months, weekdays] = CRON_FIELDS.slice(0, 5).map((f, i) =>
    cronFieldValues(f, cron[i]),
  );
  if (!minutes || !hours || !days || !months || !weekdays) return undefined;
  const start = Date.UTC(2027, 0, 1);
  let previous: number | undefined;
  let longest = 0;
  for (let day = 0; day < 731; day++) {
    const date = new Date(start + day * 24 * HOUR_MS);
    const matches =
      months.includes(date.getUTCMonth() + 1) &&
      (cron[2] === '?' ? weekdays.includes(date.getUTCDay() + 1) : days.includes(date.getUTCDate()));
    if (!matches) continue;
    for (const hour of hours) {
      for (const minute of minutes) {
        const at = date.getTime() + hour * HOUR_MS + minute * 60_000;
        if (previous !== undefined) longest = Math.max(longest, at - previous);
        previous = at;
      }
    }
  }
  return longest > 0 ? longest / HOUR_MS : undefined;
}

// --- JSON (RFC 8259) --------------------------------------------------------------------------

/** A key that appears a second time in one object of a JSON text, with the path of that object. */
export interface DuplicateKey {
  readonly path: (string | number)[];
  readonly key: string;
}

/**
 * The duplicate member names of a JSON text that JSON.parse has already accepted. RFC 8259 §4 says
 * names SHOULD be unique and that software behaves unpredictably when they are not; JSON.parse
 * silently keeps the last one, so a duplicate is a mistake to report, not to guess at.
 */
export function duplicateKeys(text: string): DuplicateKey[] {
  type Frame = { kind: 'object'; keys: Set<string>; key?: string } | { kind: 'array'; index: number };
  const found: DuplicateKey[] = [];
  const stack: Frame[] = [];
  const path = () =>
    stack.slice(0, -1).map((f) => (f.kind === 'object' ? f.key! : f.index - 1)) as (string | number)[];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const value = JSON.parse(text.slice(i, end + 1)) as string;
      const top = stack[stack.length - 1];
      if (expectKey && top?.kind === 'object') {
        if (top.keys.has(value)) found.push({ path: path(), key: value });
        top.keys.add(value);
        top.key = value;
        expectKey = false;
      }
      i = end;
    } else if (c === '{') {
      bumpArray(stack);
      stack.push({ kind: 'object', keys: new Set() });
      expectKey = true;
    } else if (c === '[') {
      bumpArray(stack);
      stack.push({ kind: 'array', index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectKey = stack[stack.length - 1]?.kind === 'object';
    } else if (!/\s|:/.test(c)) {
      bumpArray(stack);
      while (i + 1 < text.length && !/[\s,\]}]/.test(text[i + 1])) i++;
    }
  }
  return found;

  function bumpArray(frames: Frame[]) {
    const top = frames[frames.length - 1];
    if (top?.kind === 'array') top.index++;
  }
}

/**
 * Characters a person cannot see: C0/C1 controls, the soft hyphen, zero-width and direction marks,
 * line and paragraph separators, word joiners and the byte order mark. Pasted text often carries
 * one, and a message that quotes the value shows nothing wrong.
 */
// oxlint-disable-next-line eslint/no-control-regex -- finding control characters is the point
export const INVISIBLE_RE = /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/;

/** "U+200B at character 21" for the first invisible character of `text`, or undefined. */
export function invisibleCharacter(text: string): string | undefined {
  const match = INVISIBLE_RE.exec(text);
  if (!match) return undefined;
  const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `U+${code} at character ${match.index + 1}`;
}

const JOINER = /[\u200c\u200d]/;

/**
 * The first invisible character of a domain name (invisibleCharacter), not counting ZERO WIDTH
 * NON-JOINER or JOINER where IDNA takes them: some scripts spell words with them (RFC 5892,
 * Appendix A.1 and A.2: "می‌خواهم.ir"), and IDNA (Node's domainToASCII) refuses them elsewhere.
 */
export function domainInvisibleCharacter(domain: string): string | undefined {
  return invisibleCharacter(joinersInContextShown(domain));
}

/**
 * A domain with non-ASCII labels (IDNA U-labels, RFC 5890) in its punycode form, as SES and DNS
 * take it ("bücher.example" is "xn--bcher-kva.example"); others as given. A name with an invisible
 * character stays as given: IDNA would drop some (U+200B) silently, and the checks refuse it,
 * naming the character.
 */
export function asciiDomain(domain: string): string {
  if (domainInvisibleCharacter(domain) || !/[^\p{ASCII}]/u.test(domain)) return domain;
  // Node's domainToASCII (UTS #46) takes a label that starts or ends with "-", which RFC 5891
  // §4.2.3.1 forbids, as the LDH rule forbids it in ASCII: kept as written, and so refused.
  if (domain.split(/[.\u3002\uff0e\uff61]/).some((label) => /^-|-$/.test(label))) return domain;
  // It reads the name as a URL's host: it stops at "/", "\\", "?" or "#" (dropping what follows)
  // and decodes "%XX". Kept as written, and so refused, never cut short.
  if (/[/\\?#%@]/.test(domain)) return domain;
  // domainToASCII gives "" for a name it cannot convert: the checks then refuse the name as written.
  return domainToASCII(domain) || domain;
}

/** An address with its domain as asciiDomain gives it; the local part as written. */
export function asciiAddressDomain(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : `${address.slice(0, at)}@${asciiDomain(address.slice(at + 1))}`;
}

/** `domain` with each joiner IDNA takes there written as "x": what is left invisible is not. */
export function joinersInContextShown(domain: string): string {
  const inContext = JOINER.test(domain) && domainToASCII(domain) !== '';
  return inContext ? domain.replace(new RegExp(JOINER.source, 'g'), 'x') : domain;
}

/** The fix for a value with an invisible character, to end an "expected ..." text; else "". */
export function invisibleHint(value: unknown): string {
  const invisible = typeof value === 'string' ? invisibleCharacter(value) : undefined;
  return invisible ? `: remove the invisible character ${invisible} (pasted text often carries one)` : '';
}

/** `text` with each invisible character written as \\uXXXX (JSON.stringify escapes only controls). */
export function escapeInvisible(text: string): string {
  return text.replace(
    new RegExp(INVISIBLE_RE.source, 'g'),
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `value` in double quotes as JSON has it, each invisible character shown (escapeInvisible). */
export function quoted(value: string): string {
  return escapeInvisible(JSON.stringify(value));
}

/**
 * A path in a message: as written, unless it holds a control character (a line break would split
 * the one line; an escape sequence would reach the terminal) or an invisible one: then quoted.
 */
export function shownPath(path: string): string {
  // oxlint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f-\x9f]/.test(path) || invisibleCharacter(path) ? quoted(path) : path;
}

// --- AWS Regions --------------------------------------------------------------------------------

/**
 * An AWS Region name, for the environments file and the CLI's --region alike: an area of 2 to 4
 * letters, a partition's part if any (GovCloud "us-gov-west-1", the isolated "us-isob-east-1",
 * the European Sovereign Cloud "eusc-de-east-1"), a direction and a number. No list of areas: a
 * Region AWS opens in a new one can be added under additionalSmtpRegions and named to the CLI.
 */
export const AWS_REGION_RE = /^[a-z]{2,4}(?:-[a-z]+)?-[a-z]+-[0-9]+$/;
