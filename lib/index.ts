// The package's API: the constructs, their props and settings types, the environments-file app and
// its config loader. The Lambda packaging (constructs/node-function) and the service-grant helpers
// (constructs/service-access) are internals the constructs use, not part of it.
export * from './ses-smtp';
export * from './ses-smtp-stack';
export * from './ecs-secrets';
export * from './app';
export * from './config/schema';
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
