import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ConfigError } from '../lib/config/load';
import { SMTP_CONTAINER_VARIABLES } from '../lib/ecs-secrets';
import { SesSmtp, SesSmtpProps } from '../lib/ses-smtp';
import { BASE_ENV, testApp } from './helpers';

const env = { account: BASE_ENV.account, region: BASE_ENV.region };
const { account: _account, region: _region, ...settings } = BASE_ENV;

/** The mail stack and an app stack, as a consumer's app has them. */
function twoStacks(): { app: App; mailStack: Stack; appStack: Stack; mail: SesSmtp } {
  const app = testApp();
  const mailStack = new Stack(app, 'Mail', { env });
  const mail = new SesSmtp(mailStack, 'SesSmtp', { ...settings, environmentName: 'prod' } as SesSmtpProps);
  const appStack = new Stack(app, 'Web', { env });
  return { app, mailStack, appStack, mail };
}

const secretRef = {
  'Fn::ImportValue': Match.stringLikeRegexp('^Mail:ExportsOutputRefSesSmtpSmtpCredentialsSecret'),
};
/** The same reference, for jest's own matchers. */
const importedSecret = {
  'Fn::ImportValue': expect.stringMatching(/^Mail:ExportsOutputRefSesSmtpSmtpCredentialsSecret/),
};
const keyArn = {
  'Fn::ImportValue': Match.stringLikeRegexp('^Mail:ExportsOutputFnGetAttSesSmtpSmtpCredentialsSecretKey'),
};
const viaSecretsManager = {
  StringEquals: {
    'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] },
  },
};

describe('grantRead across stacks', () => {
  test('a role in another stack gets the secret and its key through its own policy, without a cycle', () => {
    const { app, mailStack, appStack, mail } = twoStacks();
    const role = new iam.Role(appStack, 'AppRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    mail.grantRead(role);
    expect(() => app.synth()).not.toThrow();
    expect(appStack.dependencies.map((s) => s.stackName)).toEqual(['Mail']);
    expect(mailStack.dependencies).toEqual([]);

    const web = Template.fromStack(appStack);
    web.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: secretRef,
          }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: keyArn,
            Condition: viaSecretsManager,
          }),
        ]),
      },
      Roles: [{ Ref: Match.stringLikeRegexp('^AppRole') }],
    });
    // The key policy names no app role: the account root (IAM policies) and the rotation's services only.
    const mailTemplate = Template.fromStack(mailStack);
    const [secretKey] = Object.entries(mailTemplate.findResources('AWS::KMS::Key')).filter(([id]) =>
      id.startsWith('SesSmtpSmtpCredentialsSecretKey'),
    );
    const statements = secretKey[1].Properties.KeyPolicy.Statement as {
      Principal: unknown;
      Action: unknown;
    }[];
    expect(JSON.stringify(statements)).not.toContain('AppRole');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'kms:*',
        Effect: 'Allow',
        Principal: {
          AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:root']] },
        },
      }),
    );
  });

  test("the secret's own L2 grantRead would make a cycle here (the reason grantRead exists)", () => {
    const { app, appStack, mail } = twoStacks();
    const role = new iam.Role(appStack, 'AppRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    });
    mail.credentials.secret.grantRead(role);
    expect(() => app.synth()).toThrow(/cycl/i);
  });
});

describe('containerSecrets (ECS)', () => {
  function fargateTask() {
    const parts = twoStacks();
    const task = new ecs.FargateTaskDefinition(parts.appStack, 'Task');
    task.addContainer('rails', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.4'),
      secrets: parts.mail.containerSecrets(),
    });
    return { ...parts, task };
  }

  test("the seed's six variables, each read from one JSON key of the credentials secret", () => {
    const { app, appStack } = fargateTask();
    expect(() => app.synth()).not.toThrow();
    const [taskDef] = Object.values(Template.fromStack(appStack).findResources('AWS::ECS::TaskDefinition'));
    const secrets = taskDef.Properties.ContainerDefinitions[0].Secrets as {
      Name: string;
      ValueFrom: { 'Fn::Join': [string, unknown[]] };
    }[];
    expect(secrets.map((s) => s.Name).sort()).toEqual(
      [
        'AWS_SES_REGION',
        'AWS_SES_SMTP_ADDRESS',
        'AWS_SES_SMTP_PASSWORD',
        'AWS_SES_SMTP_PORT',
        'AWS_SES_SMTP_USERNAME',
        'DEFAULT_FROM_EMAIL',
      ].sort(),
    );
    const byName = Object.fromEntries(secrets.map((s) => [s.Name, s.ValueFrom]));
    expect(byName.AWS_SES_SMTP_PASSWORD).toEqual({ 'Fn::Join': ['', [importedSecret, ':password::']] });
    expect(byName.AWS_SES_SMTP_USERNAME).toEqual({ 'Fn::Join': ['', [importedSecret, ':username::']] });
    expect(byName.AWS_SES_SMTP_ADDRESS).toEqual({ 'Fn::Join': ['', [importedSecret, ':host::']] });
    expect(byName.AWS_SES_SMTP_PORT).toEqual({ 'Fn::Join': ['', [importedSecret, ':port::']] });
    expect(byName.AWS_SES_REGION).toEqual({ 'Fn::Join': ['', [importedSecret, ':region::']] });
    expect(byName.DEFAULT_FROM_EMAIL).toEqual({ 'Fn::Join': ['', [importedSecret, ':fromAddress::']] });
    // Nothing about the credentials is in plain environment variables.
    expect(taskDef.Properties.ContainerDefinitions[0].Environment).toBeUndefined();
  });

  // A task started before the first rotation has finished would find no credentials in the secret.
  test('in the mail stack itself, a task definition can wait for the first credentials', () => {
    const { mailStack, mail } = twoStacks();
    const task = new ecs.FargateTaskDefinition(mailStack, 'Task');
    task.addContainer('rails', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.4'),
      secrets: mail.containerSecrets(),
    });
    task.node.addDependency(mail.credentialsReady);
    const resources = Template.fromStack(mailStack).toJSON().Resources as Record<
      string,
      { Type: string; DependsOn?: string[] }
    >;
    const id = (type: string) => Object.keys(resources).find((k) => resources[k].Type === type)!;
    const ready = id('Custom::SmtpCredentialsReady');
    expect(resources[id('AWS::ECS::TaskDefinition')].DependsOn).toContain(ready);
    expect(resources[ready].DependsOn).toContain(id('AWS::SecretsManager::RotationSchedule'));
  });

  // Six variables are six reads, and a task that starts in the instant a rotation moves
  // AWSCURRENT can get the username of one version and the password of the other.
  test('containerSecretJson: the whole JSON in one variable, one read, granted as the six are', () => {
    const { app, appStack, mail } = twoStacks();
    const task = new ecs.FargateTaskDefinition(appStack, 'Task');
    task.addContainer('rails', {
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.4'),
      secrets: mail.containerSecretJson(),
    });
    expect(() => app.synth()).not.toThrow();
    const template = Template.fromStack(appStack);
    const [taskDef] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    expect(taskDef.Properties.ContainerDefinitions[0].Secrets).toEqual([
      { Name: 'AWS_SES_SMTP_CREDENTIALS', ValueFrom: importedSecret },
    ]);
    const executionRoleId = appStack.getLogicalId(task.executionRole!.node.defaultChild as iam.CfnRole);
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(executionRoleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: importedSecret,
        }),
        expect.objectContaining({ Action: 'kms:Decrypt', Condition: expect.anything() }),
      ]),
    );
    expect(mail.containerSecretJson('SMTP_JSON')).toHaveProperty(['SMTP_JSON']);
    // A ConfigError, one line: what the README's catch in an app's bin prints without a stack trace.
    expect(() => mail.containerSecretJson('smtp-json')).toThrow(
      new ConfigError([
        'containerSecretJson: got "smtp-json", expected an environment variable name (letters, digits and "_", not starting with a digit)',
      ]),
    );
    expect(() => mail.containerSecretJson('smtp-json')).toThrow(ConfigError);
    // A shell cannot name a variable that starts with a digit; one that starts with "_" it can.
    expect(() => mail.containerSecretJson('1SMTP_JSON')).toThrow(
      /got "1SMTP_JSON", expected an environment variable name/,
    );
    expect(mail.containerSecretJson('_SMTP_JSON')).toHaveProperty(['_SMTP_JSON']);
  });

  test('the JSON keys are the ones the rotation function writes', () => {
    // SmtpSecret (lambda/shared/smtp-secret.ts) types the keys; this pins the mapping a Rails app relies on.
    expect(SMTP_CONTAINER_VARIABLES).toEqual({
      AWS_SES_SMTP_USERNAME: 'username',
      AWS_SES_SMTP_PASSWORD: 'password',
      AWS_SES_SMTP_ADDRESS: 'host',
      AWS_SES_SMTP_PORT: 'port',
      AWS_SES_REGION: 'region',
      DEFAULT_FROM_EMAIL: 'fromAddress',
    });
  });

  test('the execution role (not the task role) may read the secret and decrypt via Secrets Manager', () => {
    const { appStack, task } = fargateTask();
    const template = Template.fromStack(appStack);
    const executionRoleId = appStack.getLogicalId(task.executionRole!.node.defaultChild as iam.CfnRole);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const forRole = (id: string) => policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(id));
    const statements = forRole(executionRoleId).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          Resource: expect.objectContaining({ 'Fn::ImportValue': expect.any(String) }),
        }),
        expect.objectContaining({ Action: 'kms:Decrypt', Condition: expect.any(Object) }),
      ]),
    );
    const taskRoleId = appStack.getLogicalId(task.taskRole.node.defaultChild as iam.CfnRole);
    expect(JSON.stringify(forRole(taskRoleId))).not.toContain('secretsmanager');
  });
});
