import { randomBytes } from 'node:crypto';
import type * as dns from 'node:dns/promises';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { expectedRecords, LiveIdentity, readIdentity } from '../../../lambda/shared/checks';
import { isNoRecord, lookupFailure } from '../../../lambda/shared/dns-check';
import { isSpfRecord } from '../../../lambda/shared/auth-records';
import { DnsRecord } from '../../dns-records';
import { CliContext } from '../context';
import { isAccessDenied } from '../errors';
import { CheckResult } from '../output';
import { environmentRecordTarget } from '../dns-check';

/*
 * Before the first deploy: what exists already at a name the stack creates. CloudFormation
 * creates resources, it does not adopt them, so the first deploy of a domain that sends through
 * SES already (the manual guide's setup) stops at the first of these ("already exists") and
 * rolls back. Read-only: SES identities, the stack's status, and DNS.
 */

/** Statuses in which the next `cdk deploy` creates the stack anew (the CDK CLI deletes a failed creation first). */
const NOT_YET_CREATED = new Set(['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'REVIEW_IN_PROGRESS']);

export async function preflightCommand(ctx: CliContext): Promise<number> {
  const { config, stackName } = ctx.environment();
  // Refused (a GitHub deploy role from before preflight): whether the stack exists is not known,
  // and an identity found could be its own, so nothing below would mean anything.
  const status = await ctx.stackStatus().catch((e: unknown) => {
    if (!isAccessDenied(e)) throw e;
    return null;
  });
  if (status === null) {
    const result: CheckResult = {
      id: 'stack',
      status: 'warn',
      title: `stack ${stackName}: could not tell whether it exists, so nothing was checked`,
      detail: 'AWS denied cloudformation:DescribeStacks',
      fix: `allow it on the stack (a GitHub Actions deploy role has it once stack SesSmtpDeployAccess-${config.account} is deployed again)`,
    };
    if (ctx.out.json) ctx.out.document({ stack: stackName, ok: true, results: [result] });
    ctx.out.check(result);
    return 0;
  }
  if (status !== undefined && !NOT_YET_CREATED.has(status)) {
    const result: CheckResult = {
      id: 'stack',
      status: 'info',
      title: `stack ${stackName} exists (${status})`,
      detail: `its deploys update what it made; ${ctx.rerun('doctor')} checks it`,
    };
    if (ctx.out.json) ctx.out.document({ stack: stackName, ok: true, results: [result] });
    ctx.out.check(result);
    return 0;
  }

  const ses = ctx.client(SESv2Client);
  ctx.out.progress('checking the SES identities ...');
  const domain = config.domain;
  const identity = await readIdentityIfAllowed(ses, domain);
  const addresses = await Promise.all(
    config.verifiedEmailAddresses.map(async (address) => ({
      address,
      found: (await readIdentityIfAllowed(ses, address)).found,
    })),
  );
  const results: CheckResult[] = [
    ...(status === undefined
      ? []
      : [
          {
            id: 'stack',
            status: 'info' as const,
            title: `stack ${stackName} is a failed creation (${status})`,
            detail: 'cdk deploy deletes it and creates the stack anew',
          },
        ]),
    identityResult(ctx, domain, identity),
    ...addresses.map(({ address, found }) => addressResult(ctx, address, found)),
  ];

  if (config.dns.mode === 'route53') {
    // DKIM names exist only for an identity SES has; the MAIL FROM name is the environment's
    // (the stack sets it), not one the identity has now.
    const records = expectedRecords(environmentRecordTarget(ctx, domain), {
      ...identity,
      found: identity.found === true,
      mailFromDomain: undefined,
    });
    const resolver = ctx.resolver();
    ctx.out.progress(`checking ${records.length} DNS names ...`);
    results.push(
      ...(await Promise.all(
        records.map((r) => recordResult(resolver, r, config.apexSpf.otherTxtValues, config.dns.ttlSeconds)),
      )),
    );
  } else {
    results.push({
      id: 'dns',
      status: 'info',
      title: 'DNS records: none written by the stack (dns.mode "manual")',
      detail: `after the deploy, ${ctx.rerun('dns --check')} compares yours with what SES needs`,
    });
  }
  ctx.out.progressDone();

  const ok = results.every((r) => r.status !== 'fail');
  if (ctx.out.json) ctx.out.document({ stack: stackName, ok, results });
  results.forEach((r) => ctx.out.check(r));
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const [failed, warned] = [count('fail'), count('warn')];
  ctx.out.line(
    failed
      ? `\n${failed} in the way of the first deploy of ${stackName}: see "Coming from the manual setup" in the README`
      : `\nnothing in the way of the first deploy of ${stackName}${warned ? `, once the ${warned} warnings above are seen to` : ''}`,
  );
  return ok ? 0 : 1;
}

/** The identity as readIdentity reads it, or found 'denied' when AWS refused the read. */
async function readIdentityIfAllowed(
  ses: SESv2Client,
  identity: string,
): Promise<Omit<LiveIdentity, 'found'> & { found: boolean | 'denied' }> {
  try {
    return await readIdentity(ses, identity);
  } catch (e) {
    if (!isAccessDenied(e)) throw e;
    return { found: 'denied', verifiedForSending: false, tokens: [] };
  }
}

/** A refused identity read: could not tell. */
function deniedResult(id: string, identity: string): CheckResult {
  return {
    id,
    status: 'warn',
    title: `SES identity ${identity}: could not tell whether it exists`,
    detail: 'AWS denied ses:GetEmailIdentity',
    fix: 'allow it on the identity (a GitHub Actions deploy role has it once its SesSmtpDeployAccess stack is deployed again)',
  };
}

function identityResult(
  ctx: CliContext,
  domain: string,
  identity: Awaited<ReturnType<typeof readIdentityIfAllowed>>,
): CheckResult {
  if (identity.found === 'denied') return deniedResult('identity', domain);
  if (!identity.found) {
    return { id: 'identity', status: 'ok', title: `no SES identity ${domain} in ${ctx.region} yet` };
  }
  return {
    id: 'identity',
    status: 'fail',
    title: `SES identity ${domain} exists in ${ctx.region}, made outside this stack`,
    detail: `${identity.verifiedForSending ? 'verified for sending' : 'not verified for sending'}, DKIM ${identity.dkimStatus ?? 'not set up'}; the deploy would fail on it (already exists)`,
    fix: identity.verifiedForSending
      ? `apps may be sending with it: delete it in a quiet hour (aws sesv2 delete-email-identity --email-identity ${domain} --region ${ctx.region}) and deploy at once, as SES refuses the domain's mail until the new identity is verified; or adopt it with npx cdk import ${ctx.stackName} (README: "Coming from the manual setup")`
      : `nothing can send with it: delete it (aws sesv2 delete-email-identity --email-identity ${domain} --region ${ctx.region}), then deploy`,
  };
}

function addressResult(ctx: CliContext, address: string, found: boolean | 'denied'): CheckResult {
  if (found === 'denied') return deniedResult('address', address);
  if (!found) return { id: 'address', status: 'ok', title: `no SES identity ${address} yet` };
  return {
    id: 'address',
    status: 'fail',
    title: `SES identity ${address} exists in ${ctx.region}, made outside this stack`,
    detail: 'the deploy would fail on it (already exists)',
    fix: `delete it (aws sesv2 delete-email-identity --email-identity ${address} --region ${ctx.region}; the deploy sends the address a new verification email), or remove it from verifiedEmailAddresses`,
  };
}

/** What is at `record`'s name in DNS: a CNAME (which excludes every other type), or the record's type. */
async function lookUp(
  resolver: dns.Resolver,
  record: DnsRecord,
): Promise<{ type: string; values: string[] }> {
  const name = record.name.replace(/\.$/, '');
  const read = async (type: string, lookup: () => Promise<string[]>) => {
    try {
      return { type, values: await lookup() };
    } catch (e) {
      if (isNoRecord(e)) return { type, values: [] };
      throw Object.assign(e as Error, { type });
    }
  };
  if (record.type !== 'CNAME') {
    const cname = await read('CNAME', () => resolver.resolveCname(name));
    if (cname.values.length) return cname;
  }
  switch (record.type) {
    case 'MX':
      return read('MX', async () =>
        (await resolver.resolveMx(name)).map((mx) => `${mx.priority} ${mx.exchange}`),
      );
    case 'TXT':
      return read('TXT', async () => (await resolver.resolveTxt(name)).map((chunks) => chunks.join('')));
    default:
      return read(record.type, () => resolver.resolveCname(name));
  }
}

/** The fix for a record set in the way, by what the stack writes there. */
function recordFix(record: DnsRecord, found: string[], keptApexValues: readonly string[]): string {
  const name = record.name.replace(/\.$/, '');
  switch (record.key) {
    case 'MailFromMx':
    case 'MailFromTxt':
      return `delete it right before the deploy, which writes ${record.type} ${record.values.join(', ')} there; or set mailFrom.subdomain to a name without records, and delete these once the stack's MAIL FROM domain is verified`;
    case 'DmarcTxt':
      return `delete it right before the deploy, which writes "${record.values[0]}" there; or keep yours, unmanaged, with dmarc.enabled: false`;
    case 'ApexTxt': {
      const missing = found.filter((v) => !isSpfRecord(v) && !keptApexValues.includes(v));
      return `the stack writes the whole TXT set at ${name} (its SPF and apexSpf.otherTxtValues)${missing.length ? `: add ${missing.map((v) => JSON.stringify(v)).join(', ')} to apexSpf.otherTxtValues first` : ''}; delete the set right before the deploy, or turn apexSpf off`;
    }
    default:
      // Easy DKIM: its names come from the identity's tokens, so only an imported identity meets them.
      return `Route 53 records cannot be imported: delete it right before the deploy that imports the identity (which writes it again, the same); a new identity has new names, and this record is then stale`;
  }
}

/** Whether DNS holds exactly the values the stack writes (host names in any case, with or without the final dot). */
function sameValues(record: DnsRecord, found: readonly string[]): boolean {
  return sameSet(record.type, record.values, found);
}

/** Two answers of `type` hold the same values (host names in any case, with or without the final dot). */
function sameSet(type: string, a: readonly string[], b: readonly string[]): boolean {
  const normal = (v: string) => (type === 'TXT' ? v : v.toLowerCase().replace(/\.$/, ''));
  const [one, other] = [new Set(a.map(normal)), new Set(b.map(normal))];
  return one.size === other.size && [...one].every((v) => other.has(v));
}

/**
 * Whether a wildcard (`*.` and the parent) gives `found` for `record`'s name: a made-up name beside
 * it gets the same answer (RFC 4592). Route 53 then has nothing at the name itself, and creates
 * the record beside the wildcard. Not for the apex: a wildcard never answers for its own parent.
 */
async function wildcardAnswer(
  resolver: dns.Resolver,
  record: DnsRecord,
  found: { type: string; values: string[] },
): Promise<string | undefined> {
  if (record.key === 'ApexTxt') return undefined;
  const parent = record.name.replace(/\.$/, '').replace(/^[^.]*\./, '');
  const probe = { ...record, name: `_preflight-${randomBytes(6).toString('hex')}.${parent}` };
  const sibling = await lookUp(resolver, probe).catch(() => undefined);
  return sibling?.type === found.type && sameSet(found.type, sibling.values, found.values)
    ? `*.${parent}`
    : undefined;
}

async function recordResult(
  resolver: dns.Resolver,
  record: DnsRecord,
  keptApexValues: readonly string[],
  ttl: number,
): Promise<CheckResult> {
  const name = record.name.replace(/\.$/, '');
  const title = `${record.type} ${name} (${record.purpose})`;
  let found: { type: string; values: string[] };
  try {
    found = await lookUp(resolver, record);
  } catch (e) {
    const { detail, fix } = lookupFailure(e, (e as { type?: string }).type ?? record.type, name);
    return { id: record.key, status: 'warn', title, detail: `could not tell: ${detail}`, fix };
  }
  if (!found.values.length)
    return { id: record.key, status: 'ok', title, detail: 'nothing at this name yet' };
  const wildcard = await wildcardAnswer(resolver, record, found);
  if (wildcard) {
    return {
      id: record.key,
      status: 'ok',
      title,
      detail: `nothing at this name yet (what DNS answers is the wildcard ${wildcard}'s, which the stack's record will override)`,
    };
  }
  const quoted = found.values.map((v) => (found.type === 'TXT' ? JSON.stringify(v) : v)).join(', ');
  if (found.type !== record.type) {
    return {
      id: record.key,
      status: 'fail',
      title,
      detail: `a CNAME is there (${quoted}), and no other record may be beside one (RFC 1034 §3.6.2)`,
      fix: `delete the CNAME ${name} before the deploy`,
    };
  }
  if (sameValues(record, found.values)) {
    return {
      id: record.key,
      status: 'warn',
      title,
      detail: `${found.type} ${quoted} is there already, the same as the stack writes: CloudFormation takes over a record set whose values and TTL are all the same (as users report; AWS does not document it), and the rollback of a failed first deploy then deletes it`,
      fix: `its TTL must be dns.ttlSeconds (${ttl} s), else the deploy fails on it (already exists): set that, or delete it right before the deploy; and deploy once nothing else here is ✗, so that the deploy does not roll back`,
    };
  }
  return {
    id: record.key,
    status: 'fail',
    title,
    detail: `${found.type} ${quoted} is there already; the deploy would fail on it (already exists)`,
    fix: recordFix(record, found.values, keptApexValues),
  };
}
