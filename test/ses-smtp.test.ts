import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Aspects, CfnOutput, CfnParameter, CfnResource, Fn, Lazy, Stack } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
// cdk-nag 2, as apps that run it as an Aspect have it (the package's own checks use cdk-nag 3).
import { AwsSolutionsChecks as AwsSolutionsChecksV2 } from 'cdk-nag-2';
import { Construct } from 'constructs';
import { CHECK_CATALOG } from '../lambda/shared/check-catalog';
import { COMMANDS, GLOBAL_OPTIONS } from '../lib/cli/command-table';
import { HEALTH_FUNCTION_OUTPUT, RESOURCES, sesSmtpOutputs } from '../lib/cli/context';
import { parseOptions } from '../lib/cli/options';
import { ConfigError, parseConfig } from '../lib/config/load';
import * as api from '../lib/index';
import { SesSmtp, SesSmtpProps } from '../lib/ses-smtp';
import { TEST_APP_PROPS } from './support/app-props';
import { DeployAccessStack } from '../lib/deploy-access-stack';
import { deployAccessPlan } from '../lib/config/github';
import { BASE_ENV, synthStack, testApp } from './helpers';

const { account: _account, region: _region, ...BASE_PROPS } = BASE_ENV;
const PROPS = { ...BASE_PROPS, environmentName: 'prod' } as SesSmtpProps;
/** The longest domain SesSmtp takes: 209 characters (its DKIM CNAMEs' names stay within 253). */
const LONG_DOMAIN = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(17)}`;

function appStack(
  env: { account?: string; region?: string } = { account: '123456789012', region: 'eu-west-1' },
) {
  return new Stack(testApp(), 'App', { env });
}

let own: { stack: Stack; template: Template } | undefined;
/**
 * A SesSmtp "Mail" with PROPS in a stack of your own ("App"), synthesized once, checked by cdk-nag
 * 2 as an Aspect on the way (as apps that run it so have it; its findings are annotations).
 */
function ownStack(): { stack: Stack; template: Template } {
  if (!own) {
    const stack = appStack();
    new SesSmtp(stack, 'Mail', PROPS);
    Aspects.of(stack.node.root).add(new AwsSolutionsChecksV2());
    own = { stack, template: Template.fromStack(stack) };
  }
  return own;
}
const ownStackTemplate = () => ownStack().template;

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

describe('the package API (lib/index.ts)', () => {
  test('exports the constructs, their settings and the config loader, not the internals they use', () => {
    const names = Object.keys(api);
    expect(names).toEqual(
      expect.arrayContaining([
        'SesSmtp',
        'SesSmtpStack',
        'ConfigError',
        'smtpContainerSecrets',
        'buildApp',
        // A pipeline of an app of your own: the OIDC roles, from the environments file's plan.
        'DeployAccessStack',
        'deployAccessPlan',
        'projectConfigPath',
      ]),
    );
    for (const internal of ['NodeFunction', 'NODE_RUNTIME', 'allowServiceToPublish', 'EncryptedTopicTarget'])
      expect(names).not.toContain(internal);
  });
});

describe('SesSmtp', () => {
  // An operator paged at night runs the command the alarm gives: it must work for this stack.
  test("alarm texts give commands that pick this stack: --stack and --region, or the file app's --env", () => {
    const texts = (template: Template) => JSON.stringify(template.toJSON().Resources);
    const ownTexts = texts(ownStackTemplate());
    expect(ownTexts).toContain('npx --no -- ses-smtp rotate --stack App --region eu-west-1');
    expect(ownTexts).toContain('npx --no -- ses-smtp env --stack App --region eu-west-1');
    expect(ownTexts).not.toContain('--env ');

    // The environments-file app's stack (SesSmtpStack, environment "test").
    const fileTexts = texts(synthStack().template);
    expect(fileTexts).toContain('npx --no -- ses-smtp rotate --env test');
    expect(fileTexts).toContain('npx --no -- ses-smtp env --env test');
    expect(fileTexts).not.toContain('--stack ');
  });

  // Read in an email, away from the project: a bare `npx ses-smtp` there asks to fetch whatever
  // npm has under that name (not this package) and run it with the reader's AWS credentials.
  // `--no` refuses; `--` keeps npm from taking the command's flags (`--region`) as its own.
  test('every ses-smtp command an alarm, event or runbook gives runs only the installed package', () => {
    const texts = [
      JSON.stringify(ownStackTemplate().toJSON().Resources),
      JSON.stringify(synthStack().template.toJSON().Resources),
      ...CHECK_CATALOG.map((check) => check.runbook),
    ].join('\n');
    const npx = texts.match(/\bnpx .{0,24}/g) ?? [];
    expect(npx.filter((command) => command.startsWith('npx --no -- ses-smtp ')).length).toBeGreaterThan(20);
    expect(npx.filter((command) => !/^npx (--no -- ses-smtp|cdk) /.test(command))).toEqual([]);
    // A command to run is given whole: a bare `ses-smtp` works only where the bin is on the PATH.
    expect(texts.match(/\brun `?ses-smtp /g)).toBeNull();
    // A placeholder in angle brackets, pasted, is a shell redirect ("No such file"): none is a
    // command's value (README's are words in capitals: DOMAIN).
    expect(texts.match(/--[a-z-]+ <[^>]*>/g)).toBeNull();
  });

  // CloudWatch refuses a description over 1024 characters, and only at deploy: check the longest
  // names the construct accepts, with each log group name as long as CloudFormation makes it.
  test('every alarm description fits CloudWatch (1024 characters) with the longest names', () => {
    const name = `S${'x'.repeat(127)}`; // CloudFormation's longest stack name
    const stack = new Stack(testApp(), name, { env: { account: '123456789012', region: 'ap-southeast-1' } });
    // With the app queue and the webhook: their dead-letter alarms too; with a service restarted
    // after each rotation: the restart function's alarm and the ecs-services check's.
    const mail = new SesSmtp(stack, 'Mail', {
      ...PROPS,
      environmentName: `e${'x'.repeat(30)}`,
      domain: LONG_DOMAIN,
      fromAddress: `n@${LONG_DOMAIN}`,
      dns: { mode: 'manual' },
      feedback: { appQueue: true, webhookUrl: 'https://app.example.com/ses' },
    } as SesSmtpProps);
    mail.credentials.addRestartServiceArn('arn:aws:ecs:ap-southeast-1:123456789012:service/app/web');
    // The alarms' descriptions resolved as a synth would (without the rest of the synth).
    const resources = Object.fromEntries(
      stack.node
        .findAll()
        .filter((c): c is CfnResource => c instanceof CfnResource)
        .map((r) => [
          stack.getLogicalId(r),
          {
            Type: r.cfnResourceType,
            Properties: {
              AlarmDescription:
                r instanceof cloudwatch.CfnAlarm ? stack.resolve(r.alarmDescription) : undefined,
            },
          },
        ]),
    );
    // A name CloudFormation generates: "<stack>-<logical id>-<12 random characters>".
    const text = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const {
        Ref,
        'Fn::GetAtt': getAtt,
        'Fn::Join': join,
      } = value as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]] };
      if (Ref && resources[Ref]?.Type === 'AWS::Logs::LogGroup') return `${name}-${Ref}-ABCDEFGHIJKL`;
      if (Ref && resources[Ref]?.Type === 'AWS::Lambda::Function') return 'f'.repeat(64); // Lambda's longest name
      if (Ref && resources[Ref]?.Type === 'AWS::Lambda::EventSourceMapping')
        return '14e0db71-5d35-4eb5-b481-8945cf9d10c2'; // its UUID
      // SQS's longest queue name, in the longest partition and Region names.
      if (getAtt?.[1] === 'Arn' && resources[getAtt[0]]?.Type === 'AWS::SQS::Queue')
        return `arn:aws-us-gov:sqs:ap-southeast-5:123456789012:${'q'.repeat(80)}`;
      if (Ref && resources[Ref]?.Type === 'AWS::SQS::Queue')
        return `https://sqs.ap-southeast-5.amazonaws.com/123456789012/${'q'.repeat(80)}`;
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
    expect(withCommands.length).toBeGreaterThan(5);
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

  // Its dashboard ("SesSmtp-<name>"), metric dimensions and alarms take the name.
  test('a second SesSmtp with the same environmentName in the same account and Region is refused, nothing added', () => {
    const app = testApp();
    const env = { account: '210987654321', region: 'us-east-2' };
    const first = new Stack(app, 'First', { env });
    new SesSmtp(first, 'Mail', PROPS);
    const second = new Stack(app, 'Second', { env });
    // Another domain of the same zone, so that only the name clashes.
    const news = { ...PROPS, domain: 'news.example.com', fromAddress: 'a@news.example.com' };
    const message = `SesSmtp props: field "environmentName": got "prod", expected a name no other SesSmtp uses in account 210987654321 (First/Mail has it): its dashboard "SesSmtp-prod" (one per account, in every Region), metrics and alarms are named by it`;
    expect(() => new SesSmtp(second, 'Mail', news)).toThrow(new ConfigError([message]));
    expect(() => new SesSmtp(first, 'Other', news)).toThrow(new ConfigError([message]));
    expect(second.node.children).toHaveLength(0);
    // Another name is another environment; another Region is not (dashboards are global).
    new SesSmtp(second, 'Mail', { ...news, environmentName: 'prod-b' });
    const third = new Stack(app, 'Third', { env: { ...env, region: 'eu-west-1' } });
    expect(() => new SesSmtp(third, 'Mail', PROPS)).toThrow(new ConfigError([message]));
    new SesSmtp(third, 'Mail', { ...PROPS, environmentName: 'prod-eu' });
    new SesSmtp(
      new Stack(app, 'Fourth', { env: { account: '111111111111', region: 'us-east-2' } }),
      'Mail',
      PROPS,
    );
    // Account-agnostic stacks may go to any account: only one stack's constructs are compared.
    new SesSmtp(new Stack(app, 'A', { env: { region: 'us-east-2' } }), 'Mail', PROPS);
    const agnostic = new Stack(app, 'B', { env: { region: 'us-east-2' } });
    new SesSmtp(agnostic, 'Mail', PROPS);
    expect(() => new SesSmtp(agnostic, 'Other', news)).toThrow(
      'expected a name no other SesSmtp uses in stack B (B/Mail has it)',
    );
  });

  // What two deploys would fight over: warned at synth (the environments file's loader refuses
  // it), not refused, so that an app may still build two variants of one environment to compare.
  describe('two SesSmtp that share what a deploy of both would fight over: a warning on the second', () => {
    // The stacks' warnings from one synth of their app (Annotations.fromStack synthesizes the
    // whole app again for each stack).
    const warnings = (...stacks: Stack[]) => {
      const assembly = (stacks[0].node.root as App).synth();
      // The construct's own (not its parts', like the operator topic's "no subscriber").
      return stacks.flatMap((stack) =>
        assembly
          .getStackArtifact(stack.artifactId)
          .messages.filter((m) => m.level === 'warning' && m.id.endsWith('/Mail'))
          .map((m) => `${m.id}: ${String(m.entry.data).replace(/ \[ack: .*\]$/, '')}`),
      );
    };
    const env = { account: '210987654321', region: 'us-east-2' };

    test('the same domain in the same account and Region: the identity, its zone records and the account alarms', () => {
      const app = testApp();
      new SesSmtp(new Stack(app, 'Transactional', { env }), 'Mail', PROPS);
      const marketing = new Stack(app, 'Marketing', { env });
      new SesSmtp(marketing, 'Mail', { ...PROPS, environmentName: 'marketing' });
      expect(warnings(marketing)).toEqual([
        '/Marketing/Mail: Transactional/Mail has the SES identity example.com in account 210987654321, us-east-2 too (an account has one per domain in a Region): the second deploy fails. Give one of them another domain, or another account or Region.',
        '/Marketing/Mail: Transactional/Mail writes mail.example.com MX, mail.example.com TXT, _dmarc.example.com TXT into hosted zone Z0123456789EXAMPLE0AB too: the second deploy fails (the record exists): give one of the two another mailFrom.subdomain (like "mail-eu"); set dmarc.enabled to false in one of the two (a name holds one DMARC record).',
        '/Marketing/Mail: Transactional/Mail creates the account-level alarms of account 210987654321 in us-east-2 (reputation rates, quota, send rate) too: every such alert comes twice. Set alarms.accountAlarms to false on one of the two.',
      ]);
    });

    test('another Region of the same account: only the records of the shared hosted zone', () => {
      const app = testApp();
      new SesSmtp(new Stack(app, 'MailEu', { env: { ...env, region: 'eu-west-1' } }), 'Mail', {
        ...PROPS,
        environmentName: 'eu',
      });
      const us = new Stack(app, 'MailUs', { env });
      new SesSmtp(us, 'Mail', { ...PROPS, environmentName: 'us' });
      expect(warnings(us)).toEqual([
        '/MailUs/Mail: MailEu/Mail writes mail.example.com MX, mail.example.com TXT, _dmarc.example.com TXT into hosted zone Z0123456789EXAMPLE0AB too: the second deploy fails (the record exists): give one of the two another mailFrom.subdomain (like "mail-eu"); set dmarc.enabled to false in one of the two (a name holds one DMARC record).',
      ]);
    });

    test("another Region with manual DNS: the MAIL FROM MX, which names each one's Region", () => {
      const app = testApp();
      new SesSmtp(new Stack(app, 'MailEu', { env: { ...env, region: 'eu-west-1' } }), 'Mail', {
        ...PROPS,
        environmentName: 'eu',
      });
      const us = new Stack(app, 'MailUs', { env });
      new SesSmtp(us, 'Mail', { ...PROPS, environmentName: 'us', dns: { mode: 'manual' } });
      // The same Region in another account publishes the same values: nothing to replace.
      const other = new Stack(app, 'MailOther', { env: { account: '111111111111', region: 'eu-west-1' } });
      new SesSmtp(other, 'Mail', { ...PROPS, environmentName: 'other', dns: { mode: 'manual' } });
      expect(warnings(us, other)).toEqual([
        '/MailUs/Mail: MailEu/Mail publishes mail.example.com MX too, with other values (DNS holds one record set per name and type, whatever the DNS mode or hosted zone): the one published second replaces the other: give one of the two another mailFrom.subdomain (like "mail-eu").',
      ]);
    });

    test("a hosted zone of the app (its id a token), shared by two Regions' constructs", () => {
      const app = testApp();
      const zones = new Stack(app, 'Zones', { env });
      const zone = new route53.PublicHostedZone(zones, 'Zone', { zoneName: 'example.com' });
      const dns = { mode: 'route53', hostedZoneId: zone.hostedZoneId, zoneName: 'example.com' } as const;
      new SesSmtp(new Stack(app, 'MailEu', { env: { ...env, region: 'eu-west-1' } }), 'Mail', {
        ...PROPS,
        environmentName: 'eu',
        dns,
      });
      const us = new Stack(app, 'MailUs', { env });
      new SesSmtp(us, 'Mail', { ...PROPS, environmentName: 'us', dns, dmarc: { enabled: false } });
      expect(warnings(us)).toEqual([
        '/MailUs/Mail: MailEu/Mail writes mail.example.com MX, mail.example.com TXT into the same hosted zone too: the second deploy fails (the record exists): give one of the two another mailFrom.subdomain (like "mail-eu").',
      ]);
    });

    test('what the warnings advise: quiet', () => {
      const app = testApp();
      new SesSmtp(new Stack(app, 'MailEu', { env: { ...env, region: 'eu-west-1' } }), 'Mail', {
        ...PROPS,
        environmentName: 'eu',
      });
      const us = new Stack(app, 'MailUs', { env });
      new SesSmtp(us, 'Mail', {
        ...PROPS,
        environmentName: 'us',
        mailFrom: { subdomain: 'mail-us' },
        dmarc: { enabled: false },
      });
      const second = new Stack(app, 'Second', { env });
      new SesSmtp(second, 'Mail', {
        ...PROPS,
        environmentName: 'news',
        domain: 'news.example.com',
        fromAddress: 'a@news.example.com',
        alarms: { accountAlarms: false },
      });
      // Zones still to be looked up are not compared: every one is "DUMMY" on the CDK CLI's first
      // pass (here two environments of one domain in two accounts, whose zones may differ; in
      // MailEu's Region, so that the records they publish have its values).
      const lookup = (name: string, account: string) => {
        const stack = new Stack(app, name, { env: { account, region: 'eu-west-1' } });
        new SesSmtp(stack, 'Mail', {
          ...PROPS,
          environmentName: 'lookup',
          dns: { mode: 'route53', hostedZoneId: 'DUMMY', zoneName: 'example.com' },
        });
        return stack;
      };
      lookup('LookupA', '111111111111');
      const lookupB = lookup('LookupB', '222222222222');
      expect(warnings(us, second, lookupB)).toEqual([]);
    });

    // The alarm texts' `ses-smtp ... --stack Mail --region us-east-2` would page an operator with a
    // command the CLI refuses: it finds a construct of a stack of your own by its outputs.
    test('two in one stack with the same CLI options (the default names the stack): the commands pick neither', () => {
      const app = testApp();
      const news = {
        domain: 'news.example.com',
        fromAddress: 'a@news.example.com',
        alarms: { accountAlarms: false },
      };
      const mail = new Stack(app, 'Shared', { env });
      new SesSmtp(mail, 'Transactional', PROPS);
      new SesSmtp(mail, 'Mail', { ...PROPS, ...news, environmentName: 'news' });
      // Options of their own that tell them apart (an environments file's --env), or another stack:
      // quiet (each in an account of its own, its records by hand: nothing else is shared).
      const own = new Stack(app, 'Own', { env: { ...env, account: '111111111111' } });
      const manual = { dns: { mode: 'manual' } } as const;
      const options = (name: string) => ({
        environmentName: name,
        cliOptions: `--config mail.json --env ${name}`,
      });
      new SesSmtp(own, 'First', { ...PROPS, ...manual, ...options('own') });
      new SesSmtp(own, 'Mail', { ...PROPS, ...news, ...manual, ...options('own-news') });
      const other = new Stack(app, 'Other', { env: { ...env, account: '222222222222' } });
      new SesSmtp(other, 'Mail', { ...PROPS, ...news, ...manual, environmentName: 'other' });
      expect(warnings(mail, own, other)).toEqual([
        "/Shared/Mail: Shared/Transactional is in stack Shared too, and its alarm texts, checks' fixes and errors give the same CLI options (--stack Shared --region us-east-2): the CLI cannot tell two SesSmtp of one stack apart (it asks for --secret-id), so each command they give an operator fails. Put one of the two in a stack of its own.",
      ]);
    });
  });

  test('props that are not an object (plain JavaScript): one line, nothing added', () => {
    const stack = appStack();
    for (const props of [undefined, null, 'prod']) {
      expect(errorOf(props as unknown as object, stack)).toBe(
        `SesSmtp props: got ${JSON.stringify(props) ?? 'undefined'}, expected an object of settings like { environmentName: "prod", domain: "example.com", fromAddress: "no-reply@example.com", dns: { mode: "route53", hostedZoneId: "Z...", zoneName: "example.com" } }`,
      );
    }
    expect(stack.node.children).toHaveLength(0);
  });

  test('a token where SesSmtp needs a literal: one line per field saying so, nothing added', () => {
    const stack = appStack();
    const domain = new CfnParameter(stack, 'Domain').valueAsString;
    const percentage = new CfnParameter(stack, 'Percent', { type: 'Number' }).valueAsNumber;
    const txt = new CfnParameter(stack, 'Txt', { type: 'CommaDelimitedList' }).valueAsList;
    const emails = new CfnParameter(stack, 'Emails', { type: 'CommaDelimitedList' }).valueAsList;
    const error = (() => {
      try {
        new SesSmtp(stack, 'Mail', {
          ...PROPS,
          domain,
          dmarc: { percentage },
          apexSpf: { enabled: true, otherTxtValues: txt },
          alarms: { emails: ['ops@example.com', Fn.ref('Email')] },
          feedback: { webhookUrl: Fn.ref('Hook') },
          verifiedEmailAddresses: emails,
        });
      } catch (e) {
        return e as ConfigError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const fields = error!.problems.map((line) => /field "([^"]+)"/.exec(line)?.[1]);
    // One line per field: a list token's items get no schema line of their own.
    expect(fields).toEqual([
      'domain',
      'dmarc.percentage',
      'apexSpf.otherTxtValues',
      'alarms.emails[1]',
      'feedback.webhookUrl',
      'verifiedEmailAddresses',
    ]);
    for (const line of error!.problems)
      expect(line).toMatch(
        /got "[$#]\{Token\[.*\]\}", expected a literal value, not a token: SesSmtp checks it and builds names, records and policies from it at synth; of the settings only dns.hostedZoneId and dns.zoneName may be tokens$/,
      );
    expect(stack.node.tryFindChild('Mail')).toBeUndefined();
  });

  test('a construct where a setting goes (plain JavaScript, or a cast): its type is named, no crash', () => {
    const stack = appStack();
    const zone = new route53.PublicHostedZone(stack, 'Zone', { zoneName: 'example.com' });
    expect(
      () => new SesSmtp(stack, 'Mail', { ...PROPS, tags: zone as unknown as Record<string, string> }),
    ).toThrow('field "tags": got a PublicHostedZone, expected an object');
  });

  // An app that checks itself with cdk-nag 2 (`Aspects.of(app).add(new AwsSolutionsChecks())`)
  // can take the construct unchanged: each acknowledgement is written for both versions.
  test('cdk-nag 2 as an Aspect reports no error on SesSmtp in a stack of your own', () => {
    const { stack } = ownStack();
    const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-'));
    expect(errors.map((e) => `${e.id} ${String(e.entry.data).split(':')[0]}`)).toEqual([]);
    // What cdk-nag 2 read: the acknowledgement on the roles' policies, with the finding it covers.
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Metadata: { cdk_nag: Match.anyValue() },
    });
    expect(Object.values(policies).map((p) => p.Metadata.cdk_nag.rules_to_suppress)).toEqual([
      [expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] })],
      [expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] })],
    ]);
  });

  // (Here too, not in its own test file: cdk-nag 2 is loaded once.)
  test('cdk-nag 2 as an Aspect reports no error on the GitHub deploy access stack', () => {
    const environments = {
      staging: { ...BASE_ENV, account: '111111111111', github: { environment: 'staging' } },
    };
    const [access] = deployAccessPlan(
      parseConfig({ github: { repository: 'acme/web-app' }, environments }, 'test.json'),
    );
    const app = new App(TEST_APP_PROPS);
    const stack = new DeployAccessStack(app, 'Access', { access });
    Aspects.of(app).add(new AwsSolutionsChecksV2());
    app.synth();
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-'))).toEqual([]);
  });

  test('an account-agnostic stack is accepted (only the Region must be explicit)', () => {
    const stack = appStack({ region: 'eu-west-1' });
    expect(() => new SesSmtp(stack, 'Mail', PROPS)).not.toThrow();
  });

  describe('a hosted zone of the app, or from HostedZone.fromLookup', () => {
    // The records' HostedZoneId as the template will have it (resolved, without a whole synth).
    const recordZones = (stack: Stack) =>
      stack.node
        .findAll()
        .filter((c): c is route53.CfnRecordSet => c instanceof route53.CfnRecordSet)
        .map((r) => stack.resolve(r.hostedZoneId));

    test('a zone the app creates: its id and name are tokens, the records go into it', () => {
      const stack = appStack();
      const zone = new route53.PublicHostedZone(stack, 'Zone', { zoneName: 'example.com' });
      const zoneName = Lazy.string({ produce: () => zone.zoneName });
      new SesSmtp(stack, 'Mail', {
        ...PROPS,
        dns: { mode: 'route53', hostedZoneId: zone.hostedZoneId, zoneName },
      });
      const zoneId = stack.getLogicalId(zone.node.defaultChild as route53.CfnHostedZone);
      expect(recordZones(stack)).toEqual(Array(6).fill({ Ref: zoneId }));
    });

    test('a looked-up zone: accepted before the CDK CLI looks it up ("DUMMY"), and written once it has', () => {
      const lookup = (context: Record<string, unknown> = {}) => {
        const stack = new Stack(testApp(context), 'App', {
          env: { account: '123456789012', region: 'eu-west-1' },
        });
        const zone = route53.HostedZone.fromLookup(stack, 'Zone', { domainName: 'example.com' });
        new SesSmtp(stack, 'Mail', {
          ...PROPS,
          dns: { mode: 'route53', hostedZoneId: zone.hostedZoneId, zoneName: zone.zoneName },
        });
        return stack;
      };
      // The first pass (the zone id is "DUMMY"): the CLI looks the zone up after it, then
      // synthesizes again.
      expect(() => lookup()).not.toThrow();
      const found = {
        'hosted-zone:account=123456789012:domainName=example.com:region=eu-west-1': {
          Id: '/hostedzone/Z0987654321LOOKEDUP',
          Name: 'example.com.',
        },
      };
      expect(recordZones(lookup(found))).toEqual(Array(6).fill('Z0987654321LOOKEDUP'));
    });

    test('a literal id is still checked, and a literal zone name must still hold the domain', () => {
      expect(errorOf({ ...PROPS, dns: { ...PROPS.dns, hostedZoneId: 'dummy' } })).toMatch(
        /field "dns.hostedZoneId": got "dummy", expected a Route53 hosted zone id/,
      );
      const stack = appStack();
      const zone = new route53.PublicHostedZone(stack, 'Zone', { zoneName: 'example.org' });
      expect(
        errorOf(
          { ...PROPS, dns: { mode: 'route53', hostedZoneId: zone.hostedZoneId, zoneName: zone.zoneName } },
          stack,
        ),
      ).toMatch(/dns.zoneName/);
    });
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

  // The CLI reads a stack's outputs (ses-smtp env --stack App --region ...): in a stack of your
  // own their keys carry the construct's path and a hash, which it must see through.
  test('the CLI finds every output it reads in a stack of your own, at any depth, and tells two constructs apart from one', () => {
    // The keys a synth gives the outputs (their logical ids), without the synth.
    const outputsOf = (stack: Stack) =>
      Object.fromEntries(
        stack.node
          .findAll()
          .filter((c): c is CfnOutput => c instanceof CfnOutput)
          .map((output) => [stack.getLogicalId(output), stack.getLogicalId(output)]),
      );
    const names = [...Object.values(RESOURCES).map((r) => r.output), HEALTH_FUNCTION_OUTPUT];
    const top = appStack();
    new SesSmtp(top, 'Mail', PROPS);
    const nested = appStack();
    new SesSmtp(new Construct(nested, 'Infra'), 'Mail', PROPS);
    for (const stack of [top, nested]) {
      const { outputs, constructs } = sesSmtpOutputs(outputsOf(stack));
      expect(constructs).toEqual([stack === top ? 'Mail' : 'InfraMail']);
      for (const name of names) expect(outputs[name]).toMatch(new RegExp(`^(Infra)?Mail${name}[0-9A-F]{8}$`));
    }
    // The environments-file app's stacks keep the plain names.
    const plain = Object.fromEntries(Object.keys(synthStack().template.findOutputs('*')).map((k) => [k, k]));
    for (const name of names) expect(sesSmtpOutputs(plain).outputs[name]).toBe(name);

    // Two constructs in one stack (keys of the shape checked above; a synth of two costs a second):
    // no name is given to either (the CLI then asks for the resource's flag, test/cli/context.test.ts).
    const two = { MailSmtpSecretArn0A1B2C3D: 'a', OtherSmtpSecretArn4E5F6A7B: 'b' };
    expect(sesSmtpOutputs(two)).toEqual({ outputs: two, constructs: ['Mail', 'Other'] });
  });

  test('in a consumer stack, resources are named after the construct id', () => {
    const ids = Object.keys(ownStackTemplate().findResources('AWS::SecretsManager::Secret'));
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
    // loadConfig fills it in ({} by default): an environment spread into the props has it.
    [
      { acknowledgedWarnings: {} },
      'SesSmtp props: field "acknowledgedWarnings": got a value, expected none: acknowledge each warning',
    ],
    [
      { acknowledgedWarnings: { 'ses-smtp:no-alarm-recipients': 'the pager subscribes from another stack' } },
      'SesSmtp props: field "acknowledgedWarnings": got a value, expected none: acknowledge each warning with Annotations.of(construct).acknowledgeWarning(id, reason)',
    ],
    [{ cliOptions: `--env ${'x'.repeat(155)}` }, 'SesSmtp props: field "cliOptions": got "--env xxx'],
  ])('a schema mistake names the prop: %j', (change, message) => {
    expect(errorOf({ ...PROPS, ...change })).toContain(message);
  });

  // The alarm texts give them to a paged operator: the CLI must take them as printed.
  test('cliOptions the CLI would refuse are one line at synth', () => {
    expect(errorOf({ ...PROPS, cliOptions: '--stack Mail --region eu-west-1 --profile prod' })).toBe(
      `SesSmtp props: field "cliOptions": got "--stack Mail --region eu-west-1 --profile prod", expected the CLI's options as "--name VALUE" pairs: "--profile" is not a CLI option that takes a value (--env, --config, --region, --stack, --secret-id, --identity, --smtp-host, --smtp-port, --smtp-ca, --smtp-timeout, --resolver)`,
    );
    // A value the CLI refuses too, with the CLI's own words.
    expect(errorOf({ ...PROPS, cliOptions: '--stack Mail --region eu-west' })).toBe(
      `SesSmtp props: field "cliOptions": got "--stack Mail --region eu-west", expected the CLI's options as "--name VALUE" pairs: --region: got "eu-west", expected an AWS Region name like "eu-west-1" or "us-gov-west-1" (area, direction, number)`,
    );
  });

  // Each verified address is a sandbox recipient in the SMTP user's policy: IAM takes at most
  // 2,048 characters of a user's inline policies, and says so only at deploy.
  test("verified addresses past the SMTP user's policy limit are one line at synth", () => {
    const addresses = (count: number) =>
      Array.from({ length: count }, (_, i) => `tester${String(i).padStart(2, '0')}@example.org`);
    expect(errorOf({ ...PROPS, verifiedEmailAddresses: addresses(30) })).toMatch(
      /^the SMTP user's policy would have 2[0-9]{3} characters at the longest, over IAM's 2048 for a user's inline policies: each sandbox recipient \(verifiedEmailAddresses\)/,
    );
    expect(errorOf({ ...PROPS, verifiedEmailAddresses: addresses(20) })).toBeUndefined();
  });

  test("an app's field left undefined (an EnvironmentConfig spread without it) is not set", () => {
    expect(
      errorOf({
        ...PROPS,
        account: undefined,
        region: undefined,
        terminationProtection: undefined,
        acknowledgedWarnings: undefined,
      }),
    ).toBeUndefined();
  });

  test("an app's field and a schema mistake together: both named, one line each", () => {
    expect(errorOf({ ...PROPS, region: 'eu-west-1', fromAddress: 'No Reply <no-reply@example.com>' })).toBe(
      [
        `SesSmtp props: field "region": got a value, expected none: the Region comes from the Stack's env`,
        `SesSmtp props: field "fromAddress": got "No Reply <no-reply@example.com>", expected an email address like "no-reply@example.com" (RFC 5321: local part of at most 64 characters): the address alone, "no-reply@example.com" (a display name goes in the app's mailer)`,
      ].join('\n'),
    );
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

// An operator paged at night pastes the command an alarm, a runbook or the README gives: each must
// be one the CLI takes, with options it knows and values it accepts.

/** Every "ses-smtp <command> [--option [value]]..." in `text`, as the command and its arguments. */
function commandsIn(text: string): { command: string; args: string[]; at: string }[] {
  const found = [];
  // `help` takes the command it explains: one word, which the options part would not read.
  for (const match of text.matchAll(
    /ses-smtp (help(?= [a-z])|[a-z][a-z-]*)((?: [a-z][a-z-]*(?<=help [a-z-]*))?(?: --?[a-z][a-z-]*(?: (?!-)[\w.:/@<>-]+)?)*)/g,
  )) {
    const args = match[2]
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((arg) => arg.replace(/[.:]$/, ''));
    found.push({ command: match[1], args, at: match[0] });
  }
  return found;
}

/** Why the CLI refuses `command args` at the parsing stage, or undefined when it takes them. */
function refusal(command: string, args: string[]): string | undefined {
  // `help` alone prints the overview; `help <command>` needs a command (a placeholder reads as none).
  if (command === 'help')
    return !args.length || Object.hasOwn(COMMANDS, args[0]) ? undefined : `help ${args[0]}`;
  const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!spec) return `unknown command ${command}`;
  try {
    parseOptions([...spec.options, ...GLOBAL_OPTIONS], args);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The text of every TypeScript file under `dirs` (folders of the repository). */
function sourceTexts(dirs: string[]): string[] {
  return dirs.flatMap((dir) =>
    fs
      .readdirSync(path.join(__dirname, '..', dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      // A template literal's ${...} stands for a value.
      .map((file) =>
        fs.readFileSync(path.join(__dirname, '..', dir, file), 'utf8').replace(/\$\{[^}]*\}/g, 'VALUE'),
      ),
  );
}

/** A template's texts: alarm descriptions and EventBridge inputs, tokens as "<token>". */
function templateTexts(template: Template): string[] {
  const flat = (value: unknown): string =>
    typeof value === 'string'
      ? value
      : Array.isArray(value)
        ? value.map(flat).join('')
        : value && typeof value === 'object' && 'Fn::Join' in value
          ? flat((value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1])
          : '<token>';
  const resources = Object.values(template.toJSON().Resources) as {
    Type: string;
    Properties: {
      AlarmDescription?: unknown;
      Targets?: { Input?: unknown; InputTransformer?: { InputTemplate: unknown } }[];
    };
  }[];
  return [
    ...resources
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => flat(r.Properties.AlarmDescription)),
    ...resources
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .flatMap((r) =>
        (r.Properties.Targets ?? []).map((t) => flat(t.InputTransformer?.InputTemplate ?? t.Input ?? '')),
      ),
  ];
}

describe('every ses-smtp command a text gives parses', () => {
  const sources: [string, string[]][] = [
    ['alarms and events of the environments-file stack', templateTexts(synthStack().template)],
    ['alarms and events of a SesSmtp in a stack of your own', templateTexts(ownStackTemplate())],
    ['the health-check runbooks', CHECK_CATALOG.map((check) => check.runbook)],
    ['README.md', [fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')]],
    // Messages built in code (the checks' fixes, the CLI's hints): their literal parts.
    ['the sources of lib/ and lambda/', sourceTexts(['lib', 'lambda'])],
  ];

  test.each(sources)('%s', (_source, texts) => {
    const commands = texts.flatMap(commandsIn);
    expect(commands.length).toBeGreaterThan(0);
    const refused = commands
      .map(({ command, args, at }) => ({ at, why: refusal(command, args) }))
      .filter((c) => c.why !== undefined);
    expect(refused).toEqual([]);
  });

  test('a wrong command or option is caught (the check can fail)', () => {
    const [pause] = commandsIn('run npx --no -- ses-smtp pause --configuration-set (or --account)');
    expect(refusal(pause.command, pause.args)).toMatch(/configuration-set/);
    const [resume] = commandsIn('then `ses-smtp resume --account`');
    expect(refusal(resume.command, resume.args)).toMatch(/account/);
    expect(refusal('restart', [])).toBe('unknown command restart');
    const [help] = commandsIn('see `ses-smtp help frobnicate`');
    expect(help).toMatchObject({ command: 'help', args: ['frobnicate'] });
    expect(refusal(help.command, help.args)).toBe('help frobnicate');
    expect(commandsIn('`ses-smtp help rotate`').map((c) => refusal(c.command, c.args))).toEqual([undefined]);
  });
});
