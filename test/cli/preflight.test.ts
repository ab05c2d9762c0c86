import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  ListResourceRecordSetsCommand,
  ListResourceRecordSetsCommandInput,
  ResourceRecordSet,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { dkimRecords, dmarcValue } from '../../lib/dns-records';
import { EXAMPLE_DMARC } from '../support/health-target';
import {
  cfn,
  healthyAws,
  run,
  ses,
  stackWithOutputs,
  TOKENS,
  tmp,
  VERIFIED_IDENTITY,
  writeConfig,
} from './harness';

/*
 * `preflight`: before the first deploy, what already exists where the stack creates. Against the
 * CLI's AWS mocks, with a hosted zone that lists its record sets as Route 53 does.
 */

const ZONE_ID = 'Z0123456789EXAMPLE0AB';
const route53 = mockClient(Route53Client);
/** The hosted zone's record sets. */
let zone: ResourceRecordSet[];

/** Route 53's order: by name with its labels reversed, then by type. */
const order = (set: { Name?: string; Type?: string }) =>
  `${(set.Name ?? '').toLowerCase().replace(/\.$/, '').split('.').reverse().join('.')} ${set.Type ?? ''}`;

/** ListResourceRecordSets as Route 53 answers it: from StartRecordName (and type) on, MaxItems a page. */
function listRecordSets(input: ListResourceRecordSetsCommandInput) {
  if (input.HostedZoneId !== ZONE_ID)
    throw Object.assign(new Error('No hosted zone'), { name: 'NoSuchHostedZone' });
  const start = order({ Name: input.StartRecordName, Type: input.StartRecordType });
  const from = [...zone].sort((a, b) => order(a).localeCompare(order(b))).filter((s) => order(s) >= start);
  const page = from.slice(0, input.MaxItems ?? 300);
  const next = from[page.length];
  return {
    ResourceRecordSets: page,
    IsTruncated: next !== undefined,
    ...(next && { NextRecordName: next.Name, NextRecordType: next.Type }),
    MaxItems: input.MaxItems,
  };
}

/** A record set as Route 53 lists it (TXT values quoted, as Route 53 holds them). */
const set = (name: string, type: string, values: string[], ttl = 3600): ResourceRecordSet => ({
  Name: `${name}.`,
  Type: type as ResourceRecordSet['Type'],
  TTL: ttl,
  ResourceRecords: values.map((Value) => ({ Value })),
});
const quoted = (text: string) => JSON.stringify(text);

const NO_STACK = Object.assign(new Error('Stack with id SesSmtp-prod does not exist'), {
  name: 'ValidationError',
});

/** A fresh account: no stack, no SES identity, an empty hosted zone. */
beforeEach(() => {
  healthyAws();
  route53.reset();
  route53.on(ListResourceRecordSetsCommand).callsFake(listRecordSets);
  zone = [];
  cfn.on(DescribeStacksCommand).rejects(NO_STACK);
  ses
    .on(GetEmailIdentityCommand)
    .rejects(Object.assign(new Error('not found'), { name: 'NotFoundException' }));
});

/** The environment `prod` of a file with `env` merged in. */
const preflight = (env: Record<string, unknown> = {}, extra: string[] = []) =>
  run(['preflight', '--config', writeConfig(env), ...extra]);

/** The manual guide's setup, as the stack would write it: a verified identity, and its records (TTL `ttl`). */
function manualSetup(ttl = 3600): void {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves(VERIFIED_IDENTITY);
  zone.push(
    ...dkimRecords('example.com', TOKENS).map((r) => set(r.name.replace(/\.$/, ''), 'CNAME', r.values, ttl)),
    set('mail.example.com', 'MX', ['10 feedback-smtp.eu-west-1.amazonses.com'], ttl),
    set('mail.example.com', 'TXT', [quoted('v=spf1 include:amazonses.com ~all')], ttl),
    set('_dmarc.example.com', 'TXT', [quoted(dmarcValue(EXAMPLE_DMARC))], ttl),
  );
}

// The app reads the file cdk.json names unless told: the import reads the file preflight read.
test('the import command names the environments file preflight was given, quoted as the shell needs', async () => {
  manualSetup();
  const file = path.join(tmp, 'my envs', "it's.json");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.copyFileSync(writeConfig(), file);
  const r = await run(['preflight', '--config', file]);
  expect(r.stdout).toContain(
    `; or adopt it, sending on: npx cdk import SesSmtp-prod -c 'config=${file.replace(/'/g, "'\\''")}' naming a configuration set too (`,
  );
  expect(
    execFileSync(
      'bash',
      [
        '-c',
        `printf '%s\\n' ${/import SesSmtp-prod (-c .*) naming a configuration set/.exec(r.stdout)?.[1]}`,
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  ).toBe(`-c\nconfig=${file}\n`);
});

/** The lines of a result, without the details: mark and title. */
const marks = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => /^[✗!✓·]/.test(l))
    .map((l) => (l.includes('): ') ? l.replace(/\): .*/, ')') : l.replace(/: .*/, '')));

test('a fresh account: nothing in the way, exit 0', async () => {
  const r = await preflight();
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(
    [
      '✓ no SES identity example.com in eu-west-1 yet',
      '✓ MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES): nothing at this name yet',
      '✓ TXT mail.example.com (MAIL FROM: SPF authorizing SES for the envelope sender domain): nothing at this name yet',
      '✓ TXT _dmarc.example.com (DMARC policy): nothing at this name yet',
      '',
      'nothing in the way of the first deploy of SesSmtp-prod',
      '',
    ].join('\n'),
  );
  expect(route53.commandCalls(ListResourceRecordSetsCommand)[0].args[0].input).toMatchObject({
    HostedZoneId: ZONE_ID,
  });
});

test("the manual guide's setup: the identity is in the way; records like the stack's (values and TTL) are warned of, exit 1", async () => {
  manualSetup();
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(marks(r.stdout)).toEqual([
    '✗ SES identity example.com exists in eu-west-1, made outside this stack',
    ...TOKENS.map((t, i) => `! CNAME ${t}._domainkey.example.com (Easy DKIM key ${i + 1})`),
    '! MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES)',
    '! TXT mail.example.com (MAIL FROM: SPF authorizing SES for the envelope sender domain)',
    '! TXT _dmarc.example.com (DMARC policy)',
  ]);
  expect(r.stdout).toContain(
    '✗ SES identity example.com exists in eu-west-1, made outside this stack: verified for sending, DKIM SUCCESS; the deploy would fail on it (already exists)',
  );
  // Apps may be sending with a verified identity: delete it knowing mail stops meanwhile, or import it.
  expect(r.stdout).toMatch(
    /\n {4}→ apps may be sending with it: delete it in a quiet hour \(aws sesv2 delete-email-identity --email-identity example\.com --region eu-west-1\) and deploy at once, as SES refuses the domain's mail until the new identity is verified; or adopt it, sending on: npx cdk import SesSmtp-prod -c config=\S+ naming a configuration set too \(the identity refers to one\), or a deploy with --import-existing-resources; then deploy once more with --revert-drift, as an imported identity keeps its settings \(README: "Coming from the manual setup"\)\n/,
  );
  // CloudFormation takes over a record set with the same values and TTL; a rollback deletes it.
  expect(r.stdout).toContain(
    '! TXT _dmarc.example.com (DMARC policy): TXT "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com; adkim=r; aspf=r" (TTL 3600 s) is there already, what the stack writes: CloudFormation takes over a record set whose values and TTL are all the same (as users report; AWS does not document it), and the rollback of a failed first deploy then deletes it',
  );
  expect(r.stdout).toContain(
    '    → deploy once nothing else here is ✗, so that the deploy does not roll back; or delete it right before the deploy',
  );
  // The DKIM names are the identity's: they matter only to a deploy that imports it.
  expect(r.stdout).toContain(
    '    → if you import the identity: deploy once nothing else here is ✗, so that the deploy does not roll back; or delete it right before the deploy',
  );
  expect(r.stdout.split('\n').at(-2)).toBe(
    '1 in the way of the first deploy of SesSmtp-prod: see "Coming from the manual setup" in the README',
  );
});

// The identity of another environment's stack (renamed, or a second environment of the domain):
// neither to delete nor to import while that stack exists.
test("an identity tagged with another environment's name: keep that name, or remove that environment first", async () => {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves({
    ...VERIFIED_IDENTITY,
    Tags: [{ Key: 'ses-smtp:environment', Value: 'production' }],
  });
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '✗ SES identity example.com exists in eu-west-1, made by the stack of environment "production" (tag ses-smtp:environment): verified for sending',
  );
  expect(r.stdout).toMatch(
    /\n {4}→ while that environment's stack exists \(SesSmtp-production, or a stack of your own whose SesSmtp has that environmentName\) the identity is its own: keep that environment's name rather than add "prod" \(README: "Renaming an environment"\), or remove that environment first \(README: "Removing an environment"\); once its stack is gone: apps may be sending with it: delete it in a quiet hour/,
  );
});

// Kept by `cdk destroy` ("retain"): this environment's own identity, to delete or adopt.
test("an identity tagged with this environment's name (kept by cdk destroy): delete it or adopt it", async () => {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves({
    ...VERIFIED_IDENTITY,
    Tags: [
      { Key: 'project', Value: 'x' },
      { Key: 'ses-smtp:environment', Value: 'prod' },
    ],
  });
  const r = await preflight();
  expect(r.stdout).toContain(
    '✗ SES identity example.com exists in eu-west-1, made by the stack of environment "prod" (tag ses-smtp:environment): verified for sending',
  );
  expect(r.stdout).toMatch(
    /\n {4}→ apps may be sending with it: delete it in a quiet hour .*; or adopt it, sending on: npx cdk import/,
  );
});

test('an identity left unverified (a first try abandoned): nothing sends with it, delete it in its Region', async () => {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves({
    VerifiedForSendingStatus: false,
    DkimAttributes: { Status: 'FAILED', Tokens: TOKENS, SigningEnabled: true },
  });
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '✗ SES identity example.com exists in eu-west-1, made outside this stack: not verified for sending, DKIM FAILED; the deploy would fail on it (already exists)\n    → nothing can send with it: delete it (aws sesv2 delete-email-identity --email-identity example.com --region eu-west-1), then deploy\n',
  );
});

test("a DKIM name of the identity's with another value: its fix is for a deploy that imports the identity", async () => {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves(VERIFIED_IDENTITY);
  zone.push(set('tokone._domainkey.example.com', 'CNAME', ['tokone.dkim.example.net']));
  const r = await preflight();
  expect(r.stdout).toContain(
    '✗ CNAME tokone._domainkey.example.com (Easy DKIM key 1): CNAME tokone.dkim.example.net (TTL 3600 s) is there already; the deploy would fail on it (already exists)\n' +
      '    → if you import the identity: delete it right before that deploy, which writes the CNAME SES names\n',
  );
});

// SES lists a BYODKIM identity's selector as its one token: it names no Easy DKIM CNAME.
// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_DkimAttributes.html
test('a BYODKIM identity: no Easy DKIM CNAME made of its selector; the switch to Easy DKIM is warned of', async () => {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves({
    ...VERIFIED_IDENTITY,
    DkimAttributes: {
      Status: 'SUCCESS',
      Tokens: ['sel2024'],
      SigningEnabled: true,
      SigningAttributesOrigin: 'EXTERNAL',
    },
  });
  zone.push(set('sel2024._domainkey.example.com', 'TXT', [quoted('v=DKIM1; k=rsa; p=MIGf')]));
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).not.toContain('sel2024.dkim.amazonses.com');
  expect(marks(r.stdout)).toEqual([
    '✗ SES identity example.com exists in eu-west-1, made outside this stack',
    "! DKIM of example.com is BYODKIM (selector sel2024); the stack's identity uses Easy DKIM",
    '✓ MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES)',
    '✓ TXT mail.example.com (MAIL FROM: SPF authorizing SES for the envelope sender domain)',
    '✓ TXT _dmarc.example.com (DMARC policy)',
  ]);
  expect(r.stdout).toContain("the domain's mail may go unsigned until the new DKIM status is SUCCESS");
  expect(r.stdout).toMatch(
    /\n {4}→ switch in a quiet hour; keep the TXT record at sel2024\._domainkey\.example\.com until ses-smtp doctor --env prod --config \S+ passes dkim, then delete it\n/,
  );
});

test('the same values with another TTL: CloudFormation does not take it over; set dns.ttlSeconds to it', async () => {
  manualSetup(300);
  const r = await preflight();
  expect(r.stdout).toContain(
    "✗ MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES): MX 10 feedback-smtp.eu-west-1.amazonses.com (TTL 300 s) is there already, the stack's values with another TTL than dns.ttlSeconds (3600 s); the deploy would fail on it (already exists)",
  );
  expect(r.stdout).toContain(
    '    → set dns.ttlSeconds to 300 (CloudFormation then takes it over), or delete it right before the deploy',
  );
  // With that TTL, what is left is the identity.
  const again = await preflight({
    dns: { mode: 'route53', hostedZoneId: ZONE_ID, zoneName: 'example.com', ttlSeconds: 300 },
  });
  expect(marks(again.stdout).filter((l) => l.startsWith('✗'))).toEqual([
    '✗ SES identity example.com exists in eu-west-1, made outside this stack',
  ]);
});

test('records with other values than the stack writes are in the way, each with its fix', async () => {
  zone.push(
    set('mail.example.com', 'MX', ['10 feedback-smtp.us-east-1.amazonses.com']),
    // The stack's value and another: not the same set.
    set('mail.example.com', 'TXT', [quoted('v=spf1 include:amazonses.com ~all'), quoted('other=1')]),
    set('_dmarc.example.com', 'TXT', [quoted('v=DMARC1; p=none')]),
  );
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '✗ MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES): MX 10 feedback-smtp.us-east-1.amazonses.com (TTL 3600 s) is there already; the deploy would fail on it (already exists)',
  );
  expect(r.stdout).toContain(
    "    → set mailFrom.subdomain to a name without records, and delete these once the stack's MAIL FROM domain is verified; or delete it right before the deploy, which writes MX 10 feedback-smtp.eu-west-1.amazonses.com there",
  );
  expect(r.stdout).toContain(
    '✗ TXT mail.example.com (MAIL FROM: SPF authorizing SES for the envelope sender domain): TXT "v=spf1 include:amazonses.com ~all", "other=1" (TTL 3600 s) is there already',
  );
  expect(r.stdout).toContain(
    '    → keep yours, unmanaged, with dmarc.enabled: false; or delete it right before the deploy, which writes "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com; adkim=r; aspf=r" there',
  );
  expect(r.stdout.split('\n').at(-2)).toBe(
    '3 in the way of the first deploy of SesSmtp-prod: see "Coming from the manual setup" in the README',
  );
});

test('TXT values compare string by string and case by case; host names in any case, with or without the final dot', async () => {
  zone.push(
    // The same text in two strings: another value to Route 53.
    set('mail.example.com', 'TXT', ['"v=spf1 include:amazonses.com" " ~all"']),
    // Another case in a TXT value: another value.
    set('_dmarc.example.com', 'TXT', [quoted(dmarcValue(EXAMPLE_DMARC).replace('quarantine', 'Quarantine'))]),
    set('mail.example.com', 'MX', ['10 FEEDBACK-SMTP.EU-WEST-1.AMAZONSES.COM.']),
  );
  const r = await preflight();
  expect(marks(r.stdout)).toEqual([
    '✓ no SES identity example.com in eu-west-1 yet',
    '! MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES)',
    '✗ TXT mail.example.com (MAIL FROM: SPF authorizing SES for the envelope sender domain)',
    '✗ TXT _dmarc.example.com (DMARC policy)',
  ]);
});

test('a TXT value escaped as Route 53 holds it (\\" and \\ddd) is read as its text', async () => {
  zone.push(set('mail.example.com', 'TXT', ['"v=spf1 include:amazonses.com\\040~all"']));
  const r = await preflight();
  expect(marks(r.stdout)).toContain(
    '! TXT mail.example.com (MAIL FROM: SPF authorizing SES for the envelope sender domain)',
  );
});

test("only the name's own record sets count: not a name below it, nor a wildcard's", async () => {
  zone.push(
    set('x.mail.example.com', 'TXT', [quoted('below')]),
    set('\\052.example.com', 'TXT', [quoted('wildcard')]),
    set('mailer.example.com', 'MX', ['10 mx.example.net']),
  );
  const r = await preflight();
  expect(r.code).toBe(0);
  expect(r.stdout).not.toContain('✗');
});

test('the apex TXT set: the mechanisms and values not yet in apexSpf are named, so none is lost', async () => {
  zone.push(
    set('example.com', 'TXT', [
      quoted('v=spf1 include:_spf.google.com include:amazonses.com ip4:192.0.2.1 ~all'),
      quoted('google-site-verification=abc'),
      quoted('kept=1'),
    ]),
  );
  const r = await preflight({
    apexSpf: { enabled: true, otherTxtValues: ['kept=1'], otherMechanisms: ['ip4:192.0.2.1'] },
  });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '    → the stack writes the whole TXT set at example.com (its SPF and apexSpf.otherTxtValues): add include:_spf.google.com to apexSpf.otherMechanisms, and "google-site-verification=abc" to apexSpf.otherTxtValues first; then delete the set right before the deploy, or turn apexSpf off',
  );
});

// apexSpf refuses redirect= (the stack writes its own "all"): its target is named as the include
// that authorizes the same servers, and the record's own "all" as apexSpf.all, so none is lost.
test.each([
  ['v=spf1 redirect=_spf.example.net', 'add include:_spf.example.net to apexSpf.otherMechanisms first'],
  [
    'v=spf1 ip4:192.0.2.1 -all',
    'add ip4:192.0.2.1 to apexSpf.otherMechanisms, and "-all" as apexSpf.all first',
  ],
  // "all" and "+all" pass everyone: not a value apexSpf.all takes (the stack writes "~all" then).
  ['v=spf1 ip4:192.0.2.1 all', 'add ip4:192.0.2.1 to apexSpf.otherMechanisms first'],
  ['v=spf1 ip4:192.0.2.1 +all', 'add ip4:192.0.2.1 to apexSpf.otherMechanisms first'],
  // RFC 7208 §6.1: beside an "all", a redirect authorizes nothing.
  ['v=spf1 a redirect=_spf.example.net ~all', 'add a to apexSpf.otherMechanisms first'],
])('the apex SPF %s: %s', async (spf, fix) => {
  zone.push(set('example.com', 'TXT', [quoted(spf)]));
  const r = await preflight({ apexSpf: { enabled: true } });
  expect(r.stdout).toContain(
    `    → the stack writes the whole TXT set at example.com (its SPF and apexSpf.otherTxtValues): ${fix};`,
  );
});

test('a value to keep is named as the environments file (JSON) takes it: its quotes escaped', async () => {
  // Quotes pasted with the value (a common slip): Route 53 holds them escaped, as part of the text.
  zone.push(set('example.com', 'TXT', ['"\\"google-site-verification=abc\\""']));
  const r = await preflight({ apexSpf: { enabled: true } });
  expect(r.stdout).toContain(
    '    → the stack writes the whole TXT set at example.com (its SPF and apexSpf.otherTxtValues): add "\\"google-site-verification=abc\\"" to apexSpf.otherTxtValues first;',
  );
});

test('a CNAME where the stack writes another type: no other record may be beside it', async () => {
  zone.push(
    set('mail.example.com', 'CNAME', ['ghs.googlehosted.com']),
    set('_dmarc.example.com', 'CNAME', ['example.com.dmarc.vendor.example.net']),
  );
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '✗ MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES): a CNAME is there (ghs.googlehosted.com), and no other record may be beside one (RFC 1034 §3.6.2)',
  );
  expect(r.stdout).toContain('    → set mailFrom.subdomain to a name without records\n');
  // A DMARC service that hosts the policy: keep it.
  expect(r.stdout).toContain(
    '    → keep it (a DMARC service that hosts your policy), unmanaged, with dmarc.enabled: false; or delete it before the deploy',
  );
});

test('a record set of a routing policy is never taken over, even with the same values', async () => {
  zone.push({
    ...set('mail.example.com', 'TXT', [quoted('v=spf1 include:amazonses.com ~all')]),
    SetIdentifier: 'primary',
    Weight: 1,
  });
  const r = await preflight();
  expect(marks(r.stdout)).toContain(
    '✗ TXT mail.example.com (MAIL FROM: SPF authorizing SES for the envelope sender domain)',
  );
});

test("the stack's MAIL FROM subdomain is checked, not the one the identity has now", async () => {
  manualSetup();
  const r = await preflight({ mailFrom: { subdomain: 'bounce' } });
  expect(r.stdout).toContain('✓ MX bounce.example.com');
  expect(r.stdout).toContain('✓ TXT bounce.example.com');
  expect(r.stdout).not.toContain(' mail.example.com');
});

test("dmarc.enabled false: the stack writes no DMARC record, so yours is in no one's way", async () => {
  zone.push(set('_dmarc.example.com', 'TXT', [quoted('v=DMARC1; p=none')]));
  const r = await preflight({ dmarc: { enabled: false } });
  expect(r.code).toBe(0);
  expect(r.stdout).not.toContain('_dmarc');
});

test('a verified address of verifiedEmailAddresses that exists: delete it or drop it from the list', async () => {
  ses
    .on(GetEmailIdentityCommand, { EmailIdentity: 'qa@example.org' })
    .resolves({ VerifiedForSendingStatus: true });
  const r = await preflight({ verifiedEmailAddresses: ['qa@example.org', 'dev@example.org'] });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('✗ SES identity qa@example.org exists in eu-west-1, made outside this stack');
  expect(r.stdout).toContain('remove it from verifiedEmailAddresses');
  expect(r.stdout).toContain('✓ no SES identity dev@example.org yet');
});

// RFC 5322 atext allows ' and $ in a local part: the suggested command must pass the address as it is.
test('the delete command for an address a shell would change quotes it', async () => {
  const address = "it's$HOME@example.org";
  ses.on(GetEmailIdentityCommand, { EmailIdentity: address }).resolves({ VerifiedForSendingStatus: true });
  const r = await preflight({ verifiedEmailAddresses: [address] });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    `delete it (aws sesv2 delete-email-identity --email-identity 'it'\\''s$HOME@example.org' --region eu-west-1;`,
  );
});

test('dns.mode manual: the stack writes no records, so the zone is not read', async () => {
  manualSetup();
  ses
    .on(GetEmailIdentityCommand)
    .rejects(Object.assign(new Error('not found'), { name: 'NotFoundException' }));
  const r = await preflight({ dns: { mode: 'manual' } });
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n').slice(0, 2)).toEqual([
    '✓ no SES identity example.com in eu-west-1 yet',
    expect.stringMatching(
      /^· DNS records: none written by the stack \(dns.mode "manual"\): after the deploy, ses-smtp dns --check --env prod --config \S+ compares yours with what SES needs$/,
    ),
  ]);
  expect(route53.calls()).toHaveLength(0);
});

test('a deployed stack: its deploys are updates, nothing to check (exit 0, no other call)', async () => {
  manualSetup();
  stackWithOutputs('SesSmtp-prod', {}, 'UPDATE_COMPLETE');
  const r = await preflight();
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(
    /^· stack SesSmtp-prod exists \(UPDATE_COMPLETE\): its deploys update what it made; ses-smtp doctor --env prod --config \S+ checks it\n$/,
  );
  expect([ses.calls().length, route53.calls().length]).toEqual([0, 0]);
});

test("a deployed stack of the same name for another domain (another repository's environment): exit 1, nothing else read", async () => {
  manualSetup();
  stackWithOutputs('SesSmtp-prod', { IdentityName: 'billing.example.org' }, 'UPDATE_COMPLETE');
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '✗ stack SesSmtp-prod exists (UPDATE_COMPLETE) and sends for billing.example.org, not example.com',
  );
  expect([ses.calls().length, route53.calls().length]).toEqual([0, 0]);
  const json = await preflight({}, ['--json']);
  expect(json.code).toBe(1);
  expect(JSON.parse(json.stdout)).toMatchObject({
    stack: 'SesSmtp-prod',
    ok: false,
    results: [{ id: 'stack', status: 'fail' }],
  });
});

// SES acts on the MAIL FROM status under REJECT_MESSAGE: a moved MAIL FROM domain, PENDING until
// SES finds its MX, would have it refuse every send from the domain.
describe('a deployed stack under mailFrom.behaviorOnMxFailure REJECT_MESSAGE', () => {
  const reject = (subdomain = 'mail') => ({ mailFrom: { subdomain, behaviorOnMxFailure: 'REJECT_MESSAGE' } });
  const liveMailFrom = (domain: string | undefined) =>
    ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves({
      ...VERIFIED_IDENTITY,
      MailFromAttributes: domain
        ? { MailFromDomain: domain, MailFromDomainStatus: 'SUCCESS', BehaviorOnMxFailure: 'REJECT_MESSAGE' }
        : undefined,
    });
  beforeEach(() => stackWithOutputs('SesSmtp-prod', { IdentityName: 'example.com' }, 'UPDATE_COMPLETE'));

  test('a deploy that moves the MAIL FROM domain: exit 1, with the way to move it', async () => {
    liveMailFrom('mail.example.com');
    const r = await preflight(reject('bounce'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^✗ MAIL FROM domain of example\.com: the deploy would move it from mail\.example\.com to bounce\.example\.com under mailFrom\.behaviorOnMxFailure "REJECT_MESSAGE": SES would refuse every send from example\.com until it has found the MX of bounce\.example\.com\n {4}→ deploy the move with mailFrom\.behaviorOnMxFailure "USE_DEFAULT_VALUE" \(mail goes out with SES's MAIL FROM meanwhile\), then set "REJECT_MESSAGE" again once ses-smtp doctor --env prod --config \S+ passes mail-from\n$/,
    );
    liveMailFrom(undefined);
    expect((await preflight(reject())).stdout).toContain('would move it from (none) to mail.example.com');
  });

  // The fix's own path: a move under USE_DEFAULT_VALUE, then REJECT_MESSAGE set back too soon.
  test.each(['PENDING', 'FAILED', 'TEMPORARY_FAILURE'])(
    'REJECT_MESSAGE turned on while the MAIL FROM domain is %s: exit 1, wait for doctor',
    async (status) => {
      const live = (BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE') =>
        ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves({
          ...VERIFIED_IDENTITY,
          MailFromAttributes: {
            MailFromDomain: 'mail.example.com',
            MailFromDomainStatus: status as 'PENDING',
            BehaviorOnMxFailure,
          },
        });
      live('USE_DEFAULT_VALUE');
      const r = await preflight(reject());
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        new RegExp(
          `^✗ MAIL FROM domain mail\\.example\\.com of example\\.com is ${status}: the deploy would set mailFrom\\.behaviorOnMxFailure "REJECT_MESSAGE" before SES has found its MX: SES would refuse every send from example\\.com until the MAIL FROM domain is SUCCESS\\n {4}→ keep mailFrom\\.behaviorOnMxFailure "USE_DEFAULT_VALUE" \\(mail goes out with SES's MAIL FROM meanwhile\\) until ses-smtp doctor --env prod --config \\S+ passes mail-from, then set "REJECT_MESSAGE"\\n$`,
        ),
      );
      // REJECT_MESSAGE already: the deploy changes nothing (doctor reports the MAIL FROM).
      live('REJECT_MESSAGE');
      expect((await preflight(reject())).code).toBe(0);
    },
  );

  test('the same MAIL FROM domain (in any case), or USE_DEFAULT_VALUE, or no identity to read: nothing in the way', async () => {
    liveMailFrom('Mail.Example.com');
    expect((await preflight(reject())).code).toBe(0);
    expect((await preflight({ mailFrom: { subdomain: 'bounce' } })).code).toBe(0);
    ses
      .on(GetEmailIdentityCommand)
      .rejects(Object.assign(new Error('not found'), { name: 'NotFoundException' }));
    expect((await preflight(reject('bounce'))).code).toBe(0);
  });
});

test('a deployed stack for this domain (its output in another case, with the final dot) is this one', async () => {
  manualSetup();
  stackWithOutputs('SesSmtp-prod', { IdentityName: 'Example.COM.' }, 'UPDATE_COMPLETE');
  expect((await preflight()).code).toBe(0);
});

test.each([
  [
    'ROLLBACK_COMPLETE',
    'is a failed creation (ROLLBACK_COMPLETE): cdk deploy deletes it and creates the stack anew',
    1,
    '✗',
  ],
  [
    'REVIEW_IN_PROGRESS',
    'is only a change set never executed (REVIEW_IN_PROGRESS): cdk deploy creates the stack',
    1,
    '✗',
  ],
  // What it still holds cannot be told from what was made by hand: a warning, not in the way.
  [
    'ROLLBACK_FAILED',
    'is a failed creation whose rollback failed (ROLLBACK_FAILED): cdk deploy deletes it, with what it still holds, and creates the stack anew; what is found below may be its own, so it is a warning',
    0,
    '!',
  ],
])('a stack in %s is checked as not created yet', async (status, says, code, mark) => {
  manualSetup();
  stackWithOutputs('SesSmtp-prod', {}, status);
  const r = await preflight();
  expect(r.code).toBe(code);
  expect(r.stdout.split('\n')[0]).toBe(`· stack SesSmtp-prod ${says}`);
  expect(r.stdout).toContain(`${mark} SES identity example.com exists`);
});

test('--json: one document with every result and ok', async () => {
  manualSetup();
  const r = await preflight({}, ['--json']);
  expect(r.code).toBe(1);
  const doc = JSON.parse(r.stdout);
  expect(doc).toMatchObject({ stack: 'SesSmtp-prod', ok: false });
  expect(doc.results.map((x: { id: string; status: string }) => `${x.id} ${x.status}`)).toEqual([
    'identity fail',
    'Dkim1 warn',
    'Dkim2 warn',
    'Dkim3 warn',
    'MailFromMx warn',
    'MailFromTxt warn',
    'DmarcTxt warn',
  ]);
});

/** An AWS refusal of the call, as the SDK throws it. */
const denied = (name: string) =>
  Object.assign(new Error('User is not authorized to perform this action'), {
    name,
    $metadata: { httpStatusCode: 403 },
  });

// A GitHub deploy role from before preflight has none of the reads: the deploy goes on as it did.
test('the stack status refused: nothing can be told (an identity found may be its own), a warning and exit 0', async () => {
  manualSetup();
  cfn.on(DescribeStacksCommand).rejects(denied('AccessDenied'));
  const r = await preflight();
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(
    [
      '! stack SesSmtp-prod: could not tell whether it exists, so nothing was checked: AWS denied cloudformation:DescribeStacks',
      '    → allow it on the stack (a GitHub Actions deploy role has it once stack SesSmtpDeployAccess-123456789012 is deployed again)',
      '',
    ].join('\n'),
  );
  expect([ses.calls().length, route53.calls().length]).toEqual([0, 0]);
});

test('identity and zone reads refused: could not tell, warnings; exit 0 when nothing else is in the way', async () => {
  ses.on(GetEmailIdentityCommand).rejects(denied('AccessDeniedException'));
  route53.on(ListResourceRecordSetsCommand).rejects(denied('AccessDenied'));
  const r = await preflight({ verifiedEmailAddresses: ['qa@example.org'] });
  expect(r.code).toBe(0);
  expect(marks(r.stdout)).toEqual([
    '! SES identity example.com',
    '! SES identity qa@example.org',
    '! MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES)',
    '! TXT mail.example.com (MAIL FROM: SPF authorizing SES for the envelope sender domain)',
    '! TXT _dmarc.example.com (DMARC policy)',
  ]);
  expect(r.stdout).toContain(
    '! SES identity example.com: could not tell whether it exists: AWS denied ses:GetEmailIdentity',
  );
  expect(r.stdout).toContain(
    '! TXT _dmarc.example.com (DMARC policy): could not tell: AWS denied route53:ListResourceRecordSets on hosted zone Z0123456789EXAMPLE0AB',
  );
  expect(r.stdout.split('\n').at(-2)).toBe(
    'nothing in the way of the first deploy of SesSmtp-prod, once the 5 warnings above are seen to',
  );
});

test('missing or expired credentials are not a refusal: one line, exit 2', async () => {
  cfn.on(DescribeStacksCommand).rejects(
    Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    }),
  );
  const r = await preflight();
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^ses-smtp: .*credentials.*\n$/);
  // Nor are expired ones, though AWS answers them with a 403 too.
  cfn.on(DescribeStacksCommand).rejects(
    Object.assign(new Error('The security token included in the request is expired'), {
      name: 'ExpiredToken',
      $metadata: { httpStatusCode: 403 },
    }),
  );
  expect((await preflight()).code).toBe(2);
});

test("a name's record sets over more than one page are all read", async () => {
  // Twenty weighted A record sets first (Route 53 lists by type), the MX on the next page.
  for (let i = 1; i <= 20; i++) {
    zone.push({ ...set('mail.example.com', 'A', [`192.0.2.${i}`]), SetIdentifier: `web-${i}`, Weight: 1 });
  }
  zone.push(set('mail.example.com', 'MX', ['10 mx.example.net']));
  const r = await preflight();
  expect(marks(r.stdout)).toContain(
    '✗ MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES)',
  );
  // One read of _dmarc, two pages of mail.
  expect(route53.commandCalls(ListResourceRecordSetsCommand)).toHaveLength(3);
});
