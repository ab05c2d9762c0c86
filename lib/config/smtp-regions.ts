/*
 * Amazon SES per AWS Region, as data: where SES offers its SMTP interface, and which DNS zone
 * Easy DKIM's CNAMEs point to. The config loader, the stack and the CLI all read this one table.
 *
 * Sources (AWS General Reference, "Amazon Simple Email Service endpoints and quotas"):
 * - SMTP endpoints: https://docs.aws.amazon.com/general/latest/gr/ses.html#ses_smtp_endpoints
 *   The SES API runs in more Regions than SMTP does: a Region here with `smtp: false` has an SES
 *   API endpoint (email.<region>.amazonaws.com) and no email-smtp.<region>.amazonaws.com.
 * - Easy DKIM domains: https://docs.aws.amazon.com/general/latest/gr/ses.html#ses_dkim_domains
 *   "Not all AWS Regions use the default SES DKIM domain, dkim.amazonses.com"
 *   (https://docs.aws.amazon.com/ses/latest/dg/regions.html#region-dkim).
 *
 * When AWS opens SMTP in a Region before this table is updated, add the Region to
 * `additionalSmtpRegions` in the environments file instead of waiting for a release. At run time
 * the CLI prefers what SES itself reports for an identity (GetEmailIdentity's
 * DkimAttributes.SigningHostedZone) over this table.
 */

/** The Easy DKIM zone of most Regions. */
export const DEFAULT_EASY_DKIM_DOMAIN = 'dkim.amazonses.com';

/** What SES offers in one Region. */
export interface SesRegion {
  /** SES offers its SMTP interface (email-smtp.<region>.amazonaws.com) here. */
  readonly smtp: boolean;
  /** The zone Easy DKIM CNAMEs point to, when it is not dkim.amazonses.com. */
  readonly easyDkimDomain?: string;
}

const regional = (region: string) => `dkim.${region}.amazonses.com`;

/** Every Region this project knows SES in, keyed by Region code. */
export const SES_REGIONS: Readonly<Record<string, SesRegion>> = {
  'us-east-1': { smtp: true },
  'us-east-2': { smtp: true },
  'us-west-1': { smtp: true },
  'us-west-2': { smtp: true },
  // SES API, Easy DKIM and MAIL FROM only: no SMTP endpoint in Cape Town.
  'af-south-1': { smtp: false, easyDkimDomain: regional('af-south-1') },
  'ap-south-1': { smtp: true },
  'ap-south-2': { smtp: true, easyDkimDomain: regional('ap-south-2') },
  'ap-southeast-1': { smtp: true },
  'ap-southeast-2': { smtp: true },
  'ap-southeast-3': { smtp: true, easyDkimDomain: regional('ap-southeast-3') },
  'ap-southeast-5': { smtp: false, easyDkimDomain: regional('ap-southeast-5') },
  'ap-northeast-1': { smtp: true },
  'ap-northeast-2': { smtp: true },
  'ap-northeast-3': { smtp: true, easyDkimDomain: regional('ap-northeast-3') },
  'ca-central-1': { smtp: true },
  'ca-west-1': { smtp: false, easyDkimDomain: regional('ca-west-1') },
  'eu-central-1': { smtp: true },
  'eu-central-2': { smtp: false, easyDkimDomain: regional('eu-central-2') },
  'eu-west-1': { smtp: true },
  'eu-west-2': { smtp: true },
  'eu-west-3': { smtp: true },
  'eu-south-1': { smtp: true, easyDkimDomain: regional('eu-south-1') },
  'eu-north-1': { smtp: true },
  'il-central-1': { smtp: true, easyDkimDomain: regional('il-central-1') },
  'me-south-1': { smtp: true },
  'me-central-1': { smtp: false, easyDkimDomain: regional('me-central-1') },
  'sa-east-1': { smtp: true },
  'us-gov-west-1': { smtp: true },
  'us-gov-east-1': { smtp: true, easyDkimDomain: regional('us-gov-east-1') },
};

/** AWS Regions in which Amazon SES offers an SMTP endpoint. */
export const SES_SMTP_REGIONS: readonly string[] = Object.entries(SES_REGIONS)
  .filter(([, r]) => r.smtp)
  .map(([region]) => region);

/** The SMTP endpoint of SES in a Region. */
export function smtpEndpoint(region: string): string {
  return `email-smtp.${region}.amazonaws.com`;
}

/** The MAIL FROM MX target of SES in a Region ("feedback-smtp"), which receives bounces for the MAIL FROM domain. */
export function feedbackSmtpEndpoint(region: string): string {
  return `feedback-smtp.${region}.amazonses.com`;
}

/**
 * The zone Easy DKIM CNAMEs point to in a Region: "<token>._domainkey.<domain> CNAME
 * <token>.<this>". A Region missing from the table gets the default zone.
 */
export function easyDkimDomain(region: string): string {
  return SES_REGIONS[region]?.easyDkimDomain ?? DEFAULT_EASY_DKIM_DOMAIN;
}
