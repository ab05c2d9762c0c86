/**
 * Every synth warning id the package adds (Annotations addWarningV2), for the environments file's
 * `acknowledgedWarnings`: an id of this package that is not here is a typo, which would accept
 * nothing. test/config/warning-ids.test.ts checks the list against the code.
 */
export const SES_SMTP_WARNING_IDS: readonly string[] = [
  'ses-smtp:accessRegionFollowsFile',
  'ses-smtp:account-alarms-audience',
  'ses-smtp:account-alarms-twice',
  'ses-smtp:accountQuotaAlarmsLost',
  'ses-smtp:cli-options-in-use',
  'ses-smtp:deployersShareAccount',
  'ses-smtp:dmarc-fo-without-ruf',
  'ses-smtp:health-queues-fall-silent',
  'ses-smtp:health-schedule-unwatched',
  'ses-smtp:identity-in-use',
  'ses-smtp:imported-key',
  'ses-smtp:imported-target-topic',
  'ses-smtp:no-alarm-recipients',
  'ses-smtp:webhook-url-query',
  'ses-smtp:zone-records-in-use',
];
