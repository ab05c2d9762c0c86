/**
 * AWS Regions in which Amazon SES offers an SMTP endpoint (`email-smtp.<region>.amazonaws.com`).
 *
 * Kept as data: when AWS opens SMTP in a new Region before this list is updated, add it to
 * `additionalSmtpRegions` in the environments file instead of waiting for a release.
 *
 * @see https://docs.aws.amazon.com/general/latest/gr/ses.html#ses_smtp_endpoints
 */
export const SES_SMTP_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'af-south-1',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ca-central-1',
  'eu-central-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-north-1',
  'il-central-1',
  'me-south-1',
  'sa-east-1',
  'us-gov-west-1',
  'us-gov-east-1',
];

/** The SMTP endpoint of SES in a Region. */
export function smtpEndpoint(region: string): string {
  return `email-smtp.${region}.amazonaws.com`;
}

/** The MAIL FROM MX target of SES in a Region ("feedback-smtp"), which receives bounces for the MAIL FROM domain. */
export function feedbackSmtpEndpoint(region: string): string {
  return `feedback-smtp.${region}.amazonses.com`;
}
