// The package's API: the constructs, their props and settings types, the environments-file app and
// its config loader. The Lambda packaging (constructs/node-function) and the service-grant helpers
// (constructs/service-access) are internals the constructs use, not part of it.
export * from './ses-smtp';
export * from './ses-smtp-stack';
export * from './ecs-secrets';
export * from './app';
// GitHub Actions' OIDC roles, for a pipeline of an app of your own: one DeployAccessStack per
// account of deployAccessPlan(file) (buildApp makes them for the environments file).
export { DeployAccessStack, GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST } from './deploy-access-stack';
export type { DeployAccessStackProps } from './deploy-access-stack';
export { deployAccessPlan, gitHubEnvironmentsOf } from './config/github';
export type { AccessKind, AccountAccess, GitHubEnvironmentAccess } from './config/github';
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
// Acknowledges a cdk-nag finding with its reason for cdk-nag 3 and 2 alike (packs other than
// AwsSolutions report findings on these constructs: README "Use as a construct library").
export { acknowledgeNagFinding } from './constructs/nag';
