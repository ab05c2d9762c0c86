import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { startDnsServer, TestDnsServer } from '../support/dns-server';
import {
  cfn,
  healthyAws,
  healthyZone,
  run,
  ses,
  stackWithOutputs,
  TOKENS,
  VERIFIED_IDENTITY,
  writeConfig,
} from './harness';

/*
 * `preflight`: before the first deploy, what already exists where the stack creates. Against the
 * CLI's AWS mocks and a real DNS server on 127.0.0.1.
 */

let dns: TestDnsServer;
beforeAll(async () => {
  dns = await startDnsServer({});
});
afterAll(() => dns.close());

const NO_STACK = Object.assign(new Error('Stack with id SesSmtp-prod does not exist'), {
  name: 'ValidationError',
});

/** A fresh account: no stack, no SES identity, nothing in DNS. */
beforeEach(() => {
  healthyAws();
  cfn.on(DescribeStacksCommand).rejects(NO_STACK);
  ses
    .on(GetEmailIdentityCommand)
    .rejects(Object.assign(new Error('not found'), { name: 'NotFoundException' }));
  for (const key of Object.keys(dns.zone)) delete dns.zone[key];
});

/** The environment `prod` of a file with `env` merged in, checked against the test DNS server. */
const preflight = (env: Record<string, unknown> = {}, extra: string[] = []) =>
  run(['preflight', '--config', writeConfig(env), '--resolver', dns.address, ...extra]);

/** The manual guide's setup: a verified identity with Easy DKIM and MAIL FROM, and its records in DNS. */
function manualSetup(): void {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves(VERIFIED_IDENTITY);
  Object.assign(dns.zone, healthyZone());
}

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
});

test("the manual guide's setup: the identity is in the way; records like the stack's are warned of, exit 1", async () => {
  manualSetup();
  const r = await preflight();
  expect(r.code).toBe(1);
  const lines = r.stdout.split('\n');
  expect(lines.filter((l) => /^[✗!✓]/.test(l)).map((l) => l.replace(/: .*/, ''))).toEqual([
    '✗ SES identity example.com exists in eu-west-1, made outside this stack',
    ...TOKENS.map((t, i) => `! CNAME ${t}._domainkey.example.com (Easy DKIM key ${i + 1})`),
    '! MX mail.example.com (MAIL FROM',
    '! TXT mail.example.com (MAIL FROM',
    '! TXT _dmarc.example.com (DMARC policy)',
  ]);
  expect(r.stdout).toContain(
    '✗ SES identity example.com exists in eu-west-1, made outside this stack: verified for sending, DKIM SUCCESS; the deploy would fail on it (already exists)',
  );
  // Apps may be sending with a verified identity: delete it knowing mail stops meanwhile, or import it.
  expect(r.stdout).toContain(
    '→ apps may be sending with it: delete it in a quiet hour (aws sesv2 delete-email-identity --email-identity example.com --region eu-west-1) and deploy at once, as SES refuses the domain\'s mail until the new identity is verified; or adopt it with npx cdk import SesSmtp-prod (README: "Coming from the manual setup")',
  );
  // The same values as the stack's: CloudFormation takes such a record over when its TTL is the same.
  expect(r.stdout).toContain(
    '! CNAME tokone._domainkey.example.com (Easy DKIM key 1): CNAME tokone.dkim.amazonses.com is there already, the same as the stack writes: CloudFormation takes over a record set whose values and TTL are all the same (as users report; AWS does not document it), and the rollback of a failed first deploy then deletes it',
  );
  expect(r.stdout).toContain(
    '→ its TTL must be dns.ttlSeconds (3600 s), else the deploy fails on it (already exists): set that, or delete it right before the deploy; and deploy once nothing else here is ✗, so that the deploy does not roll back',
  );
  expect(lines.at(-2)).toBe(
    '1 in the way of the first deploy of SesSmtp-prod: see "Coming from the manual setup" in the README',
  );
});

test('records with other values than the stack writes are in the way, each with its fix', async () => {
  dns.zone['mail.example.com'] = {
    MX: [{ priority: 10, exchange: 'feedback-smtp.us-east-1.amazonses.com' }],
    // The stack's value and another: not the same set.
    TXT: [['v=spf1 include:amazonses.com ~all'], ['other=1']],
  };
  dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=none']] };
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '✗ MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES): MX 10 feedback-smtp.us-east-1.amazonses.com is there already; the deploy would fail on it (already exists)',
  );
  expect(r.stdout).toContain(
    "→ delete it right before the deploy, which writes MX 10 feedback-smtp.eu-west-1.amazonses.com there; or set mailFrom.subdomain to a name without records, and delete these once the stack's MAIL FROM domain is verified",
  );
  expect(r.stdout).toContain(
    '✗ TXT mail.example.com (MAIL FROM: SPF authorizing SES for the envelope sender domain): TXT "v=spf1 include:amazonses.com ~all", "other=1" is there already; the deploy would fail on it (already exists)',
  );
  expect(r.stdout).toContain(
    '→ delete it right before the deploy, which writes "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com; adkim=r; aspf=r" there; or keep yours, unmanaged, with dmarc.enabled: false',
  );
  expect(r.stdout.split('\n').at(-2)).toBe(
    '3 in the way of the first deploy of SesSmtp-prod: see "Coming from the manual setup" in the README',
  );
});

test('host names compare in any case and with the final dot: still the same values', async () => {
  dns.zone['mail.example.com'] = {
    MX: [{ priority: 10, exchange: 'FEEDBACK-SMTP.EU-WEST-1.AMAZONSES.COM.' }],
  };
  const r = await preflight();
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(
    /^! MX mail\.example\.com \(.*\): MX 10 feedback-smtp\.eu-west-1\.amazonses\.com is there already, the same as the stack writes/im,
  );
  expect(r.stdout.split('\n').at(-2)).toBe(
    'nothing in the way of the first deploy of SesSmtp-prod, once the 1 warnings above are seen to',
  );
});

test('an identity not verified: nothing sends with it, so deleting it is the fix', async () => {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves({
    VerifiedForSendingStatus: false,
    DkimAttributes: { Status: 'PENDING', Tokens: TOKENS },
  });
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '✗ SES identity example.com exists in eu-west-1, made outside this stack: not verified for sending, DKIM PENDING',
  );
  expect(r.stdout).toContain(
    '→ nothing can send with it: delete it (aws sesv2 delete-email-identity --email-identity example.com --region eu-west-1), then deploy',
  );
  // Its DKIM names are checked too: nothing there, so they are in no one's way.
  expect(r.stdout).toContain(
    '✓ CNAME tokone._domainkey.example.com (Easy DKIM key 1): nothing at this name yet',
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
  dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=none']] };
  const r = await preflight({ dmarc: { enabled: false } });
  expect(r.code).toBe(0);
  expect(r.stdout).not.toContain('_dmarc');
});

test('the apex TXT set: the values not yet in apexSpf.otherTxtValues are named', async () => {
  dns.zone['example.com'] = {
    TXT: [['v=spf1 include:_spf.google.com ~all'], ['google-site-verification=abc'], ['kept=1']],
  };
  const r = await preflight({ apexSpf: { enabled: true, otherTxtValues: ['kept=1'] } });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '→ the stack writes the whole TXT set at example.com (its SPF and apexSpf.otherTxtValues): add "google-site-verification=abc" to apexSpf.otherTxtValues first; delete the set right before the deploy, or turn apexSpf off',
  );
});

test('a CNAME where the stack writes another type: no other record may be beside it', async () => {
  dns.zone['mail.example.com'] = { CNAME: 'elsewhere.example.net' };
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '✗ MX mail.example.com (MAIL FROM: bounces for the envelope sender go back to SES): a CNAME is there (elsewhere.example.net), and no other record may be beside one (RFC 1034 §3.6.2)',
  );
  expect(r.stdout).toContain('→ delete the CNAME mail.example.com before the deploy');
});

test('a resolver that refuses: could not tell (a warning), not a record in the way', async () => {
  dns.zone['_dmarc.example.com'] = { RCODE: 5 };
  const r = await preflight();
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(
    '! TXT _dmarc.example.com (DMARC policy): could not tell: DNS lookup failed (EREFUSED)',
  );
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

test('dns.mode manual: the stack writes no records, so DNS is not read', async () => {
  // Records that would each fail the check, were they read.
  Object.assign(dns.zone, healthyZone());
  const r = await preflight({ dns: { mode: 'manual' } });
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n').slice(0, 3)).toEqual([
    '✓ no SES identity example.com in eu-west-1 yet',
    expect.stringMatching(
      /^· DNS records: none written by the stack \(dns.mode "manual"\): after the deploy, ses-smtp dns --check --env prod --config \S+ compares yours with what SES needs$/,
    ),
    '',
  ]);
});

test('a deployed stack: its deploys are updates, nothing to check (exit 0, no SES call)', async () => {
  manualSetup();
  stackWithOutputs('SesSmtp-prod', {}, 'UPDATE_COMPLETE');
  const r = await preflight();
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(
    /^· stack SesSmtp-prod exists \(UPDATE_COMPLETE\): its deploys update what it made; ses-smtp doctor --env prod --config \S+ checks it\n$/,
  );
  expect(ses.calls()).toHaveLength(0);
});

test('a failed first deploy (ROLLBACK_COMPLETE) is checked as not created: cdk deploy creates it anew', async () => {
  manualSetup();
  stackWithOutputs('SesSmtp-prod', {}, 'ROLLBACK_COMPLETE');
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout.split('\n')[0]).toBe(
    '· stack SesSmtp-prod is a failed creation (ROLLBACK_COMPLETE): cdk deploy deletes it and creates the stack anew',
  );
  expect(r.stdout).toContain('✗ SES identity example.com exists');
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

// A GitHub deploy role from before preflight has neither read: the deploy goes on as it did.
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
  expect(ses.calls()).toHaveLength(0);
});

test('an identity read refused: could not tell, a warning; the other checks still run', async () => {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).rejects(denied('AccessDeniedException'));
  dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=none']] };
  const r = await preflight();
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(
    '! SES identity example.com: could not tell whether it exists: AWS denied ses:GetEmailIdentity',
  );
  expect(r.stdout).toContain(
    '✗ TXT _dmarc.example.com (DMARC policy): TXT "v=DMARC1; p=none" is there already',
  );
});

test('missing credentials are not a refusal: one line, exit 2', async () => {
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

// A wildcard answers for every name that does not exist (RFC 4592): Route 53 has no record at
// the name itself, and creates the stack's beside the wildcard.
test('an answer that only a wildcard gives is not a record in the way', async () => {
  dns.zone['example.com'] = { MX: [{ priority: 10, exchange: 'mx.example.com' }] };
  dns.zone['*.example.com'] = { TXT: [['wildcard=1']] };
  const r = await preflight();
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(
    "✓ TXT _dmarc.example.com (DMARC policy): nothing at this name yet (what DNS answers is the wildcard *.example.com's, which the stack's record will override)",
  );
  expect(r.stdout).not.toContain('✗');
  // A record of its own beside the wildcard is in the way.
  dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=none']] };
  const again = await preflight();
  expect(again.code).toBe(1);
  expect(again.stdout).toContain(
    '✗ TXT _dmarc.example.com (DMARC policy): TXT "v=DMARC1; p=none" is there already',
  );
});
