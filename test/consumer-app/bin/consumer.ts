#!/usr/bin/env node
// A consumer's CDK app, as `cdk init app --language typescript` sets one up, using the installed
// package: SES SMTP in its own stack, the web app's task and worker role in another.
import { Annotations, App, Stack, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeployAccessStack, SesSmtp } from 'ses-smtp-cdk';

const app = new App();
// cdk-nag's AwsSolutions pack on every synth: an unacknowledged finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const env = { account: '123456789012', region: 'eu-west-1' };

const mailStack = new Stack(app, 'Mail', { env });
const mail = new SesSmtp(mailStack, 'SesSmtp', {
  environmentName: 'production',
  domain: 'example.com',
  dns: { mode: 'route53', hostedZoneId: 'Z0123456789EXAMPLE0AB', zoneName: 'example.com' },
  fromAddress: 'no-reply@example.com',
  dmarc: { policy: 'reject', aggregateReportUris: ['mailto:dmarc@example.com'] },
});

const web = new Stack(app, 'Web', { env });
const task = new ecs.FargateTaskDefinition(web, 'RailsTask', { cpu: 256, memoryLimitMiB: 512 });
task.addContainer('rails', {
  image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.4'),
  secrets: mail.containerSecrets(),
  logging: ecs.LogDrivers.awsLogs({
    streamPrefix: 'rails',
    logGroup: new logs.LogGroup(web, 'RailsLogs', { retention: logs.RetentionDays.ONE_MONTH }),
  }),
});
const worker = new iam.Role(web, 'WorkerRole', {
  assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
});
mail.grantRead(worker);

// The operators' pager subscribes the alarm topic from the Web stack: the Mail stack's synth
// warning that its topic has no subscriber is acknowledged as the README says.
new sns.Subscription(web, 'Pager', {
  topic: mail.operatorAlarms.topic,
  protocol: sns.SubscriptionProtocol.HTTPS,
  endpoint: 'https://pager.example.com/hook',
});
Annotations.of(mail.operatorAlarms).acknowledgeWarning('ses-smtp:no-alarm-recipients');

// GitHub Actions' OIDC role that deploys the Mail stack from the "production" GitHub environment.
new DeployAccessStack(app, 'GitHubAccess', {
  access: {
    account: env.account,
    region: env.region,
    regionPinned: true,
    repository: 'acme/web',
    subjectRepository: 'acme/web',
    existingOidcProvider: false,
    terminationProtection: false,
    gitHubEnvironments: [
      {
        name: 'production',
        kind: 'deploy',
        environments: ['production'],
        stacks: [{ name: 'Mail', region: env.region }],
      },
    ],
  },
});

// The consumer test's proof that cdk-nag runs: with -c nag-probe=true, a topic that accepts plain
// HTTP publishers (AwsSolutions-SNS3) must fail the synth.
if (app.node.tryGetContext('nag-probe')) new sns.Topic(web, 'NagProbe');
