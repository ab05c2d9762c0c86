import type { HealthTarget } from '../../lambda/shared/checks';
import type { DmarcRecordOptions } from '../../lib/dns-records';

/** The example environment's credentials secret and configuration set, as the tests' fakes name them. */
export const EXAMPLE_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SmtpCredentials-AbCdEf';
export const EXAMPLE_CONFIGURATION_SET = 'SendingFeedbackConfigurationSet-abc';

/** The example environment's DMARC record (test/helpers.ts BASE_ENV's settings). */
export const EXAMPLE_DMARC: DmarcRecordOptions = {
  policy: 'quarantine',
  percentage: 100,
  aggregateReportUris: ['mailto:dmarc@example.com'],
  forensicReportUris: [],
  dkimAlignment: 'relaxed',
  spfAlignment: 'relaxed',
};

/**
 * The example environment "prod" as the health checks see it (HealthChecks writes it into the
 * function's HEALTH_TARGET), in the stack `stackName`.
 */
export function exampleHealthTarget(stackName: string): HealthTarget {
  return {
    environmentName: 'prod',
    stackName,
    region: 'eu-west-1',
    identity: 'example.com',
    configurationSetName: EXAMPLE_CONFIGURATION_SET,
    secretId: EXAMPLE_SECRET_ARN,
    rotationDays: 90,
    previousKeyQuietDays: 7,
    expectProductionAccess: true,
    quotaPercent: { warning: 80, critical: 95 },
    sendRatePercent: 80,
    dns: { mailFromSubdomain: 'mail', dmarc: EXAMPLE_DMARC },
  };
}
