import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { parseConfig } from '../lib/config/load';
import { SesSmtp, SesSmtpProps } from '../lib/ses-smtp';
import { BASE_ENV, synthStack, testApp } from './helpers';

const { account: _account, region: _region, ...BASE_PROPS } = BASE_ENV;
const PROPS = { ...BASE_PROPS, environmentName: 'prod' } as SesSmtpProps;
const env = { account: '123456789012', region: 'eu-west-1' };
const WEB = 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web';

function fargateService(stack: Stack) {
  const cluster = new ecs.Cluster(stack, 'Cluster', {
    vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-1',
      availabilityZones: ['eu-west-1a'],
      privateSubnetIds: ['subnet-1'],
    }),
  });
  const task = new ecs.FargateTaskDefinition(stack, 'Task');
  task.addContainer('rails', { image: ecs.ContainerImage.fromRegistry('rails') });
  return new ecs.FargateService(stack, 'Web', { cluster, taskDefinition: task });
}

describe('restarting ECS services after a rotation', () => {
  test('restartOnRotation: the rotated event invokes a function that may force a new deployment of exactly those services', () => {
    const stack = new Stack(testApp(), 'App', { env });
    const mail = new SesSmtp(stack, 'Mail', PROPS);
    const service = fargateService(stack);
    const imported = ecs.BaseService.fromServiceArnWithCluster(
      stack,
      'Worker',
      `${WEB.replace('/web', '/worker')}`,
    );
    mail.restartOnRotation(service, imported);
    // Again: no second function, alarm or statement resource.
    mail.restartOnRotation(imported);
    expect(mail.credentials.restartServiceArns).toHaveLength(2);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
    const fnId = Object.keys(t.findResources('AWS::Lambda::Function')).find((id) =>
      id.startsWith('MailSmtpCredentialsServiceRestartFunction'),
    )!;
    const fn = t.toJSON().Resources[fnId];
    // One service after another, each through its throttling waits: room for a long list.
    expect(fn.Properties.Timeout).toBe(900);
    const [serviceId] = Object.keys(t.findResources('AWS::ECS::Service'));
    const [clusterId] = Object.keys(t.findResources('AWS::ECS::Cluster'));
    // The services by cluster and name, the one of this stack as references.
    expect(
      JSON.parse(JSON.stringify(stack.resolve(fn.Properties.Environment.Variables.ECS_SERVICES))),
    ).toEqual({
      'Fn::Join': [
        '',
        [
          '[{"cluster":"',
          { Ref: clusterId },
          '","service":"',
          { 'Fn::GetAtt': [serviceId, 'Name'] },
          '"},{"cluster":"prod","service":"worker"}]',
        ],
      ],
    });
    // The role: exactly UpdateService on the two services.
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      String(JSON.stringify(p.Properties.Roles)).includes('ServiceRestartFunctionRole'),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.filter((s) => JSON.stringify(s.Action).includes('ecs:'))).toEqual([
      {
        Sid: 'ForceNewDeploymentOfTheseServicesOnly',
        Effect: 'Allow',
        Action: 'ecs:UpdateService',
        Resource: [
          { Ref: Object.keys(t.findResources('AWS::ECS::Service'))[0] },
          WEB.replace('/web', '/worker'),
        ],
      },
    ]);
    // The rule that feeds rotatedTopic targets it too, and its permission names that rule.
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: { labelUpdated: ['AWSCURRENT'] } }),
      // EventBridge's retries of a delivery Lambda refused (throttled): 4, not its default 185.
      Targets: Match.arrayWith([
        Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 4 } }),
      ]),
    });
    t.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^MailSmtpCredentialsRotationSucceededRule'), 'Arn'],
      },
    });
    // One alarm on its errors, to the operators.
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.MetricName === 'Errors' && JSON.stringify(a.Properties.Dimensions).includes(fnId),
    );
    expect(alarms).toHaveLength(1);
    // Any error in 5 minutes: the Sum (an Average would dilute one failed run among good ones).
    expect(alarms[0].Properties).toMatchObject({ Statistic: 'Sum', Period: 300 });
    expect(JSON.stringify(alarms[0].Properties.AlarmDescription)).toContain('--force-new-deployment');
  });

  test('addRestartServiceArn: a short ARN is refused as such, naming the long form', () => {
    const mail = new SesSmtp(new Stack(testApp(), 'App', { env }), 'Mail', PROPS);
    expect(() =>
      mail.credentials.addRestartServiceArn('arn:aws:ecs:eu-west-1:123456789012:service/web'),
    ).toThrow(
      /expected the long ARN of an ECS service, arn:aws:ecs:eu-west-1:123456789012:service\/CLUSTER\/SERVICE \(a short ARN/,
    );
  });

  // A Stack with no account (a token until deploy): the account is not compared.
  test('a stack of no account takes the long ARN of any account of its Region', () => {
    const mail = new SesSmtp(new Stack(testApp(), 'App', { env: { region: 'eu-west-1' } }), 'Mail', PROPS);
    const other = WEB.replace('123456789012', '999999999999');
    mail.credentials.addRestartServiceArn(other);
    expect(mail.credentials.restartServiceArns).toEqual([other]);
  });

  // Imported by name, aws-cdk-lib writes the service's ARN without its cluster
  // (service/SERVICE) unless the app sets @aws-cdk/aws-ecs:arnFormatIncludesClusterName: a
  // policy on that ARN never matches the service's own, service/CLUSTER/SERVICE, and every
  // restart was refused (AccessDenied) after each rotation; with partition literals
  // (@aws-cdk/core:enablePartitionLiterals) the import was refused as a short ARN to migrate.
  test.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])(
    'a service imported by name gets UpdateService on its long ARN (cluster in ARN %s, partition literal %s)',
    (clusterInArn, partitionLiteral) => {
      const app = testApp({
        '@aws-cdk/aws-ecs:arnFormatIncludesClusterName': clusterInArn,
        '@aws-cdk/core:enablePartitionLiterals': partitionLiteral,
      });
      const stack = new Stack(app, 'App', { env });
      const mail = new SesSmtp(stack, 'Mail', PROPS);
      const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Prod', {
        clusterName: 'prod',
        vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'] }),
      });
      mail.restartOnRotation(
        ecs.FargateService.fromFargateServiceAttributes(stack, 'Web', { cluster, serviceName: 'web' }),
      );
      const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .filter((s) => s.Action === 'ecs:UpdateService');
      expect(statements).toEqual([
        expect.objectContaining({
          Resource: partitionLiteral
            ? WEB
            : {
                'Fn::Join': [
                  '',
                  ['arn:', { Ref: 'AWS::Partition' }, ':ecs:eu-west-1:123456789012:service/prod/web'],
                ],
              },
        }),
      ]);
    },
  );

  // Names only (no reference): the mail stack reads nothing of the stack the import is in.
  test('a service imported by literal names into another stack is taken, by its long ARN', () => {
    const app = testApp({ '@aws-cdk/core:enablePartitionLiterals': true });
    const mail = new SesSmtp(new Stack(app, 'Mail', { env }), 'Mail', PROPS);
    const web = new Stack(app, 'Web', { env });
    const cluster = ecs.Cluster.fromClusterAttributes(web, 'Prod', {
      clusterName: 'prod',
      vpc: ec2.Vpc.fromVpcAttributes(web, 'Vpc', { vpcId: 'vpc-1', availabilityZones: ['eu-west-1a'] }),
    });
    mail.restartOnRotation(
      ecs.FargateService.fromFargateServiceAttributes(web, 'Web', { cluster, serviceName: 'web' }),
    );
    expect(mail.credentials.restartServiceArns).toEqual([WEB]);
    expect(() => app.synth()).not.toThrow();
  });

  test('a service built in another stack is refused with the fix (a dependency cycle otherwise)', () => {
    const app = testApp();
    const mail = new SesSmtp(new Stack(app, 'Mail', { env }), 'Mail', PROPS);
    const service = fargateService(new Stack(app, 'Web', { env }));
    // Named by the method the app called.
    expect(() => mail.restartOnRotation(service)).toThrow(
      /^restartOnRotation: got Web\/Web of stack Web, expected a service of stack Mail or one imported by its ARN: .*fromServiceArnWithCluster/,
    );
    expect(() => mail.credentials.restartServicesOnRotation(service)).toThrow(
      /^restartServicesOnRotation: got Web\/Web of stack Web/,
    );
    const elsewhere = ecs.BaseService.fromServiceArnWithCluster(
      mail,
      'Elsewhere',
      WEB.replace('eu-west-1', 'us-east-1'),
    );
    expect(() => mail.restartOnRotation(elsewhere)).toThrow(
      /^restartOnRotation: got arn:aws:ecs:us-east-1:.*, expected a service of the mail stack's account and Region/,
    );
  });

  test('environments file: long ARNs of the environment only, one line each', () => {
    const parse = (arns: string[]) => () =>
      parseConfig(
        { environments: { test: { ...BASE_ENV, credentials: { restartEcsServices: arns } } } },
        'e.json',
      );
    expect(parse([WEB])().environments.test.credentials.restartEcsServices).toEqual([WEB]);
    expect(parse(['arn:aws:ecs:eu-west-1:123456789012:service/web'])).toThrow(
      /field "credentials\.restartEcsServices\[0\]".*expected the long ARN of an ECS service.*a short ARN/,
    );
    expect(
      parse([WEB.replace('eu-west-1', 'us-east-1'), WEB.replace('123456789012', '999999999999')]),
    ).toThrow(
      /restartEcsServices\[0\].*account and Region[\s\S]*restartEcsServices\[1\].*account and Region/,
    );
  });

  // IAM matches the policy's resource against the service's own ARN: in GovCloud that begins
  // arn:aws-us-gov:, so arn:aws:... there would be refused at every rotation.
  test('the partition of the Region: arn:aws:... of a GovCloud service is refused', () => {
    const gov = (arn: string) => () =>
      parseConfig(
        {
          environments: {
            test: { ...BASE_ENV, region: 'us-gov-west-1', credentials: { restartEcsServices: [arn] } },
          },
        },
        'e.json',
      );
    const govWeb = WEB.replace('eu-west-1', 'us-gov-west-1');
    expect(gov(govWeb)).toThrow(
      /restartEcsServices\[0\].*arn:aws-us-gov:ecs:us-gov-west-1:123456789012:service\/CLUSTER\/SERVICE/,
    );
    const fixed = govWeb.replace('arn:aws:', 'arn:aws-us-gov:');
    expect(gov(fixed)().environments.test.credentials.restartEcsServices).toEqual([fixed]);
    const mail = new SesSmtp(
      new Stack(testApp(), 'App', { env: { ...env, region: 'us-gov-west-1' } }),
      'Mail',
      PROPS,
    );
    expect(() => mail.credentials.addRestartServiceArn(govWeb)).toThrow(/arn:aws-us-gov:ecs:us-gov-west-1/);
    expect(() => mail.credentials.addRestartServiceArn(fixed)).not.toThrow();
  });

  // The alarm comes with the function, whichever way it was asked for.
  test.each([
    [
      'credentials.restartServicesOnRotation',
      (mail: SesSmtp, stack: Stack) =>
        mail.credentials.restartServicesOnRotation(
          ecs.BaseService.fromServiceArnWithCluster(stack, 'Web', WEB),
        ),
    ],
    ['credentials.addRestartServiceArn', (mail: SesSmtp) => mail.credentials.addRestartServiceArn(WEB)],
  ])('through %s: the alarm too, once', (_, call) => {
    const stack = new Stack(testApp(), 'App', { env });
    const mail = new SesSmtp(stack, 'Mail', PROPS);
    call(mail, stack);
    // Another service, by the other way: still one alarm.
    mail.credentials.addRestartServiceArn(WEB.replace('/web', '/worker'));
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => JSON.stringify(a.Properties.Dimensions ?? []).includes('ServiceRestartFunction'),
    );
    expect(alarms).toHaveLength(1);
  });

  // Each service given, not the first only (one call, several services).
  test('credentials.restartServicesOnRotation restarts every service it is given', () => {
    const stack = new Stack(testApp(), 'App', { env });
    const mail = new SesSmtp(stack, 'Mail', PROPS);
    const worker = WEB.replace('/web', '/worker');
    mail.credentials.restartServicesOnRotation(
      ecs.BaseService.fromServiceArnWithCluster(stack, 'Web', WEB),
      ecs.BaseService.fromServiceArnWithCluster(stack, 'Worker', worker),
    );
    expect(mail.credentials.restartServiceArns).toEqual([WEB, worker]);
  });

  test('environments file: the alarm on the function', () => {
    const { template } = synthStack({ credentials: { restartEcsServices: [WEB] } });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      JSON.stringify(a.Properties.Dimensions ?? []).includes('ServiceRestartFunction'),
    );
    expect(alarms).toHaveLength(1);
    expect(JSON.stringify(alarms[0].Properties.AlarmDescription)).toContain('--force-new-deployment');
  });

  test('not used: no function, rule target or alarm', () => {
    const { template } = synthStack({});
    expect(JSON.stringify(template.toJSON())).not.toMatch(/ServiceRestart|ecs:UpdateService/);
    // Nor the health check of the services.
    expect(JSON.stringify(template.toJSON())).not.toMatch(/ecs:DescribeServices|ecsServices|ecs-services/);
  });
});

describe('the health check of the restarted services (a missing one is only a warning in the restart log)', () => {
  const healthFunction = (t: Template) =>
    Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.includes('HealthChecksFunction'),
    )!;
  const healthStatements = (t: Template) =>
    Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => String(JSON.stringify(p.Properties.Roles)).includes('HealthChecksFunction'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);

  test('restartOnRotation and the file: DescribeServices on exactly the ARNs given, in the target, the alarm', () => {
    const stack = new Stack(testApp(), 'App', { env });
    const mail = new SesSmtp(stack, 'Mail', PROPS);
    const service = fargateService(stack);
    const worker = WEB.replace('/web', '/worker');
    mail.restartOnRotation(service, ecs.BaseService.fromServiceArnWithCluster(stack, 'Worker', worker));
    mail.credentials.addRestartServiceArn(worker); // again: once
    const t = Template.fromStack(stack);
    const [serviceId] = Object.keys(t.findResources('AWS::ECS::Service'));
    expect(healthStatements(t).filter((s) => JSON.stringify(s.Action).includes('ecs:'))).toEqual([
      {
        Sid: 'DescribeTheRestartedServicesOnly',
        Effect: 'Allow',
        Action: 'ecs:DescribeServices',
        // Not the service of the stack: the stack's deploy creates it.
        Resource: worker,
      },
    ]);
    const [, fn] = healthFunction(t);
    const target = JSON.stringify(stack.resolve(fn.Properties.Environment.Variables.HEALTH_TARGET));
    expect(target).toContain(`"ecsServices\\":[\\"${worker}\\"]`);
    expect(target).not.toContain(serviceId);
    const alarms = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      JSON.stringify(a.Properties.Dimensions ?? []).includes('"ecs-services"'),
    );
    expect(alarms).toHaveLength(1);
    // Its length with the longest names: ses-smtp.test.ts, with every alarm.
    expect(JSON.stringify(alarms[0].Properties.AlarmDescription)).toMatch(
      /credentials\.restartEcsServices.*restartOnRotation/,
    );
    // In the dashboard's alarm panel, as the other checks' alarms.
    const [alarmId] = Object.entries(t.findResources('AWS::CloudWatch::Alarm')).find(
      ([, a]) => a === alarms[0],
    )!;
    const dashboard = JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0]);
    expect(dashboard).toContain(alarmId);
  });

  test('environments file: the grant and the target name the listed ARN', () => {
    const { stack, template } = synthStack({ credentials: { restartEcsServices: [WEB] } });
    expect(healthStatements(template)).toContainEqual({
      Sid: 'DescribeTheRestartedServicesOnly',
      Effect: 'Allow',
      Action: 'ecs:DescribeServices',
      Resource: WEB,
    });
    const [, fn] = healthFunction(template);
    expect(JSON.stringify(stack.resolve(fn.Properties.Environment.Variables.HEALTH_TARGET))).toContain(
      `"ecsServices\\":[\\"${WEB}\\"]`,
    );
  });

  // A service of the stack is created (and kept) by the stack's own deploy, its ARN from
  // CloudFormation: no typo to catch. Counted at ECS's longest names (about 570 bytes each, its ARN
  // unknown until deploy), five such services outgrew the function's 4 KB: an app that restarts
  // its own services failed to synthesize, told to list fewer.
  test("services of the stack are not checked, nor counted toward the function's 4 KB", () => {
    const stack = new Stack(testApp(), 'App', { env });
    const mail = new SesSmtp(stack, 'Mail', PROPS);
    for (let i = 0; i < 6; i++) {
      const cluster = new ecs.Cluster(stack, `Cluster${i}`, {
        vpc: ec2.Vpc.fromVpcAttributes(stack, `Vpc${i}`, {
          vpcId: 'vpc-1',
          availabilityZones: ['eu-west-1a'],
          privateSubnetIds: ['subnet-1'],
        }),
      });
      const task = new ecs.FargateTaskDefinition(stack, `Task${i}`);
      task.addContainer('rails', { image: ecs.ContainerImage.fromRegistry('rails') });
      mail.restartOnRotation(new ecs.FargateService(stack, `Web${i}`, { cluster, taskDefinition: task }));
    }
    const t = Template.fromStack(stack);
    // Restarted all the same.
    expect(mail.credentials.restartServiceArns).toHaveLength(6);
    expect(JSON.stringify(t.toJSON())).not.toMatch(/ecs:DescribeServices|ecsServices|ecs-services/);
  });

  test("each listed ARN counts toward the 4 KB of the function's settings, measured at synth", () => {
    const stack = new Stack(testApp(), 'App', { env });
    const mail = new SesSmtp(stack, 'Mail', PROPS);
    const name = (i: number) => `${i}`.padStart(255, 'x'); // ECS's longest names
    for (let i = 0; i < 6; i++)
      mail.credentials.addRestartServiceArn(
        `arn:aws:ecs:eu-west-1:123456789012:service/${name(i)}/${name(i)}`,
      );
    expect(() => Template.fromStack(stack)).toThrow(
      /health check's settings can take up to \d+ bytes.*the ARNs of the 6 ECS services restarted after each rotation; /,
    );
  });
});
