// The package's API: the constructs, their props and settings types, the environments-file app and
// its config loader. The Lambda packaging (constructs/node-function) and the service-grant helpers
// (constructs/service-access) are internals the constructs use, not part of it.
export * from './ses-smtp';
export * from './ses-smtp-stack';
export * from './ecs-secrets';
export * from './app';
// The settings' types, not the zod schemas: the declarations stay free of zod's (see config/types.ts).
export type {
  AlarmLevelsConfig,
  AlarmsConfig,
  ApexSpfConfig,
  ConfigFile,
  DmarcConfig,
  DmarcPolicy,
  DnsConfig,
  EnvironmentConfig,
  FeedbackConfig,
  GitHubConfig,
  HealthConfig,
  MailFromConfig,
  ParsedConfigFile,
  ParsedEnvironment,
} from './config/types';
export * from './config/settings';
export * from './config/load';
export * from './config/smtp-regions';
export * from './dns-records';
export * from './constructs/health-checks';
export * from './constructs/operator-alarms';
export * from './constructs/monitoring';
export * from './constructs/reputation-monitoring';
export * from './constructs/sending-domain';
export * from './constructs/sending-feedback';
export * from './constructs/smtp-credentials';
