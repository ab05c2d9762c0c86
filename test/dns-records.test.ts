import {
  apexSpfValue,
  apexTxtRecord,
  dkimRecords,
  dmarcValue,
  fqdn,
  mailFromRecords,
  quoteTxt,
  reportAuthorizationRecord,
  route53TxtLength,
  route53TxtStrings,
  txtStrings,
  unescapeDns,
  toZoneFile,
} from '../lib/dns-records';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { TEST_APP_PROPS } from './support/app-props';

const DMARC = {
  policy: 'quarantine' as const,
  percentage: 100,
  aggregateReportUris: [],
  forensicReportUris: [],
  dkimAlignment: 'relaxed' as const,
  spfAlignment: 'relaxed' as const,
};

describe('dns records', () => {
  test('fqdn adds exactly one trailing dot', () => {
    expect(fqdn('example.com')).toBe('example.com.');
    expect(fqdn('example.com.')).toBe('example.com.');
  });

  test('MAIL FROM records point at the Region feedback endpoint with an SES SPF', () => {
    expect(mailFromRecords('example.com', 'bounce', 'ap-south-1')).toEqual([
      expect.objectContaining({
        name: 'bounce.example.com.',
        type: 'MX',
        values: ['10 feedback-smtp.ap-south-1.amazonses.com'],
      }),
      expect.objectContaining({
        name: 'bounce.example.com.',
        type: 'TXT',
        values: ['v=spf1 include:amazonses.com ~all'],
      }),
    ]);
  });

  test.each([
    [DMARC, 'v=DMARC1; p=quarantine; pct=100; adkim=r; aspf=r'],
    [
      {
        ...DMARC,
        policy: 'reject' as const,
        subdomainPolicy: 'none' as const,
        percentage: 25,
        aggregateReportUris: ['mailto:a@example.com', 'mailto:b@example.net'],
        forensicReportUris: ['mailto:f@example.com'],
        dkimAlignment: 'strict' as const,
        spfAlignment: 'strict' as const,
      },
      'v=DMARC1; p=reject; sp=none; pct=25; rua=mailto:a@example.com,mailto:b@example.net; ruf=mailto:f@example.com; adkim=s; aspf=s',
    ],
    [
      {
        ...DMARC,
        // Several forensic report URIs: one comma-separated list, as rua (RFC 7489 §6.4).
        forensicReportUris: ['mailto:f@example.com', 'mailto:g@example.net'],
        failureReportOptions: ['1' as const, 'd' as const],
      },
      'v=DMARC1; p=quarantine; pct=100; ruf=mailto:f@example.com,mailto:g@example.net; fo=1:d; adkim=r; aspf=r',
    ],
    // Each alignment from its own setting.
    [{ ...DMARC, dkimAlignment: 'strict' as const }, 'v=DMARC1; p=quarantine; pct=100; adkim=s; aspf=r'],
    [{ ...DMARC, spfAlignment: 'strict' as const }, 'v=DMARC1; p=quarantine; pct=100; adkim=r; aspf=s'],
  ])('DMARC value %#', (options, expected) => {
    expect(dmarcValue(options)).toBe(expected);
  });

  test('apex SPF merges the other mechanisms once, SES first, "all" last', () => {
    expect(
      apexSpfValue({
        otherMechanisms: ['include:_spf.google.com', 'include:amazonses.com', 'ip4:192.0.2.0/24'],
        all: '-all',
        otherTxtValues: [],
      }),
    ).toBe('v=spf1 include:amazonses.com include:_spf.google.com ip4:192.0.2.0/24 -all');
  });

  test.each(['INCLUDE:amazonses.com', '+include:amazonses.com', 'include:AmazonSES.com.'])(
    "apex SPF writes SES's include once when the other mechanisms spell it %s",
    (ses) => {
      expect(apexSpfValue({ otherMechanisms: [ses, 'mx'], all: '~all', otherTxtValues: [] })).toBe(
        'v=spf1 include:amazonses.com mx ~all',
      );
    },
  );

  test('a term with another qualifier than "+" is its own term', () => {
    expect(
      apexSpfValue({ otherMechanisms: ['?include:amazonses.com'], all: '~all', otherTxtValues: [] }),
    ).toBe('v=spf1 include:amazonses.com ?include:amazonses.com ~all');
  });

  test('apex TXT record set holds the SPF value and every other apex value', () => {
    const record = apexTxtRecord('example.com', {
      otherMechanisms: [],
      all: '~all',
      otherTxtValues: ['google-site-verification=abc'],
    });
    expect(record).toMatchObject({
      name: 'example.com.',
      type: 'TXT',
      values: ['v=spf1 include:amazonses.com ~all', 'google-site-verification=abc'],
    });
  });

  test('DKIM CNAMEs are named after the tokens under _domainkey', () => {
    expect(dkimRecords('example.com', ['tok1', 'tok2', 'tok3']).map((r) => [r.name, r.values[0]])).toEqual([
      ['tok1._domainkey.example.com.', 'tok1.dkim.amazonses.com'],
      ['tok2._domainkey.example.com.', 'tok2.dkim.amazonses.com'],
      ['tok3._domainkey.example.com.', 'tok3.dkim.amazonses.com'],
    ]);
    // The zone as an identity may report it, absolute: one final dot in the zone-file line.
    const [record] = dkimRecords('example.com', ['t1'], 'dkim.il-central-1.amazonses.com.');
    expect(record.values).toEqual(['t1.dkim.il-central-1.amazonses.com']);
    expect(toZoneFile([record])).toBe(
      't1._domainkey.example.com. IN CNAME t1.dkim.il-central-1.amazonses.com.',
    );
  });

  // RFC 7489 §7.1: the consent is named for the domain; an absolute or capitalized name is the same one.
  test('the DMARC report consent is named for the domain as names compare: lower case, no final dot', () => {
    expect(reportAuthorizationRecord('Example.COM.', 'dmarc-vendor.net')).toEqual({
      key: 'DmarcReportAuthorization',
      name: 'example.com._report._dmarc.dmarc-vendor.net.',
      type: 'TXT',
      values: ['v=DMARC1;'],
      purpose: 'DMARC reports to dmarc-vendor.net',
    });
  });

  test('TXT values longer than 255 bytes are split into several quoted strings', () => {
    const long = 'a'.repeat(300);
    expect(quoteTxt(long)).toBe(`"${'a'.repeat(255)}" "${'a'.repeat(45)}"`);
    expect(quoteTxt('say "hi"')).toBe('"say \\"hi\\""');
    // RFC 1035 §5.1: a backslash in a quoted string escapes the next character, so it is escaped itself.
    expect(quoteTxt('C:\\dir')).toBe('"C:\\\\dir"');
  });

  // A character of several UTF-8 bytes (a construct's own value: the config takes ASCII only)
  // at byte 255 goes whole into the next string: cut in two, each half decoded to U+FFFD.
  test('TXT strings are split between characters, never inside one', () => {
    expect(quoteTxt(`${'a'.repeat(254)}é b`)).toBe(`"${'a'.repeat(254)}" "é b"`);
    expect(quoteTxt('€'.repeat(100))).toBe(`"${'€'.repeat(85)}" "${'€'.repeat(15)}"`);
  });

  test('zone file form has one line per resource record', () => {
    const zone = toZoneFile(
      [...mailFromRecords('example.com', 'mail', 'us-east-1'), ...dkimRecords('example.com', ['t1'])],
      600,
    );
    expect(zone.split('\n')).toEqual([
      'mail.example.com. 600 IN MX 10 feedback-smtp.us-east-1.amazonses.com.',
      'mail.example.com. 600 IN TXT "v=spf1 include:amazonses.com ~all"',
      't1._domainkey.example.com. 600 IN CNAME t1.dkim.amazonses.com.',
    ]);
  });

  test('without a TTL the lines have no TTL field (the zone default applies)', () => {
    expect(toZoneFile(dkimRecords('example.com', ['t1']))).toBe(
      't1._domainkey.example.com. IN CNAME t1.dkim.amazonses.com.',
    );
  });
});

test("route53TxtLength and route53TxtStrings are the length and strings of the value aws-cdk-lib's TxtRecord writes", () => {
  const values = [
    'v=spf1 ~all',
    'a'.repeat(255),
    'a'.repeat(256),
    'a'.repeat(4000),
    'say "hi" \\ bye '.repeat(40),
  ];
  const stack = new Stack(new App(TEST_APP_PROPS), 'Txt');
  const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
    hostedZoneId: 'Z0123456789EXAMPLE0AB',
    zoneName: 'example.com',
  });
  values.forEach(
    (value, i) => new route53.TxtRecord(stack, `T${i}`, { zone, recordName: `t${i}`, values: [value] }),
  );
  const written = Object.values(Template.fromStack(stack).findResources('AWS::Route53::RecordSet')).map(
    (r) => (r.Properties.ResourceRecords as string[])[0],
  );
  expect(written.map((w) => w.length)).toEqual(values.map(route53TxtLength));
  // Read back as Route 53 holds it: the strings the stack splits each value into.
  expect(written.map(txtStrings)).toEqual(values.map(route53TxtStrings));
  expect(written.map((w) => txtStrings(w).join(''))).toEqual(values);
  expect(written[1]).toBe(`"${'a'.repeat(255)}"`);
});

test('Route 53 escapes: \\ddd is octal (Route 53 lists "*" as \\052), \\c the character itself', () => {
  expect(unescapeDns('\\052.example.com.')).toBe('*.example.com.');
  expect(txtStrings('"say \\"hi\\"\\040\\\\" "two"')).toEqual(['say "hi" \\', 'two']);
});
