import { ListResourceRecordSetsCommand, ResourceRecordSet, Route53Client } from '@aws-sdk/client-route-53';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { expectedRecords, LiveIdentity, readIdentity } from '../../../lambda/shared/checks';
import { isSpfRecord, spfTerms } from '../../../lambda/shared/auth-records';
import {
  bareName,
  DnsRecord,
  isSesSpfInclude,
  route53TxtStrings,
  txtStrings,
  unescapeDns,
} from '../../dns-records';
import type { EnvironmentConfig } from '../../config/types';
import { CliContext } from '../context';
import { isAccessDenied } from '../errors';
import { CheckResult } from '../output';
import { environmentRecordTarget } from '../dns-check';
import { shellOption } from '../shell';
import { ENVIRONMENT_TAG } from '../../stack-name';

/*
 * Before the first deploy: what exists already where the stack creates. CloudFormation creates
 * resources, it does not adopt them, so the first deploy of a domain that sends through SES
 * already (the manual guide's setup) stops at the first of these ("already exists") and rolls
 * back. Read-only: SES identities, the stack's status, and the hosted zone's record sets (what
 * CloudFormation will meet, exactly: values, strings, TTL; not public DNS, which a wildcard or an
 * undelegated zone would mislead).
 */

/**
 * Statuses in which the next `cdk deploy` creates the stack: the CDK CLI deletes a failed
 * creation (ROLLBACK_COMPLETE, ROLLBACK_FAILED) first, and treats a change set never executed
 * (REVIEW_IN_PROGRESS) as no stack.
 */
const NOT_YET_CREATED: Record<string, string> = {
  ROLLBACK_COMPLETE:
    'is a failed creation (ROLLBACK_COMPLETE): cdk deploy deletes it and creates the stack anew',
  ROLLBACK_FAILED:
    'is a failed creation whose rollback failed (ROLLBACK_FAILED): cdk deploy deletes it, with what it still holds, and creates the stack anew; what is found below may be its own, so it is a warning',
  REVIEW_IN_PROGRESS:
    'is only a change set never executed (REVIEW_IN_PROGRESS): cdk deploy creates the stack',
};

export async function preflightCommand(ctx: CliContext): Promise<number> {
  const { config, stackName } = ctx.environment();
  // Refused (a GitHub deploy role from before preflight): whether the stack exists is not known,
  // and an identity found could be its own, so nothing below would mean anything.
  const status = await ctx.stackStatus().catch((e: unknown) => {
    if (!isAccessDenied(e)) throw e;
    return null;
  });
  /** The one result of a run that checks nothing more: exit 0, or 1 when it failed. */
  const only = (result: CheckResult) => {
    const ok = result.status !== 'fail';
    if (ctx.out.json) ctx.out.document({ stack: stackName, ok, results: [result] });
    ctx.out.check(result);
    return ok ? 0 : 1;
  };
  if (status === null) {
    return only({
      id: 'stack',
      status: 'warn',
      title: `stack ${stackName}: could not tell whether it exists, so nothing was checked`,
      detail: 'AWS denied cloudformation:DescribeStacks',
      fix: `allow it on the stack (a GitHub Actions deploy role has it once stack SesSmtpDeployAccess-${config.account} is deployed again)`,
    });
  }
  if (status !== undefined && !(status in NOT_YET_CREATED)) {
    // A stack of this name made for another domain: another project's environment of the same name
    // in this account and Region, whose identity, SMTP user and secret this deploy would replace;
    // or this environment's domain changed, which replaces its identity in place: the app's From
    // address stops working until the new domain verifies. Neither is a deploy to let through.
    const deployed = (await ctx.stackOutputs())?.IdentityName;
    if (deployed !== undefined && bareName(deployed) !== bareName(config.domain)) {
      return only({
        id: 'stack',
        status: 'fail',
        title: `stack ${stackName} exists (${status}) and sends for ${deployed}, not ${config.domain}`,
        detail: `a deploy would replace the sending setup of ${deployed}`,
        fix: `if the stack is another project's, give this environment another name (its stack is SesSmtp-<name>); to move this environment to ${config.domain}, set its domain back to ${deployed}, add ${config.domain} as a new environment, switch the app once it verifies, then remove the old one (README: Moving to another domain)`,
      });
    }
    const mailFromMove = await mailFromMoveResult(ctx, config);
    if (mailFromMove) return only(mailFromMove);
    return only({
      id: 'stack',
      status: 'info',
      title: `stack ${stackName} exists (${status})`,
      detail: `its deploys update what it made; ${ctx.rerun('doctor')} checks it`,
    });
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
      : [{ id: 'stack', status: 'info' as const, title: `stack ${stackName} ${NOT_YET_CREATED[status]}` }]),
    identityResult(ctx, domain, identity),
    ...addresses.map(({ address, found }) => addressResult(ctx, address, found)),
  ];

  // BYODKIM: SES lists the selector as the one token, which names no Easy DKIM CNAME.
  const byodkim = identity.found === true && identity.dkimOrigin === 'EXTERNAL';
  if (byodkim) results.push(byodkimResult(ctx, domain, identity.tokens));

  if (config.dns.mode === 'route53') {
    // DKIM names exist only for an identity SES has; the MAIL FROM name is the environment's
    // (the stack sets it), not one the identity has now.
    const records = expectedRecords(environmentRecordTarget(ctx, domain), {
      ...identity,
      found: identity.found === true,
      tokens: byodkim ? [] : identity.tokens,
      mailFromDomain: undefined,
    });
    ctx.out.progress(`reading hosted zone ${config.dns.hostedZoneId} ...`);
    const route53 = ctx.client(Route53Client);
    const zoneId = config.dns.hostedZoneId;
    const read = await Promise.all(
      [...new Set(records.map((r) => r.name))].map(async (name) => {
        try {
          return [name, await recordSetsAt(route53, zoneId, name)] as const;
        } catch (e) {
          if (!isAccessDenied(e)) throw e;
          return [name, 'denied' as const] as const;
        }
      }),
    );
    const zone = new Map<string, ResourceRecordSet[] | 'denied'>(read);
    results.push(
      ...records.map((r) =>
        recordResult(r, zone.get(r.name)!, {
          zoneId,
          ttl: config.dns.ttlSeconds,
          apexSpf: config.apexSpf,
        }),
      ),
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
  // What a stack whose rollback failed still holds is found too, and `cdk deploy` deletes it with
  // the stack: nothing found can be told from its own, so nothing is certain to be in the way.
  if (status === 'ROLLBACK_FAILED') {
    results.forEach((r, i) => {
      if (r.status === 'fail') results[i] = { ...r, status: 'warn' };
    });
  }

  const ok = results.every((r) => r.status !== 'fail');
  if (ctx.out.json) ctx.out.document({ stack: stackName, ok, results });
  results.forEach((r) => ctx.out.check(r));
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const [failed, warned] = [count('fail'), count('warn')];
  ctx.out.line(
    failed
      ? `\n${failed} in the way of the first deploy of ${stackName}: see "Coming from the manual setup" in the README`
      : `\nnothing in the way of the first deploy of ${stackName}${warned ? `, once the ${warned === 1 ? 'warning' : `${warned} warnings`} above ${warned === 1 ? 'is' : 'are'} seen to` : ''}`,
  );
  return ok ? 0 : 1;
}

/**
 * A deploy that turns on behaviorOnMxFailure REJECT_MESSAGE while the identity's MAIL FROM domain
 * is not SUCCESS: SES acts on the MAIL FROM status (PENDING, FAILED, TEMPORARY_FAILURE), so it
 * would refuse every send from the domain until it has found the MX, minutes to days. So does one
 * that moves the MAIL FROM domain (the new one is PENDING), or one that sets REJECT_MESSAGE before
 * a move under USE_DEFAULT_VALUE has passed. Undefined when neither, when the identity refuses
 * the domain's mail already (REJECT_MESSAGE on a domain not SUCCESS: the deploy changes nothing),
 * or when the identity could not be read (the deploy goes on as it would).
 * https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MailFromAttributes.html
 */
async function mailFromMoveResult(
  ctx: CliContext,
  config: EnvironmentConfig,
): Promise<CheckResult | undefined> {
  if (config.mailFrom.behaviorOnMxFailure !== 'REJECT_MESSAGE') return undefined;
  const wanted = `${config.mailFrom.subdomain}.${bareName(config.domain)}`;
  const identity = await readIdentityIfAllowed(ctx.client(SESv2Client), config.domain);
  if (identity.found !== true) return undefined;
  const live = identity.mailFromDomain;
  const doctor = ctx.rerun('doctor');
  if (live !== undefined && bareName(live).toLowerCase() === wanted.toLowerCase()) {
    const status = identity.mailFromStatus;
    if (status === undefined || status === 'SUCCESS' || identity.mailFromBehavior === 'REJECT_MESSAGE')
      return undefined;
    return {
      id: 'mail-from',
      status: 'fail',
      title: `MAIL FROM domain ${wanted} of ${config.domain} is ${status}: the deploy would set mailFrom.behaviorOnMxFailure "REJECT_MESSAGE" before SES has found its MX`,
      detail: `SES would refuse every send from ${config.domain} until the MAIL FROM domain is SUCCESS`,
      fix: `keep mailFrom.behaviorOnMxFailure "USE_DEFAULT_VALUE" (mail goes out with SES's MAIL FROM meanwhile) until ${doctor} passes mail-from, then set "REJECT_MESSAGE"`,
    };
  }
  return {
    id: 'mail-from',
    status: 'fail',
    title: `MAIL FROM domain of ${config.domain}: the deploy would move it from ${live ?? '(none)'} to ${wanted} under mailFrom.behaviorOnMxFailure "REJECT_MESSAGE"`,
    detail: `SES would refuse every send from ${config.domain} until it has found the MX of ${wanted}`,
    fix: `deploy the move with mailFrom.behaviorOnMxFailure "USE_DEFAULT_VALUE" (mail goes out with SES's MAIL FROM meanwhile), then set "REJECT_MESSAGE" again once ${doctor} passes mail-from`,
  };
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
  const fix = identity.verifiedForSending
    ? `apps may be sending with it: delete it in a quiet hour (aws sesv2 delete-email-identity --email-identity ${domain} --region ${ctx.region}) and deploy at once, as SES refuses the domain's mail until the new identity is verified; or adopt it, sending on: ${ctx.cdkCommand('import')} naming a configuration set too (the identity refers to one), or a deploy with --import-existing-resources; then deploy once more with --revert-drift, as an imported identity keeps its settings (README: "Coming from the manual setup")`
    : `nothing can send with it: delete it (aws sesv2 delete-email-identity --email-identity ${domain} --region ${ctx.region}), then deploy`;
  // The tag an environment's stack puts on its identity (kept by `cdk destroy` with "retain"): the
  // identity of an environment renamed, or of another one for the same domain, belongs to that
  // environment's stack while it exists, and is neither to delete nor to import from here.
  const owner = identity.environmentTag;
  const { name } = ctx.environment();
  return {
    id: 'identity',
    status: 'fail',
    title:
      owner === undefined
        ? `SES identity ${domain} exists in ${ctx.region}, made outside this stack`
        : `SES identity ${domain} exists in ${ctx.region}, made by the stack of environment "${owner}" (tag ${ENVIRONMENT_TAG})`,
    detail: `${identity.verifiedForSending ? 'verified for sending' : 'not verified for sending'}, DKIM ${identity.dkimStatus ?? 'not set up'}; the deploy would fail on it (already exists)`,
    fix:
      owner === undefined || owner === name
        ? fix
        : `while that environment's stack exists (SesSmtp-${owner}, or a stack of your own whose SesSmtp has that environmentName) the identity is its own: keep that environment's name rather than add "${name}" (README: "Renaming an environment"), or remove that environment first (README: "Removing an environment"); once its stack is gone: ${fix}`,
  };
}

/**
 * A BYODKIM identity: the stack's is Easy DKIM, so adopting it switches it (new tokens, new CNAMEs
 * the deploy writes), and the domain's mail may go unsigned until the new DKIM status is SUCCESS:
 * AWS documents that for the switch the other way (Easy DKIM to BYODKIM).
 * https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dkim-bring-your-own.html
 */
function byodkimResult(ctx: CliContext, domain: string, selectors: string[]): CheckResult {
  const keys = selectors.map((s) => `${s}._domainkey.${bareName(domain)}`).join(', ');
  return {
    id: 'dkim',
    status: 'warn',
    title: `DKIM of ${domain} is BYODKIM (selector ${selectors.join(', ') || 'unknown'}); the stack's identity uses Easy DKIM`,
    detail: `an adopted identity switches to Easy DKIM, with new CNAMEs the deploy writes (a new identity has them too); the domain's mail may go unsigned until the new DKIM status is SUCCESS, as AWS documents for the switch the other way`,
    fix: `switch in a quiet hour; keep the TXT record at ${keys || 'your selector'} until ${ctx.rerun('doctor')} passes dkim, then delete it`,
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
    fix: `delete it (aws sesv2 delete-email-identity ${shellOption('--email-identity', address)} --region ${ctx.region}; the deploy sends the address a new verification email), or remove it from verifiedEmailAddresses`,
  };
}

/** The record sets at `name` (absolute, lower case) in the hosted zone, of every type. */
async function recordSetsAt(
  route53: Route53Client,
  zoneId: string,
  name: string,
): Promise<ResourceRecordSet[]> {
  // Route 53 lists from StartRecordName on, a name's record sets together: the first page holds
  // them unless a name has more types than a page.
  const found: ResourceRecordSet[] = [];
  let next: { name?: string; type?: string; identifier?: string } = { name };
  do {
    const page = await route53.send(
      new ListResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        StartRecordName: next.name,
        ...(next.type && { StartRecordType: next.type as ResourceRecordSet['Type'] }),
        ...(next.identifier && { StartRecordIdentifier: next.identifier }),
        MaxItems: 20,
      }),
    );
    const sets = page.ResourceRecordSets ?? [];
    const here = sets.filter((set) => sameName(set.Name, name));
    found.push(...here);
    if (!page.IsTruncated || here.length < sets.length) break;
    next = { name: page.NextRecordName, type: page.NextRecordType, identifier: page.NextRecordIdentifier };
  } while (sameName(next.name, name));
  return found;
}

/** Route 53 lists names absolute, in lower case, with "*" and the like escaped (\052). */
function sameName(listed: string | undefined, name: string): boolean {
  return listed !== undefined && bareName(unescapeDns(listed)) === bareName(name);
}

/**
 * Whether the record set holds exactly what the stack writes: the same TXT strings, or host
 * names in any case, with or without the final dot.
 */
function sameValues(record: DnsRecord, set: ResourceRecordSet): boolean {
  const values = (set.ResourceRecords ?? []).map((r) => r.Value ?? '');
  const normal =
    record.type === 'TXT'
      ? (v: string) => JSON.stringify(txtStrings(v))
      : (v: string) => bareName(v.trim().split(/\s+/).join(' '));
  const want = new Set(
    record.type === 'TXT'
      ? record.values.map((v) => JSON.stringify(route53TxtStrings(v)))
      : record.values.map(normal),
  );
  const have = new Set(values.map(normal));
  return want.size === have.size && [...want].every((v) => have.has(v));
}

/** A record set's values as a person reads them. */
function shown(set: ResourceRecordSet): string {
  if (set.AliasTarget) return `an alias to ${set.AliasTarget.DNSName}`;
  return (set.ResourceRecords ?? []).map((r) => r.Value).join(', ');
}

interface RecordContext {
  readonly zoneId: string;
  readonly ttl: number;
  readonly apexSpf: {
    readonly otherTxtValues: readonly string[];
    readonly otherMechanisms: readonly string[];
    readonly all: string;
  };
}

function recordResult(
  record: DnsRecord,
  sets: ResourceRecordSet[] | 'denied',
  context: RecordContext,
): CheckResult {
  const name = bareName(record.name);
  const title = `${record.type} ${name} (${record.purpose})`;
  const base = { id: record.key, title };
  if (sets === 'denied') {
    return {
      ...base,
      status: 'warn',
      detail: `could not tell: AWS denied route53:ListResourceRecordSets on hosted zone ${context.zoneId}`,
      fix: 'allow it on the zone (a GitHub Actions deploy role has it once its SesSmtpDeployAccess stack is deployed again)',
    };
  }
  const dkim = record.key.startsWith('Dkim');
  // Easy DKIM names come from the identity's tokens: only a deploy after importing it writes them.
  const ifImported = dkim ? 'if you import the identity: ' : '';
  const cname = record.type !== 'CNAME' && sets.find((set) => set.Type === 'CNAME');
  if (cname) {
    return {
      ...base,
      status: 'fail',
      detail: `a CNAME is there (${shown(cname)}), and no other record may be beside one (RFC 1034 §3.6.2)`,
      fix:
        record.key === 'DmarcTxt'
          ? 'keep it (a DMARC service that hosts your policy), unmanaged, with dmarc.enabled: false; or delete it before the deploy'
          : record.key.startsWith('MailFrom')
            ? 'set mailFrom.subdomain to a name without records'
            : `delete the CNAME ${name} before the deploy`,
    };
  }
  const set = sets.find((s) => s.Type === record.type);
  if (!set) return { ...base, status: 'ok', detail: 'nothing at this name yet' };
  const found = `${record.type} ${shown(set)}${set.TTL === undefined ? '' : ` (TTL ${set.TTL} s)`}`;
  const routed = set.SetIdentifier !== undefined || set.AliasTarget !== undefined;
  if (!routed && sameValues(record, set)) {
    if (set.TTL === context.ttl) {
      return {
        ...base,
        status: 'warn',
        detail: `${found} is there already, what the stack writes: CloudFormation takes over a record set whose values and TTL are all the same (as users report; AWS does not document it), and the rollback of a failed first deploy then deletes it`,
        fix: `${ifImported}deploy once nothing else here is ✗, so that the deploy does not roll back; or delete it right before the deploy`,
      };
    }
    return {
      ...base,
      status: 'fail',
      detail: `${found} is there already, the stack's values with another TTL than dns.ttlSeconds (${context.ttl} s); the deploy would fail on it (already exists)`,
      fix: `${ifImported}set dns.ttlSeconds to ${set.TTL} (CloudFormation then takes it over), or delete it right before the deploy`,
    };
  }
  return {
    ...base,
    status: 'fail',
    detail: `${found} is there already; the deploy would fail on it (already exists)`,
    fix: ifImported + recordFix(record, set, context),
  };
}

/** The fix for a record set with other values, by what the stack writes there. */
function recordFix(record: DnsRecord, set: ResourceRecordSet, context: RecordContext): string {
  const name = bareName(record.name);
  switch (record.key) {
    case 'MailFromMx':
    case 'MailFromTxt':
      return `set mailFrom.subdomain to a name without records, and delete these once the stack's MAIL FROM domain is verified; or delete it right before the deploy, which writes ${record.type} ${record.values.join(', ')} there`;
    case 'DmarcTxt':
      return `keep yours, unmanaged, with dmarc.enabled: false; or delete it right before the deploy, which writes "${record.values[0]}" there`;
    case 'ApexTxt': {
      const values = (set.ResourceRecords ?? []).map((r) => txtStrings(r.Value ?? '').join(''));
      const kept = values.filter((v) => !isSpfRecord(v) && !context.apexSpf.otherTxtValues.includes(v));
      const terms = values.filter(isSpfRecord).flatMap((v) => spfTerms(v));
      const all = terms.find((t) => /^[-~?]?all$/.test(t));
      const mechanisms = terms
        // The stack writes its own "all": a redirect is the same as an include of its target then
        // (apexSpf refuses redirect=), and nothing beside an "all" (RFC 7208 §6.1 ignores it there).
        .flatMap((t) =>
          /^redirect=/.test(t) ? (all ? [] : [`include:${t.slice('redirect='.length)}`]) : [t],
        )
        .filter((t) => !/^[-~?]?all$/.test(t) && !isSesSpfInclude(t))
        .filter((t) => !context.apexSpf.otherMechanisms.map((m) => spfTerms(`v=spf1 ${m}`)[0]).includes(t));
      const add = [
        ...(mechanisms.length ? [`${mechanisms.join(' ')} to apexSpf.otherMechanisms`] : []),
        // "all" alone is "+all"; the stack writes "~all", "-all" or "?all".
        ...(all && all !== 'all' && all !== context.apexSpf.all ? [`"${all}" as apexSpf.all`] : []),
        ...(kept.length
          ? [`${kept.map((v) => JSON.stringify(v)).join(', ')} to apexSpf.otherTxtValues`]
          : []),
      ];
      return `the stack writes the whole TXT set at ${name} (its SPF and apexSpf.otherTxtValues)${add.length ? `: add ${add.join(', and ')} first` : ''}; then delete the set right before the deploy, or turn apexSpf off`;
    }
    default:
      return 'delete it right before that deploy, which writes the CNAME SES names';
  }
}
