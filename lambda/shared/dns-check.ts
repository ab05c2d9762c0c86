import type { promises as dns } from 'node:dns';
import { bareName as bare, DnsRecord } from '../../lib/dns-records';
import { isMisspeltDmarcRecord, sameTxtValue, singleRecordKind } from './auth-records';
import type { CheckResult } from './checks';

/*
 * One expected DNS record against live DNS, for `ses-smtp dns --check`, `doctor` and the
 * scheduled health checks alike.
 */

/** What a second SPF or DMARC record at one name does: receivers give up on both. */
const SECOND_RECORD_EFFECT = {
  SPF: 'several make SPF fail with permerror',
  DMARC: 'several make receivers ignore DMARC',
};

const quoted = (values: readonly string[]) => values.map((v) => `"${v}"`).join(' ');

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
      const wanted = record.values.map((v) => {
        const [priority, host] = v.split(' ');
        return { priority: Number(priority), host: bare(host) };
      });
      // By host: a preference only orders a domain's mail servers (RFC 5321 §5.1), and SES's must
      // be the only one; another number is noted, not a failure.
      const same = (m: { priority: number; exchange: string }, w: (typeof wanted)[number]) =>
        bare(m.exchange) === w.host;
      const missing = record.values.filter((_, i) => !found.some((m) => same(m, wanted[i])));
      // Another mail server at the MAIL FROM domain takes bounces from SES (all of them, when it is
      // preferred): SES requires that the domain not receive mail (SetIdentityMailFromDomain).
      const extra = found
        .filter((m) => !wanted.some((w) => same(m, w)))
        .map((m) => `${m.priority} ${bare(m.exchange)}`);
      if (missing.length === 0 && extra.length === 0) {
        const live = found.map((m) => `${m.priority} ${bare(m.exchange)}`).join(', ');
        return live === record.values.map((v) => v.replace(/\.$/, '')).join(', ')
          ? { id: record.key, status: 'ok', title, detail: record.values.join(', ') }
          : {
              id: record.key,
              status: 'info',
              title,
              detail: `found ${live}: another preference than ${record.values.join(', ')}, which changes nothing while SES's is the only mail server`,
            };
      }
      return {
        id: record.key,
        status: 'fail',
        title,
        detail: `found ${found.map((m) => `${m.priority} ${m.exchange}`).join(', ') || 'nothing'}`,
        fix: [
          ...(missing.length ? [`add MX ${missing.join(', ')}`] : []),
          ...(extra.length
            ? [
                `remove MX ${extra.join(', ')} (bounces would go there, not to SES; this domain must not receive mail)`,
              ]
            : []),
        ].join('; '),
      };
    }
    const found = (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
    for (const kind of ['SPF', 'DMARC'] as const) {
      const count = found.filter((v) => singleRecordKind(v) === kind).length;
      if (count > 1) {
        return {
          id: record.key,
          status: 'fail',
          title,
          detail: `${count} ${kind} records`,
          fix: `keep exactly one ${kind} record (${SECOND_RECORD_EFFECT[kind]})`,
        };
      }
    }
    const missing = record.values.filter((v) => !found.some((f) => sameTxtValue(v, f)));
    if (missing.length === 0) return { id: record.key, status: 'ok', title, detail: quoted(record.values) };
    // An SPF or DMARC record that says something else is to be replaced: a second one breaks both.
    const fixes = missing.map((v) => {
      const kind = singleRecordKind(v);
      // A DMARC record with its version in lower case is ignored by receivers, but replaced all the same.
      const other =
        kind &&
        (found.find((f) => singleRecordKind(f) === kind) ??
          (kind === 'DMARC' ? found.find(isMisspeltDmarcRecord) : undefined));
      return other === undefined ? `publish TXT "${v}"` : `replace TXT "${other}" with "${v}"`;
    });
    return {
      id: record.key,
      status: 'fail',
      title,
      detail: found.length ? `found ${quoted(found)}` : 'no TXT record',
      fix: fixes.join('; '),
    };
  } catch (e) {
    if (isNoRecord(e)) {
      return {
        id: record.key,
        status: 'fail',
        title,
        detail: 'not found in DNS',
        fix: `add ${record.type} ${record.values.join(' / ')} (DNS changes can take up to the TTL to appear)`,
      };
    }
    return { id: record.key, status: 'fail', title, ...lookupFailure(e, record.type, name) };
  }
}

/** What a TXT name holds: its values (none for a name without any), or why the lookup failed. */
export type TxtRead = { readonly values: string[] } | { readonly error: unknown };

/** The TXT values at `name`, each a record's strings joined (RFC 7208 §3.3), or the lookup's error. */
export async function readTxt(resolver: dns.Resolver, name: string): Promise<TxtRead> {
  try {
    return { values: (await resolver.resolveTxt(name)).map((chunks) => chunks.join('')) };
  } catch (e) {
    return isNoRecord(e) ? { values: [] } : { error: e };
  }
}

/** How long the scheduled checks wait before they ask again a lookup answered SERVFAIL. */
export const SERVFAIL_RETRY_PAUSE_MS = 10_000;

/**
 * `resolver`, with a lookup answered SERVFAIL asked once more after `pauseMs`. For the scheduled
 * checks: a record check's result stands until the next daily run, so one passing failure of the
 * Region's resolver would keep its alarm raised for a day. A zone that fails again fails as before.
 */
export function retryingServfail(
  resolver: dns.Resolver,
  pauseMs: number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((done) => setTimeout(done, ms)),
): dns.Resolver {
  return new Proxy(resolver, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !property.startsWith('resolve') || typeof value !== 'function')
        return value;
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ESERVFAIL') throw e;
          await sleep(pauseMs);
          return value.apply(target, args);
        }
      };
    },
  });
}

/** A lookup's answer that the name has no such record (NXDOMAIN, or no data of that type). */
export function isNoRecord(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

/**
 * Codes that say something of the resolver, not the zone (RFC 1035 §4.1.1): it did not answer,
 * refused the query, does not implement it, could not read it, or answered something unreadable.
 */
const UNANSWERED = new Set([
  'ETIMEOUT',
  'ECONNREFUSED',
  'EREFUSED',
  'ENOTIMP',
  'EFORMERR',
  'EBADRESP',
  'EOF',
  'ECANCELLED',
]);

/**
 * What a lookup that got no answer says, and how to find out why. A resolver that did not answer
 * says nothing of the zone (undetermined); a SERVFAIL does: receivers' resolvers fail it too.
 */
export function lookupFailure(
  e: unknown,
  type: string,
  name: string,
): { detail: string; fix: string; undetermined?: true } {
  const code = (e as NodeJS.ErrnoException).code;
  // SERVFAIL: the zone's name servers (or DNSSEC) failed the resolver, or the resolver itself
  // fails every name; ask which, and how to look at the zone.
  return {
    ...(UNANSWERED.has(code ?? '') && { undetermined: true as const }),
    detail: `DNS lookup failed (${code ?? (e as Error).message})`,
    fix:
      code === 'ESERVFAIL'
        ? `if other names resolve through this resolver, the zone of ${name} gave no valid answer (a broken delegation, unreachable name servers, or DNSSEC that does not validate): check with dig +trace ${type} ${name}, and for DNSSEC dig +cd ${type} ${name} (answers only without validation) or delv ${type} ${name}; else check the resolver`
        : 'check the resolver (--resolver IP[:PORT] with the CLI) and the network',
  };
}
