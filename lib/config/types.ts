/*
 * An environment's settings after validation, every default applied: what the loader returns,
 * `SesSmtp.config` holds and the constructs read (settings.ts documents each field as a user
 * writes it). Plain types, so that the package's declarations never reach zod's: an app's `tsc`
 * without skipLibCheck or esModuleInterop (older `cdk init` templates) fails inside those.
 * test/config/settings.test.ts fails the type-check when they differ from the schema's output.
 */

/** Warning and critical alarm levels, percent. */
export interface AlarmLevelsConfig {
  warning: number;
  critical: number;
}

export type DnsConfig =
  | { mode: 'route53'; hostedZoneId: string; zoneName: string; ttlSeconds: number }
  | { mode: 'manual'; ttlSeconds: number };

export interface MailFromConfig {
  subdomain: string;
  behaviorOnMxFailure: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE';
}

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface DmarcConfig {
  enabled: boolean;
  policy: DmarcPolicy;
  percentage: number;
  aggregateReportUris: string[];
  forensicReportUris: string[];
  dkimAlignment: 'relaxed' | 'strict';
  spfAlignment: 'relaxed' | 'strict';
  subdomainPolicy?: DmarcPolicy | undefined;
  failureReportOptions?: ('0' | '1' | 'd' | 's')[] | undefined;
}

export interface ApexSpfConfig {
  enabled: boolean;
  otherMechanisms: string[];
  all: '~all' | '-all' | '?all';
  otherTxtValues: string[];
}

export interface FeedbackConfig {
  additionalEvents: ('REJECT' | 'DELIVERY_DELAY' | 'RENDERING_FAILURE')[];
  rawMessageDelivery: boolean;
  appQueue: boolean;
  webhookUrl?: string | undefined;
}

export interface HealthConfig {
  enabled: boolean;
  schedule: string;
  quotaSchedule: string;
  expectProductionAccess: boolean;
  quotaPercent: AlarmLevelsConfig;
  sendRatePercent: number;
  sendAnomalyDetection: boolean;
}

/** An environment as the schema gives it, before the loader resolves the cross-field defaults. */
export interface ParsedEnvironment {
  account: string;
  region: string;
  domain: string;
  dns: DnsConfig;
  fromAddress: string;
  mailFrom: MailFromConfig;
  dmarc: DmarcConfig;
  apexSpf: ApexSpfConfig;
  verifiedEmailAddresses: string[];
  credentials: {
    rotationDays: number;
    previousKeyQuietDays: number;
    rotateWhilePreviousKeyInUse: boolean;
    restartEcsServices: string[];
    allowedFromAddresses?: string[] | undefined;
  };
  feedback: FeedbackConfig;
  alarms: {
    emails: string[];
    bounceRatePercent: AlarmLevelsConfig;
    complaintRatePercent: AlarmLevelsConfig;
    accountAlarms?: boolean | undefined;
  };
  health: HealthConfig;
  tags: Record<string, string>;
  removalPolicy: 'retain' | 'destroy';
  terminationProtection: boolean;
  github: { environment?: string | undefined; previewEnvironment?: string | undefined };
  acknowledgedWarnings: Record<string, string>;
}

/**
 * An environment after loading: what the schema gives, with the defaults that depend on other
 * fields (or other environments) resolved by the loader.
 */
export type EnvironmentConfig = Omit<ParsedEnvironment, 'credentials' | 'alarms'> & {
  readonly credentials: ParsedEnvironment['credentials'] & { readonly allowedFromAddresses: string[] };
  readonly alarms: Omit<ParsedEnvironment['alarms'], 'accountAlarms'> & {
    /** True for the one environment of its account and Region that owns the account-level alarms. */
    readonly accountAlarms: boolean;
  };
};
export type AlarmsConfig = EnvironmentConfig['alarms'];

export interface GitHubConfig {
  repository: string;
  existingOidcProviderAccounts: string[];
  accessRegion?: string | undefined;
  ownerId?: number | undefined;
  repositoryId?: number | undefined;
  acknowledgedWarnings: Record<string, string>;
}

/** The environments file as the schema gives it. */
export interface ParsedConfigFile {
  github?: GitHubConfig | undefined;
  $schema?: string | undefined;
  additionalSmtpRegions: string[];
  environments: Record<string, ParsedEnvironment>;
}

export type ConfigFile = Omit<ParsedConfigFile, 'environments'> & {
  readonly environments: Record<string, EnvironmentConfig>;
};
