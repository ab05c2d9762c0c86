import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigError } from '../lib/config/load';
import { SesSmtp, SesSmtpProps } from '../lib/ses-smtp';
import { BASE_ENV, synthStack, testApp } from './helpers';

const { account: _account, region: _region, ...BASE_PROPS } = BASE_ENV;
const PROPS = { ...BASE_PROPS, environmentName: 'prod' } as SesSmtpProps;

function appStack(
  env: { account?: string; region?: string } = { account: '123456789012', region: 'eu-west-1' },
) {
  return new Stack(testApp(), 'App', { env });
}

/** The message SesSmtp throws for `props`, or undefined. */
function errorOf(props: object, stack = appStack()): string | undefined {
  try {
    new SesSmtp(stack, 'Mail', props as unknown as SesSmtpProps);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
}

describe('SesSmtp', () => {
  // An operator paged at night runs the command the alarm gives: it must work for this stack.
  test("alarm texts give commands that pick this stack: --stack and --region, or the file app's --env", () => {
    const texts = (template: Template) => JSON.stringify(template.toJSON().Resources);
    const own = appStack();
    new SesSmtp(own, 'Mail', PROPS);
    const ownTexts = texts(Template.fromStack(own));
    expect(ownTexts).toContain('npx ses-smtp rotate --stack App --region eu-west-1');
    expect(ownTexts).toContain('npx ses-smtp env --stack App --region eu-west-1');
    expect(ownTexts).not.toContain('--env ');

    // The environments-file app's stack (SesSmtpStack, environment "test").
    const fileTexts = texts(synthStack().template);
    expect(fileTexts).toContain('npx ses-smtp rotate --env test');
    expect(fileTexts).toContain('npx ses-smtp env --env test');
    expect(fileTexts).not.toContain('--stack ');
  });

  // CloudWatch refuses a description over 1024 characters, and only at deploy: check the longest
  // names the construct accepts, with each log group name as long as CloudFormation makes it.
  test('every alarm description fits CloudWatch (1024 characters) with the longest names', () => {
    const name = `S${'x'.repeat(127)}`; // CloudFormation's longest stack name
    const stack = new Stack(testApp(), name, { env: { account: '123456789012', region: 'ap-southeast-1' } });
    new SesSmtp(stack, 'Mail', { ...PROPS, environmentName: `e${'x'.repeat(30)}` });
    const resources = Template.fromStack(stack).toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    // A name CloudFormation generates: "<stack>-<logical id>-<12 random characters>".
    const text = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const { Ref, 'Fn::Join': join } = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
      if (Ref && resources[Ref]?.Type === 'AWS::Logs::LogGroup') return `${name}-${Ref}-ABCDEFGHIJKL`;
      if (join) return join[1].map(text).join(join[0]);
      throw new Error(`an alarm description holds ${JSON.stringify(value)}: give its longest value here`);
    };
    const lengths = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id, r]) => [id, text(r.Properties.AlarmDescription).length] as const);
    expect(lengths.length).toBeGreaterThan(20);
    expect(lengths.filter(([, length]) => length > 1024)).toEqual([]);
    // Every alarm with a command in its text names this stack in it.
    const withCommands = Object.values(resources).filter((r) =>
      text(r.Properties.AlarmDescription ?? '').includes('ses-smtp '),
    );
    for (const r of withCommands) expect(text(r.Properties.AlarmDescription)).toContain(`--stack ${name}`);
  });

  test('goes into an existing stack and takes account and Region from it', () => {
    const stack = appStack({ account: '210987654321', region: 'us-east-2' });
    const mail = new SesSmtp(stack, 'Mail', PROPS);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SES::EmailIdentity', 1);
    template.resourceCountIs('AWS::IAM::User', 1);
    expect(mail.credentials.smtpHost).toBe('email-smtp.us-east-2.amazonaws.com');
    expect(mail.config).toMatchObject({
      account: '210987654321',
      region: 'us-east-2',
      domain: 'example.com',
    });
    // Defaults come from the schema: the same as an environments file without those fields.
    expect(mail.config.credentials.rotationDays).toBe(90);
    expect(mail.config.dmarc.policy).toBe('quarantine');
  });

  // IAM compares ses:FromAddress case-sensitively: the default sender must match the policy's pattern.
  test('the default sender in the rotation function and the sender condition spell the domain alike', () => {
    const stack = appStack();
    new SesSmtp(stack, 'Mail', {
      ...PROPS,
      domain: 'staging.example.com',
      fromAddress: 'No-Reply@STAGING.Example.com',
    });
    const template = Template.fromStack(stack);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => p.Properties.Users,
    );
    expect(policy.Properties.PolicyDocument.Statement[0].Condition).toEqual({
      StringLike: { 'ses:FromAddress': ['*@staging.example.com'] },
    });
    const fromAddresses = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Environment?.Variables?.FROM_ADDRESS)
      .filter(Boolean);
    expect(fromAddresses).toEqual(['No-Reply@staging.example.com']);
  });

  test('an account-agnostic stack is accepted (only the Region must be explicit)', () => {
    const stack = appStack({ region: 'eu-west-1' });
    expect(() => new SesSmtp(stack, 'Mail', PROPS)).not.toThrow();
  });

  test('a stack without a Region is refused with what to set', () => {
    expect(errorOf(PROPS, appStack({}))).toMatch(
      /^SesSmtp props: the Stack has no explicit Region, expected .*env: \{ region/,
    );
  });

  test('inside SesSmtpStack, outputs keep their plain names', () => {
    const outputs = Object.keys(synthStack().template.findOutputs('*'));
    expect(outputs).toEqual(expect.arrayContaining(['SmtpSecretArn', 'SmtpHost', 'DashboardName']));
  });

  test('in a consumer stack, resources are named after the construct id', () => {
    const stack = appStack();
    new SesSmtp(stack, 'Mail', PROPS);
    const ids = Object.keys(Template.fromStack(stack).findResources('AWS::SecretsManager::Secret'));
    expect(ids).toEqual([expect.stringMatching(/^MailSmtpCredentialsSecret[0-9A-F]{8}$/)]);
  });

  test('tags and the environment tag reach its resources in a consumer stack', () => {
    const stack = appStack();
    new SesSmtp(stack, 'Mail', { ...PROPS, tags: { team: 'mail' } });
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', {
      Tags: [
        { Key: 'ses-smtp:environment', Value: 'prod' },
        { Key: 'team', Value: 'mail' },
      ],
    });
  });

  test.each([
    [
      { dmarc: { policy: 'block' } },
      'SesSmtp props: field "dmarc.policy": got "block", expected one of: "none", "quarantine", "reject"',
    ],
    [
      { environmentName: 'Prod' },
      'SesSmtp props: field "environmentName": got "Prod", expected an environment name',
    ],
    [
      { fromAddress: undefined },
      'SesSmtp props: field "fromAddress": nothing (the field is required), expected an email address',
    ],
    [
      { colour: 'blue' },
      'SesSmtp props: field "colour": got unknown field with value "blue", expected a known field',
    ],
    [
      { account: '123456789012' },
      `SesSmtp props: field "account": got a value, expected none: the account comes from the Stack's env`,
    ],
    [{ cliOptions: `--env ${'x'.repeat(155)}` }, 'SesSmtp props: field "cliOptions": got "--env xxx'],
  ])('a schema mistake names the prop: %j', (change, message) => {
    expect(errorOf({ ...PROPS, ...change })).toContain(message);
  });

  test.each([
    [
      { fromAddress: 'a@example.org' },
      'field "fromAddress": got "a@example.org", expected an address at example.com',
    ],
    [
      { dns: { mode: 'route53', hostedZoneId: 'Z0123456789EXAMPLE0AB', zoneName: 'example.org' } },
      'field "dns.zoneName": got "example.org", expected the hosted zone of example.com',
    ],
    [
      { alarms: { bounceRatePercent: { warning: 5, critical: 4 } } },
      'field "alarms.bounceRatePercent.warning": got 5, expected a warning level below the critical level (4)',
    ],
    [
      { health: { quotaPercent: { warning: 95, critical: 80 } } },
      'field "health.quotaPercent.warning": got 95, expected a warning level below the critical level (80)',
    ],
    [
      { apexSpf: { otherTxtValues: ['v=spf1 -all'] } },
      'field "apexSpf.otherTxtValues[0]": got "v=spf1 -all", expected a non-SPF value',
    ],
    [
      { credentials: { allowedFromAddresses: ['*@example.net'] } },
      'field "credentials.allowedFromAddresses[0]": got "*@example.net"',
    ],
  ])('a rule across fields names the prop: %j', (change, message) => {
    expect(errorOf({ ...PROPS, ...change })).toContain(`SesSmtp props: ${message}`);
  });

  test('the critical quota level may be the whole quota, as HealthChecks allows', () => {
    expect(errorOf({ ...PROPS, health: { quotaPercent: { warning: 80, critical: 100 } } })).toBeUndefined();
  });

  test("an unknown field's message lists the construct's own fields, not the app's", () => {
    expect(errorOf({ ...PROPS, fromAdress: 'no-reply@example.com' })).toBe(
      'SesSmtp props: field "fromAdress": got unknown field with value "no-reply@example.com", expected a known field (one of: domain, dns, fromAddress, mailFrom, dmarc, apexSpf, verifiedEmailAddresses, credentials, feedback, alarms, health, tags, removalPolicy, environmentName, additionalSmtpRegions, cliOptions)',
    );
  });

  test('the Region rule applies to the Stack Region, and additionalSmtpRegions extends it', () => {
    const stack = () => appStack({ account: '123456789012', region: 'xx-north-9' });
    expect(errorOf(PROPS, stack())).toMatch(
      /^SesSmtp props: field "region": got "xx-north-9", expected a Region with an SES SMTP endpoint/,
    );
    expect(errorOf({ ...PROPS, additionalSmtpRegions: ['xx-north-9'] }, stack())).toBeUndefined();
  });

  test('every problem is reported, one line each, and nothing is created', () => {
    const stack = appStack();
    const message = errorOf({ ...PROPS, fromAddress: 'x@example.org', dmarc: { percentage: 120 } }, stack);
    // Schema problems come first; rules across fields run only on well-formed props.
    expect(message?.split('\n')).toEqual([
      'SesSmtp props: field "dmarc.percentage": got 120, expected a number <= 100',
    ]);
    expect(stack.node.children).toHaveLength(0);
  });
});
