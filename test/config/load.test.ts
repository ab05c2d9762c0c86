import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig, parseConfig, spfLookupCount } from '../../lib/config/load';
import { BASE_ENV, envConfig } from '../helpers';

const FILE = 'config/environments.json';

function problemsOf(env: Record<string, unknown>, top: Record<string, unknown> = {}): string[] {
  try {
    parseConfig({ ...top, environments: { prod: { ...BASE_ENV, ...env } } }, FILE);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const at = (field: string) => `${FILE}: environment "prod", field "${field}": `;

describe('environment config validation', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['account', { account: '1234' }, `${at('account')}got "1234", expected a 12-digit AWS account id`],
    [
      'missing account',
      { account: undefined },
      `${at('account')}nothing (the field is required), expected a 12-digit AWS account id`,
    ],
    [
      'region format',
      { region: 'Ireland' },
      `${at('region')}got "Ireland", expected an AWS Region like "eu-west-1"`,
    ],
    [
      'domain',
      { domain: 'Example.com.' },
      `${at('domain')}got "Example.com.", expected a lower-case domain name without a trailing dot, like "example.com"`,
    ],
    [
      'dns mode',
      { dns: { mode: 'cloudflare' } },
      `${at('dns.mode')}got "cloudflare", expected an object with "mode": "route53" (plus hostedZoneId and zoneName) or "mode": "manual"`,
    ],
    [
      'zone id',
      { dns: { mode: 'route53', hostedZoneId: 'abc', zoneName: 'example.com' } },
      `${at('dns.hostedZoneId')}got "abc", expected a Route53 hosted zone id like "Z0123456789ABCDEFGHIJ"`,
    ],
    [
      'zone not a parent',
      { dns: { mode: 'route53', hostedZoneId: 'Z1', zoneName: 'other.org' } },
      `${at('dns.zoneName')}got "other.org", expected the hosted zone of example.com: that name or one of its parents`,
    ],
    [
      'ttl',
      { dns: { mode: 'manual', ttlSeconds: 5 } },
      `${at('dns.ttlSeconds')}got 5, expected a number >= 60`,
    ],
    [
      'from address elsewhere',
      { fromAddress: 'a@other.org' },
      `${at('fromAddress')}got "a@other.org", expected an address at example.com or one of its subdomains`,
    ],
    [
      'from address syntax',
      { fromAddress: 'not-an-address' },
      `${at('fromAddress')}got "not-an-address", expected an email address with a lower-case domain, like "no-reply@example.com"`,
    ],
    [
      'mail from label',
      { mailFrom: { subdomain: 'a.b' } },
      `${at('mailFrom.subdomain')}got "a.b", expected one DNS label like "mail" (a-z, 0-9, "-")`,
    ],
    [
      'mx failure',
      { mailFrom: { behaviorOnMxFailure: 'IGNORE' } },
      `${at('mailFrom.behaviorOnMxFailure')}got "IGNORE", expected one of: "USE_DEFAULT_VALUE", "REJECT_MESSAGE"`,
    ],
    [
      'dmarc policy',
      { dmarc: { policy: 'block' } },
      `${at('dmarc.policy')}got "block", expected one of: "none", "quarantine", "reject"`,
    ],
    [
      'dmarc pct',
      { dmarc: { percentage: 101 } },
      `${at('dmarc.percentage')}got 101, expected a number <= 100`,
    ],
    [
      'dmarc pct fraction',
      { dmarc: { percentage: 50.5 } },
      `${at('dmarc.percentage')}got 50.5, expected a whole number`,
    ],
    [
      'dmarc rua',
      { dmarc: { aggregateReportUris: ['dmarc@example.com'] } },
      `${at('dmarc.aggregateReportUris[0]')}got "dmarc@example.com", expected a "mailto:" URI like "mailto:dmarc@example.com"`,
    ],
    [
      'dmarc alignment',
      { dmarc: { dkimAlignment: 's' } },
      `${at('dmarc.dkimAlignment')}got "s", expected one of: "relaxed", "strict"`,
    ],
    [
      'dmarc enabled',
      { dmarc: { enabled: 'yes' } },
      `${at('dmarc.enabled')}got "yes", expected true or false`,
    ],
    [
      'unknown field',
      { dmarcc: {} },
      `${at('dmarcc')}got unknown field with value {}, expected a known field (one of: account, region, domain, dns, fromAddress, mailFrom, dmarc, apexSpf, verifiedEmailAddresses, credentials, feedback, alarms, health, tags, removalPolicy)`,
    ],
    [
      'unknown nested field',
      { dmarc: { polcy: 'reject' } },
      `${at('dmarc.polcy')}got unknown field with value "reject", expected a known field (one of: enabled, policy, subdomainPolicy, percentage, aggregateReportUris, forensicReportUris, dkimAlignment, spfAlignment)`,
    ],
    [
      'spf mechanism',
      { apexSpf: { enabled: true, otherMechanisms: ['includ:x'] } },
      `${at('apexSpf.otherMechanisms[0]')}got "includ:x", expected an SPF mechanism like "include:_spf.google.com" or "ip4:192.0.2.0/24"`,
    ],
    [
      'second spf record',
      { apexSpf: { otherTxtValues: ['v=spf1 -all'] } },
      `${at('apexSpf.otherTxtValues[0]')}got "v=spf1 -all", expected a non-SPF value: put SPF mechanisms in "apexSpf.otherMechanisms", the stack writes the one SPF record`,
    ],
    [
      'spf lookups',
      {
        apexSpf: {
          enabled: true,
          otherMechanisms: Array.from({ length: 10 }, (_, i) => `include:s${i}.example.net`),
        },
      },
      `${at('apexSpf.otherMechanisms')}got ["include:s0.example.net","include:s1.example.net","include:s2.example.net","..., expected at most 9 mechanisms that need DNS lookups (SPF allows 10 and include:amazonses.com takes one), got 11`,
    ],
    [
      'verified address',
      { verifiedEmailAddresses: ['dev'] },
      `${at('verifiedEmailAddresses[0]')}got "dev", expected an email address with a lower-case domain, like "no-reply@example.com"`,
    ],
    [
      'rotation days',
      { credentials: { rotationDays: 0 } },
      `${at('credentials.rotationDays')}got 0, expected a number >= 1`,
    ],
    [
      'allowed from',
      { credentials: { allowedFromAddresses: ['*@other.org'] } },
      `${at('credentials.allowedFromAddresses[0]')}got "*@other.org", expected an address at example.com or one of its subdomains`,
    ],
    [
      'thresholds order',
      { alarms: { bounceRatePercent: { warning: 5, critical: 2 } } },
      `${at('alarms.bounceRatePercent.warning')}got 5, expected a warning level below the critical level (2)`,
    ],
    [
      'threshold past pause',
      { alarms: { complaintRatePercent: { warning: 0.1, critical: 0.6 } } },
      `${at('alarms.complaintRatePercent.critical')}got 0.6, expected a number < 0.5`,
    ],
    [
      'alarm email',
      { alarms: { emails: ['ops'] } },
      `${at('alarms.emails[0]')}got "ops", expected an email address with a lower-case domain, like "no-reply@example.com"`,
    ],
    [
      'webhook',
      { feedback: { webhookUrl: 'http://app.example.com/ses' } },
      `${at('feedback.webhookUrl')}got "http://app.example.com/ses", expected an https:// URL`,
    ],
    [
      'extra events',
      { feedback: { additionalEvents: ['OPEN'] } },
      `${at('feedback.additionalEvents[0]')}got "OPEN", expected one of: "REJECT", "DELIVERY_DELAY", "RENDERING_FAILURE"`,
    ],
    [
      'removal policy',
      { removalPolicy: 'snapshot' },
      `${at('removalPolicy')}got "snapshot", expected one of: "retain", "destroy"`,
    ],
    ['tags', { tags: 'x' }, `${at('tags')}got "x", expected an object`],
  ])('%s', (_name, env, expected) => {
    expect(problemsOf(env)).toEqual([expected]);
  });

  test('a Region without an SES SMTP endpoint is refused unless added as data', () => {
    const [problem] = problemsOf({ region: 'us-west-9' });
    expect(problem).toMatch(
      /^config\/environments\.json: environment "prod", field "region": got "us-west-9", expected a Region with an SES SMTP endpoint \(us-east-1, .*\); a newer one can be added under "additionalSmtpRegions"$/,
    );
    expect(() =>
      parseConfig(
        {
          additionalSmtpRegions: ['us-west-9'],
          environments: { prod: { ...BASE_ENV, region: 'us-west-9' } },
        },
        FILE,
      ),
    ).not.toThrow();
  });

  test('every bad value gets its own single line', () => {
    const problems = problemsOf({ account: 'x', dmarc: { policy: 'block' } });
    expect(problems).toHaveLength(2);
    problems.forEach((p) => expect(p).not.toContain('\n'));
  });

  test('two environments may not share one identity', () => {
    expect(() => parseConfig({ environments: { a: BASE_ENV, b: BASE_ENV } }, FILE)).toThrow(
      `${FILE}: environment "b", field "domain": got "example.com", expected a domain not already used by environment "a" in the same account and Region`,
    );
  });

  test.each<[unknown, string]>([
    [{ environments: {} }, `${FILE}: field "environments": got {}, expected at least one environment`],
    [
      { envs: {} },
      `${FILE}: field "envs": got unknown field with value {}, expected a known field (one of: $schema, additionalSmtpRegions, environments)`,
    ],
    [
      { environments: { Prod: BASE_ENV } },
      `${FILE}: field "environments": got the name "Prod", expected an environment name: a-z, 0-9 and "-", starting with a letter`,
    ],
  ])('file-level problem %#', (raw, expected) => {
    expect(() => parseConfig(raw, FILE)).toThrow(expected);
  });

  test('defaults fill every optional field', () => {
    const env = envConfig();
    expect(env.mailFrom).toEqual({ subdomain: 'mail', behaviorOnMxFailure: 'USE_DEFAULT_VALUE' });
    expect(env.dmarc).toMatchObject({
      enabled: true,
      policy: 'quarantine',
      percentage: 100,
      dkimAlignment: 'relaxed',
    });
    expect(env.apexSpf.enabled).toBe(false);
    expect(env.credentials.rotationDays).toBe(90);
    expect(env.alarms.bounceRatePercent).toEqual({ warning: 2, critical: 5 });
    expect(env.alarms.complaintRatePercent).toEqual({ warning: 0.05, critical: 0.1 });
    expect(env.removalPolicy).toBe('retain');
  });

  test('SPF lookup counting follows RFC 7208', () => {
    expect(
      spfLookupCount([
        'include:a',
        'a',
        'mx:b.example',
        'ip4:192.0.2.1',
        'ip6:2001:db8::/32',
        '-exists:x',
        'ptr',
      ]),
    ).toBe(5);
  });
});

describe('loadConfig', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-config-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  test('reads a file and selects one environment', () => {
    const file = write(
      'two.json',
      JSON.stringify({ environments: { a: BASE_ENV, b: { ...BASE_ENV, region: 'us-east-1' } } }),
    );
    expect(loadConfig(file).environments.map((e) => e.name)).toEqual(['a', 'b']);
    expect(loadConfig(file, 'b').environments.map((e) => [e.name, e.config.region])).toEqual([
      ['b', 'us-east-1'],
    ]);
  });

  test('an unknown -c env names the known ones', () => {
    const file = write('one.json', JSON.stringify({ environments: { a: BASE_ENV } }));
    expect(() => loadConfig(file, 'prod')).toThrow(
      `${file}: got -c env="prod", expected one of the environments in the file: a`,
    );
  });

  test('a missing file and broken JSON are one line each', () => {
    expect(() => loadConfig(path.join(dir, 'nope.json'))).toThrow(
      /nope\.json: cannot read the environments file; create it .* or pass -c config=PATH$/,
    );
    expect(() => loadConfig(write('bad.json', '{"environments": '))).toThrow(
      /bad\.json: not valid JSON \(.*\); fix the syntax$/,
    );
  });

  test('the shipped example file is valid', () => {
    expect(loadConfig('config/environments.json').environments.map((e) => e.name)).toEqual(['example']);
  });
});
