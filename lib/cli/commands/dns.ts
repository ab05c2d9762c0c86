import { dmarcReportUris, toZoneFile } from '../../dns-records';
import { CliContext } from '../context';
import { expectedRecords, reportAuthorizations } from '../../../lambda/shared/checks';
import { checkRecord } from '../../../lambda/shared/dns-check';
import { externalReportDestinations, reportAuthorizationName } from '../../../lambda/shared/auth-records';
import { liveIdentity, recordTarget } from '../dns-check';

export interface DnsOptions {
  readonly check?: boolean;
}

/**
 * Every record the environment needs, in zone-file form; --check compares them with live DNS.
 * Without an environments file the TTL is not known (the health-check function's settings do not
 * hold it): the lines have none. A DMARC report address at another organization's domain needs a
 * record in that domain's zone (RFC 7489 §7.1): printed as a comment, checked as a warning.
 */
export async function dnsCommand(ctx: CliContext, options: DnsOptions): Promise<number> {
  const target = await recordTarget(ctx);
  const domain = target.identity;
  const records = expectedRecords(target, await liveIdentity(ctx, domain));
  const reportUris = target.dns.dmarc ? dmarcReportUris(target.dns.dmarc) : [];
  const ttl = ctx.environmentName === undefined ? undefined : ctx.config.dns.ttlSeconds;
  if (!options.check) {
    const consents = externalReportDestinations(domain, reportUris).map(({ host }) => ({
      host,
      name: `${reportAuthorizationName(domain, host)}.`,
      type: 'TXT',
      value: 'v=DMARC1',
    }));
    if (ctx.out.json) {
      ctx.out.document({ domain: domain, ttl: ttl ?? null, records, reportAuthorizations: consents });
      return 0;
    }
    const noTtl =
      ttl === undefined
        ? "; no TTL: ttlSeconds is not among the health-check function's settings; the zone's $TTL applies, or else the TTL of the record before them\n"
        : '';
    const elsewhere = consents
      .map(
        (c) =>
          `\n; DMARC reports to ${c.host}: receivers send them only once ${c.host} publishes this in its own zone (RFC 7489 §7.1):\n; ${c.name} IN TXT "${c.value}"`,
      )
      .join('');
    ctx.out.raw(
      `; ${domain}: records for SES (${ctx.subject})\n${noTtl}${toZoneFile(records, ttl)}\n${elsewhere ? `${elsewhere.slice(1)}\n` : ''}`,
    );
    return 0;
  }
  const resolver = ctx.resolver();
  ctx.out.progress(`checking ${records.length} records ...`);
  const results = [
    ...(await Promise.all(records.map((r) => checkRecord(resolver, r)))),
    ...(await reportAuthorizations(resolver, domain, reportUris)),
  ];
  ctx.out.progressDone();
  // A report address without consent is a warning, as in doctor: mail flows, the reports do not.
  const ok = results.every((r) => r.status !== 'fail');
  if (ctx.out.json) ctx.out.document({ domain: domain, ok, results });
  results.forEach((r) => ctx.out.check(r));
  return ok ? 0 : 1;
}
