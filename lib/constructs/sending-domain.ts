import {
  Annotations,
  CfnDeletionPolicy,
  CfnOutput,
  CfnResource,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  Token,
} from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { isAtDomain } from '../config/senders';
import { asciiDomain, DNS_LABEL_RE, quoted } from '../config/syntax';
import {
  ApexSpfOptions,
  apexTxtRecord,
  DmarcRecordOptions,
  dmarcRecord,
  DnsRecord,
  mailFromDomain,
  mailFromRecords,
  rdata,
} from '../dns-records';
import { addressIds } from './address-ids';

export interface SendingDomainProps {
  /**
   * The domain mail is sent from, like "example.com": in ASCII, an internationalized name in its
   * punycode form ("xn--bcher-kva.example" for "bücher.example"), as Route 53 and SES take it. A
   * final dot ("example.com.") is dropped: SES takes the name without it.
   * @see https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html
   */
  readonly domainName: string;
  /**
   * Public hosted zone that holds the domain; the stack writes every record there.
   * @default - manual DNS: no record resources, the records are stack outputs in zone-file form
   */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * TTL of every DNS record written (and of the zone-file lines of manual DNS).
   * @default Duration.hours(1)
   */
  readonly recordTtl?: Duration;
  /**
   * Label of the custom MAIL FROM domain under `domainName`.
   * @see https://docs.aws.amazon.com/ses/latest/dg/mail-from.html
   * @default 'mail'
   */
  readonly mailFromSubdomain?: string;
  /**
   * What SES does with a send while the MAIL FROM domain is not verified (`PENDING`, `FAILED`,
   * `TEMPORARY_FAILURE`): send it from an amazonses.com MAIL FROM, or refuse it. A changed
   * `mailFromSubdomain` is `PENDING` until SES finds its MX record.
   * @see https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_MailFromAttributes.html
   * @default ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE
   */
  readonly mailFromBehaviorOnMxFailure?: ses.MailFromBehaviorOnMxFailure;
  /**
   * The DMARC record at `_dmarc.<domain>`.
   * @see https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dmarc.html
   * @default - no DMARC record (for domains that publish one elsewhere)
   */
  readonly dmarc?: DmarcRecordOptions;
  /**
   * The apex TXT record set: SPF including SES, merged with the domain's other apex TXT values.
   * @default - no apex record: DMARC's SPF alignment comes from the MAIL FROM domain
   */
  readonly apexSpf?: ApexSpfOptions;
  /** The identity's default configuration set, which covers SMTP mail (it carries no set header). @default - none */
  readonly configurationSet?: ses.IConfigurationSet;
  /**
   * Addresses to verify as email identities, so the sandbox lets mail reach them. Each at
   * `domainName` or a subdomain gets `configurationSet` as its default too: mail sent from a
   * verified address takes that address's identity settings, not the domain's. One elsewhere gets
   * none: this domain's senders do not send from it, and the set (its sending switch, TLS policy
   * and events) would take over the mail others send from it.
   * @default - none
   */
  readonly verifiedEmailAddresses?: string[];
  /**
   * Applied to the identities and DNS records. A replaced record (a new name) is deleted whatever
   * the policy: its old name would otherwise stay in the zone, unmanaged.
   * @default RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An SES domain identity with complete email authentication: Easy DKIM with 2048-bit keys, a
 * custom MAIL FROM domain (MX + SPF, so SPF aligns under DMARC), a DMARC policy and, when asked
 * for, an apex SPF record merged with the domain's other apex TXT values.
 */
export class SendingDomain extends Construct {
  public readonly identity: ses.EmailIdentity;
  public readonly domainName: string;
  public readonly mailFromDomain: string;
  /** Every record of the domain except DKIM (whose names come from the identity at deploy time). */
  public readonly staticRecords: DnsRecord[];
  /** The email address identities of `verifiedEmailAddresses`, in that order. */
  public readonly verifiedAddresses: ses.IEmailIdentity[];

  constructor(scope: Construct, id: string, props: SendingDomainProps) {
    super(scope, id);
    // Route 53 takes names in printable ASCII only, an internationalized one in its punycode form
    // (the environments file converts it; here the name is the caller's, so it is refused).
    // https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html
    if (!Token.isUnresolved(props.domainName) && /[^\p{ASCII}]/u.test(props.domainName)) {
      const aLabel = asciiDomain(props.domainName);
      const form = aLabel === props.domainName ? '' : `, ${JSON.stringify(aLabel)}`;
      throw new Error(
        `domainName must be in ASCII, as SES and Route 53 take domain names (a non-ASCII name in its punycode form${form}), got: ${quoted(props.domainName)}`,
      );
    }
    // "example.com." is the absolute form of the same name (as a hosted zone's name is often
    // written), but SES refuses it as an identity or MAIL FROM domain ("Invalid domain name").
    const domainName = Token.isUnresolved(props.domainName)
      ? props.domainName
      : props.domainName.replace(/\.$/, '');
    const label = props.mailFromSubdomain ?? 'mail';
    if (!Token.isUnresolved(label) && !DNS_LABEL_RE.test(label)) {
      throw new Error(`mailFromSubdomain must be one DNS label (letters, digits, "-"), got: ${label}`);
    }
    // DNS names compare case-insensitively (RFC 4343): written in lower case, as the config does.
    const subdomain = Token.isUnresolved(label) ? label : label.toLowerCase();
    const ttl = props.recordTtl ?? Duration.hours(1);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region)) {
      throw new Error(
        'SendingDomain needs a stack with an explicit region: the MAIL FROM MX names the Region',
      );
    }

    this.domainName = domainName;
    this.mailFromDomain = mailFromDomain(domainName, subdomain);
    this.identity = new ses.EmailIdentity(this, 'Identity', {
      identity: ses.Identity.domain(domainName),
      // Stated explicitly: without it the L2 emits no key length and leaves the choice to SES.
      dkimIdentity: ses.DkimIdentity.easyDkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
      dkimSigning: true,
      mailFromDomain: this.mailFromDomain,
      mailFromBehaviorOnMxFailure:
        props.mailFromBehaviorOnMxFailure ?? ses.MailFromBehaviorOnMxFailure.USE_DEFAULT_VALUE,
      configurationSet: props.configurationSet,
    });
    this.identity.applyRemovalPolicy(removalPolicy);

    if (props.dmarc?.failureReportOptions?.length && !props.dmarc.forensicReportUris.length) {
      // Valid DMARC, but fo= says when to send failure reports, and ruf= names where: none go.
      Annotations.of(this).addWarningV2(
        'ses-smtp:dmarc-fo-without-ruf',
        'dmarc.failureReportOptions is set but dmarc.forensicReportUris is empty: "fo=" says when receivers send failure reports and "ruf=" where, so none are sent; add a forensic report URI, or drop failureReportOptions',
      );
    }
    this.staticRecords = [
      ...mailFromRecords(domainName, subdomain, region),
      ...(props.dmarc ? [dmarcRecord(domainName, props.dmarc)] : []),
      ...(props.apexSpf ? [apexTxtRecord(domainName, props.apexSpf)] : []),
    ];

    const identity = this.identity;
    const dkim = [
      { n: 1, name: identity.dkimDnsTokenName1, value: identity.dkimDnsTokenValue1 },
      { n: 2, name: identity.dkimDnsTokenName2, value: identity.dkimDnsTokenValue2 },
      { n: 3, name: identity.dkimDnsTokenName3, value: identity.dkimDnsTokenValue3 },
    ].map(({ n, name, value }) => ({
      n,
      // DkimDNSTokenNameN has no trailing dot. Appending one inside the string (not via Fn.join,
      // whose result is an opaque token) makes the name absolute, so the record set does not get
      // the zone name appended a second time ("..._domainkey.example.com.example.com").
      name: `${name}.`,
      value,
    }));

    if (props.hostedZone) {
      const zone = props.hostedZone;
      for (const { n, name, value } of dkim) {
        keepOnlyTheCurrentName(
          new route53.CnameRecord(this, `DkimRecord${n}`, { zone, recordName: name, domainName: value, ttl }),
          removalPolicy,
        );
      }
      this.staticRecords.forEach((record) => this.writeRecord(zone, record, ttl, removalPolicy));
    } else {
      const seconds = ttl.toSeconds();
      for (const { n, name, value } of dkim) {
        new CfnOutput(this, `DnsDkim${n}`, {
          description: `Add to your DNS: Easy DKIM key ${n}`,
          value: Fn.join('', [name, ` ${seconds} IN CNAME `, value, '.']),
        });
      }
      this.staticRecords.forEach((record) =>
        record.values.forEach(
          (value, i) =>
            new CfnOutput(this, `Dns${record.key}${record.values.length > 1 ? i + 1 : ''}`, {
              description: `Add to your DNS: ${record.purpose}`,
              value: `${record.name} ${seconds} IN ${record.type} ${rdata(record.type, value)}`,
            }),
        ),
      );
    }

    const addresses = props.verifiedEmailAddresses ?? [];
    const ids = addressIds(addresses);
    const domain = domainName.toLowerCase();
    // An address of another domain (a teammate's mailbox, another environment's domain) is only a
    // sandbox recipient here; with this set as its default, pausing this environment would stop
    // the mail others send from it, and their bounces would reach this environment's handler.
    const atDomain = (address: string) => Token.isUnresolved(domainName) || isAtDomain(address, domain);
    this.verifiedAddresses = addresses.map((address, i) => {
      const identity = new ses.EmailIdentity(this, `VerifiedAddress-${ids[i]}`, {
        identity: ses.Identity.email(address),
        // A verified address is the identity of mail sent from it, and the domain's default set
        // does not reach that mail ("unless you verify specific addresses for the domain"): with
        // the same set, mail from it publishes its bounces and complaints too.
        // https://docs.aws.amazon.com/ses/latest/DeveloperGuide/managing-configuration-sets-default.html
        configurationSet: atDomain(address) ? props.configurationSet : undefined,
      });
      identity.applyRemovalPolicy(removalPolicy);
      return identity;
    });
  }

  private writeRecord(
    zone: route53.IHostedZone,
    record: DnsRecord,
    ttl: Duration,
    removalPolicy: RemovalPolicy,
  ) {
    const common = { zone, recordName: record.name, ttl };
    const id = `${record.key}Record`;
    const resource =
      record.type === 'MX'
        ? new route53.MxRecord(this, id, {
            ...common,
            values: record.values.map((v) => {
              const [priority, hostName] = v.split(' ');
              return { priority: Number(priority), hostName };
            }),
          })
        : new route53.TxtRecord(this, id, { ...common, values: record.values });
    keepOnlyTheCurrentName(resource, removalPolicy);
    // After the identity: a domain whose identity exists already (set up by hand) then fails the
    // deploy before any record is written. CloudFormation takes over an existing record with the
    // same values and TTL, and the rollback would delete it from the live domain.
    resource.node.addDependency(this.identity);
  }
}

/**
 * Applies `removalPolicy` to a record, except when CloudFormation replaces it (its name or zone
 * changed, like a new mailFrom.subdomain): the record of the old name is then deleted, as a kept
 * one would be left in the zone unmanaged, and would make changing the name back fail.
 */
function keepOnlyTheCurrentName(record: route53.RecordSet, removalPolicy: RemovalPolicy): void {
  record.applyRemovalPolicy(removalPolicy);
  (record.node.defaultChild as CfnResource).cfnOptions.updateReplacePolicy = CfnDeletionPolicy.DELETE;
}
