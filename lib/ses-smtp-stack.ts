import { Duration, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { EnvironmentConfig } from './config/schema';
import { SendingDomain } from './constructs/sending-domain';

export interface SesSmtpStackProps extends StackProps {
  /** The environment's name in the environments file, like "production". */
  readonly environmentName: string;
  /** The environment's validated configuration. */
  readonly config: EnvironmentConfig;
}

/** Everything one environment needs to send mail from a web app over SES SMTP. */
export class SesSmtpStack extends Stack {
  public readonly sendingDomain: SendingDomain;

  constructor(scope: Construct, id: string, props: SesSmtpStackProps) {
    const { config } = props;
    super(scope, id, {
      ...props,
      env: { account: config.account, region: config.region },
      description: `SES SMTP sending for ${config.domain} (environment ${props.environmentName})`,
    });
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const hostedZone =
      config.dns.mode === 'route53'
        ? route53.HostedZone.fromHostedZoneAttributes(this, 'HostedZone', {
            hostedZoneId: config.dns.hostedZoneId,
            zoneName: config.dns.zoneName,
          })
        : undefined;

    this.sendingDomain = new SendingDomain(this, 'SendingDomain', {
      domainName: config.domain,
      hostedZone,
      recordTtl: Duration.seconds(config.dns.ttlSeconds),
      mailFromSubdomain: config.mailFrom.subdomain,
      mailFromBehaviorOnMxFailure: ses.MailFromBehaviorOnMxFailure[config.mailFrom.behaviorOnMxFailure],
      dmarc: config.dmarc.enabled ? config.dmarc : undefined,
      apexSpf: config.apexSpf.enabled ? config.apexSpf : undefined,
      verifiedEmailAddresses: config.verifiedEmailAddresses,
      removalPolicy,
    });

    Tags.of(this).add('ses-smtp:environment', props.environmentName);
    for (const [key, value] of Object.entries(config.tags)) Tags.of(this).add(key, value);
  }
}
