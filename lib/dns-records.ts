import { DEFAULT_EASY_DKIM_DOMAIN, feedbackSmtpEndpoint } from './config/smtp-regions';

/*
 * The DNS records an SES sending domain needs, as plain data. The stack writes them to
 * Route53 (or prints them for manual DNS); the CLI prints and checks the same records, so
 * what is deployed and what is checked come from one place.
 */

export type RecordType = 'CNAME' | 'MX' | 'TXT';

export interface DnsRecord {
  /** Stable identifier of the record's role, like "MailFromMx"; used in construct ids and outputs. */
  readonly key: string;
  /** Absolute name with the trailing dot, like "mail.example.com.". */
  readonly name: string;
  readonly type: RecordType;
  /**
   * One entry per resource record. TXT entries are the unquoted text (split into 255-byte
   * strings only when rendered); MX entries are "priority host".
   */
  readonly values: string[];
  /** Why the record exists, for people reading outputs and zone files. */
  readonly purpose: string;
}

/** The tags of a DMARC record (RFC 7489 §6.3), as DmarcSettings describes each. */
export interface DmarcRecordOptions {
  /** `p=`: what receivers do with mail that fails DMARC. */
  readonly policy: 'none' | 'quarantine' | 'reject';
  /**
   * `sp=`: the policy for subdomains.
   * @default - no `sp=`: subdomains take `policy`
   */
  readonly subdomainPolicy?: 'none' | 'quarantine' | 'reject';
  /** `pct=`: the percentage of failing mail the policy applies to, 0 to 100. */
  readonly percentage: number;
  /** `rua=`: where receivers send aggregate reports; empty for none. */
  readonly aggregateReportUris: readonly string[];
  /** `ruf=`: where receivers send failure reports; empty for none. */
  readonly forensicReportUris: readonly string[];
  /**
   * `fo=`: when receivers send failure reports.
   * @default - no `fo=`: receivers take "0"
   */
  readonly failureReportOptions?: readonly ('0' | '1' | 'd' | 's')[];
  /** `adkim=`: DKIM alignment. */
  readonly dkimAlignment: 'relaxed' | 'strict';
  /** `aspf=`: SPF alignment. */
  readonly spfAlignment: 'relaxed' | 'strict';
}

/** The apex SPF record's parts, as ApexSpfSettings describes each. */
export interface ApexSpfOptions {
  /** SPF terms for the domain's other senders, after SES's `include:amazonses.com`. */
  readonly otherMechanisms: readonly string[];
  /** The record's final `all`. */
  readonly all: '~all' | '-all' | '?all';
  /** The other TXT values published at the apex, written in the same record set. */
  readonly otherTxtValues: readonly string[];
}

/** The SPF mechanism that authorizes SES's sending servers. */
export const SES_SPF_INCLUDE = 'include:amazonses.com';

/**
 * Whether an SPF term is SES_SPF_INCLUDE in another spelling: names in any case (RFC 7208 §4.6.1,
 * RFC 4343), the default "+" qualifier written out, the absolute domain with its trailing dot.
 * The apex record writes SES's include once, so such a term is left out and costs no lookup.
 */
export function isSesSpfInclude(term: string): boolean {
  return /^\+?include:amazonses\.com\.?$/i.test(term);
}

/** The absolute form of a DNS name: exactly one trailing dot. */
export function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/** A DNS name as names compare: lower case, without the final dot (RFC 4343; absolute and relative names are one). */
export function bareName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

export function mailFromDomain(domain: string, subdomain: string): string {
  return `${subdomain}.${domain}`;
}

/** MX and SPF TXT of the custom MAIL FROM domain: the SPF that aligns with the From domain under DMARC. */
export function mailFromRecords(domain: string, subdomain: string, region: string): DnsRecord[] {
  const name = fqdn(mailFromDomain(domain, subdomain));
  return [
    {
      key: 'MailFromMx',
      name,
      type: 'MX',
      values: [`10 ${feedbackSmtpEndpoint(region)}`],
      purpose: 'MAIL FROM: bounces for the envelope sender go back to SES',
    },
    {
      key: 'MailFromTxt',
      name,
      type: 'TXT',
      values: [`v=spf1 ${SES_SPF_INCLUDE} ~all`],
      purpose: 'MAIL FROM: SPF authorizing SES for the envelope sender domain',
    },
  ];
}

export function dmarcValue(options: DmarcRecordOptions): string {
  const tags = [`v=DMARC1`, `p=${options.policy}`];
  if (options.subdomainPolicy) tags.push(`sp=${options.subdomainPolicy}`);
  tags.push(`pct=${options.percentage}`);
  if (options.aggregateReportUris.length) tags.push(`rua=${options.aggregateReportUris.join(',')}`);
  if (options.forensicReportUris.length) tags.push(`ruf=${options.forensicReportUris.join(',')}`);
  if (options.failureReportOptions?.length) tags.push(`fo=${options.failureReportOptions.join(':')}`);
  tags.push(`adkim=${options.dkimAlignment[0]}`, `aspf=${options.spfAlignment[0]}`);
  return tags.join('; ');
}

/** The rua= and ruf= URIs of the record, in that order. */
export function dmarcReportUris(options: DmarcRecordOptions): string[] {
  return [...options.aggregateReportUris, ...options.forensicReportUris];
}

/**
 * The consent of `host`, in its own zone, to DMARC reports about `domain` (RFC 7489 §7.1): a
 * report address at another organization's domain gets none without it. A wildcard
 * (`*._report._dmarc.HOST`) gives it for every domain. "v=DMARC1;", with the ";" that §6.4's
 * grammar wants after the version (erratum 5440 corrects §7.1's example, which lacks it).
 */
export function reportAuthorizationRecord(domain: string, host: string): DnsRecord {
  return {
    key: 'DmarcReportAuthorization',
    name: fqdn(`${bareName(domain)}._report._dmarc.${host}`),
    type: 'TXT',
    values: ['v=DMARC1;'],
    purpose: `DMARC reports to ${host}`,
  };
}

export function dmarcRecord(domain: string, options: DmarcRecordOptions): DnsRecord {
  return {
    key: 'DmarcTxt',
    name: fqdn(`_dmarc.${domain}`),
    type: 'TXT',
    values: [dmarcValue(options)],
    purpose: 'DMARC policy',
  };
}

export function apexSpfValue(options: ApexSpfOptions): string {
  return [
    'v=spf1',
    SES_SPF_INCLUDE,
    ...options.otherMechanisms.filter((m) => !isSesSpfInclude(m)),
    options.all,
  ].join(' ');
}

/**
 * The apex TXT record set: Route53 holds one TXT set per name, so the SPF value and every other
 * TXT value the domain already publishes are written together.
 */
export function apexTxtRecord(domain: string, options: ApexSpfOptions): DnsRecord {
  return {
    key: 'ApexTxt',
    name: fqdn(domain),
    type: 'TXT',
    values: [apexSpfValue(options), ...options.otherTxtValues],
    purpose: 'apex SPF (merged with the other apex TXT values)',
  };
}

/** Characters of an Easy DKIM token, the first label of each DKIM CNAME's name. */
export const DKIM_TOKEN_LENGTH = 32;

/**
 * Easy DKIM CNAMEs from the identity's tokens. `signingHostedZone` is the zone they point to: SES
 * reports it per identity (DkimAttributes.SigningHostedZone), and `easyDkimDomain(region)` knows
 * it per Region; it is not dkim.amazonses.com in every Region.
 * @see https://docs.aws.amazon.com/general/latest/gr/ses.html#ses_dkim_domains
 */
export function dkimRecords(
  domain: string,
  tokens: readonly string[],
  signingHostedZone: string = DEFAULT_EASY_DKIM_DOMAIN,
): DnsRecord[] {
  const zone = signingHostedZone.replace(/\.$/, '');
  return tokens.map((token, i) => ({
    key: `Dkim${i + 1}`,
    name: fqdn(`${token}._domainkey.${domain}`),
    type: 'CNAME',
    values: [`${token}.${zone}`],
    purpose: `Easy DKIM key ${i + 1}`,
  }));
}

/** The longest value Route 53 takes in a resource record. */
export const ROUTE53_VALUE_MAX = 4000;

/**
 * A TXT value's length as the stack writes it to Route 53: aws-cdk-lib's TxtRecord splits it
 * into strings of 255 characters, quotes each and escapes `"` and `\`, with nothing between.
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecord.html
 */
export function route53TxtLength(value: string): number {
  return route53TxtStrings(value).reduce((n, s) => n + s.length + 2 + (s.match(/["\\]/g)?.length ?? 0), 0);
}

/** The character strings aws-cdk-lib's TxtRecord splits a value into: 255 characters each. */
export function route53TxtStrings(value: string): string[] {
  const strings: string[] = [];
  for (let at = 0; at < value.length || at === 0; at += 255) strings.push(value.slice(at, at + 255));
  return strings;
}

/**
 * Text as Route 53 escapes it, in names and TXT data: `\\ddd`, a three-digit octal code ("*" is
 * `\\052`; zone files use decimal), and `\\c` for the character c (a quote, a backslash).
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html
 */
export function unescapeDns(text: string): string {
  return text.replace(/\\(\d{3}|.)/g, (_, c: string) =>
    c.length === 3 ? String.fromCharCode(Number.parseInt(c, 8)) : c,
  );
}

/** The character strings of TXT data as Route 53 lists it (`"a" "b"`), unescaped. */
export function txtStrings(data: string): string[] {
  return [...data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(([, inner]) => unescapeDns(inner));
}

/** TXT rdata: quoted strings of at most 255 bytes each, as DNS requires, split between characters. */
export function quoteTxt(value: string): string {
  const chunks: string[] = [];
  let rest = Buffer.from(value, 'utf8');
  do {
    let end = Math.min(255, rest.length);
    // Not before a UTF-8 continuation byte (10xxxxxx): the character would be cut in two.
    while (end < rest.length && (rest[end] & 0xc0) === 0x80) end--;
    chunks.push(rest.subarray(0, end).toString('utf8'));
    rest = rest.subarray(end);
  } while (rest.length > 0);
  return chunks.map((c) => `"${c.replace(/(["\\])/g, '\\$1')}"`).join(' ');
}

/** The resource-record data of one value, as written in a zone file. */
export function rdata(type: RecordType, value: string): string {
  if (type === 'TXT') return quoteTxt(value);
  if (type === 'CNAME') return fqdn(value);
  const [priority, host] = value.split(' ');
  return `${priority} ${fqdn(host)}`;
}

/**
 * Records in zone-file form, one line per resource record; without `ttlSeconds` the lines have no
 * TTL field (RFC 1035 section 5.1): the zone's `$TTL` applies (RFC 2308 section 4), or else the
 * TTL of the record before them.
 */
export function toZoneFile(records: readonly DnsRecord[], ttlSeconds?: number): string {
  const ttl = ttlSeconds === undefined ? '' : ` ${ttlSeconds}`;
  return records
    .flatMap((r) => r.values.map((v) => `${r.name}${ttl} IN ${r.type} ${rdata(r.type, v)}`))
    .join('\n');
}
