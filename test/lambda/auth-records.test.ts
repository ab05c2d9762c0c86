import {
  consentRedirect,
  externalReportDestinations,
  reportDestinations,
  organizationalDomain,
  sameOrganization,
} from '../../lambda/shared/auth-records';

/*
 * DMARC report addresses as RFC 7489 §7.1 reads them: which domains they name, and which of those
 * belong to another organization and so must consent to the reports.
 */

describe('the domains of report URIs (RFC 7489 §6.4, RFC 6068)', () => {
  test.each<[string, string[], { host: string; uris: string[] }[]]>([
    [
      'a size limit and header fields',
      ['mailto:d@Vendor.NET!10m', 'mailto:r@vendor.net?subject=dmarc'],
      [{ host: 'vendor.net', uris: ['mailto:d@Vendor.NET!10m', 'mailto:r@vendor.net?subject=dmarc'] }],
    ],
    [
      'two addresses in one URI (%2C), an absolute domain',
      ['MAILTO:a@one.org%2Cb@two.org.'],
      [
        { host: 'one.org', uris: ['MAILTO:a@one.org%2Cb@two.org.'] },
        { host: 'two.org', uris: ['MAILTO:a@one.org%2Cb@two.org.'] },
      ],
    ],
    [
      'two addresses of one domain: the domain once, the URI once',
      ['mailto:a@v.net%2Cb@v.net'],
      [{ host: 'v.net', uris: ['mailto:a@v.net%2Cb@v.net'] }],
    ],
    [
      'the addresses of a "to" header field, not those of "cc"',
      ['mailto:d@example.com?cc=x@cc.example&To=y@to.example%2Cz@two.example'],
      [
        {
          host: 'example.com',
          uris: ['mailto:d@example.com?cc=x@cc.example&To=y@to.example%2Cz@two.example'],
        },
        {
          host: 'to.example',
          uris: ['mailto:d@example.com?cc=x@cc.example&To=y@to.example%2Cz@two.example'],
        },
        {
          host: 'two.example',
          uris: ['mailto:d@example.com?cc=x@cc.example&To=y@to.example%2Cz@two.example'],
        },
      ],
    ],
    [
      'a %-encoded non-ASCII domain, in punycode',
      ['mailto:d@b%C3%BCcher.example'],
      [{ host: 'xn--bcher-kva.example', uris: ['mailto:d@b%C3%BCcher.example'] }],
    ],
    [
      'a quoted local part with "@" in it, a space after the domain',
      ['mailto:%22a@b%22@vendor.net%20'],
      [{ host: 'vendor.net', uris: ['mailto:%22a@b%22@vendor.net%20'] }],
    ],
    [
      'other schemes, address literals and bad %-encoding name no domain',
      [
        'https://reports.example.net/dmarc',
        'mailto:d@[192.0.2.1]',
        'mailto:d@192.0.2.1',
        'mailto:d@vendor.net%E0%A4%A',
        'mailto:nobody',
      ],
      [],
    ],
  ])('%s', (_case, uris, expected) => {
    expect(reportDestinations(uris)).toEqual(expected);
  });
});

describe('one organization or two (RFC 7489 §3.2), without the Public Suffix List', () => {
  test.each([
    ['example.com', 'example.com', true],
    ['example.com', 'Reports.Example.COM.', true],
    ['mail.example.com', 'example.com', true],
    ['app.example.com', 'reports.example.com', true],
    ['example.co.uk', 'mail.example.co.uk', true],
    // Registered domains that look like registry suffixes: a name and the names under it are one.
    ['net.de', 'net.de', true],
    ['co.ch', 'reports.co.ch', true],
    ['notify.net.de', 'net.de', true],
    ['example.com', 'dmarc-vendor.net', false],
    ['example.com', 'other.com', false],
    ['example.co.uk', 'vendor.co.uk', false],
    ['example.com.au', 'vendor.com.au', false],
    ['a.example.co.uk', 'b.example.co.uk', true],
    ['one.app.github.io', 'two.app.github.io', true],
  ])('%s and %s: %s', (domain, host, same) => {
    expect(sameOrganization(domain, host)).toBe(same);
    expect(externalReportDestinations(domain, [`mailto:d@${host}`]).length).toBe(same ? 0 : 1);
  });
});

test.each([
  ['example.com', 'example.com'],
  ['Notify.Example.COM.', 'example.com'],
  ['a.b.example.com', 'example.com'],
  ['mail.example.co.uk', 'example.co.uk'],
  ['example.co.uk', 'example.co.uk'],
  ['x.example.com.au', 'example.com.au'],
])('the Organizational Domain of %s is %s', (domain, organization) => {
  expect(organizationalDomain(domain)).toBe(organization);
});

describe("a consent's own report addresses (RFC 7489 §7.1)", () => {
  test.each([
    ['v=DMARC1', undefined],
    ['v=DMARC1; rua=mailto:a@vendor.net!10m, mailto:b@VENDOR.net; ruf=mailto:c@vendor.net', undefined],
    ['v=DMARC1; rua=mailto:a@vendor.net,mailto:b@third.example', 'mailto:b@third.example'],
    ['v=DMARC1; RUF = mailto:c@third.example', 'mailto:c@third.example'],
  ])('%s: %s', (consent, redirect) => {
    expect(consentRedirect(consent, 'vendor.net')).toBe(redirect);
  });
});
