import type { promises as dns } from 'node:dns';
import type { DnsRecord } from '../../lib/dns-records';
import type { CheckResult } from './checks';

/*
 * One expected DNS record against live DNS, for `ses-smtp dns --check`, `doctor` and the
 * scheduled health checks alike.
 */

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
