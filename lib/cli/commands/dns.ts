import { dmarcReportUris, reportAuthorizationRecord, toZoneFile } from '../../dns-records';
import { CliContext } from '../context';
import { expectedRecords, readDmarcTxt, reportChecks } from '../../../lambda/shared/checks';
import { checkRecord } from '../../../lambda/shared/dns-check';
import { externalReportDestinations } from '../../../lambda/shared/auth-records';
import { liveIdentity, recordTarget } from '../dns-check';

export interface DnsOptions {
  readonly check?: boolean;
}

/**
 * Every record the environment needs, in zone-file form; --check compares them with live DNS.
 * Without an environments file the TTL is not known (the health-check function's settings do not
 * hold it): the lines have none. A DMARC report address at another organization's domain needs a
 * record in that domain's zone (RFC 7489 §7.1): printed as a comment for the stack's DMARC record,
 * checked (for a record managed elsewhere too) as doctor's dmarc-reports check does.
 */
export async function dnsCommand(ctx: CliContext, options: DnsOptions): Promise<number> {
  const target = await recordTarget(ctx);
  const domain = target.identity;
  const records = expectedRecords(target, await liveIdentity(ctx, domain));
  const ttl = ctx.environmentName === undefined ? undefined : ctx.config.dns.ttlSeconds;
  if (!options.check) {
    const uris = target.dns.dmarc ? dmarcReportUris(target.dns.dmarc) : [];
    const consents = externalReportDestinations(domain, uris).map(({ host }) => ({
      host,
      record: reportAuthorizationRecord(domain, host),
    }));
    if (ctx.out.json) {
      const reportAuthorizations = consents.map((c) => c.record);
      ctx.out.document({ domain: domain, ttl: ttl ?? null, records, reportAuthorizations });
      return 0;
    }
    const noTtl =
      ttl === undefined
        ? "; no TTL: ttlSeconds is not among the health-check function's settings; the zone's $TTL applies, or else the TTL of the record before them\n"
        : '';
    // In another organization's zone: its TTL is its own.
    const elsewhere = consents.map(
      ({ host, record }) =>
        `; ${record.purpose}: receivers send them only once ${host} publishes this in its own zone (RFC 7489 §7.1):\n; ${toZoneFile([record])}\n`,
    );
    ctx.out.raw(
      `; ${domain}: records for SES (${ctx.subject})\n${noTtl}${toZoneFile(records, ttl)}\n${elsewhere.join('')}`,
    );
    return 0;
  }
  const resolver = ctx.resolver();
  ctx.out.progress(`checking ${records.length} records ...`);
  const results = [
    ...(await Promise.all(records.map((r) => checkRecord(resolver, r)))),
    ...(await reportChecks(resolver, target, () => readDmarcTxt(resolver, domain))),
  ];
  ctx.out.progressDone();
  // A report address without consent is a warning, as in doctor: mail flows, the reports do not.
  const ok = results.every((r) => r.status !== 'fail');
  if (ctx.out.json) ctx.out.document({ domain: domain, ok, results });
  results.forEach((r) => ctx.out.check(r));
  return ok ? 0 : 1;
}
