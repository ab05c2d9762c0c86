import { CfnElement, Stack, StackProps, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { EnvironmentConfig } from './config/types';
import { HealthChecks } from './constructs/health-checks';
import { OperatorAlarms } from './constructs/operator-alarms';
import { ReputationMonitoring } from './constructs/reputation-monitoring';
import { SendingDomain } from './constructs/sending-domain';
import { SendingFeedback } from './constructs/sending-feedback';
import { SmtpCredentials } from './constructs/smtp-credentials';
import { ConfigError } from './config/load';
import { acknowledgeWarnings } from './constructs/nag';
import { SesSmtp } from './ses-smtp';
import { cliOptions, ENVIRONMENT_TAG, stackName } from './stack-name';

export interface SesSmtpStackProps extends StackProps {
  /** The environment's name in the environments file, like "production". */
  readonly environmentName: string;
  /** The environment's validated configuration. */
  readonly config: EnvironmentConfig;
  /**
   * The environments file's `additionalSmtpRegions`: Regions accepted besides the built-in list.
   * @default - none
   */
  readonly additionalSmtpRegions?: string[];
}

/**
 * One environment of the environments file as its own stack: the SesSmtp construct, deployed to
 * the environment's account and Region, with its tags on every resource.
 */
export class SesSmtpStack extends Stack {
  /** Everything the environment deploys. */
  public readonly sesSmtp: SesSmtp;
  // The construct's parts, as the stack exposed them before SesSmtp existed.
  public readonly sendingDomain: SendingDomain;
  public readonly credentials: SmtpCredentials;
  public readonly operatorAlarms: OperatorAlarms;
  public readonly feedback: SendingFeedback;
  public readonly monitoring: ReputationMonitoring;
  public readonly messagingKey: kms.Key;
  /** The doctor's checks on a schedule; undefined with health.enabled false. */
  public readonly health?: HealthChecks;
  /** Logical ids already allocated, by element (see allocateLogicalId). */
  private readonly logicalIds = new Map<CfnElement, string>();

  constructor(scope: Construct, id: string, props: SesSmtpStackProps) {
    const { config, environmentName, additionalSmtpRegions } = props;
    // The account and Region are the environment's: an env that names others would be ignored.
    const conflicts = (['account', 'region'] as const).filter(
      (key) => props.env?.[key] !== undefined && props.env[key] !== config[key],
    );
    if (conflicts.length) {
      // One line for both fields: ConfigError joins its problems with line breaks.
      const got = conflicts.map((key) => `${key} "${props.env?.[key]}"`).join(', ');
      const want = conflicts.map((key) => `${key} "${config[key]}"`).join(', ');
      throw new ConfigError([
        `SesSmtpStack props: field "env": got ${got}, expected the environment's (${want}) or none: leave env out, the environment's account and Region apply`,
      ]);
    }
    super(scope, id, {
      ...props,
      env: { account: config.account, region: config.region },
      description:
        props.description ?? `SES SMTP sending for ${config.domain} (environment ${environmentName})`,
      terminationProtection: props.terminationProtection ?? config.terminationProtection,
    });
    const { account, region, terminationProtection, github, acknowledgedWarnings, ...settings } = config;
    // "Default" is left out of logical ids: the resources keep the ids they had when the stack
    // built them itself (a changed id would replace the IAM user, secret, keys and identity).
    // Alarm texts give commands with --env where the CLI finds this stack through the environments
    // file (it looks for SesSmtp-<env>); a stack of another name is named as it is, with its Region.
    this.sesSmtp = new SesSmtp(this, 'Default', {
      ...settings,
      environmentName,
      additionalSmtpRegions,
      cliOptions: this.stackName === stackName(environmentName) ? cliOptions({ environmentName }) : undefined,
    });
    ({
      sendingDomain: this.sendingDomain,
      credentials: this.credentials,
      operatorAlarms: this.operatorAlarms,
      feedback: this.feedback,
      monitoring: this.monitoring,
      messagingKey: this.messagingKey,
      health: this.health,
    } = this.sesSmtp);

    // SesSmtp tags its resources; these make them the stack's tags too (CloudFormation stack tags).
    Tags.of(this).add(ENVIRONMENT_TAG, environmentName);
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);
    // A config built by hand in JavaScript may leave it out.
    acknowledgeWarnings(this, acknowledgedWarnings ?? {});
  }

  /**
   * The logical id aws-cdk-lib allocates, computed once per element. An id depends only on the
   * element's path, which never changes; without the cache every Ref and GetAtt hashes the path
   * again in each synth pass (references, template, tree, cdk-nag).
   */
  protected override allocateLogicalId(cfnElement: CfnElement): string {
    let logicalId = this.logicalIds.get(cfnElement);
    if (logicalId === undefined) {
      logicalId = super.allocateLogicalId(cfnElement);
      this.logicalIds.set(cfnElement, logicalId);
    }
    return logicalId;
  }
}
