import * as dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { dmarcPolicy, isDmarcRecord, sameTxtValue, spfTerms } from '../../lambda/shared/auth-records';
import { CheckRun, CHECKS, HealthClients } from '../../lambda/shared/checks';
import { checkRecord, lookupFailure, retryingServfail } from '../../lambda/shared/dns-check';
import { dkimRecords, dmarcRecord, mailFromRecords } from '../../lib/dns-records';
import { startDnsServer, TestDnsServer } from '../support/dns-server';
import { EXAMPLE_DMARC, exampleHealthTarget } from '../support/health-target';

/*
 * Live SPF, DMARC and MX records against the expected ones, through a real DNS server: a record
 * that receivers read as the stack's passes however it is spaced, ordered or spelt; one that they
 * read otherwise fails with the fix that leaves one record at the name.
 */

let dns: TestDnsServer;
let resolver: dnsPromises.Resolver;
beforeAll(async () => {
  dns = await startDnsServer({});
  resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([dns.address]);
});
afterAll(() => dns.close());
beforeEach(() => {
  for (const key of Object.keys(dns.zone)) delete dns.zone[key];
});

const [MX, SPF] = mailFromRecords('example.com', 'mail', 'eu-west-1');
const DMARC = dmarcRecord('example.com', EXAMPLE_DMARC);
const FEEDBACK = 'feedback-smtp.eu-west-1.amazonses.com';

test('the expected values are the ones these tests vary', () => {
  expect(SPF.values).toEqual(['v=spf1 include:amazonses.com ~all']);
  expect(DMARC.values).toEqual([
    'v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com; adkim=r; aspf=r',
  ]);
});

describe('SPF by meaning (RFC 7208 §4.6.1)', () => {
  test.each([
    ['the same text', 'v=spf1 include:amazonses.com ~all'],
    ['several spaces', 'v=spf1  include:amazonses.com   ~all'],
    ['a trailing space', 'v=spf1 include:amazonses.com ~all '],
    ['names in upper case', 'V=SPF1 INCLUDE:AmazonSES.com ~ALL'],
    ['an absolute domain', 'v=spf1 include:amazonses.com. ~all'],
    ['the default qualifier written out', 'v=spf1 +include:amazonses.com ~all'],
  ])('passes %s', async (_case, live) => {
    dns.zone['mail.example.com'] = { TXT: [[live]] };
    expect(await checkRecord(resolver, SPF)).toMatchObject({ status: 'ok' });
  });

  test.each([
    ['another qualifier for all', 'v=spf1 include:amazonses.com -all'],
    ['a mechanism more', 'v=spf1 include:amazonses.com a ~all'],
    ['the mechanisms in another order', 'v=spf1 ~all include:amazonses.com'],
    // Never evaluated, but a syntax error anywhere makes the record a permerror (§4.6).
    ['a broken term after all', 'v=spf1 include:amazonses.com ~all ip4:192.0.2'],
  ])('replaces %s: a second record would break both', async (_case, live) => {
    dns.zone['mail.example.com'] = { TXT: [[live], ['google-site-verification=abc']] };
    expect(await checkRecord(resolver, SPF)).toMatchObject({
      status: 'fail',
      fix: `replace TXT "${live}" with "v=spf1 include:amazonses.com ~all"`,
    });
  });

  test("publishes a missing record beside the name's other TXT values", async () => {
    dns.zone['mail.example.com'] = { TXT: [['google-site-verification=abc']] };
    expect(await checkRecord(resolver, SPF)).toMatchObject({
      status: 'fail',
      fix: 'publish TXT "v=spf1 include:amazonses.com ~all"',
    });
  });

  // A TXT value longer than 255 characters is several strings in one record, read joined with
  // nothing between them (RFC 7208 §3.3): a split may fall anywhere, inside a word too.
  test('passes a record served as several strings', async () => {
    dns.zone['mail.example.com'] = { TXT: [['v=spf1 include:amazon', 'ses.com ~all']] };
    expect(await checkRecord(resolver, SPF)).toMatchObject({ status: 'ok' });
  });

  // The name has records, none of them TXT (NODATA): the record is missing, not the lookup failed.
  test('a name with records but no TXT: not found, with the record to add', async () => {
    dns.zone['mail.example.com'] = { MX: [{ priority: 10, exchange: FEEDBACK }] };
    expect(await checkRecord(resolver, SPF)).toMatchObject({
      status: 'fail',
      detail: 'not found in DNS',
      fix: 'add TXT v=spf1 include:amazonses.com ~all (DNS changes can take up to the TTL to appear)',
    });
  });

  test('a report URI\'s size unit in any case: "!10M" asks for what "!10m" does (RFC 7489 §6.4)', () => {
    const expected = 'v=DMARC1; p=none; rua=mailto:dmarc@example.com!10m';
    expect(sameTxtValue(expected, 'v=DMARC1; p=none; rua=mailto:dmarc@example.com!10M')).toBe(true);
    expect(sameTxtValue(expected, 'v=DMARC1; p=none; rua=mailto:dmarc@example.com!10k')).toBe(false);
  });

  test('DMARC failure report options are a set: "d:1" asks for what "1:d" does, "1" for more than the default "0"', () => {
    expect(sameTxtValue('v=DMARC1; p=none; fo=1:d', 'v=DMARC1; p=none; fo=D : 1')).toBe(true);
    expect(sameTxtValue('v=DMARC1; p=none; fo=0', 'v=DMARC1; p=none')).toBe(true);
    expect(sameTxtValue('v=DMARC1; p=none; fo=1', 'v=DMARC1; p=none')).toBe(false);
  });

  test('a macro keeps its letter case: %{I} and %{i} expand differently (§7.3)', () => {
    expect(spfTerms('v=spf1 EXISTS:%{I}.Example.com. -all')).toEqual(['exists:%{I}.example.com', '-all']);
    expect(sameTxtValue('v=spf1 exists:%{i}.example.com -all', 'v=spf1 exists:%{I}.example.com -all')).toBe(
      false,
    );
  });

  // An address is no domain (§5.6: ip4-network is four numbers): with a final dot it is a
  // permerror to receivers, not the record the stack writes.
  test('an address keeps its final dot: "ip4:192.0.2.1." is not "ip4:192.0.2.1"', () => {
    expect(sameTxtValue('v=spf1 ip4:192.0.2.1 -all', 'v=spf1 ip4:192.0.2.1. -all')).toBe(false);
    expect(sameTxtValue('v=spf1 a:mx.example.com/24 -all', 'v=spf1 a:mx.example.com./24 -all')).toBe(true);
  });

  test('"v=spf1" starts an SPF record only before a space or the end (§4.5)', async () => {
    dns.zone['mail.example.com'] = { TXT: [['v=spf1 include:amazonses.com ~all'], ['v=spf10 -all']] };
    expect(await checkRecord(resolver, SPF)).toMatchObject({ status: 'ok' });
    dns.zone['mail.example.com'].TXT!.push(['v=spf1']);
    expect(await checkRecord(resolver, SPF)).toMatchObject({ status: 'fail', detail: '2 SPF records' });
  });
});

describe('DMARC by meaning (RFC 7489 §6.3, §6.4)', () => {
  test.each([
    ['the same text', 'v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com; adkim=r; aspf=r'],
    [
      'no spaces and a final ";"',
      'v=DMARC1;p=quarantine;pct=100;rua=mailto:dmarc@example.com;adkim=r;aspf=r;',
    ],
    ['spaces around "="', 'v = DMARC1 ; p = quarantine ; rua = mailto:dmarc@example.com'],
    [
      'tags after p in another order',
      'v=DMARC1; p=quarantine; aspf=r; rua=mailto:dmarc@example.com; adkim=r; pct=100',
    ],
    ['the defaults left out', 'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com'],
    [
      'tag names and policy words in upper case',
      'v=DMARC1; P=Quarantine; RUA=mailto:dmarc@example.com; ADKIM=R',
    ],
    ['an unknown tag', 'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; future=1'],
    // RFC 3986 §3.1 and §3.2.2: a URI's scheme and host in any case; RFC 5234 §2.3: the size unit too.
    [
      "the report URI's scheme and domain in capitals",
      'v=DMARC1; p=quarantine; rua=MAILTO:dmarc@Example.COM',
    ],
  ])('passes %s', async (_case, live) => {
    dns.zone['_dmarc.example.com'] = { TXT: [[live]] };
    expect(await checkRecord(resolver, DMARC)).toMatchObject({ status: 'ok' });
  });

  test.each([
    ['another policy', 'v=DMARC1; p=none; rua=mailto:dmarc@example.com'],
    ['no reports', 'v=DMARC1; p=quarantine'],
    ['strict alignment', 'v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com; adkim=s'],
    ['a lower percentage', 'v=DMARC1; p=quarantine; pct=50; rua=mailto:dmarc@example.com'],
    ['"p" not second', 'v=DMARC1; rua=mailto:dmarc@example.com; p=quarantine'],
    ['a subdomain policy of its own', 'v=DMARC1; p=quarantine; sp=none; rua=mailto:dmarc@example.com'],
    // RFC 5321 §2.4: the local part may be case-sensitive, another mailbox.
    [
      'a report address with its local part in capitals',
      'v=DMARC1; p=quarantine; rua=mailto:DMARC@example.com',
    ],
  ])('replaces %s', async (_case, live) => {
    dns.zone['_dmarc.example.com'] = { TXT: [[live]] };
    expect(await checkRecord(resolver, DMARC)).toMatchObject({
      status: 'fail',
      fix: `replace TXT "${live}" with "${DMARC.values[0]}"`,
    });
  });

  test('the version is case-sensitive: receivers ignore "v=dmarc1", so it is not the record', async () => {
    const live = 'v=dmarc1; p=quarantine; rua=mailto:dmarc@example.com';
    expect(isDmarcRecord(live)).toBe(false);
    dns.zone['_dmarc.example.com'] = { TXT: [[live]] };
    // Replaced all the same: left beside the right one, it would only confuse.
    expect(await checkRecord(resolver, DMARC)).toMatchObject({
      status: 'fail',
      fix: `replace TXT "${live}" with "${DMARC.values[0]}"`,
    });
  });

  // The valid one is the one to replace: replacing the misspelt one would leave two.
  test.each([
    [['v=dmarc1; p=none'], ['v=DMARC1; p=reject']],
    [['v=DMARC1; p=reject'], ['v=dmarc1; p=none']],
  ])('beside a misspelt record, the valid one is replaced (%j first)', async (first, second) => {
    dns.zone['_dmarc.example.com'] = { TXT: [first, second] };
    expect((await checkRecord(resolver, DMARC)).fix).toBe(
      `replace TXT "v=DMARC1; p=reject" with "${DMARC.values[0]}"`,
    );
  });

  test('a record whose p is not a policy word is not applied', () => {
    const writeP = 'write "p=none", "p=quarantine" or "p=reject" right after "v=DMARC1;"';
    expect(dmarcPolicy('v=DMARC1; p=block')).toEqual({
      problem: 'p=block is not a policy: none, quarantine or reject',
      fix: writeP,
    });
    expect(dmarcPolicy('v=DMARC1; rua=mailto:a@example.com')).toEqual({
      problem: '"p=" must come right after "v=DMARC1"',
      fix: writeP,
    });
    // Only after "p=" are parts that are no tag skipped: before it, the record has no policy.
    expect(dmarcPolicy('v=DMARC1; reject; p=reject')).toEqual({
      problem: '"reject" is not a tag=value pair',
      fix: writeP,
    });
  });

  // RFC 7489 §6.6.3: a record "that contains an sp tag that is not valid" is not applied either.
  test('nor is one whose sp is not a policy word', () => {
    expect(dmarcPolicy('v=DMARC1; p=reject; sp=block')).toEqual({
      problem: 'sp=block is not a policy: none, quarantine or reject',
      fix: 'write "sp=none", "sp=quarantine" or "sp=reject", or leave "sp=" out (subdomains then get "p=")',
    });
    expect(dmarcPolicy('v=DMARC1; p=reject; SP=Quarantine')).toMatchObject({ tags: { sp: 'quarantine' } });
  });
});

describe('MAIL FROM MX: SES alone receives the bounces', () => {
  test('passes the feedback endpoint, in any case, with or without the final dot', async () => {
    dns.zone['mail.example.com'] = { MX: [{ priority: 10, exchange: `${FEEDBACK.toUpperCase()}.` }] };
    expect(await checkRecord(resolver, MX)).toMatchObject({ status: 'ok' });
  });

  // A preference only orders a domain's mail servers (RFC 5321 §5.1): with SES's the only one, its
  // number changes nothing, and the fix must not say to remove SES's own MX.
  test('another preference for the feedback endpoint is noted, not failed', async () => {
    dns.zone['mail.example.com'] = { MX: [{ priority: 5, exchange: FEEDBACK }] };
    expect(await checkRecord(resolver, MX)).toEqual({
      id: MX.key,
      status: 'info',
      title: expect.any(String),
      detail: `found 5 ${FEEDBACK}: another preference than 10 ${FEEDBACK}, which changes nothing while SES's is the only mail server`,
    });
  });

  test.each([
    ['a preferred one', 5],
    ['a backup', 20],
  ])('fails another mail server, %s', async (_case, priority) => {
    dns.zone['mail.example.com'] = {
      MX: [
        { priority: 10, exchange: FEEDBACK },
        { priority, exchange: 'mx.example.net' },
      ],
    };
    expect(await checkRecord(resolver, MX)).toMatchObject({
      status: 'fail',
      fix: `remove MX ${priority} mx.example.net (bounces would go there, not to SES; this domain must not receive mail)`,
    });
  });

  test('names what to add and what to remove at once', async () => {
    dns.zone['mail.example.com'] = { MX: [{ priority: 10, exchange: 'mx.example.net' }] };
    expect((await checkRecord(resolver, MX)).fix).toBe(
      `add MX 10 ${FEEDBACK}; remove MX 10 mx.example.net (bounces would go there, not to SES; this domain must not receive mail)`,
    );
  });
});

describe('Easy DKIM CNAME', () => {
  const [DKIM] = dkimRecords('example.com', ['abcdefghijklmnopqrstuvwxyz234567']);
  const name = DKIM.name.replace(/\.$/, '');

  // DNS names are case-insensitive (RFC 4343): a target written in capitals is the same name.
  test('passes a target the zone writes in capitals', async () => {
    dns.zone[name] = { CNAME: DKIM.values[0].toUpperCase() };
    expect(await checkRecord(resolver, DKIM)).toMatchObject({ status: 'ok', detail: DKIM.values[0] });
  });

  test('fails a target elsewhere, naming it and the fix', async () => {
    dns.zone[name] = { CNAME: 'elsewhere.example.net' };
    expect(await checkRecord(resolver, DKIM)).toMatchObject({
      status: 'fail',
      detail: 'points to elsewhere.example.net',
      fix: `make it a CNAME to ${DKIM.values[0]}`,
    });
  });
});

describe('lookups that fail', () => {
  // The health-check function publishes no data point for these (checkPassed): a resolver that
  // did not answer, or refused, says nothing of the zone, where a SERVFAIL is the zone's answer.
  test('a resolver that refuses the connection: the lookup failed, undetermined', async () => {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    await new Promise<void>((resolve) => socket.close(resolve));
    const closed = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    closed.setServers([`127.0.0.1:${port}`]);
    expect(await checkRecord(closed, SPF)).toEqual({
      id: 'MailFromTxt',
      status: 'fail',
      title: `${SPF.purpose} (TXT mail.example.com)`,
      detail: 'DNS lookup failed (ECONNREFUSED)',
      fix: 'check the resolver (--resolver IP[:PORT] with the CLI) and the network',
      undetermined: true,
    });
  });

  // What says something of the resolver, not of the zone (RFC 1035 §4.1.1), is "could not tell":
  // a recursive resolver answers SERVFAIL for a zone that fails it, and REFUSED for its own policy.
  test.each([
    ['ETIMEOUT', true],
    ['ECONNREFUSED', true],
    ['EREFUSED', true],
    ['ENOTIMP', true],
    ['EFORMERR', true],
    ['EBADRESP', true],
    ['ESERVFAIL', undefined],
  ])('%s: undetermined %s', (code, undetermined) => {
    const error = Object.assign(new Error(`query ${code}`), { code });
    expect(lookupFailure(error, 'TXT', 'mail.example.com').undetermined).toBe(undetermined);
  });

  test.each([
    [
      2,
      'ESERVFAIL',
      'if other names resolve through this resolver, the zone of mail.example.com gave no valid answer (a broken delegation, unreachable name servers, or DNSSEC that does not validate): check with dig +trace TXT mail.example.com, and for DNSSEC dig +cd TXT mail.example.com (answers only without validation) or delv TXT mail.example.com; else check the resolver',
    ],
    [5, 'EREFUSED', 'check the resolver (--resolver IP[:PORT] with the CLI) and the network'],
  ])('rcode %d: %s, with the fix for it', async (rcode, code, fix) => {
    dns.zone['mail.example.com'] = { RCODE: rcode };
    expect(await checkRecord(resolver, SPF)).toEqual({
      id: 'MailFromTxt',
      status: 'fail',
      title: `${SPF.purpose} (TXT mail.example.com)`,
      detail: `DNS lookup failed (${code})`,
      fix,
      ...(code === 'EREFUSED' && { undetermined: true }),
    });
  });
});

describe('DMARC managed outside the stack', () => {
  /** The dmarc check's result for a target without dmarc settings; the check reads DNS only. */
  async function dmarcCheck(identity = 'example.com') {
    const target = { ...exampleHealthTarget('SesSmtp-prod'), identity, dns: { mailFromSubdomain: 'mail' } };
    const run = new CheckRun(target, { resolver } as unknown as HealthClients);
    const [result] = await CHECKS.find((c) => c.id === 'dmarc')!.run(run);
    return result;
  }

  // RFC 7489: a record of several strings is evaluated as the strings joined in order, one string.
  test('a record served as several strings is one record', async () => {
    dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=rej', 'ect']] };
    expect(await dmarcCheck()).toMatchObject({ status: 'ok', title: 'DMARC record at _dmarc.example.com' });
  });

  // RFC 7489 §6.6.3: a name without a DMARC record gets its Organizational Domain's, with "sp=".
  describe('a subdomain identity without a record of its own', () => {
    const INHERITED =
      "DMARC record at _dmarc.example.com (the Organizational Domain's, which receivers apply to notify.example.com)";
    beforeEach(() => delete dns.zone['_dmarc.notify.example.com']);

    test.each([
      ['ok', 'v=DMARC1; p=reject'],
      ['ok', 'v=DMARC1; p=none; sp=quarantine'],
      ['info', 'v=DMARC1; p=reject; sp=none'],
      ['info', 'v=DMARC1; p=none'],
    ])("is %s with the Organizational Domain's %s (its sp=, else p=)", async (status, live) => {
      dns.zone['_dmarc.example.com'] = { TXT: [[live]] };
      expect(await dmarcCheck('notify.example.com')).toMatchObject({ status, title: INHERITED });
    });

    test("fails the Organizational Domain's record when its sp= is not a policy (RFC 7489 §6.6.3)", async () => {
      dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=reject; sp=block']] };
      expect(await dmarcCheck('notify.example.com')).toMatchObject({
        status: 'fail',
        title: INHERITED,
        fix: 'sp=block is not a policy: none, quarantine or reject: receivers apply no DMARC policy; write "sp=none", "sp=quarantine" or "sp=reject", or leave "sp=" out (subdomains then get "p=")',
      });
    });

    test("its own record wins over the Organizational Domain's", async () => {
      dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=none']] };
      dns.zone['_dmarc.notify.example.com'] = { TXT: [['v=DMARC1; p=reject']] };
      expect(await dmarcCheck('notify.example.com')).toMatchObject({
        status: 'ok',
        title: 'DMARC record at _dmarc.notify.example.com',
      });
    });

    test("neither has one: it fails at its own name; the parent's failed lookup is a lookup failure", async () => {
      delete dns.zone['_dmarc.example.com'];
      expect(await dmarcCheck('notify.example.com')).toMatchObject({
        status: 'fail',
        title: 'DMARC record at _dmarc.notify.example.com',
        detail: '0 DMARC records',
      });
      dns.zone['_dmarc.example.com'] = { RCODE: 2 };
      expect(await dmarcCheck('notify.example.com')).toMatchObject({
        status: 'fail',
        title: INHERITED,
        detail: 'DNS lookup failed (ESERVFAIL)',
      });
    });

    // The report addresses are the Organizational Domain's: they consent to that domain's reports.
    test("the reports check asks consent for the Organizational Domain's record", async () => {
      dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=reject; rua=mailto:r@dmarc-vendor.net']] };
      dns.zone['example.com._report._dmarc.dmarc-vendor.net'] = { TXT: [['v=DMARC1']] };
      const target = {
        ...exampleHealthTarget('SesSmtp-prod'),
        identity: 'notify.example.com',
        dns: { mailFromSubdomain: 'mail' },
      };
      const run = new CheckRun(target, { resolver } as unknown as HealthClients);
      expect(await CHECKS.find((c) => c.id === 'dmarc-reports')!.run(run)).toEqual([
        expect.objectContaining({
          status: 'ok',
          title: expect.stringContaining('(TXT example.com._report._dmarc.dmarc-vendor.net)'),
        }),
      ]);
    });

    test("the Organizational Domain under a registry suffix: mail.example.co.uk gets example.co.uk's", async () => {
      dns.zone['_dmarc.example.co.uk'] = { TXT: [['v=DMARC1; p=reject']] };
      expect(await dmarcCheck('mail.example.co.uk')).toMatchObject({
        status: 'ok',
        title: expect.stringMatching(/^DMARC record at _dmarc\.example\.co\.uk \(/),
      });
    });
  });

  test.each([
    ['ok', 'v=DMARC1; p=reject; rua=mailto:d@example.com'],
    ['ok', 'v = DMARC1;P = Reject;'],
  ])('%s: %s', async (status, live) => {
    dns.zone['_dmarc.example.com'] = { TXT: [[live]] };
    expect(await dmarcCheck()).toMatchObject({ status, detail: live });
  });

  // A team's own choice while it reads the reports, as dmarc.policy "none" is for the stack's
  // record: a warning would hold the dmarc alarm on until the policy changes.
  test('p=none is noted (info), not a warning', async () => {
    dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=none']] };
    expect(await dmarcCheck()).toEqual({
      id: 'DmarcTxt',
      status: 'info',
      title: 'DMARC record at _dmarc.example.com',
      detail: 'v=DMARC1; p=none (p=none only monitors: move to quarantine once reports look clean)',
    });
  });

  test.each([
    ['"p" not second', 'v=DMARC1; sp=none; p=reject', '"p=" must come right after "v=DMARC1"'],
    ['no policy word', 'v=DMARC1; p=block', 'p=block is not a policy: none, quarantine or reject'],
  ])('fails %s, saying why', async (_case, live, problem) => {
    dns.zone['_dmarc.example.com'] = { TXT: [[live]] };
    expect(await dmarcCheck()).toMatchObject({
      status: 'fail',
      detail: live,
      fix: `${problem}: receivers apply no DMARC policy; write "p=none", "p=quarantine" or "p=reject" right after "v=DMARC1;"`,
    });
  });

  // RFC 7489 §6.6.3 voids the whole record, "p=" included, for an "sp=" that is not a policy.
  test('fails an sp= that is not a policy word, at the identity itself too', async () => {
    dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=reject; sp=rejct']] };
    expect(await dmarcCheck()).toMatchObject({
      status: 'fail',
      fix: 'sp=rejct is not a policy: none, quarantine or reject: receivers apply no DMARC policy; write "sp=none", "sp=quarantine" or "sp=reject", or leave "sp=" out (subdomains then get "p=")',
    });
  });

  // Receivers skip what they cannot read after v and p, as an unknown tag (RFC 7489 §6.3).
  test('a malformed part after p: the policy still applies', async () => {
    dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=reject; rua=mailto:d@example.com; fo:1']] };
    expect(await dmarcCheck()).toMatchObject({ status: 'ok' });
  });

  test('fails a version in lower case, which receivers ignore, and says so', async () => {
    dns.zone['_dmarc.example.com'] = { TXT: [['v=dmarc1; p=reject']] };
    expect(await dmarcCheck()).toMatchObject({
      status: 'fail',
      detail: '"v=dmarc1; p=reject" is not DMARC to receivers',
      fix: 'write the version as "v=DMARC1", in upper case (RFC 7489 §6.3: receivers ignore the record otherwise)',
    });
  });

  test('fails two records', async () => {
    dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; p=reject'], ['v=DMARC1; p=none']] };
    expect(await dmarcCheck()).toMatchObject({ status: 'fail', detail: '2 DMARC records' });
  });

  test('a lookup that fails says so, not "0 records, publish one"; a name without records does', async () => {
    dns.zone['_dmarc.example.com'] = { RCODE: 2 };
    expect(await dmarcCheck()).toMatchObject({
      status: 'fail',
      detail: 'DNS lookup failed (ESERVFAIL)',
      fix: expect.stringContaining('check with dig +trace TXT _dmarc.example.com'),
    });
    delete dns.zone['_dmarc.example.com'];
    expect(await dmarcCheck()).toMatchObject({ status: 'fail', detail: '0 DMARC records' });
  });
});

describe('dmarc-reports: report addresses at another domain consent (RFC 7489 §7.1)', () => {
  const VENDOR = 'example.com._report._dmarc.dmarc-vendor.net';

  /** The dmarc-reports check's results for the example's record with these report URIs. */
  async function consents(
    aggregateReportUris: string[],
    forensicReportUris: string[] = [],
    domain = 'example.com',
  ) {
    const dmarc = { ...EXAMPLE_DMARC, aggregateReportUris, forensicReportUris };
    const target = {
      ...exampleHealthTarget('SesSmtp-prod'),
      identity: domain,
      dns: { mailFromSubdomain: 'mail', dmarc },
    };
    const run = new CheckRun(target, { resolver } as unknown as HealthClients);
    return CHECKS.find((c) => c.id === 'dmarc-reports')!.run(run);
  }

  test('an address of the domain, or of its organization, needs no consent: nothing is looked up', async () => {
    expect(await consents(['mailto:dmarc@example.com', 'mailto:d@reports.example.com'])).toEqual([]);
  });

  test('warns when the other domain has not consented, naming the record and the addresses', async () => {
    const uris = ['mailto:rua@dmarc-vendor.net', 'mailto:d@example.com'];
    expect(await consents(uris, ['mailto:ruf@dmarc-vendor.net!1m'])).toEqual([
      {
        id: 'DmarcReportAuthorization',
        status: 'warn',
        title: `DMARC reports to dmarc-vendor.net (TXT ${VENDOR})`,
        detail: 'not found in DNS',
        fix: `receivers send no report to mailto:rua@dmarc-vendor.net, mailto:ruf@dmarc-vendor.net!1m until dmarc-vendor.net publishes TXT "v=DMARC1;" at ${VENDOR} (RFC 7489 §7.1; a report service does this when the domain is added to its account), or send the reports to an address at example.com`,
      },
    ]);
  });

  test.each([
    ['its consent', [['v=DMARC1']], 'ok', '"v=DMARC1"'],
    ['its consent with the version\'s ";"', [['v=DMARC1;']], 'ok', '"v=DMARC1;"'],
    ['its consent beside other text', [['google-site-verification=x'], ['v=DMARC1;']], 'ok', '"v=DMARC1;"'],
    [
      'its consent, sending the reports on at its own domain',
      [['v=DMARC1; rua=mailto:in@Dmarc-Vendor.net']],
      'ok',
      '"v=DMARC1; rua=mailto:in@Dmarc-Vendor.net"',
    ],
    ['a version in lower case, which receivers do not read', [['v=dmarc1']], 'warn', 'found "v=dmarc1"'],
    [
      'a consent that sends the reports on to a third domain, which receivers refuse',
      [['v=DMARC1; rua=mailto:in@third.example']],
      'warn',
      '"v=DMARC1; rua=mailto:in@third.example" sends the reports on to mailto:in@third.example, at another domain',
    ],
  ])('the other domain publishes %s', async (_case, txt, status, detail) => {
    dns.zone[VENDOR] = { TXT: txt };
    expect(await consents(['mailto:rua@dmarc-vendor.net'])).toEqual([
      expect.objectContaining({ status, detail }),
    ]);
  });

  test('a lookup that fails is "could not tell" (info: no alarm), with the way to look at the zone', async () => {
    dns.zone[VENDOR] = { RCODE: 2 };
    expect(await consents(['mailto:rua@dmarc-vendor.net'])).toEqual([
      expect.objectContaining({
        status: 'info',
        detail: 'could not tell: DNS lookup failed (ESERVFAIL)',
        fix: expect.stringContaining(`check with dig +trace TXT ${VENDOR}`),
      }),
    ]);
  });

  test('a name longer than DNS allows is a warning without a lookup: receivers cannot ask for it', async () => {
    const domain = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(30)}.example.com`;
    const [result] = await consents(['mailto:rua@dmarc-vendor.net'], [], domain);
    expect(result).toMatchObject({
      status: 'warn',
      detail: 'the name is 266 characters long, more than DNS allows (253): receivers cannot ask for it',
      fix: `receivers send no report to mailto:rua@dmarc-vendor.net; or send the reports to an address at ${domain}`,
    });
  });

  // RFC 1035 §2.3.4: 253 characters is the longest a name is written without its final dot.
  test('a name of 253 characters is asked for, one of 254 is not', async () => {
    const domainOf = (d: number) =>
      `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(d)}.example.com`;
    const [longest] = await consents(['mailto:rua@dmarc-vendor.net'], [], domainOf(17));
    expect(longest).toMatchObject({ status: 'warn', detail: 'not found in DNS' });
    const [tooLong] = await consents(['mailto:rua@dmarc-vendor.net'], [], domainOf(18));
    expect(tooLong).toMatchObject({
      detail: 'the name is 254 characters long, more than DNS allows (253): receivers cannot ask for it',
    });
  });

  test('a record managed elsewhere: its rua and ruf addresses are checked, its dmarc check as before', async () => {
    dns.zone['_dmarc.example.com'] = {
      TXT: [['v=DMARC1; p=reject; rua=mailto:a@example.com , mailto:b@vendor.org; ruf=mailto:c@other.net']],
    };
    dns.zone['example.com._report._dmarc.vendor.org'] = { TXT: [['v=DMARC1']] };
    const target = { ...exampleHealthTarget('SesSmtp-prod'), dns: { mailFromSubdomain: 'mail' } };
    const run = new CheckRun(target, { resolver } as unknown as HealthClients);
    const results = [];
    for (const id of ['dmarc', 'dmarc-reports'])
      results.push(...(await CHECKS.find((c) => c.id === id)!.run(run)));
    expect(results.map((r) => [r.id, r.status, r.title])).toEqual([
      ['DmarcTxt', 'ok', 'DMARC record at _dmarc.example.com'],
      [
        'DmarcReportAuthorization',
        'ok',
        'DMARC reports to vendor.org (TXT example.com._report._dmarc.vendor.org)',
      ],
      [
        'DmarcReportAuthorization',
        'warn',
        'DMARC reports to other.net (TXT example.com._report._dmarc.other.net)',
      ],
    ]);
  });

  test('a record managed elsewhere whose lookup fails: "could not tell" (the dmarc check fails for the lookup)', async () => {
    dns.zone['_dmarc.example.com'] = { RCODE: 2 };
    const target = { ...exampleHealthTarget('SesSmtp-prod'), dns: { mailFromSubdomain: 'mail' } };
    const run = new CheckRun(target, { resolver } as unknown as HealthClients);
    expect(await CHECKS.find((c) => c.id === 'dmarc-reports')!.run(run)).toEqual([
      {
        id: 'DmarcReportAuthorization',
        status: 'info',
        title: 'DMARC report addresses of _dmarc.example.com: could not tell',
        detail: 'the lookup of the DMARC record failed (the dmarc check says how)',
        undetermined: true,
      },
    ]);
  });

  test('a record managed elsewhere that receivers do not apply has no addresses to check', async () => {
    dns.zone['_dmarc.example.com'] = { TXT: [['v=DMARC1; sp=none; p=reject; rua=mailto:b@vendor.org']] };
    const target = { ...exampleHealthTarget('SesSmtp-prod'), dns: { mailFromSubdomain: 'mail' } };
    const run = new CheckRun(target, { resolver } as unknown as HealthClients);
    expect(await CHECKS.find((c) => c.id === 'dmarc-reports')!.run(run)).toEqual([]);
  });
});

// The scheduled checks' resolver: a record check stands for a day, so one passing SERVFAIL of the
// Region's resolver is asked again before it fails the check.
describe('retryingServfail', () => {
  test('a lookup answered SERVFAIL is asked again after the pause, and its second answer counts', async () => {
    dns.zone['mail.example.com'] = { RCODE: 2 };
    const pauses: number[] = [];
    const retrying = retryingServfail(resolver, 10_000, async (ms) => {
      pauses.push(ms);
      // The zone mends during the pause.
      dns.zone['mail.example.com'] = { TXT: [[SPF.values[0].replace(/^"|"$/g, '')]] };
    });
    expect(await checkRecord(retrying, SPF)).toMatchObject({ id: 'MailFromTxt', status: 'ok' });
    expect(pauses).toEqual([10_000]);
  });

  // The DKIM CNAMEs and the MAIL FROM MX are read by the same daily run: their SERVFAIL is asked again too.
  test('a CNAME or MX lookup answered SERVFAIL is asked again as well', async () => {
    const [dkim] = dkimRecords('example.com', ['tokone'], 'dkim.amazonses.com');
    const pauses: number[] = [];
    dns.zone['tokone._domainkey.example.com'] = { RCODE: 2 };
    dns.zone['mail.example.com'] = { RCODE: 2 };
    const retrying = retryingServfail(resolver, 10_000, async (ms) => {
      pauses.push(ms);
      dns.zone['tokone._domainkey.example.com'] = { CNAME: 'tokone.dkim.amazonses.com' };
      dns.zone['mail.example.com'] = { MX: [{ priority: 10, exchange: FEEDBACK }] };
    });
    expect(await checkRecord(retrying, dkim)).toMatchObject({ status: 'ok' });
    dns.zone['mail.example.com'] = { RCODE: 2 };
    expect(await checkRecord(retrying, MX)).toMatchObject({ status: 'ok' });
    expect(pauses).toEqual([10_000, 10_000]);
  });

  test('a zone that fails again fails the check as before; other failures are not asked again', async () => {
    dns.zone['mail.example.com'] = { RCODE: 2 };
    const pauses: number[] = [];
    const retrying = retryingServfail(resolver, 10_000, async (ms) => {
      pauses.push(ms);
    });
    expect(await checkRecord(retrying, SPF)).toMatchObject({
      status: 'fail',
      detail: 'DNS lookup failed (ESERVFAIL)',
    });
    expect(pauses).toEqual([10_000]);
    dns.zone['mail.example.com'] = { RCODE: 5 };
    expect(await checkRecord(retrying, SPF)).toMatchObject({ detail: 'DNS lookup failed (EREFUSED)' });
    delete dns.zone['mail.example.com'];
    expect(await checkRecord(retrying, SPF)).toMatchObject({ detail: 'not found in DNS' });
    expect(pauses).toEqual([10_000]);
  });
});
