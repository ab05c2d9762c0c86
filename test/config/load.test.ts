import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { duplicateKeys, scheduleGapHours } from '../../lib/config/syntax';
import { ConfigError, configPathValue, loadConfig, parseConfig, spfLookupCount } from '../../lib/config/load';
import { BASE_ENV, envConfig, OTHER_ACCOUNT_ENV } from '../helpers';

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
const DMARC_URI_EXPECTED =
  'a report URI like "mailto:dmarc@example.com" or "mailto:dmarc@example.com!10m" (RFC 7489 §6.4: an RFC 3986 URI in ASCII; %-encode "," ";" "!", spaces, <>"\\^`{|} and non-ASCII inside it, like %2C; a mailto domain in letters of any script is taken in its punycode form)';

describe('environment config validation', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['account', { account: '1234' }, `${at('account')}got "1234", expected a 12-digit AWS account id`],
    [
      'missing account',
      { account: undefined },
      `${at('account')}nothing (the field is required), expected a 12-digit AWS account id`,
    ],
    [
      // It is all digits: "expected a 12-digit AWS account id" alone would leave the user puzzled.
      'account as a JSON number',
      { account: 123456789012 },
      `${at('account')}got 123456789012, expected a 12-digit AWS account id as a string, in quotes: "123456789012" (a JSON number would lose an id's leading zeros)`,
    ],
    [
      'account grouped with dashes',
      { account: '1234-5678-9012' },
      `${at('account')}got "1234-5678-9012", expected a 12-digit AWS account id: the 12 digits alone, "123456789012"`,
    ],
    [
      'region format',
      { region: 'Ireland' },
      `${at('region')}got "Ireland", expected an AWS Region like "eu-west-1"`,
    ],
    [
      'domain',
      { domain: 'bücher..example' },
      `${at('domain')}got "bücher..example", expected a domain name like "example.com" or "bücher.example" (letters, digits and "-" per label; a non-ASCII name is taken in its punycode form, "xn--...")`,
    ],
    [
      'dns mode',
      { dns: { mode: 'cloudflare' } },
      `${at('dns.mode')}got "cloudflare", expected an object with "mode": "route53" (plus hostedZoneId and zoneName) or "mode": "manual"`,
    ],
    [
      'zone id',
      { dns: { mode: 'route53', hostedZoneId: 'abc', zoneName: 'example.com' } },
      `${at('dns.hostedZoneId')}got "abc", expected a Route53 hosted zone id like "Z0123456789ABCDEFGHIJ" or "/hostedzone/Z0123456789ABCDEFGHIJ"`,
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
      // A name that ends with the domain's text is not under it: the label boundary counts.
      'from address at a name that only ends like the domain',
      { fromAddress: 'no-reply@badexample.com' },
      `${at('fromAddress')}got "no-reply@badexample.com", expected an address at example.com or one of its subdomains`,
    ],
    [
      'hosted zone that only ends like a parent',
      { dns: { mode: 'route53', hostedZoneId: 'Z0123456789EXAMPLE0AB', zoneName: 'ample.com' } },
      `${at('dns.zoneName')}got "ample.com", expected the hosted zone of example.com: that name or one of its parents`,
    ],
    [
      'from address syntax',
      { fromAddress: 'not-an-address' },
      `${at('fromAddress')}got "not-an-address", expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters)`,
    ],
    [
      'from address with a display name',
      { fromAddress: 'Shop <no-reply@example.com>' },
      `${at('fromAddress')}got "Shop <no-reply@example.com>", expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters): the address alone, "no-reply@example.com" (a display name goes in the app's mailer)`,
    ],
    [
      'from address with a non-ASCII local part (SES has no SMTPUTF8)',
      { fromAddress: 'jöe@example.com' },
      `${at('fromAddress')}got "jöe@example.com", expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters): a local part in ASCII (SES takes no international characters before the "@")`,
    ],
    [
      'mail from label',
      { mailFrom: { subdomain: 'a.b' } },
      `${at('mailFrom.subdomain')}got "a.b", expected one DNS label like "mail" (letters, digits, "-")`,
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
      `${at('dmarc.aggregateReportUris[0]')}got "dmarc@example.com", expected ${DMARC_URI_EXPECTED}: an address with its scheme, "mailto:dmarc@example.com"`,
    ],
    [
      'dmarc alignment',
      { dmarc: { dkimAlignment: 's' } },
      `${at('dmarc.dkimAlignment')}got "s", expected one of: "relaxed", "strict"`,
    ],
    [
      'both alignments strict with a sender at a subdomain',
      { fromAddress: 'no-reply@app.example.com', dmarc: { dkimAlignment: 'strict', spfAlignment: 'strict' } },
      `${at('dmarc.spfAlignment')}got "strict", expected "relaxed" (or dkimAlignment "relaxed"), or only senders at example.com itself: with both alignments strict, mail from no-reply@app.example.com fails DMARC, as SES signs it with d=example.com and its MAIL FROM is mail.example.com`,
    ],
    [
      'both alignments strict with a listed sender at a subdomain',
      {
        credentials: { allowedFromAddresses: ['*@example.com', '*@*.example.com'] },
        dmarc: { dkimAlignment: 'strict', spfAlignment: 'strict' },
      },
      `${at('dmarc.spfAlignment')}got "strict", expected "relaxed" (or dkimAlignment "relaxed"), or only senders at example.com itself: with both alignments strict, mail from *@*.example.com fails DMARC, as SES signs it with d=example.com and its MAIL FROM is mail.example.com`,
    ],
    [
      'dmarc failure report option',
      { dmarc: { failureReportOptions: ['1', 'x'] } },
      `${at('dmarc.failureReportOptions[1]')}got "x", expected one of "0" (all of DKIM and SPF failed), "1" (any failed), "d" (DKIM failed), "s" (SPF failed)`,
    ],
    [
      'dmarc failure report options empty',
      { dmarc: { failureReportOptions: [] } },
      `${at('dmarc.failureReportOptions')}got [], expected at least one option, or no "failureReportOptions" field (receivers then take "0")`,
    ],
    [
      'dmarc enabled',
      { dmarc: { enabled: 'yes' } },
      `${at('dmarc.enabled')}got "yes", expected true or false`,
    ],
    [
      'unknown field',
      { dmarcc: {} },
      `${at('dmarcc')}got unknown field with value {}, expected a known field (one of: account, region, domain, dns, fromAddress, mailFrom, dmarc, apexSpf, verifiedEmailAddresses, credentials, feedback, alarms, health, tags, removalPolicy, terminationProtection, github, acknowledgedWarnings)`,
    ],
    [
      'unknown nested field',
      { dmarc: { polcy: 'reject' } },
      `${at('dmarc.polcy')}got unknown field with value "reject", expected a known field (one of: enabled, policy, subdomainPolicy, percentage, aggregateReportUris, forensicReportUris, failureReportOptions, dkimAlignment, spfAlignment)`,
    ],
    [
      'spf mechanism',
      { apexSpf: { enabled: true, otherMechanisms: ['includ:x'] } },
      `${at('apexSpf.otherMechanisms[0]')}got "includ:x", expected an SPF mechanism (all, include, a, mx, ptr, ip4, ip6, exists) or modifier (name=value), like "include:_spf.google.com", "ip4:192.0.2.0/24", "a/24//64" or "exists:%{i}._spf.%{d}"`,
    ],
    [
      'second spf record',
      { apexSpf: { otherTxtValues: ['v=spf1 -all'] } },
      `${at('apexSpf.otherTxtValues[0]')}got "v=spf1 -all", expected a non-SPF value: put SPF mechanisms in "apexSpf.otherMechanisms", the stack writes the one SPF record`,
    ],
    [
      // Pasted from a zone file, in its quotes: still an SPF record (a second one is a permerror).
      'quoted SPF record in otherTxtValues',
      { apexSpf: { otherTxtValues: ['"v=spf1 include:_spf.google.com ~all"'] } },
      `${at('apexSpf.otherTxtValues[0]')}got "\\"v=spf1 include:_spf.google.com ~all\\"", expected a non-SPF value: put SPF mechanisms in "apexSpf.otherMechanisms", the stack writes the one SPF record`,
    ],
    [
      'non-ASCII TXT value',
      { apexSpf: { otherTxtValues: ['ünïcode'] } },
      `${at('apexSpf.otherTxtValues[0]')}got "ünïcode", expected a TXT value of printable ASCII characters (letters, digits, space and punctuation), like "google-site-verification=abc123"`,
    ],
    [
      'TXT value with a control character',
      { apexSpf: { otherTxtValues: ['a\tb'] } },
      `${at('apexSpf.otherTxtValues[0]')}got "a\\tb", expected a TXT value of printable ASCII characters (letters, digits, space and punctuation), like "google-site-verification=abc123"`,
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
      `${at('verifiedEmailAddresses[0]')}got "dev", expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters)`,
    ],
    [
      'rotation days',
      { credentials: { rotationDays: 1 } },
      `${at('credentials.rotationDays')}got 1, expected a whole number of days from 2 to 1000 (Secrets Manager may run two daily rotations minutes apart, and the second would delete the key the first replaced while apps still hold it)`,
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
      'quota levels order',
      { health: { quotaPercent: { warning: 95, critical: 80 } } },
      `${at('health.quotaPercent.warning')}got 95, expected a warning level below the critical level (80)`,
    ],
    [
      'quota past the whole quota',
      { health: { quotaPercent: { warning: 80, critical: 101 } } },
      `${at('health.quotaPercent.critical')}got 101, expected a number <= 100`,
    ],
    [
      'alarm email',
      { alarms: { emails: ['ops'] } },
      `${at('alarms.emails[0]')}got "ops", expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters)`,
    ],
    [
      'webhook',
      { feedback: { webhookUrl: 'http://app.example.com/ses' } },
      `${at('feedback.webhookUrl')}got "http://app.example.com/ses", expected an https:// URL whose host is a domain name or an IP address (a port, if any, from 1 to 65535), like "https://app.example.com/ses"`,
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

  test.each<[string, Record<string, unknown>]>([
    [
      'both strict, senders at the domain itself',
      { dmarc: { dkimAlignment: 'strict', spfAlignment: 'strict' } },
    ],
    [
      'DKIM strict, a subdomain sender (SPF aligns relaxed)',
      { fromAddress: 'no-reply@app.example.com', dmarc: { dkimAlignment: 'strict' } },
    ],
    [
      'SPF strict, a subdomain sender (DKIM aligns relaxed)',
      { fromAddress: 'no-reply@app.example.com', dmarc: { spfAlignment: 'strict' } },
    ],
    [
      'both strict, a subdomain sender, DMARC managed elsewhere',
      {
        fromAddress: 'no-reply@app.example.com',
        dmarc: { enabled: false, dkimAlignment: 'strict', spfAlignment: 'strict' },
      },
    ],
  ])('alignment that lets the senders pass DMARC is taken: %s', (_name, env) => {
    expect(() => parseConfig({ environments: { prod: { ...BASE_ENV, ...env } } }, FILE)).not.toThrow();
  });

  test('every bad value gets its own single line', () => {
    const problems = problemsOf({ account: 'x', dmarc: { policy: 'block' } });
    expect(problems).toHaveLength(2);
    problems.forEach((p) => expect(p).not.toContain('\n'));
  });

  test("no environment sends from another's MAIL FROM domain, in any account or Region", () => {
    // example.com's default MAIL FROM domain is mail.example.com, a common sending domain too.
    const staging = {
      ...OTHER_ACCOUNT_ENV,
      region: 'us-east-1',
      domain: 'mail.example.com',
      fromAddress: 'no-reply@mail.example.com',
      dns: BASE_ENV.dns,
      credentials: { allowedFromAddresses: ['no-reply@mail.example.com', '*@app.mail.example.com'] },
    };
    const problems = (() => {
      try {
        parseConfig({ environments: { production: BASE_ENV, staging } }, FILE);
      } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
      }
      throw new Error('expected a ConfigError');
    })();
    const expected = `expected an address outside mail.example.com, the MAIL FROM domain of environment "production" (its MX is SES's feedback endpoint, so replies and forwarded bounces to this address never arrive; SES says a MAIL FROM domain must not receive mail): use another subdomain, or give "production" another mailFrom.subdomain like "bounce"`;
    expect(problems).toEqual([
      `${FILE}: environment "staging", field "fromAddress": got "no-reply@mail.example.com", ${expected}`,
      `${FILE}: environment "staging", field "credentials.allowedFromAddresses[0]": got "no-reply@mail.example.com", ${expected}`,
    ]);
    // Another MAIL FROM label for production frees mail.example.com.
    const production = { ...BASE_ENV, mailFrom: { subdomain: 'bounce' } };
    expect(() => parseConfig({ environments: { production, staging } }, FILE)).not.toThrow();
  });

  // The same domain in two Regions shares one MAIL FROM domain: a sender there is refused once,
  // by the environment's own check, not again as the other environment's.
  test("a sender at its own MAIL FROM domain, shared with another environment's, is one problem", () => {
    const us = {
      ...BASE_ENV,
      region: 'us-east-1',
      fromAddress: 'no-reply@mail.example.com',
      dns: { mode: 'manual' },
    };
    let problems: string[] = [];
    try {
      parseConfig({ environments: { eu: { ...BASE_ENV, dns: { mode: 'manual' } }, us } }, FILE);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems = e.problems;
    }
    expect(problems.filter((p) => p.includes('field "fromAddress"'))).toEqual([
      expect.stringContaining('expected an address outside the MAIL FROM domain mail.example.com (SES takes'),
    ]);
  });

  test('two environments of one account and Region may not both verify one address', () => {
    const a = { ...BASE_ENV, verifiedEmailAddresses: ['qa@example.org'] };
    const b = {
      ...BASE_ENV,
      domain: 'mail2.example.com',
      fromAddress: 'no-reply@mail2.example.com',
      verifiedEmailAddresses: ['dev@example.org', 'qa@EXAMPLE.org'],
    };
    expect(() => parseConfig({ environments: { a, b } }, FILE)).toThrow(
      `${FILE}: environment "b", field "verifiedEmailAddresses[1]": got "qa@EXAMPLE.org", expected an address not already verified by environment "a" in the same account and Region (SES holds one identity per address there, and it serves every environment of them): list it in "a" only`,
    );
    // SES tells address identities apart by the local part's case: "QA@" is another identity.
    const otherCase = { ...b, verifiedEmailAddresses: ['QA@example.org'] };
    expect(() => parseConfig({ environments: { a, b: otherCase } }, FILE)).not.toThrow();
    // In another Region, or another account, it is another identity.
    expect(() =>
      parseConfig(
        { environments: { a, b: { ...b, region: 'us-east-1', mailFrom: { subdomain: 'mail-us' } } } },
        FILE,
      ),
    ).not.toThrow();
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
      `${FILE}: field "envs": got unknown field with value {}, expected a known field (one of: $schema, additionalSmtpRegions, github, environments)`,
    ],
    [
      { environments: { Prod: BASE_ENV } },
      `${FILE}: field "environments": got the name "Prod", expected an environment name: 1 to 31 of a-z, 0-9 and "-", starting with a letter`,
    ],
    [
      { environments: { ['p'.repeat(32)]: BASE_ENV } },
      `${FILE}: field "environments": got the name "${'p'.repeat(32)}", expected an environment name: 1 to 31 of a-z, 0-9 and "-", starting with a letter`,
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
    expect(env.credentials.previousKeyQuietDays).toBe(7);
    expect(env.alarms.bounceRatePercent).toEqual({ warning: 2, critical: 5 });
    expect(env.alarms.complaintRatePercent).toEqual({ warning: 0.05, critical: 0.1 });
    expect(env.removalPolicy).toBe('retain');
  });

  test('the quiet period does not depend on the rotation interval (the rotation caps its hold)', () => {
    expect(envConfig({ credentials: { rotationDays: 2 } }).credentials.previousKeyQuietDays).toBe(7);
    expect(
      envConfig({ credentials: { rotationDays: 2, previousKeyQuietDays: 30 } }).credentials
        .previousKeyQuietDays,
    ).toBe(30);
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
      JSON.stringify({
        environments: {
          a: BASE_ENV,
          b: {
            ...BASE_ENV,
            region: 'us-east-1',
            dns: { mode: 'manual' },
            mailFrom: { subdomain: 'mail-us' },
          },
        },
      }),
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
      /nope\.json: cannot read the environments file \(no such file\); create it .* or pass -c config=PATH$/,
    );
    expect(() => loadConfig(write('bad.json', '{"environments": '))).toThrow(
      /bad\.json: not valid JSON \(.*\); fix the syntax$/,
    );
  });

  test('an unreadable path says why, and how the caller passes another one', () => {
    expect(() => loadConfig(dir)).toThrow(
      new ConfigError([
        `${dir}: cannot read the environments file (a directory, not a file); create it (see README "Configuration") or pass -c config=PATH`,
      ]),
    );
    expect(() => loadConfig('')).toThrow(
      new ConfigError([
        '(empty path): cannot read the environments file (no such file); create it (see README "Configuration") or pass -c config=PATH',
      ]),
    );
    expect(() => loadConfig(dir, undefined, '--config PATH')).toThrow(
      /^[^\n]*: cannot read the environments file \(a directory, not a file\); create it \(see README "Configuration"\) or pass --config PATH$/,
    );
  });

  // One line whatever the path holds; an escape sequence would reach the terminal.
  test('a path with a line break or an escape is quoted in the message', () => {
    const missing = path.join(dir, 'no\nsuch.json');
    expect(() => loadConfig(missing)).toThrow(
      new ConfigError([
        `${JSON.stringify(missing)}: cannot read the environments file (no such file); create it (see README "Configuration") or pass -c config=PATH`,
      ]),
    );
    const broken = write('bad\u001b[2J.json', '{"environments": ');
    expect(() => loadConfig(broken)).toThrow(`${JSON.stringify(broken)}: not valid JSON`);
    expect(JSON.stringify(broken)).toContain('bad\\u001b[2J.json');
    const invalid = write(
      'bad\nvalue.json',
      JSON.stringify({ environments: { a: { ...BASE_ENV, region: 'x' } } }),
    );
    const [problem] = (() => {
      try {
        loadConfig(invalid);
      } catch (e) {
        return (e as ConfigError).problems;
      }
      throw new Error('loadConfig took a file with a bad region');
    })();
    expect(problem.startsWith(`${JSON.stringify(invalid)}: `)).toBe(true);
  });

  // JSON.parse keeps it as a member; zod's records (environments, tags) would drop it unseen.
  test('a member named "__proto__" is one line, not an environment or a tag silently lost', () => {
    const env = JSON.stringify({ ...BASE_ENV, tags: {} }).replace(
      '"tags":{}',
      '"tags":{"__proto__":"x","p":"q"}',
    );
    const file = write('proto.json', `{"environments":{"__proto__":${env},"prod":${env}}}`);
    const problem = (at: string) =>
      `${file}: ${at}: got the name "__proto__", expected another name: JavaScript drops a "__proto__" key when it reads the settings, so the entry would be lost; rename it`;
    expect(() => loadConfig(file)).toThrow(
      new ConfigError([
        problem('environment "__proto__", field "(whole environment)"'),
        problem('environment "prod", field "tags.__proto__"'),
        problem('environment "__proto__", field "tags.__proto__"'),
      ]),
    );
  });

  // JSON.parse reads it as Infinity, which JSON.stringify would show as null.
  test('a number too large for JSON parsers is shown as such, not as null', () => {
    const env = JSON.stringify({ ...BASE_ENV, credentials: { rotationDays: 0 } }).replace(
      '"rotationDays":0',
      '"rotationDays":1e400',
    );
    const file = write('huge.json', `{"environments":{"prod":${env}}}`);
    expect(() => loadConfig(file)).toThrow(
      /field "credentials\.rotationDays": got Infinity \(a number beyond 1\.8e308, more than JSON parsers hold\), expected a number$/,
    );
  });

  test('keeps the environments in file order', () => {
    const file = 'test/fixtures/config/three-environments.json';
    const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(loadConfig(file).environments.map((e) => e.name)).toEqual(Object.keys(raw.environments));
  });
});

const valid = (env: Record<string, unknown>) => expect(problemsOf2(env)).toEqual([]);

/** The problems of a whole file, or [] when it is valid. */
function fileProblems(raw: unknown): string[] {
  try {
    parseConfig(raw, FILE);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

/** The problems of one environment over BASE_ENV, [] when valid. */
function problemsOf2(env: Record<string, unknown>): string[] {
  return fileProblems({ environments: { prod: { ...BASE_ENV, ...env } } });
}

// One rule for the list's repeats and for the check across environments: it never says "list it
// in this environment only" of an environment's own two entries.
test("two addresses of one environment that differ in the local part's case are two identities", () => {
  valid({ verifiedEmailAddresses: ['Dev+Test@Example.com', 'dev+test@example.com'] });
});

describe('a list entry given twice is one line at the repeat', () => {
  test.each<[string, Record<string, unknown>, string, string]>([
    [
      'verifiedEmailAddresses',
      { verifiedEmailAddresses: ['a@example.org', 'b@example.org', 'a@EXAMPLE.org'] },
      'verifiedEmailAddresses[2]',
      '"a@EXAMPLE.org"',
    ],
    [
      'alarms.emails',
      { alarms: { emails: ['ops@example.com', 'ops@example.com'] } },
      'alarms.emails[1]',
      '"ops@example.com"',
    ],
    [
      'credentials.allowedFromAddresses',
      { credentials: { allowedFromAddresses: ['*@example.com', '*@example.com'] } },
      'credentials.allowedFromAddresses[1]',
      '"*@example.com"',
    ],
    [
      'dmarc.aggregateReportUris',
      { dmarc: { aggregateReportUris: ['mailto:d@example.com', 'MAILTO:d@example.com'] } },
      'dmarc.aggregateReportUris[1]',
      '"MAILTO:d@example.com"',
    ],
    [
      'dmarc.aggregateReportUris, a mailto domain in another case',
      { dmarc: { aggregateReportUris: ['mailto:d@Example.COM!10m', 'mailto:d@example.com!10m'] } },
      'dmarc.aggregateReportUris[1]',
      '"mailto:d@example.com!10m"',
    ],
    [
      'dmarc.aggregateReportUris, an https host in another case',
      {
        dmarc: {
          aggregateReportUris: ['https://Reports.example.com/rua', 'HTTPS://reports.example.com/rua'],
        },
      },
      'dmarc.aggregateReportUris[1]',
      '"HTTPS://reports.example.com/rua"',
    ],
    [
      'dmarc.aggregateReportUris, a size unit in another case',
      { dmarc: { aggregateReportUris: ['mailto:rua@example.com!10m', 'mailto:rua@example.com!10M'] } },
      'dmarc.aggregateReportUris[1]',
      '"mailto:rua@example.com!10M"',
    ],
    [
      'dmarc.forensicReportUris',
      { dmarc: { forensicReportUris: ['mailto:f@example.com', 'mailto:f@example.com'] } },
      'dmarc.forensicReportUris[1]',
      '"mailto:f@example.com"',
    ],
    [
      'dmarc.failureReportOptions',
      { dmarc: { failureReportOptions: ['1', 'd', '1'] } },
      'dmarc.failureReportOptions[2]',
      '"1"',
    ],
    [
      'apexSpf.otherMechanisms',
      { apexSpf: { otherMechanisms: ['include:_spf.google.com', 'Include:_spf.google.com'] } },
      'apexSpf.otherMechanisms[1]',
      '"Include:_spf.google.com"',
    ],
    [
      'apexSpf.otherTxtValues',
      { apexSpf: { otherTxtValues: ['google-site-verification=x', 'google-site-verification=x'] } },
      'apexSpf.otherTxtValues[1]',
      '"google-site-verification=x"',
    ],
    [
      'feedback.additionalEvents',
      { feedback: { additionalEvents: ['REJECT', 'REJECT'] } },
      'feedback.additionalEvents[1]',
      '"REJECT"',
    ],
  ])('%s', (_name, env, field, value) => {
    expect(problemsOf2(env)).toEqual([
      `${at(field)}got ${value}, expected each entry once (the same as entry [0]); remove the repeat`,
    ]);
  });

  test.each([
    ['mailto:Rua@example.com', 'mailto:rua@example.com'],
    ['https://reports.example.com/Rua', 'https://reports.example.com/rua'],
    ['https://User@reports.example.com/rua', 'https://user@reports.example.com/rua'],
  ])('%s and %s are two report destinations (a local part and a path may be case-sensitive)', (a, b) => {
    valid({ dmarc: { aggregateReportUris: [a, b], forensicReportUris: [a, b] } });
  });

  test('additionalSmtpRegions (top level)', () => {
    expect(
      fileProblems({ additionalSmtpRegions: ['us-west-9', 'us-west-9'], environments: { prod: BASE_ENV } }),
    ).toEqual([
      `${FILE}: field "additionalSmtpRegions[1]": got "us-west-9", expected each entry once (the same as entry [0]); remove the repeat`,
    ]);
  });

  test('the same address twice synthesizes no stack trace: the loader stops it first', () => {
    expect(() => envConfig({ verifiedEmailAddresses: ['dev@example.org', 'dev@example.org'] })).toThrow(
      ConfigError,
    );
  });
});

describe('tags follow the AWS tag rules', () => {
  test.each(['aws:cost-center', 'AWS:team', 'Aws:x', 'aWs:'])(
    'a key starting with "aws:" in any case: %s',
    (key) => {
      expect(problemsOf2({ tags: { [key]: 'x' } })).toEqual([
        `${at('tags')}got the name ${JSON.stringify(key)}, expected a tag key that does not start with "aws:" (AWS reserves that prefix in any letter case)`,
      ]);
    },
  );

  test.each([
    ['awsome', 'ok'],
    ['team:aws:thing', 'ok'],
    ['Kostenstelle Ü', 'München'],
    ['a'.repeat(128), 'v'.repeat(256)],
    ['cost-center', ''],
    ['k_.:/=+-@', 'v_.:/=+-@'],
  ])('valid tag %s = %s', (key, value) => valid({ tags: { [key]: value } }));

  test.each<[string, Record<string, string>, string]>([
    [
      'key of 129 characters',
      { ['a'.repeat(129)]: 'x' },
      `got the name ${formatted('a'.repeat(129))}, expected a tag key of 1-128 letters, digits, spaces and _ . : / = + - @`,
    ],
    [
      'key with "#"',
      { 'cost#center': 'x' },
      'got the name "cost#center", expected a tag key of 1-128 letters, digits, spaces and _ . : / = + - @',
    ],
    [
      'empty key',
      { '': 'x' },
      'got the name "", expected a tag key of 1-128 letters, digits, spaces and _ . : / = + - @',
    ],
    [
      "the stack's own key",
      { 'ses-smtp:environment': 'x' },
      'got the name "ses-smtp:environment", expected a tag key other than "ses-smtp:environment" in any letter case (the stack sets it to the environment name; IAM compares tag keys case-insensitively)',
    ],
    [
      "the stack's own key in another letter case",
      { 'SES-SMTP:Environment': 'x' },
      'got the name "SES-SMTP:Environment", expected a tag key other than "ses-smtp:environment" in any letter case (the stack sets it to the environment name; IAM compares tag keys case-insensitively)',
    ],
    [
      'key equal to another ignoring letter case',
      { Team: 'a', cost: 'b', team: 'c' },
      'got the name "team", expected a tag key that differs from "Team" in more than letter case (IAM compares tag keys case-insensitively); remove or rename one',
    ],
  ])('refuses a %s', (_name, tags, expected) => {
    expect(problemsOf2({ tags })).toEqual([`${at('tags')}${expected}`]);
  });

  test('keys equal ignoring letter case: one line per repeat, each naming the first key', () => {
    expect(problemsOf2({ tags: { Team: 'a', team: 'b', TEAM: 'c' } })).toEqual(
      ['team', 'TEAM'].map(
        (key) =>
          `${at('tags')}got the name "${key}", expected a tag key that differs from "Team" in more than letter case (IAM compares tag keys case-insensitively); remove or rename one`,
      ),
    );
  });

  test('refuses a value of 257 characters, and one with a comma', () => {
    expect(problemsOf2({ tags: { a: 'v'.repeat(257), b: 'x,y' } })).toEqual([
      `${at('tags.a')}got ${formatted('v'.repeat(257))}, expected a tag value of at most 256 letters, digits, spaces and _ . : / = + - @`,
      `${at('tags.b')}got "x,y", expected a tag value of at most 256 letters, digits, spaces and _ . : / = + - @`,
    ]);
  });

  test.each([
    [49, true],
    [50, false],
  ])("%i tags: accepted = %s (50 per resource, one is the stack's)", (count, ok) => {
    const tags = Object.fromEntries(Array.from({ length: count }, (_, i) => [`t${i}`, 'x']));
    const problems = problemsOf2({ tags });
    expect(problems).toEqual(
      ok
        ? []
        : [
            expect.stringMatching(
              /field "tags": got \{.*, expected at most 49 tags \(AWS allows 50 per resource; the stack adds "ses-smtp:environment"\)$/,
            ),
          ],
    );
  });
});

describe('hosted zone ids', () => {
  test.each([
    ['/hostedzone/Z0123456789EXAMPLE0AB', 'Z0123456789EXAMPLE0AB'],
    ['Z0123456789EXAMPLE0AB', 'Z0123456789EXAMPLE0AB'],
    [`Z${'A'.repeat(31)}`, `Z${'A'.repeat(31)}`],
  ])('%s is the zone %s', (given, id) => {
    const env = envConfig({ dns: { mode: 'route53', hostedZoneId: given, zoneName: 'example.com' } });
    expect(env.dns.mode === 'route53' && env.dns.hostedZoneId).toBe(id);
  });

  test.each([
    `Z${'A'.repeat(32)}`,
    'z0123456789example0ab',
    '/hostedzone/',
    'hostedzone/Z01',
    '/change/C123',
  ])('refuses %s', (id) => {
    expect(problemsOf2({ dns: { mode: 'route53', hostedZoneId: id, zoneName: 'example.com' } })).toEqual([
      `${at('dns.hostedZoneId')}got ${JSON.stringify(id)}, expected a Route53 hosted zone id like "Z0123456789ABCDEFGHIJ" or "/hostedzone/Z0123456789ABCDEFGHIJ"`,
    ]);
  });
});

describe('two environments that write the same names into one hosted zone', () => {
  const eu = { ...BASE_ENV, region: 'eu-west-1' };
  const us = { ...BASE_ENV, region: 'us-east-1' };

  test('the same domain in two Regions: one line naming both fixes', () => {
    expect(fileProblems({ environments: { eu, us } })).toEqual([
      `${FILE}: environment "us", field "mailFrom.subdomain": got "mail", expected records that environment "eu" does not also write into hosted zone Z0123456789EXAMPLE0AB; both write mail.example.com (MX, TXT), _dmarc.example.com (TXT): give one of them another mailFrom.subdomain (like "mail-eu") and set dmarc.enabled to false in one of them (a name holds one DMARC record)`,
    ]);
  });

  test.each<[string, Record<string, unknown>]>([
    [
      'another MAIL FROM label and DMARC written once',
      { mailFrom: { subdomain: 'mail-us' }, dmarc: { enabled: false } },
    ],
    [
      'manual DNS in the same Region of another account: the same values, published once',
      { region: 'eu-west-1', account: '210987654321', dns: { mode: 'manual' } },
    ],
    [
      'manual DNS and another MAIL FROM label (one DMARC record, the same policy)',
      { mailFrom: { subdomain: 'mail-us' }, dns: { mode: 'manual' } },
    ],
  ])('no collision with %s', (_name, change) => {
    expect(fileProblems({ environments: { eu, us: { ...us, ...change } } })).toEqual([]);
  });

  // DNS names are global: the MX of mail.example.com names one Region's feedback endpoint, whether
  // a stack writes it or someone publishes what `ses-smtp dns` prints, in whichever zone.
  test.each<[string, Record<string, unknown>]>([
    ['manual DNS', { dns: { mode: 'manual' } }],
    [
      'another hosted zone of the same name',
      { dns: { mode: 'route53', hostedZoneId: 'Z0OTHERZONE', zoneName: 'example.com' } },
    ],
  ])('the same MAIL FROM name in another Region with %s', (_name, change) => {
    expect(fileProblems({ environments: { eu, us: { ...us, ...change } } })).toEqual([
      `${FILE}: environment "us", field "mailFrom.subdomain": got "mail", expected no record that environment "eu" publishes with other values (DNS holds one record set per name and type, whatever the DNS mode or hosted zone: the one published second replaces the other); both publish mail.example.com (MX): give one of them another mailFrom.subdomain (like "mail-eu")`,
    ]);
  });

  test('another DMARC policy for the same domain, with manual DNS in another account', () => {
    const other = {
      ...eu,
      account: '210987654321',
      dns: { mode: 'manual' },
      dmarc: { policy: 'reject' },
    };
    expect(fileProblems({ environments: { eu, other } })).toEqual([
      `${FILE}: environment "other", field "dmarc.enabled": got true, expected no record that environment "eu" publishes with other values (DNS holds one record set per name and type, whatever the DNS mode or hosted zone: the one published second replaces the other); both publish _dmarc.example.com (TXT): set dmarc.enabled to false in one of them (a name holds one DMARC record)`,
    ]);
  });

  test('the same zone id written as "/hostedzone/..." is the same zone', () => {
    const other = {
      ...us,
      dns: { ...BASE_ENV.dns, hostedZoneId: `/hostedzone/${BASE_ENV.dns.hostedZoneId}` },
    };
    expect(fileProblems({ environments: { eu, us: other } })).toHaveLength(1);
  });

  test("a subdomain's apex TXT set against another environment's MAIL FROM TXT", () => {
    const parent = { ...eu, dmarc: { enabled: false } };
    const child = {
      ...us,
      domain: 'mail.example.com',
      fromAddress: 'no-reply@mail.example.com',
      mailFrom: { subdomain: 'bounce' },
      apexSpf: { enabled: true },
    };
    expect(fileProblems({ environments: { parent, child } })).toEqual([
      // The layout itself puts the child's sender at the parent's MAIL FROM domain.
      expect.stringContaining(
        `environment "child", field "fromAddress": got "no-reply@mail.example.com", expected an address outside mail.example.com, the MAIL FROM domain of environment "parent"`,
      ),
      `${FILE}: environment "child", field "apexSpf.enabled": got true, expected records that environment "parent" does not also write into hosted zone Z0123456789EXAMPLE0AB; both write mail.example.com (TXT): set apexSpf.enabled to false in one of them (a name holds one TXT record set)`,
    ]);
  });
});

describe('alarms.accountAlarms: one owner per account and Region', () => {
  let n = 0;
  const env = (region: string, accountAlarms?: boolean, account = '123456789012') => ({
    ...BASE_ENV,
    account,
    region,
    domain: `d${++n}.example.com`,
    fromAddress: `no-reply@d${n}.example.com`,
    dns: { mode: 'manual' },
    ...(accountAlarms === undefined ? {} : { alarms: { accountAlarms } }),
  });
  const owners = (environments: Record<string, unknown>) =>
    Object.entries(parseConfig({ environments }, FILE).environments).map(([n, e]) => [
      n,
      e.alarms.accountAlarms,
    ]);

  test('unset everywhere: the first listed environment of each account and Region owns them', () => {
    expect(
      owners({
        a: env('eu-west-1'),
        b: env('eu-west-1'),
        c: env('us-east-1'),
        d: env('eu-west-1', undefined, '210987654321'),
      }),
    ).toEqual([
      ['a', true],
      ['b', false],
      ['c', true],
      ['d', true],
    ]);
  });

  test('one set to true owns them; false opts out', () => {
    expect(owners({ a: env('eu-west-1'), b: env('eu-west-1', true) })).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect(owners({ a: env('eu-west-1', false), b: env('eu-west-1') })).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect(owners({ a: env('eu-west-1', false) })).toEqual([['a', false]]);
  });

  test('two set to true in one account and Region: one line', () => {
    expect(fileProblems({ environments: { a: env('eu-west-1', true), b: env('eu-west-1', true) } })).toEqual([
      `${FILE}: environment "b", field "alarms.accountAlarms": got true, expected false or no value: environment "a" already creates the account-level reputation alarms of account 123456789012 in eu-west-1 (two would send every alert twice)`,
    ]);
  });

  // The account's quota, send-rate and send anomaly alarms live in the owner's health checks.
  const unchecked = (e: Record<string, unknown>) => ({ ...e, health: { enabled: false } });

  test('unset: the first listed environment whose health checks are on owns them', () => {
    expect(owners({ a: unchecked(env('eu-west-1')), b: env('eu-west-1'), c: env('eu-west-1') })).toEqual([
      ['a', false],
      ['b', true],
      ['c', false],
    ]);
    // None has health checks: the first listed, as before (the rate alarms need none).
    expect(owners({ a: unchecked(env('eu-west-1')), b: unchecked(env('eu-west-1')) })).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  test('set to true where health checks are off while another has them: one line', () => {
    expect(
      fileProblems({ environments: { a: unchecked(env('eu-west-1', true)), b: env('eu-west-1') } }),
    ).toEqual([
      `${FILE}: environment "a", field "alarms.accountAlarms": got true, expected an environment with health checks: this one has health.enabled false, so account 123456789012 in eu-west-1 would have no quota, send-rate or send anomaly alarm (they live in the owner's health checks); set it on "b" instead, or turn health checks on here`,
    ]);
    // Alone in its account and Region, or beside others without checks, or beside one that opted
    // out: no environment that may own them has them.
    expect(
      fileProblems({ environments: { a: unchecked(env('eu-west-1', true)), b: env('us-east-1') } }),
    ).toEqual([]);
    expect(
      fileProblems({ environments: { a: unchecked(env('eu-west-1', true)), b: env('eu-west-1', false) } }),
    ).toEqual([]);
  });

  test('two set to true, the first without health checks: one line, on the first', () => {
    expect(
      fileProblems({ environments: { a: unchecked(env('eu-west-1', true)), b: env('eu-west-1', true) } }),
    ).toEqual([
      `${FILE}: environment "a", field "alarms.accountAlarms": got true, expected an environment with health checks: this one has health.enabled false, so account 123456789012 in eu-west-1 would have no quota, send-rate or send anomaly alarm (they live in the owner's health checks); set it on "b" instead, or turn health checks on here`,
    ]);
  });

  test('-c env=NAME still sees the whole file: the owner does not move', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-owner-'));
    const file = path.join(dir, 'e.json');
    fs.writeFileSync(file, JSON.stringify({ environments: { a: env('eu-west-1'), b: env('eu-west-1') } }));
    expect(loadConfig(file, 'b').environments[0].config.alarms.accountAlarms).toBe(false);
  });
});

describe('credentials.allowedFromAddresses', () => {
  test.each<[Record<string, unknown>, string[]]>([
    [{}, ['*@example.com']],
    [{ fromAddress: 'no-reply@news.example.com' }, ['*@example.com', '*@news.example.com']],
    [{ fromAddress: 'No-Reply@Example.COM' }, ['*@example.com']],
    [{ fromAddress: '"a@news"@example.com' }, ['*@example.com']],
    [{ credentials: { allowedFromAddresses: ['no-reply@example.com'] } }, ['no-reply@example.com']],
    [
      {
        fromAddress: 'a@example.com',
        credentials: { allowedFromAddresses: ['*@*.example.com', 'a@example.com'] },
      },
      ['*@*.example.com', 'a@example.com'],
    ],
  ])('%j gives %j', (env, expected) => {
    expect(envConfig(env).credentials.allowedFromAddresses).toEqual(expected);
  });

  // IAM compares ses:FromAddress case-sensitively: the sender, its default pattern and the listed
  // entries must spell the domain alike (lower case, as "domain"); a local part may be case-sensitive.
  // The secret holds fromAddress for apps to send from: the SMTP user must be allowed to.
  test.each([
    [['*@example.com'], 'no-reply@example.com', true],
    [['no-reply@example.com'], 'no-reply@example.com', true],
    [['*@*.example.com'], 'no-reply@news.example.com', true],
    [['*@*.example.com'], 'no-reply@a.news.example.com', true],
    [['*@*.example.com'], 'no-reply@example.com', false],
    [['*@example.com'], 'no-reply@news.example.com', false],
    [['billing@example.com'], 'no-reply@example.com', false],
    [['No-Reply@example.com'], 'no-reply@example.com', false], // IAM compares case-sensitively
    // A quoted local part may hold "@" (RFC 5321 §4.1.2): the domain follows the last one.
    [['*@example.com'], '"a@b"@example.com', true],
    [['"a@b"@example.com'], '"a@b"@example.com', true],
  ])('allowedFromAddresses %j and fromAddress %s: valid %s', (allowedFromAddresses, fromAddress, ok) => {
    const problems = problemsOf2({ fromAddress, credentials: { allowedFromAddresses } });
    if (ok) expect(problems).toEqual([]);
    else
      expect(problems).toEqual([
        `config/environments.json: environment "prod", field "fromAddress": got "${fromAddress}", expected an address that credentials.allowedFromAddresses (${allowedFromAddresses.join(', ')}) allows: the SMTP user may send only from those, and apps send from fromAddress by default (the secret holds it); add it to the list or use one of them`,
      ]);
  });

  test('the domain part of fromAddress and of each entry is in lower case, the local part as written', () => {
    const env = envConfig({
      domain: 'staging.example.com',
      fromAddress: 'No-Reply@STAGING.Example.com',
      credentials: { allowedFromAddresses: ['No-Reply@STAGING.Example.com', '*@*.Staging.EXAMPLE.com'] },
    });
    expect([env.fromAddress, env.credentials.allowedFromAddresses]).toEqual([
      'No-Reply@staging.example.com',
      ['No-Reply@staging.example.com', '*@*.staging.example.com'],
    ]);
  });

  test.each([
    ['*@*.other.org', 'an address at example.com or one of its subdomains'],
    [
      '*@*',
      'an email address like "billing@example.com", "*@example.com" (every address there) or "*@*.example.com" (every subdomain)',
    ],
    [
      'x@*.example.com',
      'an email address like "billing@example.com", "*@example.com" (every address there) or "*@*.example.com" (every subdomain)',
    ],
  ])('refuses %s', (entry, expected) => {
    expect(problemsOf2({ credentials: { allowedFromAddresses: [entry] } })).toEqual([
      `${at('credentials.allowedFromAddresses[0]')}got ${JSON.stringify(entry)}, expected ${expected}`,
    ]);
  });
});

describe('no sender at the MAIL FROM domain (SES: not a From domain with feedback forwarding on)', () => {
  const notAt = (domain: string) =>
    `expected an address outside the MAIL FROM domain ${domain} (SES takes bounces there, and refuses it as a From domain while email feedback forwarding is on, as this stack leaves it); use another subdomain, or give mailFrom.subdomain another label like "bounce"`;

  test.each<[Record<string, unknown>, string]>([
    [{ fromAddress: 'no-reply@mail.example.com' }, 'mail.example.com'],
    [{ fromAddress: 'no-reply@Mail.Example.com' }, 'mail.example.com'],
    [{ fromAddress: 'no-reply@bounce.example.com', mailFrom: { subdomain: 'Bounce' } }, 'bounce.example.com'],
  ])('fromAddress %j', (env, domain) => {
    expect(problemsOf2(env)).toEqual([
      `${at('fromAddress')}got ${JSON.stringify(`no-reply@${domain}`)}, ${notAt(domain)}`,
    ]);
  });

  test('credentials.allowedFromAddresses: an address or every address there', () => {
    const allowedFromAddresses = ['a@example.com', 'b@mail.example.com', '*@MAIL.example.com'];
    expect(problemsOf2({ credentials: { allowedFromAddresses } })).toEqual([
      `${at('credentials.allowedFromAddresses[1]')}got "b@mail.example.com", ${notAt('mail.example.com')}`,
      `${at('credentials.allowedFromAddresses[2]')}got "*@mail.example.com", ${notAt('mail.example.com')}`,
    ]);
  });

  test.each<Record<string, unknown>>([
    { fromAddress: 'no-reply@mail.example.com', mailFrom: { subdomain: 'bounce' } },
    { fromAddress: 'no-reply@news.mail.example.com' },
    {
      fromAddress: 'no-reply@news.example.com',
      credentials: { allowedFromAddresses: ['*@*.example.com', '*@*.mail.example.com'] },
    },
  ])('a sender elsewhere, or at a name under the MAIL FROM domain (its own domain), is valid: %j', (env) =>
    valid(env),
  );
});

test('the whole 24-hour quota is a valid critical quota level', () => {
  valid({ health: { quotaPercent: { warning: 99.5, critical: 100 } } });
});

describe('health schedules: EventBridge rate expressions take a singular unit for 1, a plural above', () => {
  test.each([
    'rate(1 minute)',
    'rate(1 hour)',
    'rate(1 day)',
    'rate(2 minutes)',
    'rate(6 hours)',
    'rate(10 days)',
    'rate(365 days)',
    'cron(0 6 * * ? *)',
  ])('accepts %s', (schedule) => valid({ health: { schedule, quotaSchedule: schedule } }));

  const unit = (right: string, singular: string) =>
    `expected "${right}": EventBridge takes the unit in the singular for 1 and in the plural above 1, like "rate(1 ${singular})" or "rate(2 ${singular}s)"`;
  test.each([
    ['rate(1 days)', unit('rate(1 day)', 'day')],
    ['rate(1 hours)', unit('rate(1 hour)', 'hour')],
    ['rate(2 day)', unit('rate(2 days)', 'day')],
    ['rate(15 minute)', unit('rate(15 minutes)', 'minute')],
    ['rate(0 days)', 'expected a rate of at least 1, like "rate(1 day)"'],
    ['rate(0 minute)', 'expected a rate of at least 1, like "rate(1 minute)"'],
    [
      'every day',
      'expected an EventBridge schedule expression like "rate(1 day)", "rate(6 hours)" or "cron(0 6 * * ? *)"',
    ],
  ])('refuses %s, saying the fix', (schedule, expected) => {
    expect(problemsOf2({ health: { schedule, quotaSchedule: schedule } })).toEqual([
      `${at('health.schedule')}got ${JSON.stringify(schedule)}, ${expected}`,
      `${at('health.quotaSchedule')}got ${JSON.stringify(schedule)}, ${expected}`,
    ]);
  });
});

describe('health schedules: EventBridge cron expressions, field by field, "?" in one day field', () => {
  test.each([
    'cron(0 6 * * ? *)',
    'cron(0 6 ? * * *)',
    'cron(0/15 8-17 ? * MON-FRI *)',
    'cron(*/5 * ? jan-mar mon,wed,fri *)',
    'cron(0 6 1,15 JAN,JUL ? 2026/2)',
    'cron(59 23 31 12 ? 2199)',
    'cron(0 0 1 1 ? 1970-1980)',
    'cron(0 6 L * ? *)',
    'cron(0 6 L-3 * ? *)',
    'cron(0 6 LW * ? *)',
    'cron(0 6 15W * ? *)',
    'cron(0 6 ? * L *)',
    'cron(0 6 ? * 6L *)',
    'cron(0 6 ? * 3#2 *)',
    'cron(0 6 ? * MON#1 *)',
    'cron(0 6 1-7/2 * ? *)',
  ])('accepts %s', (schedule) => valid({ health: { schedule, quotaSchedule: schedule } }));

  const example = 'like "cron(0 6 * * ? *)" (06:00 UTC daily) or "cron(0/15 8-17 ? * MON-FRI *)"';
  const field = (name: string, takes: string, got: string) =>
    `an EventBridge cron whose ${name} field takes ${takes} (not "${got}"), ${example}`;
  const oneQuestionMark = `an EventBridge cron with "?" in exactly one of day-of-month and day-of-week (the other says which days), ${example}`;
  test.each([
    ['cron(0 6 * * * *)', oneQuestionMark],
    ['cron(0 6 ? * ? *)', oneQuestionMark],
    ['cron(0 6 1 * MON *)', oneQuestionMark],
    [
      'cron(0 6 * * ?)',
      `an EventBridge cron of six fields (minutes hours day-of-month month day-of-week year), ${example}`,
    ],
    ['cron(60 6 * * ? *)', field('minutes', '0-59 and the wildcards , - * /', '60')],
    ['cron(0 ? * * ? *)', field('hours', '0-23 and the wildcards , - * /', '?')],
    ['cron(0 6 32W * ? *)', field('day-of-month', '1-31 and the wildcards , - * ? / L W', '32W')],
    ['cron(0 6 0 * ? *)', field('day-of-month', '1-31 and the wildcards , - * ? / L W', '0')],
    ['cron(0 6 * 13 ? *)', field('month', '1-12 or JAN-DEC and the wildcards , - * /', '13')],
    ['cron(0 6 ? * 8 *)', field('day-of-week', '1-7 or SUN-SAT and the wildcards , - * ? L #', '8')],
    [
      'cron(0 6 ? * 3#1,6#3 *)',
      field('day-of-week', '1-7 or SUN-SAT and the wildcards , - * ? L #', '3#1,6#3'),
    ],
    ['cron(0 6 ? * 15W *)', field('day-of-week', '1-7 or SUN-SAT and the wildcards , - * ? L #', '15W')],
    ['cron(0 6 * * ? 1969)', field('year', '1970-2199 and the wildcards , - * /', '1969')],
    [
      'cron(0 6 * * ? * *)',
      `an EventBridge cron of six fields (minutes hours day-of-month month day-of-week year), ${example}`,
    ],
    ['cron(0 6 ? * 3#0 *)', field('day-of-week', '1-7 or SUN-SAT and the wildcards , - * ? L #', '3#0')],
    ['cron(0/ 6 * * ? *)', field('minutes', '0-59 and the wildcards , - * /', '0/')],
    // A month has at most five of a weekday; "#" is a day-of-week wildcard only; a range has two ends.
    ['cron(0 6 ? * 3#6 *)', field('day-of-week', '1-7 or SUN-SAT and the wildcards , - * ? L #', '3#6')],
    ['cron(0 6 1#2 * ? *)', field('day-of-month', '1-31 and the wildcards , - * ? / L W', '1#2')],
    ['cron(0 1-2-3 * * ? *)', field('hours', '0-23 and the wildcards , - * /', '1-2-3')],
  ])('refuses %s, saying the rule and an example', (schedule, expected) => {
    expect(problemsOf2({ health: { quotaSchedule: schedule } })).toEqual([
      `${at('health.quotaSchedule')}got ${JSON.stringify(schedule)}, expected ${expected}`,
    ]);
  });
});

describe('email addresses per RFC 5321/5322, as SES takes them', () => {
  test.each([
    'user+tag@example.org',
    "o'brien@example.org",
    '"john doe"@example.org',
    '"a\\"b"@example.org',
    'dev@Example.ORG',
    'dev@xn--bcher-kva.example',
    'dev@mail.xn--p1ai',
    `${'a'.repeat(64)}@example.org`,
    'a.b.c@example.org',
  ])('accepts %s', (address) => valid({ verifiedEmailAddresses: [address] }));

  test.each(['a..b@example.org', '.a@example.org', 'a.@example.org'])(
    'refuses %s, naming the dot',
    (address) => {
      expect(problemsOf2({ verifiedEmailAddresses: [address] })).toEqual([
        `${at('verifiedEmailAddresses[0]')}got ${formatted(address)}, expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters): no "." at the start or end of the local part, nor two in a row`,
      ]);
    },
  );

  // The domain field takes "example.org." (the absolute name); an address's domain has no final dot.
  test('refuses an address whose domain ends in ".", naming the address without it', () => {
    expect(problemsOf2({ verifiedEmailAddresses: ['dev@example.org.'] })).toEqual([
      `${at('verifiedEmailAddresses[0]')}got "dev@example.org.", expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters): no final "." after the domain, "dev@example.org"`,
    ]);
  });

  test.each(['a b@example.org', 'dev@example.org..', 'dev@localhost', 'dev@[192.0.2.1]', 'dev@example.123'])(
    'refuses %s',
    (address) => {
      expect(problemsOf2({ verifiedEmailAddresses: [address] })).toEqual([
        `${at('verifiedEmailAddresses[0]')}got ${formatted(address)}, expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters)`,
      ]);
    },
  );

  // Well formed but too long: the line says which limit, and by how much.
  test.each([
    [`${'a'.repeat(65)}@example.org`, 'this local part has 65'],
    [
      `a@${'b'.repeat(64)}.org`,
      'in the domain, each label at most 63 characters (RFC 1035 §2.3.4), and "bbbbbbbbbbbbbbbbbbbb..." has 64',
    ],
    [
      `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(57)}.org`,
      'at most 254 characters in all, and this address has 255',
    ],
  ])('refuses %s, naming the length', (address, hint) => {
    expect(problemsOf2({ verifiedEmailAddresses: [address] })).toEqual([
      `${at('verifiedEmailAddresses[0]')}got ${formatted(address)}, expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters): ${hint}`,
    ]);
  });

  test('an address that breaks two rules at once is still one line', () => {
    const address = `${'a'.repeat(70)} b@example.org`;
    expect(problemsOf2({ verifiedEmailAddresses: [address, address] })).toEqual([
      `${at('verifiedEmailAddresses[0]')}got ${formatted(address)}, expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters)`,
      `${at('verifiedEmailAddresses[1]')}got ${formatted(address)}, expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters)`,
    ]);
  });

  test('a sender address at the domain in another letter case is at the domain', () => {
    valid({ fromAddress: 'No-Reply@EXAMPLE.com' });
  });
});

/** A value as the loader prints it (JSON, cut at 80 characters). */
function formatted(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A host name of 253 characters, the longest (four labels: 63, 63, 63 and 61 characters). */
const LONG_DOMAIN = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;

describe('DMARC values per RFC 7489', () => {
  test.each([
    'mailto:dmarc@example.com',
    'mailto:dmarc@example.com!10m',
    'MAILTO:DMARC@EXAMPLE.COM',
    'mailto:reports@thirdparty.example!1G',
    'mailto:dmarc@example.com!500',
    'mailto:a%2Cb@example.com',
    'https://reports.example.com/dmarc',
    "https://r.example.com/a/b?x=1&y=2+3#f~_.-'()*$@:=",
    'mailto:d%C3%A4rc@example.com',
    'mailto:dmarc@[192.0.2.1]',
  ])('accepts the report URI %s', (uri) =>
    valid({ dmarc: { aggregateReportUris: [uri], forensicReportUris: [uri] } }),
  );

  test.each([
    ['mailto:dmarc@bücher.example', 'mailto:dmarc@xn--bcher-kva.example'],
    ['mailto:dmarc@Bücher.Example!10m', 'mailto:dmarc@xn--bcher-kva.example!10m'],
  ])('a mailto domain in Unicode (%s) is taken in its punycode form', (uri, ascii) => {
    const { environments } = parseConfig(
      {
        environments: {
          prod: { ...BASE_ENV, dmarc: { aggregateReportUris: [uri], forensicReportUris: [uri] } },
        },
      },
      FILE,
    );
    expect(environments.prod.dmarc.aggregateReportUris).toEqual([ascii]);
    expect(environments.prod.dmarc.forensicReportUris).toEqual([ascii]);
  });

  test.each([
    'mailto:a,b@example.com',
    'mailto:d@example.com!10x',
    'mailto:d@example.com!',
    'mailto:a;b@example.com',
    'mailto: d@example.com',
    'mailto:dmärc@example.com',
    'mailto:<dmarc@example.com>',
    'mailto:"d"@example.com',
    'https://r.example.com/{x}|^\\`',
    'mailto:a%2@example.com',
    'mailto:a%zzb@example.com',
    // As written (ASCII), "#x" would stay; the conversion must not drop it.
    'mailto:d@bücher.example#x',
    'mailto:d@bücher.example/x',
    'mailto:d@bücher.example\\x',
    // A list whose parts are not all report URIs: splitting it would not do, so no such advice.
    'mailto:dmarc,mailto:b@example.com',
  ])('refuses the report URI %s', (uri) => {
    expect(problemsOf2({ dmarc: { aggregateReportUris: [uri] } })).toEqual([
      `${at('dmarc.aggregateReportUris[0]')}got ${JSON.stringify(uri)}, expected ${DMARC_URI_EXPECTED}`,
    ]);
  });

  // RFC 6068 §2: a mailto URI's address is an addr-spec, "local-part@domain" (RFC 5322 §3.4.1);
  // without one a receiver has nowhere to send the reports, and says nothing.
  test.each([
    ['mailto:dmarc', 'no "@" and domain'],
    ['mailto:@example.com', 'no local part before the "@"'],
    ['mailto:dmarc@example', 'the domain "example", which is no host name like "example.com"'],
    ['mailto:dmarc@example.com.', 'the domain "example.com.", which is no host name like "example.com"'],
    ['mailto:dmarc@-bad-.example', 'the domain "-bad-.example", which is no host name like "example.com"'],
    ['MAILTO:d@exa_mple.com?x!10m', 'the domain "exa_mple.com", which is no host name like "example.com"'],
    ['mailto:a@b@example.com', 'an "@" in the local part "a@b" outside quotes (%22...%22)'],
    // %-encoded bytes that are no UTF-8 name no domain.
    ['mailto:d@%FF.example', 'the domain "%FF.example", which is no host name like "example.com"'],
  ])('refuses the mailto URI %s without an address', (uri, what) => {
    expect(problemsOf2({ dmarc: { aggregateReportUris: [uri] } })).toEqual([
      `${at('dmarc.aggregateReportUris[0]')}got ${JSON.stringify(uri)}, expected ${DMARC_URI_EXPECTED}: a mailto URI holds one address, "local-part@domain", and this one has ${what}`,
    ]);
  });

  // RFC 1035 §2.3.4: a name is at most 253 characters written out (255 octets on the wire).
  test('refuses a mailto URI whose domain is one character over 253', () => {
    const problems = problemsOf2({ dmarc: { aggregateReportUris: [`mailto:d@${LONG_DOMAIN}a`] } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      new RegExp(
        `and this one has the domain "${LONG_DOMAIN}a", which is no host name like "example\\.com"$`,
      ),
    );
  });

  test.each([
    'mailto:dmarc@example.com?subject=DMARC',
    'mailto:%22a@b%22@example.com',
    'mailto:d@b%C3%BCcher.example!10m',
    'mailto:d@xn--bcher-kva.example',
    'mailto:d@[IPv6:2001:db8::1]',
    `mailto:d@${LONG_DOMAIN}`,
  ])('accepts the mailto URI %s', (uri) => valid({ dmarc: { forensicReportUris: [uri] } }));

  // Copied from a DMARC record: the fix is in the entries, not in %-encoding their separators.
  test.each([
    [
      'mailto:a@example.com,mailto:b@example.com',
      'one URI per entry, "mailto:a@example.com", "mailto:b@example.com"',
    ],
    [
      'mailto:a@example.com!10m, https://r.example.com/x',
      'one URI per entry, "mailto:a@example.com!10m", "https://r.example.com/x"',
    ],
    [
      'rua=mailto:a@example.com,mailto:b@bücher.example;',
      'one URI per entry, "mailto:a@example.com", "mailto:b@bücher.example"',
    ],
    ['RUA = mailto:a@example.com', 'the URI alone, without the tag, "mailto:a@example.com"'],
    // As a DMARC record writes it: its tags end in ";".
    ['rua=mailto:a@example.com;', 'the URI alone, without the tag and separator, "mailto:a@example.com"'],
    ['mailto:a@example.com; ', 'the URI alone, without the separator, "mailto:a@example.com"'],
    ['d@example.com;', 'an address with its scheme, "mailto:d@example.com"'],
    ['d@example.com!10m', 'an address with its scheme, "mailto:d@example.com!10m"'],
  ])('refuses the report URI %s with its fix', (uri, fix) => {
    expect(problemsOf2({ dmarc: { forensicReportUris: [uri] } })).toEqual([
      `${at('dmarc.forensicReportUris[0]')}got ${JSON.stringify(uri)}, expected ${DMARC_URI_EXPECTED}: ${fix}`,
    ]);
  });

  test.each([
    [-1, 'a number >= 0'],
    [0, undefined],
    [1, undefined],
    [100, undefined],
    [101, 'a number <= 100'],
  ])('pct %i', (percentage, expected) => {
    expect(problemsOf2({ dmarc: { percentage } })).toEqual(
      expected ? [`${at('dmarc.percentage')}got ${percentage}, expected ${expected}`] : [],
    );
  });
});

test('an apex TXT value may hold every printable ASCII character', () => {
  const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
  valid({ apexSpf: { otherTxtValues: [printable] } });
});

describe('SPF terms per RFC 7208', () => {
  test.each([
    'include:_spf.google.com',
    'Include:_spf.google.com',
    '+INCLUDE:spf.protection.outlook.com',
    'ip4:192.0.2.0/24',
    'ip4:192.0.2.1',
    'ip4:0.0.0.0/0',
    'ip6:2001:db8::/32',
    'ip6:::1',
    'IP6:2001:db8::1/128',
    'ip6:::ffff:192.0.2.1',
    'a',
    'a/24',
    'a//64',
    'a/24//64',
    'a:mail.example.org/28',
    'mx',
    'mx:example.org//48',
    '-mx/30',
    'ptr',
    '?ptr:example.org',
    '~exists:%{i}._spf.%{d}',
    'exists:%{ir}.%{l1r+-}._spf.%{d}',
    'include:%{d2}.spf.example.net',
    'exp=explain._spf.%{d}',
    'custom-modifier=value',
    'a/0//0',
    'ip6:2001:db8::/0',
    `a:${'x'.repeat(63)}.example.com`,
    'include:%{d}.%{l}.spf.example.net.',
    // RFC 7208 §7.3: upper-case macro letters expand as lower-case ones (then URL-escaped).
    'exists:%{S}.%{L}.%{O}.%{D}.%{I}.%{P}.%{H}.%{V}._spf.example.net',
    // RFC 7208 §7.1: "%%", "%_" and "%-" are macro-expands; "~" is a macro-literal (%x21-24 / %x26-7E).
    'custom-modifier=a%%b%_c%-d~e',
    'exists:%{i}.x~y._spf.example.net',
    // RFC 7208 toplabel: alphanumeric with a hyphen inside, as an IDN top-level label.
    'include:_spf.example.xn--p1ai',
  ])('accepts %s', (term) => valid({ apexSpf: { enabled: true, otherMechanisms: [term] } }));

  test.each<[string, RegExp]>([
    ['ip4:192.0.2.0/33', /"ip4:" and an IPv4 address/],
    ['ip4:192.0.2', /"ip4:" and an IPv4 address/],
    ['ip4:192.0.2.0/24/8', /"ip4:" and an IPv4 address/],
    ['ip6:2001:db8::/129', /"ip6:" and an IPv6 address/],
    ['ip6:192.0.2.1/24x', /"ip6:" and an IPv6 address/],
    ['ip6:fe80::1%eth0', /"ip6:" and an IPv6 address \(RFC 4291, no "%" zone index\)/],
    ['ip6:fe80::1%1/64', /"ip6:" and an IPv6 address \(RFC 4291, no "%" zone index\)/],
    ['a/33', /"a", an optional ":domain"/],
    ['mx//129', /"mx", an optional ":domain"/],
    ['a:localhost', /"a", an optional ":domain"/],
    ['include:', /"include:" and a domain/],
    ['include:example.com/24', /"include:" and a domain/],
    ['exists:%{x}.example.com', /"exists:" and a domain/],
    // RFC 7208 §7.2: c, r and t are for explanation text only; the test suite's exp-only-macro-char.
    ['exists:%{t}.%{d}.rate.example.net', /no macro %\{c\}, %\{r\} or %\{t\} in a term/],
    ['exp=%{r}.example.com', /no macro %\{c\}, %\{r\} or %\{t\} in a term/],
    ['include:%{C}.example.com', /no macro %\{c\}, %\{r\} or %\{t\} in a term/],
    // RFC 7208 §4.3: an empty or over-long label makes the name malformed.
    ['include:spf..example.com', /"include:" and a domain/],
    [`a:${'x'.repeat(64)}.example.com`, /"a", an optional ":domain"/],
    ['exp=explain..example.com', /a modifier "name=value"/],
    // RFC 7208 §5.6: prefix lengths without leading zeros.
    ['a/01', /"a", an optional ":domain"/],
    ['mx//064', /"mx", an optional ":domain"/],
    ['ip4:192.0.2.0/024', /"ip4:" and an IPv4 address/],
    ['ip6:2001:db8::/032', /"ip6:" and an IPv6 address/],
    ['~all', /no "all" here: set "apexSpf.all"/],
    [
      'redirect=_spf.example.com',
      /expected "include:_spf\.example\.com" in place of a "redirect=" modifier \(/,
    ],
    ['REDIRECT=', /expected "include:<domain>" in place of a "redirect=" modifier \(/],
    ['v=spf1', /without "v=spf1"/],
    ['includ:x', /an SPF mechanism \(all, include/],
    ['*include:x', /an SPF mechanism \(all, include/],
    // RFC 7208 §5.5: ptr [ ":" domain-spec ] takes no prefix length.
    ['ptr/24', /"ptr" or "ptr:" and a domain/],
    ['ptr:example.org//64', /"ptr" or "ptr:" and a domain/],
  ])('refuses %s', (term, expected) => {
    const problems = problemsOf2({ apexSpf: { enabled: true, otherMechanisms: [term] } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(
      `${at('apexSpf.otherMechanisms[0]')}got ${JSON.stringify(term)}, expected `,
    );
    expect(problems[0]).toMatch(expected);
  });

  test('a name of more than 253 characters is refused (RFC 7208 §4.3)', () => {
    const name = `${'abcdefgh.'.repeat(27)}com`;
    const valid = (n: string) => problemsOf2({ apexSpf: { otherMechanisms: [`include:${n}`] } });
    expect(name).toHaveLength(246);
    expect(valid(name)).toEqual([]);
    expect(valid(`abcdefgh.${name}`)).toEqual([expect.stringMatching(/expected "include:" and a domain/)]);
  });

  test('at most one exp= modifier', () => {
    expect(problemsOf2({ apexSpf: { otherMechanisms: ['exp=a.example.com', 'exp=b.example.com'] } })).toEqual(
      [
        `${at('apexSpf.otherMechanisms[1]')}got "exp=b.example.com", expected at most one "exp=" modifier (RFC 7208 §6; the first is [0])`,
      ],
    );
  });

  test('lookups are counted whatever the letter case', () => {
    expect(
      spfLookupCount([
        'Include:a.example',
        'A',
        'MX:b.example',
        'Exists:%{i}.x.example',
        'PTR',
        'ip4:192.0.2.1',
      ]),
    ).toBe(5);
  });

  test.each([
    'include:amazonses.com',
    'INCLUDE:AmazonSES.com',
    '+include:amazonses.com',
    'include:amazonses.com.',
  ])("%s with 9 other lookups is valid: the record writes SES's include once", (ses) => {
    const others = Array.from({ length: 9 }, (_, i) => `include:s${i}.example.net`);
    valid({ apexSpf: { enabled: true, otherMechanisms: [...others, ses] } });
  });
});

describe('the JSON file per RFC 8259', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-json-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  test('a syntax error names its line and column; a trailing comma is named as the cause', () => {
    const file = write('trailing-comma.json', '{\n  "environments": {\n    "a": 1,\n  }\n}\n');
    expect(() => loadConfig(file)).toThrow(
      new ConfigError([
        `${file}: not valid JSON (Expected double-quoted property name at line 4, column 3: a comma before a closing bracket (remove it)); fix the syntax`,
      ]),
    );
    // A closing bracket after something else than a comma: no such hint.
    const missing = write('missing-value.json', '{\n  "environments": {\n    "a": \n  }\n}\n');
    expect(() => loadConfig(missing)).toThrow(/not valid JSON \(.*\); fix the syntax$/s);
    expect(() => loadConfig(missing)).not.toThrow(/comma/);
  });

  // V8 quotes the text for an unexpected token (newlines and all) instead of naming a position.
  test.each([
    [
      'a comment',
      '// prod\n{"environments": {}}',
      'unexpected "/" at line 1, column 1: JSON has no comments (remove them)',
    ],
    [
      'a commented-out line in an object',
      '{\n  // "old": 1,\n  "environments": {}}',
      "Expected property name or '}' at line 2, column 3: JSON has no comments (remove them)",
    ],
    [
      'a comment after a value',
      '{"environments": {} /* x */}',
      "Expected ',' or '}' after property value at line 1, column 21: JSON has no comments (remove them)",
    ],
    ['a bad literal', '{\n  "environments": tru\n}', 'unexpected "\\n" at line 2, column 22'],
    [
      'a comma before "]"',
      '{"environments": [1,\n]}',
      'unexpected "]" at line 2, column 1: a comma before a closing bracket (remove it)',
    ],
    [
      'text after the document',
      '{"environments": {}}\nmore',
      'Unexpected non-whitespace character at line 2, column 1: text after the end of the JSON document',
    ],
  ])('%s: one line at its line and column', (_name, text, expected) => {
    const file = write('syntax.json', text);
    expect(() => loadConfig(file)).toThrow(
      new ConfigError([`${file}: not valid JSON (${expected}); fix the syntax`]),
    );
  });

  test('a UTF-8 byte order mark is ignored (§8.1)', () => {
    const file = write('bom.json', `\uFEFF${JSON.stringify({ environments: { a: BASE_ENV } })}`);
    expect(loadConfig(file).environments.map((e) => e.name)).toEqual(['a']);
  });

  test('a file that is not UTF-8 (here UTF-16, as Notepad saves "Unicode") is one line (§8.1)', () => {
    const file = path.join(dir, 'utf16.json');
    fs.writeFileSync(
      file,
      Buffer.from(`\uFEFF${JSON.stringify({ environments: { a: BASE_ENV } })}`, 'utf16le'),
    );
    expect(() => loadConfig(file)).toThrow(
      new ConfigError([
        `${file}: not UTF-8 text (RFC 8259 §8.1 requires UTF-8; a file saved as "Unicode"/UTF-16 is not); save it as UTF-8`,
      ]),
    );
  });

  test('non-ASCII UTF-8 text is read as such', () => {
    const file = write(
      'utf8.json',
      JSON.stringify({ environments: { a: { ...BASE_ENV, tags: { Ort: 'München' } } } }),
    );
    expect(loadConfig(file).environments[0].config.tags).toEqual({ Ort: 'München' });
  });

  test('a name given twice in one object is one line each (§4), not a silent last-one-wins', () => {
    const file = write(
      'dup.json',
      `{"environments": {"a": {"account": "123456789012", "region": "eu-west-1", "region": "us-east-1",
        "domain": "example.com", "fromAddress": "no-reply@example.com",
        "dns": {"mode": "manual"}, "tags": {"team": "x"}}, "a": {}}}`,
    );
    expect(() => loadConfig(file)).toThrow(ConfigError);
    try {
      loadConfig(file);
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        `${file}: environment "a", field "region": got a second member named "region", expected each name once per object (RFC 8259 §4; JSON.parse would silently keep only the last one): merge or remove one`,
        `${file}: environment "a", field "(whole environment)": got a second member named "a", expected each name once per object (RFC 8259 §4; JSON.parse would silently keep only the last one): merge or remove one`,
      ]);
    }
  });

  test('the same name in two different objects is fine; an escaped spelling of a name is the same name', () => {
    const env = JSON.stringify({ ...BASE_ENV, tags: { team: 'x' }, alarms: { emails: [] } });
    const other = JSON.stringify({
      ...BASE_ENV,
      region: 'us-east-1',
      dns: { mode: 'manual' },
      mailFrom: { subdomain: 'mail-us' },
      tags: { team: 'x' },
    });
    const file = write('same.json', `{"environments": {"a": ${env}, "b": ${other}}}`);
    expect(loadConfig(file).environments).toHaveLength(2);
    const escaped = write(
      'escaped.json',
      `{"environments": {"a": ${env.replace('{"team"', '{"team": "y", "te\\u0061m"')}}}`,
    );
    expect(() => loadConfig(escaped)).toThrow(/field "tags.team": got a second member named "team"/);
  });
});

test('duplicateKeys: an escaped quote does not end a string, so a value that holds a name is a value', () => {
  const text = JSON.stringify({ 'a"': { note: 'say "hi", "note": 1', b: [{ 'a"': 1 }] }, b: 2 });
  expect(duplicateKeys(text)).toEqual([]);
  expect(duplicateKeys(text.replace('"b":2', '"a\\"":2'))).toEqual([{ path: [], key: 'a"' }]);
});

test('alarm recipients compare case-insensitively: the same address in another case hears the alarms', () => {
  const b = { ...BASE_ENV, domain: 'b.example.com', fromAddress: 'a@b.example.com', dns: { mode: 'manual' } };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-case-')), 'case.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      environments: {
        a: { ...BASE_ENV, alarms: { emails: ['Ops@example.com'] } },
        b: { ...b, alarms: { emails: ['ops@EXAMPLE.com'] } },
      },
    }),
  );
  expect(loadConfig(file).warnings).toEqual([]);
});

test('no environment of an account has health checks: no quota alarm was there to lose, no warning', () => {
  const b = { ...BASE_ENV, domain: 'b.example.com', fromAddress: 'a@b.example.com', dns: { mode: 'manual' } };
  const off = { health: { enabled: false } };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-off-')), 'off.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      environments: { a: { ...BASE_ENV, ...off }, b: { ...b, ...off, alarms: { accountAlarms: false } } },
    }),
  );
  const { warnings } = loadConfig(file);
  // Not nothing at all: the check ran (b's recipients are a's, so no audience warning either).
  expect(warnings).toEqual([]);
});

test('a config path of only spaces is no path: one line saying what it takes', () => {
  expect(() => configPathValue('  ', 'context "config"')).toThrow(
    new ConfigError([
      'context "config": got "  ", expected the path of the environments file, like "config/environments.json"',
    ]),
  );
});

describe('each bound of the environments file: the bound is taken, one step past it is refused', () => {
  /** Whether the file takes `env` (over BASE_ENV) as environment `name`, with `top` beside it. */
  const takes = (env: Record<string, unknown>, top: Record<string, unknown> = {}, name = 'test') => {
    try {
      parseConfig({ ...top, environments: { [name]: { ...BASE_ENV, ...env } } }, 'bounds.json');
      return true;
    } catch (e) {
      if (e instanceof ConfigError) return false;
      throw e;
    }
  };
  const zone = (dns: Record<string, unknown>) => ({ dns: { ...BASE_ENV.dns, ...dns } });
  const txt = (value: string) => ({ apexSpf: { enabled: true, otherTxtValues: [value] } });
  const rua = (n: number) => ({
    dmarc: { aggregateReportUris: Array.from({ length: n }, (_, i) => `mailto:dmarc${i}@example.com`) },
  });
  const senders = (...extra: string[]) => ({
    credentials: { allowedFromAddresses: ['no-reply@example.com', ...extra] },
  });
  const github = { github: { repository: 'acme/web-app' } };
  /** Three labels of 63 characters: 191 characters of a name, before a last label. */
  const LONG_NAME = ['a', 'b', 'c'].map((c) => c.repeat(63)).join('.');
  test.each<
    [
      string,
      [Record<string, unknown>, Record<string, unknown>?, string?],
      [Record<string, unknown>, Record<string, unknown>?, string?],
    ]
  >([
    ['environment name: 31 characters, not 32', [{}, {}, `a${'b'.repeat(30)}`], [{}, {}, 'a'.repeat(32)]],
    ['environment name: a letter first', [{}, {}, 'a1'], [{}, {}, '1a']],
    ['account: 12 digits', [{ account: '123456789012' }], [{ account: '1234567890123' }]],
    [
      'dns.hostedZoneId: a Z first',
      [zone({ hostedZoneId: 'Z0' })],
      [zone({ hostedZoneId: 'A0123456789EXAMPLE0AB' })],
    ],
    ['dns.ttlSeconds (route53): 60', [zone({ ttlSeconds: 60 })], [zone({ ttlSeconds: 59 })]],
    ['dns.ttlSeconds (route53): 172800', [zone({ ttlSeconds: 172800 })], [zone({ ttlSeconds: 172801 })]],
    [
      'dns.ttlSeconds (manual): 172800',
      [{ dns: { mode: 'manual', ttlSeconds: 172800 } }],
      [{ dns: { mode: 'manual', ttlSeconds: 172801 } }],
    ],
    ['dmarc.aggregateReportUris: 10', [rua(10)], [rua(11)]],
    [
      // Route 53's 4000 characters count the value as stored: in 16 quoted strings of 255.
      'apexSpf.otherTxtValues: 3968 characters (4000 once quoted)',
      [txt('x'.repeat(3968))],
      [txt('x'.repeat(3969))],
    ],
    ['apexSpf.otherTxtValues: not empty', [txt('~')], [txt('')]],
    ['apexSpf.otherTxtValues: printable ASCII, no DEL', [txt('a ~')], [txt('a\x7f')]],
    [
      'credentials.allowedFromAddresses: not empty',
      [senders()],
      [{ credentials: { allowedFromAddresses: [] } }],
    ],
    [
      'credentials.allowedFromAddresses: a 64-character local part',
      [senders(`${'a'.repeat(64)}@example.com`)],
      [senders(`${'a'.repeat(65)}@example.com`)],
    ],
    [
      'credentials.previousKeyQuietDays: 365',
      [{ credentials: { rotationDays: 1000, previousKeyQuietDays: 365 } }],
      [{ credentials: { rotationDays: 1000, previousKeyQuietDays: 366 } }],
    ],
    [
      'alarms.bounceRatePercent: a warning above 0',
      [{ alarms: { bounceRatePercent: { warning: 0.001, critical: 5 } } }],
      [{ alarms: { bounceRatePercent: { warning: 0, critical: 5 } } }],
    ],
    [
      'alarms.bounceRatePercent: a warning below the critical level',
      [{ alarms: { bounceRatePercent: { warning: 4.9, critical: 5 } } }],
      [{ alarms: { bounceRatePercent: { warning: 5, critical: 5 } } }],
    ],
    [
      'health.sendRatePercent: above 0',
      [{ health: { sendRatePercent: 100 } }],
      [{ health: { sendRatePercent: 0 } }],
    ],
    [
      'a sender of every subdomain: one "*." level',
      [senders('*@*.example.com')],
      [senders('*@*.*.example.com')],
    ],
    [
      'feedback.webhookUrl: an IPv6 host that is an IPv6 address',
      [{ feedback: { webhookUrl: 'https://[2001:db8::1]/hook' } }],
      [{ feedback: { webhookUrl: 'https://[2001::db8::1]/hook' } }],
    ],
    [
      'apexSpf.otherMechanisms: a domain of 253 characters (RFC 1035)',
      [{ apexSpf: { enabled: true, otherMechanisms: [`include:${LONG_NAME}.${'d'.repeat(61)}`] } }],
      [{ apexSpf: { enabled: true, otherMechanisms: [`include:${LONG_NAME}.${'d'.repeat(62)}`] } }],
    ],
    [
      "an environment's github.previewEnvironment: only with a top-level github",
      [{ github: { previewEnvironment: 'preview' } }, github],
      [{ github: { previewEnvironment: 'preview' } }],
    ],
    [
      'github.repository: an owner of 39 characters',
      [{}, { github: { repository: `${'o'.repeat(39)}/web` } }],
      [{}, { github: { repository: `${'o'.repeat(40)}/web` } }],
    ],
    [
      'github.existingOidcProviderAccounts: 12 digits',
      [{}, { github: { ...github.github, existingOidcProviderAccounts: ['123456789012'] } }],
      [{}, { github: { ...github.github, existingOidcProviderAccounts: ['12345678901'] } }],
    ],
    [
      "an environment's github.environment: no space",
      [{ github: { environment: 'prod.eu_1-a' } }, github],
      [{ github: { environment: 'prod eu' } }, github],
    ],
  ])('%s', (_bound, [env, top, name], [pastEnv, pastTop, pastName]) => {
    expect([takes(env, top, name), takes(pastEnv, pastTop, pastName)]).toEqual([true, false]);
  });

  // Refused by a later check too, but the first line should name the rule itself.
  test('an empty sender list and an 11-digit account id are refused by their own rule', () => {
    expect(() => envConfig({ credentials: { allowedFromAddresses: [] } })).toThrow(
      'field "credentials.allowedFromAddresses": got [], expected a list with at least 1 item(s)',
    );
    expect(() =>
      parseConfig(
        {
          github: { ...github.github, existingOidcProviderAccounts: ['12345678901'] },
          environments: { test: BASE_ENV },
        },
        'bounds.json',
      ),
    ).toThrow(
      'field "github.existingOidcProviderAccounts[0]": got "12345678901", expected a 12-digit AWS account id',
    );
  });
});

describe('domain names', () => {
  test.each([
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['QA.Example.X', 'qa.example.x'],
  ])(
    '%s is the domain %s (RFC 4343: case-insensitive; a trailing dot is the absolute form)',
    (given, domain) => {
      const env = envConfig({
        domain: given,
        fromAddress: `no-reply@${domain}`,
        dns: { mode: 'route53', hostedZoneId: 'Z1', zoneName: given },
        mailFrom: { subdomain: 'Mail' },
      });
      expect([env.domain, env.dns.mode === 'route53' && env.dns.zoneName, env.mailFrom.subdomain]).toEqual([
        domain,
        domain,
        'mail',
      ]);
    },
  );

  test.each([
    // 253 characters, the longest name; and the same with its trailing dot.
    `${`${'a'.repeat(62)}.`.repeat(3)}${'b'.repeat(60)}.com`,
    `${`${'a'.repeat(62)}.`.repeat(3)}${'b'.repeat(60)}.com.`,
  ])(
    'accepts a %#. name of the longest length (as a zoneName: the domain of the records is shorter)',
    (name) => {
      expect(name.replace(/\.$/, '')).toHaveLength(253);
      // The only problem is across fields: the name itself is valid.
      expect(problemsOf2({ dns: { mode: 'route53', hostedZoneId: 'Z1', zoneName: name } })).toEqual([
        `${at('dns.zoneName')}got ${formatted(name.replace(/\.$/, ''))}, expected the hosted zone of example.com: that name or one of its parents`,
      ]);
    },
  );

  /** A valid name of `length` characters ending in ".com". */
  const nameOf = (length: number) => {
    let name = 'com';
    while (name.length < length) name = `${'a'.repeat(Math.min(63, length - name.length - 1))}.${name}`;
    return name;
  };
  const withDomain = (domain: string, subdomain = 'mail') => ({
    domain,
    fromAddress: `a@${domain}`,
    dns: { mode: 'manual' },
    mailFrom: { subdomain },
  });

  test.each([
    [209, 'mail'],
    [199, 'm'.repeat(53)],
  ])(
    'a domain of %i characters with mailFrom.subdomain %s is valid: every name written has at most 253',
    (length, label) => valid(withDomain(nameOf(length), label)),
  );

  test('a domain of 210 characters is refused: its DKIM CNAMEs would have 254', () => {
    const domain = nameOf(210);
    expect(problemsOf2(withDomain(domain))).toEqual([
      `${at('domain')}got ${formatted(domain)}, expected a domain of at most 209 characters: the Easy DKIM CNAMEs "<32-character token>._domainkey.<domain>" would have 254 (a DNS name has at most 253)`,
    ]);
  });

  test('a domain whose MAIL FROM name would have 254 characters is refused', () => {
    const domain = nameOf(200);
    const label = 'm'.repeat(53);
    expect(problemsOf2(withDomain(domain, label))).toEqual([
      `${at('domain')}got ${formatted(domain)}, expected a domain of at most 199 characters with mailFrom.subdomain "${label}": the MAIL FROM records "${label}.<domain>" would have 254 (a DNS name has at most 253); shorten the domain or mailFrom.subdomain`,
    ]);
  });

  test('refuses a name of 254 characters, one more than a name may have without its trailing dot', () => {
    const domain = `${`${'a'.repeat(62)}.`.repeat(3)}${'b'.repeat(61)}.com`;
    expect(domain).toHaveLength(254);
    expect(problemsOf2({ domain })).toContainEqual(
      expect.stringMatching(
        /field "domain": got "a+\.a+\.\.\., expected a domain name like "example.com".*: at most 253 characters \(RFC 1035 §2\.3\.4\), and this name has 254$/,
      ),
    );
  });

  test.each([
    'example..com',
    '-example.com',
    'example.com..',
    'example',
    'example.123',
    `a_${'a'.repeat(64)}.com`,
  ])('refuses %s', (domain) => {
    expect(problemsOf2({ domain })).toEqual([
      `${at('domain')}got ${JSON.stringify(domain)}, expected a domain name like "example.com" or "bücher.example" (letters, digits and "-" per label; a non-ASCII name is taken in its punycode form, "xn--...")`,
    ]);
  });

  // A name of 63-character labels looks right: the line says which limit it breaks.
  test.each([
    [`${'a'.repeat(64)}.com`, '"aaaaaaaaaaaaaaaaaaaa..." has 64'],
    // 60 letters in Unicode, 66 in the punycode form DNS gets.
    [`${'ü'.repeat(60)}.example`, '"xn--tdaaaaaaaaaaaaaa..." has 66'],
  ])('refuses %s, naming the label over 63 characters', (domain, label) => {
    expect(problemsOf2({ domain })).toEqual([
      `${at('domain')}got ${formatted(domain)}, expected a domain name like "example.com" or "bücher.example" (letters, digits and "-" per label; a non-ASCII name is taken in its punycode form, "xn--..."): each label at most 63 characters (RFC 1035 §2.3.4), and ${label}`,
    ]);
  });
});

describe('feedback.webhookUrl: an https URL (RFC 3986) that SNS can subscribe', () => {
  test.each([
    ['https://app.example.com/ses', 'https://app.example.com/ses'],
    ['HTTPS://App.example.com/ses', 'https://App.example.com/ses'],
    ['Https://app.example.com', 'https://app.example.com'],
    ['https://app.example.com:8443/a?b=c#d', 'https://app.example.com:8443/a?b=c#d'],
    ['https://app.example.com?x=1', 'https://app.example.com?x=1'],
    ['https://user@app.example.com/', 'https://user@app.example.com/'],
    ['https://app.example.com./ses', 'https://app.example.com./ses'],
    ['https://hooks.example.x/ses', 'https://hooks.example.x/ses'],
    // RFC 3986's reg-name takes "_", as it took before the host was checked.
    ['https://my_app.example.com/ses', 'https://my_app.example.com/ses'],
    ['https://192.0.2.10/ses', 'https://192.0.2.10/ses'],
    ['https://[2001:db8::1]:443/ses', 'https://[2001:db8::1]:443/ses'],
    ['https://app.example.com:65535/ses', 'https://app.example.com:65535/ses'],
    ['https://app.example.com:1/ses', 'https://app.example.com:1/ses'],
    // An empty port is the default one (RFC 3986 §3.2.3).
    ['https://app.example.com:/ses', 'https://app.example.com:/ses'],
  ])('accepts %s as %s (a scheme in any case is written in lower case)', (webhookUrl, written) => {
    expect(envConfig({ feedback: { webhookUrl } }).feedback.webhookUrl).toBe(written);
  });

  test.each([
    'https://a<b>/',
    'https://exa mple.com/',
    'https:///ses',
    'https://[zz]/',
    'https://[fe80::1%25eth0]/',
    'https://256.1.1.1/',
    'https://app.example.com:65536/ses',
    'https://app.example.com:99999/ses',
    // Port 0 is reserved: no server listens there (RFC 6335 §6).
    'https://app.example.com:0/ses',
    'https://app.example.com:00/ses',
    'ftp://app.example.com/',
  ])('refuses %s', (webhookUrl) => {
    expect(problemsOf2({ feedback: { webhookUrl } })).toEqual([
      `${at('feedback.webhookUrl')}got ${JSON.stringify(webhookUrl)}, expected an https:// URL whose host is a domain name or an IP address (a port, if any, from 1 to 65535), like "https://app.example.com/ses"`,
    ]);
  });
});

test.each([
  ['https://hook:S3cr3t@app.example.com/ses', 'https://hook:***@app.example.com/ses'],
  ['HTTPS://:S3cr3t@app.example.com:70000/ses', 'HTTPS://:***@app.example.com:70000/ses'],
  ['https://hook:pa%20ss@[2001:db8::1]/', 'https://hook:***@[2001:db8::1]/'],
  // Read as a browser reads it: up to the last "@" before the path, a quote or a space included.
  ['https://u:p@ss@app.example.com/', 'https://u:***@app.example.com/'],
  ['https://u:pa"ss@app.example.com/', 'https://u:***@app.example.com/'],
  ['https://u:pa ss@app.example.com/', 'https://u:***@app.example.com/'],
  ['https:/u:secret@app.example.com', 'https:/u:***@app.example.com'],
  ['https:user:s3cret@app.example.com/h', 'https:user:***@app.example.com/h'],
  ['https://user:p\\q@app.example.com', 'https://user:***@app.example.com'],
  // A user with an "@" in it: a browser reads "u@h" as the user, "PW" as the password.
  ['https://u@h:S3cr3t@app.example.com', 'https://u@h:***@app.example.com'],
  ['https:user:p@ssSECRET@example.com/x', 'https:user:***@example.com/x'],
  // A password longer than the line shows a value: masked before the value is cut.
  [`https://user:${'p'.repeat(80)}@example.com/x`, 'https://user:***@example.com/x'],
])(
  'feedback.webhookUrl with a password (%s) is refused, and the line does not repeat the password',
  (webhookUrl, shown) => {
    expect(problemsOf2({ feedback: { webhookUrl } })).toEqual([
      `${at('feedback.webhookUrl')}got "${shown}", expected an https:// URL without a password: the template would hold it in plain text; leave the user and password out and verify the SNS signature of each message in the app`,
    ]);
  },
);

test.each([
  // Refused as no URL at all: the generic line still shows no password.
  [' https://hook:S3cr3t@app.example.com/ses', ' https://hook:***@app.example.com/ses'],
  ['<https://hook:S3cr3t@app.example.com/ses>', '<https://hook:***@app.example.com/ses>'],
  [' https:user:S3cr3t@app.example.com/h', ' https:user:***@app.example.com/h'],
  [' https://user:S3c\\r3t@app.example.com', ' https://user:***@app.example.com'],
  // A password with a "/", "?" or "#" (a generated one): no URL, and still not repeated.
  ['https://hook:S3cr3t/x@app.example.com/ses', 'https://hook:***@app.example.com/ses'],
  ['https://hook:S3cr3t?x@app.example.com/ses', 'https://hook:***@app.example.com/ses'],
  ['https://hook:S3cr3t#x@app.example.com/ses', 'https://hook:***@app.example.com/ses'],
])('a webhookUrl that is no URL (%j) is shown without its password', (webhookUrl, shown) => {
  const [problem] = problemsOf2({ feedback: { webhookUrl } });
  expect(problem).toContain(`got ${JSON.stringify(shown)}, expected an https:// URL`);
  expect(problem).not.toContain('S3cr3t');
});

// The masks run over every problem line: many "a:" must not take time quadratic in the length
// (an unbounded run took 15 s for this value, 100,000 pairs).
// "a.a.a.a" took 2.5 minutes at this length: a scheme began after every "." and ran to the end.
test.each([`${'a:'.repeat(100_000)}/`, `${'a.'.repeat(100_000)}1`, `${'a-'.repeat(100_000)}`])(
  'a long value that looks like many schemes takes linear time to mask (%#)',
  (domain) => {
    const started = Date.now();
    const [problem] = problemsOf2({ domain });
    expect(problem).toContain('field "domain"');
    expect(Date.now() - started).toBeLessThan(3_000);
  },
);

test("a URL's password in a field's name (an unknown field) is not repeated either", () => {
  const [problem] = problemsOf2({ feedback: { 'https://u:S3cr3t@h.example.com': 1 } });
  expect(problem).toContain('https://u:***@h.example.com');
  expect(problem).not.toContain('S3cr3t');
});

test('text that only looks like "scheme:user:password@" is shown as written, and is no URL with a password', () => {
  expect(problemsOf2({ fromAddress: 'Alerts: Ops: no-reply@example.com' })).toEqual([
    expect.stringContaining('got "Alerts: Ops: no-reply@example.com", expected an email address'),
  ]);
  expect(problemsOf2({ feedback: { webhookUrl: 'Alerts: Ops: no-reply@example.com' } })).toEqual([
    expect.stringContaining('got "Alerts: Ops: no-reply@example.com", expected an https:// URL whose host'),
  ]);
});

describe('Regions', () => {
  test.each(['eusc-de-east-1', 'us-isob-east-1', 'us-gov-east-1', 'ap-southeast-12'])(
    'a Region of any partition, in the form the CLI takes (%s), can be added under additionalSmtpRegions',
    (region) => {
      expect(
        fileProblems({ additionalSmtpRegions: [region], environments: { prod: { ...BASE_ENV, region } } }),
      ).toEqual([]);
    },
  );

  test.each(['EU-west-1', 'eu-west', 'eu-west-1a', 'eu_west_1'])('%s is not a Region', (region) => {
    expect(fileProblems({ additionalSmtpRegions: [region], environments: { prod: BASE_ENV } })).toEqual([
      expect.stringContaining(
        `field "additionalSmtpRegions[0]": got "${region}", expected an AWS Region like "eu-west-1"`,
      ),
    ]);
  });

  test('a Region where SES has an API but no SMTP endpoint is refused with the escape hatch named', () => {
    const [problem] = problemsOf2({ region: 'af-south-1' });
    expect(problem).toMatch(
      /field "region": got "af-south-1", expected a Region with an SES SMTP endpoint \(.*\); a newer one can be added under "additionalSmtpRegions"$/,
    );
    expect(
      fileProblems({
        additionalSmtpRegions: ['af-south-1'],
        environments: { prod: { ...BASE_ENV, region: 'af-south-1' } },
      }),
    ).toEqual([]);
  });
});

// Route 53 takes at most 4000 characters of a record value, counted as the stack writes it:
// strings of 255 characters, each quoted (see route53TxtLength, pinned to aws-cdk-lib's output).
describe('TXT values fit Route 53', () => {
  const health = { enabled: false }; // its own 4 KB environment-variable check would speak first
  test('an apex TXT value of 3968 characters fits (16 quoted strings: 4000), one more does not', () => {
    const apexSpf = (value: string) => ({ enabled: true, otherTxtValues: [value] });
    valid({ health, apexSpf: apexSpf('a'.repeat(3968)) });
    expect(problemsOf2({ health, apexSpf: apexSpf('a'.repeat(3969)) })).toEqual([
      expect.stringMatching(
        /field "apexSpf\.otherTxtValues\[0\]": got "a{20,}\.\.\., expected a shorter value: Route 53 stores at most 4000 characters of a record value, and this one takes 4001 once split into quoted strings of 255 characters$/,
      ),
    ]);
    // With DNS outside Route 53 the stack writes nothing: the value is printed for another host.
    valid({
      health,
      dns: { mode: 'manual' },
      apexSpf: apexSpf('a'.repeat(3969)),
    });
  });

  test('the DMARC record with 20 long report URIs: one line naming the record', () => {
    const uris = (kind: string) =>
      Array.from({ length: 10 }, (_, i) => `mailto:${kind}-${i}-${'x'.repeat(180)}@reports.example.org`);
    const problems = problemsOf2({
      health,
      dmarc: { aggregateReportUris: uris('rua'), forensicReportUris: uris('ruf') },
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /field "dmarc": got .*, expected fewer or shorter report URIs \(aggregateReportUris, forensicReportUris\): the DMARC record Route 53 stores at most 4000 characters of a record value, and this one takes \d{4} once/,
    );
  });
});

describe('values a person cannot see, or that nest too deeply to show', () => {
  test.each([
    ['\u200b', 'U+200B'],
    ['\u00ad', 'U+00AD'],
    ['\ufeff', 'U+FEFF'],
    ['\t', 'U+0009'],
  ])('an invisible %j in an address is named, and shown in the value', (char, code) => {
    const fromAddress = `no-reply@example.com${char}`;
    const [problem] = problemsOf2({ fromAddress });
    // JSON's own escape where it has one (\t), \uXXXX for the others.
    const shown = char === '\t' ? '\\t' : `\\u${code.slice(2).toLowerCase()}`;
    expect(problem).toContain(`field "fromAddress": got "no-reply@example.com${shown}"`);
    expect(problem).toContain(
      `remove the invisible character ${code} at character 21 (pasted text often carries one)`,
    );
    expect(problem).not.toContain('punycode');
  });

  // A field's name is shown as a value is: a line break would split the line, an escape reach the
  // terminal, and "dmarc" with a zero-width space would look like the known field it is not.
  test('a field name with an invisible or control character is escaped, and the character named', () => {
    expect(problemsOf2({ 'dmarc\u200b': {}, dmarc: { 'x\ny': 1 } })).toEqual([
      expect.stringContaining(`${at('dmarc.x\\ny')}got unknown field with value 1, expected a known field`),
      `${at('dmarc\\u200b')}got unknown field with value {}, expected a known field (one of: account, region, domain, dns, fromAddress, mailFrom, dmarc, apexSpf, verifiedEmailAddresses, credentials, feedback, alarms, health, tags, removalPolicy, terminationProtection, github, acknowledgedWarnings): remove the invisible character U+200B at character 6 (pasted text often carries one)`,
    ]);
    expect(fileProblems({ 'a\u001b[2Jb': 1, environments: { prod: BASE_ENV } })).toEqual([
      expect.stringContaining(`${FILE}: field "a\\u001b[2Jb": got unknown field with value 1`),
    ]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'names-'));
    const file = path.join(dir, 'dup.json');
    fs.writeFileSync(file, '{"environments": {"a\\nb": {"x": 1, "x": 2}}}');
    expect(() => loadConfig(file)).toThrow(
      new ConfigError([
        `${file}: environment "a\\nb", field "x": got a second member named "x", expected each name once per object (RFC 8259 §4; JSON.parse would silently keep only the last one): merge or remove one`,
      ]),
    );
    fs.rmSync(dir, { recursive: true });
  });

  test('an invisible character in the domain is named too', () => {
    expect(problemsOf2({ domain: 'exam\u200bple.com' })).toEqual([
      expect.stringContaining(
        'field "domain": got "exam\\u200bple.com", expected a domain name like "example.com" or "bücher.example" (letters, digits and "-" per label; a non-ASCII name is taken in its punycode form, "xn--..."): remove the invisible character U+200B at character 5 (pasted text often carries one)',
      ),
    ]);
  });

  // RFC 5890: a U-label is as valid a label as its A-label; SES and DNS take the A-label, so the
  // file's names are converted (as the CLI converts its flags), not refused.
  test('an internationalized domain is taken in its punycode form, wherever the file names one', () => {
    const env = envConfig({
      domain: 'Bücher.Example.com.',
      dns: { mode: 'route53', hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'bücher.example.com' },
      fromAddress: 'No-Reply@Bücher.example.com',
      verifiedEmailAddresses: ['qa@bücher.example.com'],
      alarms: { emails: ['ops@bücher.example.com'] },
      credentials: { allowedFromAddresses: ['*@bücher.example.com', '*@*.bücher.example.com'] },
    });
    expect(env.domain).toBe('xn--bcher-kva.example.com');
    expect(env.dns).toMatchObject({ zoneName: 'xn--bcher-kva.example.com' });
    // The local part as written (it may be case-sensitive), the domain in lower case.
    expect(env.fromAddress).toBe('No-Reply@xn--bcher-kva.example.com');
    expect(env.verifiedEmailAddresses).toEqual(['qa@xn--bcher-kva.example.com']);
    expect(env.alarms.emails).toEqual(['ops@xn--bcher-kva.example.com']);
    expect(env.credentials.allowedFromAddresses).toEqual([
      '*@xn--bcher-kva.example.com',
      '*@*.xn--bcher-kva.example.com',
    ]);
    // A U-label that starts or ends with "-" is refused, as RFC 5891 §4.2.3.1 and the LDH rule
    // refuse one in ASCII (Node's UTS #46 conversion would take it).
    for (const domain of ['-bücher.example', 'bücher-.example', '-example.com'])
      expect([domain, problemsOf2({ domain })]).toEqual([
        domain,
        [expect.stringContaining(`field "domain": got ${JSON.stringify(domain)}, expected a domain name`)],
      ]);
    // Node's conversion reads a URL's host: it would cut a name short at "/", "\\", "?" or "#"
    // ("bücher.example/x" taken as xn--bcher-kva.example) and decode "%XX": refused instead.
    for (const domain of [
      'bücher.example/x',
      'bücher.example#x',
      'bücher.example?x',
      'bücher.example\\x',
      'bü%63her.example',
    ])
      expect([domain, problemsOf2({ domain })]).toEqual([
        domain,
        [expect.stringContaining(`field "domain": got ${JSON.stringify(domain)}, expected a domain name`)],
      ]);
    expect(problemsOf2({ verifiedEmailAddresses: ['qa@bücher.example/x'] })).toEqual([
      expect.stringContaining(
        'field "verifiedEmailAddresses[0]": got "qa@bücher.example/x", expected an email address',
      ),
    ]);
    // The same name twice, once in each form, is one entry given twice.
    expect(
      problemsOf2({ verifiedEmailAddresses: ['qa@bücher.example', 'qa@xn--bcher-kva.example'] }),
    ).toEqual([expect.stringContaining('field "verifiedEmailAddresses[1]"')]);
  });

  test("a webhook URL whose host is in non-ASCII letters: the URL with the host's punycode form", () => {
    expect(problemsOf2({ feedback: { webhookUrl: 'https://Bücher.example/ses?x=ä' } })[0]).toMatch(
      /field "feedback\.webhookUrl": got "https:\/\/Bücher\.example\/ses\?x=ä", expected an https:\/\/ URL .*: its host in punycode form, "https:\/\/xn--bcher-kva\.example\/ses\?x=%C3%A4"$/,
    );
    // A non-ASCII path or query is taken as written.
    valid({ feedback: { webhookUrl: 'https://app.example.com/rückmeldung?x=ä' } });
  });

  // IDNA takes ZERO WIDTH NON-JOINER between these Arabic letters (RFC 5892, Appendix A.1): part of
  // the name, whose punycode form keeps it; removing it would name another domain.
  test('a joiner that IDNA takes is part of the name: its punycode form, not "remove it"', () => {
    const env = envConfig({
      domain: 'می\u200cخواهم.ir',
      dns: { mode: 'route53', hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'می\u200cخواهم.ir' },
      fromAddress: 'no-reply@می\u200cخواهم.ir',
    });
    expect([env.domain, env.fromAddress]).toEqual([
      'xn--mgbn2ecje63gr19l.ir',
      'no-reply@xn--mgbn2ecje63gr19l.ir',
    ]);
    // Between Latin letters it has no place: named, as any invisible character.
    expect(problemsOf2({ domain: 'exa\u200cmple.com' })[0]).toContain(
      'remove the invisible character U+200C at character 4',
    );
  });

  test('thousands of nested brackets: one line per field, no stack overflow', () => {
    const tags = JSON.parse('['.repeat(5000) + ']'.repeat(5000));
    expect(problemsOf2({ tags })).toEqual([
      expect.stringContaining('field "tags": got a value nested too deeply to show, expected an object'),
    ]);
  });
});

// The longest time between two runs of an EventBridge schedule: what the health checks' watchers
// wait before they report that runs stopped.
describe('scheduleGapHours', () => {
  test.each([
    ['rate(1 day)', 24],
    ['rate(1 hour)', 1],
    ['rate(15 minutes)', 0.25],
    ['rate(10 days)', 240],
    ['cron(0 6 * * ? *)', 24],
    // Friday 17:45 to Monday 08:00.
    ['cron(0/15 8-17 ? * MON-FRI *)', 62.25],
    ['cron(0 6 ? * MON *)', 168],
    ['cron(0 6 ? * mon,wed *)', 120],
    // A range of days that wraps: Friday to Monday, then Tuesday to Thursday off.
    ['cron(0 6 ? * FRI-MON *)', 96],
    ['cron(30 */6 * * ? *)', 6],
    // Odd days of the month: the 31st to the 1st is one day, the 29th (or 27th) to the 1st two.
    ['cron(0 6 1/2 * ? *)', 48],
    // The 1st of each month: 31 days from a month of 31.
    ['cron(0 6 1 * ? *)', 744],
    ['cron(* * * * ? *)', 1 / 60],
    // Once a year, across 2028's leap day: both runs are in the two years listed.
    ['cron(0 6 1 3 ? *)', 366 * 24],
  ])('%s: %d hours', (expression, hours) => {
    expect(scheduleGapHours(expression)).toBeCloseTo(hours, 6);
  });

  test.each([
    'cron(0 6 L * ? *)', // the last day: depends on the month
    'cron(0 6 ? * 6L *)',
    'cron(0 6 ? * 3#2 *)',
    'cron(0 6 15W * ? *)',
    'cron(0 6 * * ? 2027)', // ends
    'cron(0 0 29 2 ? *)', // once in the two years listed
    'at(2027-01-01T00:00:00)',
    'rate(1 week)',
  ])('%s: cannot tell', (expression) => {
    expect(scheduleGapHours(expression)).toBeUndefined();
  });
});
