import type { promises as dns } from 'node:dns';
import { GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { easyDkimDomain } from '../config/smtp-regions';
import { apexTxtRecord, dkimRecords, DnsRecord, dmarcRecord, mailFromRecords } from '../dns-records';
import { CliContext } from './context';
import { CheckFailed } from './errors';
import { CheckResult } from './output';

export interface LiveIdentity {
  readonly domain: string;
  readonly tokens: string[];
  readonly mailFromDomain?: string;
  readonly verifiedForSending: boolean;
  readonly dkimStatus?: string;
  readonly mailFromStatus?: string;
  /** The zone the DKIM CNAMEs must point to, as SES reports it for this identity. */
  readonly signingHostedZone?: string;
}

/** The identity as SES sees it now: DKIM tokens, MAIL FROM, statuses. */
export async function liveIdentity(ctx: CliContext): Promise<LiveIdentity> {
  const domain = await ctx.resource('identity');
  try {
    const r = await ctx.client(SESv2Client).send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    return {
      domain,
      tokens: r.DkimAttributes?.Tokens ?? [],
      mailFromDomain: r.MailFromAttributes?.MailFromDomain,
      verifiedForSending: r.VerifiedForSendingStatus === true,
      dkimStatus: r.DkimAttributes?.Status,
      mailFromStatus: r.MailFromAttributes?.MailFromDomainStatus,
      signingHostedZone: r.DkimAttributes?.SigningHostedZone,
    };
  } catch (e) {
    if ((e as Error).name === 'NotFoundException') {
      throw new CheckFailed(
        `SES has no identity ${domain} in ${ctx.region}: deploy the stack (npx cdk deploy ${ctx.stackName})`,
      );
    }
    throw e;
  }
}

/**
 * Every record the environment needs, DKIM from the live tokens and pointing to the zone SES
 * reports for the identity (else the Region's Easy DKIM zone).
 */
export function expectedRecords(ctx: CliContext, identity: LiveIdentity): DnsRecord[] {
  const { config } = ctx;
  const subdomain = identity.mailFromDomain?.endsWith(`.${identity.domain}`)
    ? identity.mailFromDomain.slice(0, -identity.domain.length - 1)
    : config.mailFrom.subdomain;
  return [
    ...dkimRecords(
      identity.domain,
      identity.tokens,
      identity.signingHostedZone ?? easyDkimDomain(ctx.region),
    ),
    ...mailFromRecords(identity.domain, subdomain, ctx.region),
    ...(config.dmarc.enabled ? [dmarcRecord(identity.domain, config.dmarc)] : []),
    ...(config.apexSpf.enabled ? [apexTxtRecord(identity.domain, config.apexSpf)] : []),
  ];
}

const SINGLE_RECORD_KINDS: [string, RegExp, string][] = [
  ['SPF', /^v=spf1\b/i, 'several make SPF fail with permerror'],
  ['DMARC', /^v=DMARC1\b/i, 'several make receivers ignore DMARC'],
];

const bare = (name: string) => name.replace(/\.$/, '').toLowerCase();

/** Compares one expected record with live DNS. */
export async function checkRecord(resolver: dns.Resolver, record: DnsRecord): Promise<CheckResult> {
  const name = bare(record.name);
  const title = `${record.purpose} (${record.type} ${name})`;
  try {
    if (record.type === 'CNAME') {
      const found = (await resolver.resolveCname(name)).map(bare);
      const want = bare(record.values[0]);
      return found.includes(want)
        ? { id: record.key, status: 'ok', title, detail: want }
        : {
            id: record.key,
            status: 'fail',
            title,
            detail: `points to ${found.join(', ')}`,
            fix: `make it a CNAME to ${want}`,
          };
    }
    if (record.type === 'MX') {
      const found = await resolver.resolveMx(name);
      const missing = record.values.filter((v) => {
        const [priority, host] = v.split(' ');
        return !found.some((m) => m.priority === Number(priority) && bare(m.exchange) === bare(host));
      });
      return missing.length === 0
        ? { id: record.key, status: 'ok', title, detail: record.values.join(', ') }
        : {
            id: record.key,
            status: 'fail',
            title,
            detail: `found ${found.map((m) => `${m.priority} ${m.exchange}`).join(', ') || 'nothing'}`,
            fix: `add MX ${missing.join(', ')}`,
          };
    }
    const found = (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
    const missing = record.values.filter((v) => !found.includes(v));
    // A second SPF or DMARC record at one name breaks the first: receivers give up on both.
    for (const [kind, pattern, effect] of SINGLE_RECORD_KINDS) {
      const count = found.filter((v) => pattern.test(v)).length;
      if (count > 1) {
        return {
          id: record.key,
          status: 'fail',
          title,
          detail: `${count} ${kind} records`,
          fix: `keep exactly one ${kind} record (${effect})`,
        };
      }
    }
    return missing.length === 0
      ? { id: record.key, status: 'ok', title, detail: record.values.map((v) => `"${v}"`).join(' ') }
      : {
          id: record.key,
          status: 'fail',
          title,
          detail: found.length ? `found ${found.map((v) => `"${v}"`).join(' ')}` : 'no TXT record',
          fix: `publish TXT ${missing.map((v) => `"${v}"`).join(' ')}`,
        };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') {
      return {
        id: record.key,
        status: 'fail',
        title,
        detail: 'not found in DNS',
        fix: `add ${record.type} ${record.values.join(' / ')} (DNS changes can take up to the TTL to appear)`,
      };
    }
    return {
      id: record.key,
      status: 'fail',
      title,
      detail: `DNS lookup failed (${code ?? (e as Error).message})`,
      fix: 'check the resolver (--resolver IP[:PORT]) and the network',
    };
  }
}
