import { GetEmailIdentityCommand } from '@aws-sdk/client-sesv2';
import { easyDkimDomain } from '../../lib/config/smtp-regions';
import { startDnsServer, TestDnsServer, Zone } from '../support/dns-server';
import { healthyAws, run, ses, TOKENS, writeConfig } from './harness';

/*
 * The DKIM CNAME target is not dkim.amazonses.com in every Region: `dns` prints and `dns --check`
 * (and doctor's DKIM check, which uses the same records) checks the target of the stack's Region,
 * or the zone SES itself reports for the identity.
 */

let dns: TestDnsServer;
beforeAll(async () => {
  dns = await startDnsServer({});
});
afterAll(() => dns.close());

/** The live DNS of example.com in `region`, with DKIM CNAMEs to `dkimZone`. */
function zoneIn(region: string, dkimZone: string): Zone {
  const zone: Zone = {
    'mail.example.com': {
      MX: [{ priority: 10, exchange: `feedback-smtp.${region}.amazonses.com` }],
      TXT: [['v=spf1 include:amazonses.com ~all']],
    },
    '_dmarc.example.com': {
      TXT: [['v=DMARC1; p=quarantine; pct=100; adkim=r; aspf=r']],
    },
  };
  for (const t of TOKENS) zone[`${t}._domainkey.example.com`] = { CNAME: `${t}.${dkimZone}` };
  return zone;
}

function liveZone(zone: Zone) {
  for (const key of Object.keys(dns.zone)) delete dns.zone[key];
  Object.assign(dns.zone, zone);
}

/** The healthy identity, with what SES reports as its DKIM signing zone. */
function identityReports(signingHostedZone?: string) {
  ses.on(GetEmailIdentityCommand, { EmailIdentity: 'example.com' }).resolves({
    VerifiedForSendingStatus: true,
    DkimAttributes: {
      Status: 'SUCCESS',
      Tokens: TOKENS,
      SigningEnabled: true,
      SigningHostedZone: signingHostedZone,
    },
    MailFromAttributes: {
      MailFromDomain: 'mail.example.com',
      MailFromDomainStatus: 'SUCCESS',
      BehaviorOnMxFailure: 'USE_DEFAULT_VALUE',
    },
  });
}

const dnsCommand = (region: string, extra: string[] = []) =>
  run(['dns', ...extra, '--config', writeConfig({ region, dmarc: {} }), '--resolver', dns.address]);

beforeEach(() => healthyAws());

describe('Easy DKIM targets per Region', () => {
  test.each([
    ['il-central-1', 'dkim.il-central-1.amazonses.com'],
    ['ap-southeast-3', 'dkim.ap-southeast-3.amazonses.com'],
    ['eu-south-1', 'dkim.eu-south-1.amazonses.com'],
    ['us-gov-east-1', 'dkim.us-gov-east-1.amazonses.com'],
    ['eu-west-1', 'dkim.amazonses.com'],
    ['us-east-1', 'dkim.amazonses.com'],
  ])('%s: dns prints CNAMEs to %s', async (region, zone) => {
    identityReports(undefined);
    const r = await dnsCommand(region);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`tokone._domainkey.example.com. 3600 IN CNAME tokone.${zone}.`);
    expect(easyDkimDomain(region)).toBe(zone);
  });

  test('what SES reports for the identity wins over the table', async () => {
    identityReports('dkim.example-future.amazonses.com');
    const r = await dnsCommand('eu-west-1');
    expect(r.stdout).toContain(
      'toktwo._domainkey.example.com. 3600 IN CNAME toktwo.dkim.example-future.amazonses.com.',
    );
  });

  test("--check passes with the Region's own target", async () => {
    identityReports(undefined);
    liveZone(zoneIn('il-central-1', 'dkim.il-central-1.amazonses.com'));
    const r = await dnsCommand('il-central-1', ['--check']);
    expect(r.stdout).toContain(
      '✓ Easy DKIM key 1 (CNAME tokone._domainkey.example.com): tokone.dkim.il-central-1.amazonses.com',
    );
    expect(r.code).toBe(0);
  });

  test('--check fails CNAMEs that point to the default zone in a Region with its own', async () => {
    identityReports(undefined);
    liveZone(zoneIn('il-central-1', 'dkim.amazonses.com'));
    const r = await dnsCommand('il-central-1', ['--check']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ Easy DKIM key 3 (CNAME tokthree._domainkey.example.com): points to tokthree.dkim.amazonses.com',
    );
    expect(r.stdout).toContain('→ make it a CNAME to tokthree.dkim.il-central-1.amazonses.com');
  });

  test('doctor checks the same targets', async () => {
    identityReports('dkim.il-central-1.amazonses.com');
    liveZone(zoneIn('il-central-1', 'dkim.amazonses.com'));
    const r = await run([
      'doctor',
      '--config',
      writeConfig({ region: 'il-central-1' }),
      '--resolver',
      dns.address,
    ]);
    expect(r.stdout).toContain('→ make it a CNAME to tokone.dkim.il-central-1.amazonses.com');
  });
});

// The app reads the file cdk.json names unless told: the deploy the error gives reads this one.
test('no identity yet: dns says to deploy the stack, with the environments file it was given', async () => {
  ses
    .on(GetEmailIdentityCommand)
    .rejects(Object.assign(new Error('not found'), { name: 'NotFoundException', $metadata: {} }));
  const config = writeConfig({ region: 'eu-west-1' });
  const r = await run(['dns', '--config', config, '--resolver', '127.0.0.1']);
  expect(r.stdout + r.stderr).toContain(
    `SES has no identity example.com in eu-west-1: deploy the stack (npx cdk deploy SesSmtp-prod -c config=${config})`,
  );
});
