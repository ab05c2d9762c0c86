import { toZoneFile } from '../../dns-records';
import { CliContext } from '../context';
import { expectedRecords } from '../../../lambda/shared/checks';
import { checkRecord } from '../../../lambda/shared/dns-check';
import { liveIdentity, recordTarget } from '../dns-check';

export interface DnsOptions {
  readonly check?: boolean;
}

/**
 * Every record the environment needs, in zone-file form; --check compares them with live DNS.
 * Without an environments file the TTL is not known (the health-check function's settings do not
 * hold it): the lines have none.
 */
export async function dnsCommand(ctx: CliContext, options: DnsOptions): Promise<number> {
  const target = await recordTarget(ctx);
  const domain = target.identity;
  const records = expectedRecords(target, await liveIdentity(ctx, domain));
  const ttl = ctx.environmentName === undefined ? undefined : ctx.config.dns.ttlSeconds;
  if (!options.check) {
    const noTtl =
      ttl === undefined
        ? "; no TTL: ttlSeconds is not among the health-check function's settings; the zone's $TTL applies, or else the TTL of the record before them\n"
        : '';
    if (ctx.out.json) ctx.out.document({ domain: domain, ttl: ttl ?? null, records });
    else ctx.out.raw(`; ${domain}: records for SES (${ctx.subject})\n${noTtl}${toZoneFile(records, ttl)}\n`);
    return 0;
  }
  const resolver = ctx.resolver();
  ctx.out.progress(`checking ${records.length} records ...`);
  const results = await Promise.all(records.map((r) => checkRecord(resolver, r)));
  ctx.out.progressDone();
  if (ctx.out.json)
    ctx.out.document({ domain: domain, ok: results.every((r) => r.status === 'ok'), results });
  results.forEach((r) => ctx.out.check(r));
  return results.every((r) => r.status === 'ok') ? 0 : 1;
}
