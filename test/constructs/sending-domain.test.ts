import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import { SendingDomain, SendingDomainProps } from '../../lib/constructs/sending-domain';
import { testApp } from '../helpers';

const DMARC = {
  policy: 'quarantine' as const,
  percentage: 100,
  aggregateReportUris: ['mailto:dmarc@example.com'],
  forensicReportUris: [],
  dkimAlignment: 'relaxed' as const,
  spfAlignment: 'relaxed' as const,
};

function build(props: Partial<SendingDomainProps> = {}, zone = true) {
  const { stack, domain } = unsynthesized(props, zone);
  return { stack, domain, template: Template.fromStack(stack) };
}

/** The stack of a SendingDomain, before synth: a test may still add to it. */
function unsynthesized(props: Partial<SendingDomainProps> = {}, zone = true) {
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const hostedZone = zone
    ? route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
        hostedZoneId: 'ZEXAMPLE',
        zoneName: 'example.com',
      })
    : undefined;
  const domain = new SendingDomain(stack, 'SendingDomain', {
    domainName: 'example.com',
    hostedZone,
    dmarc: DMARC,
    ...props,
  });
  return { stack, domain };
}

const records = (template: Template) =>
  Object.values(template.findResources('AWS::Route53::RecordSet')).map((r) => r.Properties);

describe('SendingDomain', () => {
  test.each<[string, string[], number]>([
    ['without a forensic report URI: a warning (no failure report is sent)', [], 1],
    ['with one: none', ['mailto:ruf@example.com'], 0],
  ])('DMARC failure report options %s', (_case, forensicReportUris, count) => {
    const { stack } = build({ dmarc: { ...DMARC, forensicReportUris, failureReportOptions: ['1'] } });
    const warnings = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('^dmarc\\.failureReportOptions is set but dmarc\\.forensicReportUris is empty'),
    );
    expect(warnings).toHaveLength(count);
  });

  test('identity uses Easy DKIM with RSA_2048_BIT stated explicitly and the MAIL FROM domain', () => {
    build().template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'example.com',
      DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
      DkimAttributes: { SigningEnabled: true },
      MailFromAttributes: { MailFromDomain: 'mail.example.com', BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' },
    });
  });

  test('three DKIM CNAMEs named exactly after the identity tokens, absolute, in the zone', () => {
    const { template } = build();
    for (const n of [1, 2, 3]) {
      template.hasResourceProperties('AWS::Route53::RecordSet', {
        HostedZoneId: 'ZEXAMPLE',
        Type: 'CNAME',
        TTL: '3600',
        // The token name plus one dot: no zone name appended after it.
        Name: {
          'Fn::Join': [
            '',
            [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('^SendingDomainIdentity'), `DkimDNSTokenName${n}`] },
              '.',
            ],
          ],
        },
        ResourceRecords: [
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^SendingDomainIdentity'), `DkimDNSTokenValue${n}`] },
        ],
      });
    }
    expect(records(template).filter((r) => r.Type === 'CNAME')).toHaveLength(3);
  });

  test('MAIL FROM MX and SPF TXT, and DMARC TXT, with exact names, values and TTLs', () => {
    const byName = records(build().template)
      .filter((r) => r.Type !== 'CNAME')
      .map((r) => [r.Name, r.Type, r.TTL, r.ResourceRecords]);
    expect(byName).toEqual([
      ['mail.example.com.', 'MX', '3600', ['10 feedback-smtp.eu-west-1.amazonses.com']],
      ['mail.example.com.', 'TXT', '3600', ['"v=spf1 include:amazonses.com ~all"']],
      [
        '_dmarc.example.com.',
        'TXT',
        '3600',
        ['"v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com; adkim=r; aspf=r"'],
      ],
    ]);
  });

  // An identity that exists already (set up by hand) must fail the deploy before a record is
  // written: CloudFormation takes over a record with the same values and TTL, and the rollback
  // would then delete it from the live domain. The DKIM CNAMEs wait for it through their names.
  test('every record is created after the identity', () => {
    const { template } = build({
      apexSpf: { otherMechanisms: [], all: '~all', otherTxtValues: [] },
    });
    const [identity] = Object.keys(template.findResources('AWS::SES::EmailIdentity'));
    const waits = Object.values(template.findResources('AWS::Route53::RecordSet')).map((r) => [
      r.Properties.Name,
      (r.DependsOn ?? []).includes(identity) || JSON.stringify(r.Properties).includes(identity),
    ]);
    expect(waits).toHaveLength(7);
    expect(waits.filter(([, waits]) => !waits)).toEqual([]);
  });

  test('a subdomain identity in a parent zone gets names under the subdomain, never doubled', () => {
    const names = records(build({ domainName: 'staging.example.com', mailFromSubdomain: 'bounce' }).template)
      .filter((r) => r.Type !== 'CNAME')
      .map((r) => r.Name);
    expect(names).toEqual([
      'bounce.staging.example.com.',
      'bounce.staging.example.com.',
      '_dmarc.staging.example.com.',
    ]);
  });

  test('custom TTL applies to every record', () => {
    const { template } = build({ recordTtl: Duration.minutes(5) });
    expect(new Set(records(template).map((r) => r.TTL))).toEqual(new Set(['300']));
  });

  test('no DMARC record when the domain publishes its own', () => {
    expect(records(build({ dmarc: undefined }).template).map((r) => r.Name)).not.toContain(
      '_dmarc.example.com.',
    );
  });

  test('apex SPF merges SES, other mechanisms and other TXT values into ONE record set', () => {
    const apex = records(
      build({
        apexSpf: {
          otherMechanisms: ['include:_spf.google.com'],
          all: '-all',
          otherTxtValues: ['google-site-verification=abc123'],
        },
      }).template,
    ).filter((r) => r.Name === 'example.com.');
    expect(apex).toEqual([
      expect.objectContaining({
        Type: 'TXT',
        ResourceRecords: [
          '"v=spf1 include:amazonses.com include:_spf.google.com -all"',
          '"google-site-verification=abc123"',
        ],
      }),
    ]);
  });

  test('no apex record by default', () => {
    expect(records(build().template).map((r) => r.Name)).not.toContain('example.com.');
  });

  test('manual DNS: no record resources, every record as a zone-file output', () => {
    const { template } = build(
      { apexSpf: { otherMechanisms: [], all: '~all', otherTxtValues: ['v1'] } },
      false,
    );
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    const outputs = template.findOutputs('*');
    const values = Object.values(outputs).map((o) => o.Value);
    expect(values).toEqual(
      expect.arrayContaining([
        'mail.example.com. 3600 IN MX 10 feedback-smtp.eu-west-1.amazonses.com.',
        'mail.example.com. 3600 IN TXT "v=spf1 include:amazonses.com ~all"',
        '_dmarc.example.com. 3600 IN TXT "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.com; adkim=r; aspf=r"',
        'example.com. 3600 IN TXT "v=spf1 include:amazonses.com ~all"',
        'example.com. 3600 IN TXT "v1"',
      ]),
    );
    for (const n of [1, 2, 3]) {
      expect(values).toContainEqual({
        'Fn::Join': [
          '',
          [
            { 'Fn::GetAtt': [expect.stringMatching(/^SendingDomainIdentity/), `DkimDNSTokenName${n}`] },
            '. 3600 IN CNAME ',
            { 'Fn::GetAtt': [expect.stringMatching(/^SendingDomainIdentity/), `DkimDNSTokenValue${n}`] },
            '.',
          ],
        ],
      });
    }
    expect(values).toHaveLength(8);
    // An output is numbered only where its record has several values (the apex TXT set here).
    expect(
      Object.keys(outputs)
        .map((id) => id.replace(/^SendingDomain|[0-9A-F]{8}$/g, ''))
        .sort(),
    ).toEqual([
      'DnsApexTxt1',
      'DnsApexTxt2',
      'DnsDkim1',
      'DnsDkim2',
      'DnsDkim3',
      'DnsDmarcTxt',
      'DnsMailFromMx',
      'DnsMailFromTxt',
    ]);
  });

  test('sandbox recipients become email identities', () => {
    const { template } = build({ verifiedEmailAddresses: ['dev@example.com', 'qa@example.org'] });
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'dev@example.com' });
    template.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'qa@example.org' });
    template.resourceCountIs('AWS::SES::EmailIdentity', 3);
  });

  test('a domainName in capitals still gives its addresses the configuration set (names compare in lower case)', () => {
    const { stack } = unsynthesized({ verifiedEmailAddresses: [] });
    const configurationSet = new ses.ConfigurationSet(stack, 'Set');
    new SendingDomain(stack, 'Upper', {
      domainName: 'Example.ORG',
      configurationSet,
      verifiedEmailAddresses: ['dev@example.org'],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'dev@example.org',
      ConfigurationSetAttributes: { ConfigurationSetName: Match.anyValue() },
    });
  });

  test("each verified address at the domain has its default configuration set (mail from it takes the address's settings); one elsewhere none", () => {
    const { stack } = unsynthesized({ verifiedEmailAddresses: [] });
    const configurationSet = new ses.ConfigurationSet(stack, 'Set');
    const domain = new SendingDomain(stack, 'WithSet', {
      domainName: 'example.org',
      configurationSet,
      verifiedEmailAddresses: ['dev@example.org', 'ops@eu.Example.org', 'qa@example.net', 'x@notexample.org'],
    });
    const template = Template.fromStack(stack);
    const setRef = { Ref: stack.getLogicalId(configurationSet.node.defaultChild as ses.CfnConfigurationSet) };
    const setOf = (identity: string) =>
      Object.values(
        template.findResources('AWS::SES::EmailIdentity', { Properties: { EmailIdentity: identity } }),
      )
        .map((r) => r.Properties.ConfigurationSetAttributes)
        .at(0);
    // A sandbox recipient elsewhere is only that: the set would take over the mail others send from it.
    expect(
      Object.fromEntries(
        ['example.org', 'dev@example.org', 'ops@eu.Example.org', 'qa@example.net', 'x@notexample.org'].map(
          (identity) => [identity, setOf(identity)],
        ),
      ),
    ).toEqual({
      'example.org': { ConfigurationSetName: setRef },
      'dev@example.org': { ConfigurationSetName: setRef },
      'ops@eu.Example.org': { ConfigurationSetName: setRef },
      'qa@example.net': undefined,
      'x@notexample.org': undefined,
    });
    expect(domain.verifiedAddresses).toHaveLength(4);
  });

  test('the recipients synthesize the template they always did (the construct id is "VerifiedAddress-" and the address)', () => {
    const verifiedEmailAddresses = [
      'dev@example.com',
      'a-b@example.org',
      'a/b@example.org',
      "o'hara+x@example.net",
    ];
    const before = unsynthesized({ verifiedEmailAddresses: [] });
    for (const address of verifiedEmailAddresses) {
      new ses.EmailIdentity(before.domain, `VerifiedAddress-${address}`, {
        identity: ses.Identity.email(address),
      }).applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    }
    expect(build({ verifiedEmailAddresses }).template.toJSON()).toEqual(
      Template.fromStack(before.stack).toJSON(),
    );
  });

  test('two recipients whose construct ids constructs would merge ("/" is "--") are two identities', () => {
    const { template } = build({ verifiedEmailAddresses: ['a/b@gmail.com', 'a--b@gmail.com'] });
    const identities = Object.entries(template.findResources('AWS::SES::EmailIdentity'))
      .map(([id, r]) => [r.Properties.EmailIdentity, id])
      .filter(([address]) => address !== 'example.com');
    expect(identities).toEqual([
      ['a/b@gmail.com', expect.stringMatching(/^SendingDomainVerifiedAddressa2Fb40gmailcom[0-9A-F]{8}$/)],
      ['a--b@gmail.com', expect.stringMatching(/^SendingDomainVerifiedAddressabgmailcom[0-9A-F]{8}$/)],
    ]);
  });

  // A replaced record (a new name) is deleted with every policy: a kept one would stay in the
  // zone unmanaged, and changing the name back would fail on it.
  test.each([
    [undefined, 'RetainExceptOnCreate', 'Retain'],
    [RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE, 'RetainExceptOnCreate', 'Retain'],
    [RemovalPolicy.RETAIN, 'Retain', 'Retain'],
    [RemovalPolicy.DESTROY, 'Delete', 'Delete'],
  ])('removal policy %s keeps or deletes the identity and records', (removalPolicy, deletion, replace) => {
    const { template } = build({ removalPolicy, verifiedEmailAddresses: ['dev@example.com'] });
    const policies = (type: string) =>
      Object.values(template.findResources(type)).map((r) => [r.DeletionPolicy, r.UpdateReplacePolicy]);
    expect(policies('AWS::SES::EmailIdentity')).toEqual([
      [deletion, replace],
      [deletion, replace],
    ]);
    const records = policies('AWS::Route53::RecordSet');
    expect(records).toHaveLength(6);
    expect(records).toEqual(records.map(() => [deletion, 'Delete']));
  });

  test.each(['a.b', '-x', 'x-', ''])('rejects MAIL FROM subdomain %j', (mailFromSubdomain) => {
    expect(() => build({ mailFromSubdomain })).toThrow(
      `mailFromSubdomain must be one DNS label (letters, digits, "-"), got: ${mailFromSubdomain}`,
    );
  });

  // Route 53 takes names in ASCII only, an internationalized one in its punycode form, as SES does.
  test.each([
    ['bücher.example', ', "xn--bcher-kva.example"'],
    ['mail\u200b.example', ''],
  ])('refuses the non-ASCII domain name %j in one line', (domainName, aLabel) => {
    expect(() => build({ domainName }, false)).toThrow(
      new Error(
        `domainName must be in ASCII, as SES and Route 53 take domain names (a non-ASCII name in its punycode form${aLabel}), got: ${JSON.stringify(domainName).replace('\u200b', '\\u200b')}`,
      ),
    );
  });

  test('takes a domain name in its punycode form', () => {
    build({ domainName: 'xn--bcher-kva.example' }, false).template.hasResourceProperties(
      'AWS::SES::EmailIdentity',
      { EmailIdentity: 'xn--bcher-kva.example' },
    );
  });

  // SES refuses "example.com." ("Invalid domain name"), as the name of a hosted zone is often written.
  test('an absolute domain name "example.com." is the same domain: SES gets it without the final dot', () => {
    const { template, domain } = build({ domainName: 'example.com.' });
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: 'example.com',
      MailFromAttributes: Match.objectLike({ MailFromDomain: 'mail.example.com' }),
    });
    expect(domain.domainName).toBe('example.com');
    expect(records(template).map((r) => r.Name)).toEqual(
      expect.arrayContaining(['mail.example.com.', '_dmarc.example.com.']),
    );
  });

  test('a MAIL FROM label in capitals is the same DNS name, written in lower case (RFC 4343)', () => {
    build({ mailFromSubdomain: 'Mail' }).template.hasResourceProperties('AWS::SES::EmailIdentity', {
      MailFromAttributes: Match.objectLike({ MailFromDomain: 'mail.example.com' }),
    });
  });

  test('needs a concrete region', () => {
    const stack = new Stack(testApp(), 'Agnostic');
    expect(() => new SendingDomain(stack, 'D', { domainName: 'example.com' })).toThrow(/explicit region/);
  });
});
