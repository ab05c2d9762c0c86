import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { deployAccessPlan } from '../lib/config/github';
import { parseConfig } from '../lib/config/load';
import { DeployAccessStack } from '../lib/deploy-access-stack';
import { BASE_ENV } from './helpers';
import { TEST_APP_PROPS } from './support/app-props';
import { cliActions, commandEntry } from './support/cli-calls';

const STAGING = {
  ...BASE_ENV,
  account: '111111111111',
  domain: 'staging.example.com',
  fromAddress: 'a@staging.example.com',
};

function synth(github: Record<string, unknown>, environments: Record<string, unknown>, context = {}) {
  const [access] = deployAccessPlan(parseConfig({ github, environments }, 'test.json'));
  const app = new App({ ...TEST_APP_PROPS, context: { ...TEST_APP_PROPS.context, ...context } });
  const stack = new DeployAccessStack(app, 'Access', { access });
  return { stack, template: Template.fromStack(stack) };
}

/** The warning of an access stack whose Region follows the file. */
const regionWarning = (region: string, account: string) =>
  `this stack goes to ${region}, the Region of account ${account}'s first environment in the file: adding, removing or moving environments can move it, and a moved stack is a new stack, which fails on the OIDC provider the old one holds; set "github.accessRegion" to the Region it is deployed in (${region}, if it was deployed from this file as it is) [ack: ses-smtp:accessRegionFollowsFile]`;

/** The stack's synth warnings. */
function warnings(stack: DeployAccessStack): string[] {
  return Annotations.fromStack(stack)
    .findWarning('*', Match.anyValue())
    .map((m) => String(m.entry.data));
}

/** Every role's trust policy, in construction order. */
function trustPolicies(template: Template) {
  return Object.values(template.findResources('AWS::IAM::Role')).map(
    (r) => r.Properties.AssumeRolePolicyDocument,
  );
}

/** STAGING's twin in us-east-1, deployed from the same GitHub environment. */
const STAGING_US = {
  ...STAGING,
  region: 'us-east-1',
  mailFrom: { subdomain: 'mail-us' },
  dmarc: { enabled: false },
  github: { environment: 'staging' },
};

describe('DeployAccessStack', () => {
  const { stack, template } = synth(
    { repository: 'acme/web-app' },
    { staging: STAGING, 'staging-us': STAGING_US },
  );

  test('creates the GitHub OIDC provider for the sts.amazonaws.com audience, kept on stack deletion', () => {
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.hasResource('AWS::IAM::OIDCProvider', {
      Properties: { Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] },
      DeletionPolicy: 'Retain',
    });
  });

  test('each role trusts exactly one GitHub environment of the repository (StringEquals on sub and aud)', () => {
    const [provider] = Object.keys(template.findResources('AWS::IAM::OIDCProvider'));
    const expected = (environment: string) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: { Federated: { Ref: provider } },
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:sub': `repo:acme/web-app:environment:${environment}`,
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
            },
          },
        },
      ],
    });
    // Exact documents: no StringLike, no wildcard, no other statement.
    expect(trustPolicies(template)).toEqual([expected('staging'), expected('staging-preview')]);
  });

  // Not the lookup role (ReadOnlyAccess on the whole account): a deploy job makes no lookup.
  test('the deploy role may only assume the deploy and file-publishing roles of its Regions; the preview role may only read its stacks', () => {
    const role = (account: string, name: string, region: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:iam::${account}:role/cdk-hnb659fds-${name}-${account}-${region}`,
        ],
      ],
    });
    const policyOf = (environment: string) =>
      Object.values(template.findResources('AWS::IAM::Role')).find((r) =>
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes(`environment:${environment}"`),
      )!.Properties.Policies;
    const arn = (service: string, region: string, resource: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:${region}:111111111111:${resource}`]],
    });
    expect(policyOf('staging')).toEqual([
      {
        PolicyName: 'AssumeCdkBootstrapRoles',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Resource: ['eu-west-1', 'us-east-1'].flatMap((region) =>
                ['deploy-role', 'file-publishing-role'].map((name) => role('111111111111', name, region)),
              ),
            },
          ],
        },
      },
      // What `ses-smtp preflight` reads before `cdk deploy`: its stacks' status and their identities.
      {
        PolicyName: 'PreflightReads',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: 'cloudformation:DescribeStacks',
              Effect: 'Allow',
              // The Region's partition written out: the finding on "/*" is acknowledged by name.
              Resource: [
                'arn:aws:cloudformation:eu-west-1:111111111111:stack/SesSmtp-staging/*',
                'arn:aws:cloudformation:us-east-1:111111111111:stack/SesSmtp-staging-us/*',
              ],
            },
            {
              Action: 'ses:GetEmailIdentity',
              Effect: 'Allow',
              Resource: [
                arn('ses', 'eu-west-1', 'identity/staging.example.com'),
                arn('ses', 'us-east-1', 'identity/staging.example.com'),
              ],
            },
            // One hosted zone for both: one resource.
            {
              Action: 'route53:ListResourceRecordSets',
              Effect: 'Allow',
              Resource: {
                'Fn::Join': [
                  '',
                  ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0123456789EXAMPLE0AB'],
                ],
              },
            },
          ],
        },
      },
    ]);
    // Not the lookup role (ReadOnlyAccess on the whole account, for any branch's pull request):
    // only the two calls `cdk diff --method=template` makes, on its environments' stacks.
    expect(policyOf('staging-preview')).toEqual([
      {
        PolicyName: 'ReadDeployedTemplates',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'],
              Effect: 'Allow',
              Resource: [
                ['eu-west-1', 'SesSmtp-staging'],
                ['us-east-1', 'SesSmtp-staging-us'],
              ].map(
                ([region, stackName]) => `arn:aws:cloudformation:${region}:111111111111:stack/${stackName}/*`,
              ),
            },
          ],
        },
      },
    ]);
    template.resourceCountIs('AWS::IAM::Policy', 0);
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(
      Object.values(template.findResources('AWS::IAM::Role')).every(
        (r) => r.Properties.ManagedPolicyArns === undefined,
      ),
    ).toBe(true);
  });

  // The deploy job runs `ses-smtp preflight` with this role before `cdk deploy`: a call the role
  // may not make fails the job ("AWS denied preflight"), past the few refusals preflight reports.
  test('the deploy role may make every call `ses-smtp preflight` can make', () => {
    const { template: route53 } = synth({ repository: 'acme/web-app' }, { staging: STAGING });
    const granted = Object.values(route53.findResources('AWS::IAM::Role'))
      .flatMap((r) => r.Properties.Policies)
      .find((p) => p.PolicyName === 'PreflightReads')
      .PolicyDocument.Statement.flatMap((st: { Action: string | string[] }) => [st.Action].flat())
      .map((action: string) => action.split(':')[1]);
    const { file, fn } = commandEntry('preflight');
    const calls = cliActions(file, fn);
    expect(calls).toContain('ListResourceRecordSets');
    expect(calls.filter((action) => !granted.includes(action))).toEqual([]);
  });

  test('DNS managed elsewhere: the deploy role reads no hosted zone', () => {
    const manual = synth(
      { repository: 'acme/web-app' },
      { staging: { ...STAGING, dns: { mode: 'manual' } } },
    );
    const preflight = Object.values(manual.template.findResources('AWS::IAM::Role'))
      .flatMap((r) => r.Properties.Policies)
      .find((p) => p.PolicyName === 'PreflightReads');
    expect(preflight.PolicyDocument.Statement.map((st: { Action: string }) => st.Action)).toEqual([
      'cloudformation:DescribeStacks',
      'ses:GetEmailIdentity',
    ]);
  });

  // A stack of your own (no environments file, so no preflight): its access names the stack only.
  test('a stack given without identities or zone: the deploy role reads its status only', () => {
    const own = new DeployAccessStack(new App(TEST_APP_PROPS), 'Own', {
      access: {
        account: '111111111111',
        region: 'eu-west-1',
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
            stacks: [{ name: 'Mail', region: 'eu-west-1' }],
          },
        ],
      },
    });
    const preflight = Object.values(Template.fromStack(own).findResources('AWS::IAM::Role'))
      .flatMap((r) => r.Properties.Policies)
      .find((p) => p.PolicyName === 'PreflightReads');
    expect(preflight.PolicyDocument.Statement.map((st: { Action: string }) => st.Action)).toEqual([
      'cloudformation:DescribeStacks',
    ]);
  });

  test('outputs each role ARN for the GitHub environment variable', () => {
    const outputs = Object.values(template.toJSON().Outputs as Record<string, { Description: string }>);
    expect(outputs.map((o) => o.Description)).toEqual([
      'Set as variable AWS_ROLE_ARN of GitHub environment "staging" (deploy)',
      'Set as variable AWS_ROLE_ARN of GitHub environment "staging-preview" (preview)',
    ]);
  });

  // An output's logical id drops what is not a letter or digit: "eu-prod" and "eu.prod" (two valid
  // GitHub environments) would both be RoleArneuprod, and the synth failed on it.
  test('GitHub environments whose names differ only in "-", "." or "_" each get an output', () => {
    const second = (environment: string, n: number) => ({
      ...STAGING,
      domain: `s${n}.example.com`,
      fromAddress: `a@s${n}.example.com`,
      github: { environment },
    });
    const { template: t } = synth(
      { repository: 'acme/web-app' },
      { 'eu-prod': STAGING, a: second('eu.prod', 1), b: second('eu_prod', 2), c: second('eu-prod2', 3) },
    );
    const outputs = t.toJSON().Outputs as Record<string, { Description: string }>;
    expect(Object.entries(outputs).map(([id, o]) => [id, o.Description.split('"')[1]])).toEqual([
      ['RoleArneuprod', 'eu-prod'],
      ['RoleArneuprodpreview', 'eu-prod-preview'],
      ['RoleArneuprod2', 'eu.prod'],
      ['RoleArneuprodpreview2', 'eu.prod-preview'],
      ['RoleArneuprod3', 'eu_prod'],
      ['RoleArneuprodpreview3', 'eu_prod-preview'],
      ['RoleArneuprod22', 'eu-prod2'],
      ['RoleArneuprod2preview', 'eu-prod2-preview'],
    ]);
  });

  test('lives in the account and Region of its first environment, and warns that this follows the file', () => {
    expect([stack.account, stack.region, stack.terminationProtection]).toEqual([
      '111111111111',
      'eu-west-1',
      false,
    ]);
    expect(warnings(stack)).toEqual([regionWarning('eu-west-1', '111111111111')]);
  });

  test('"github.accessRegion" pins the Region whatever the order of the environments', () => {
    const environments = { 'staging-us': STAGING_US, staging: STAGING };
    const moved = synth({ repository: 'acme/web-app' }, environments).stack;
    expect(moved.region).toBe('us-east-1');
    const pinned = synth({ repository: 'acme/web-app', accessRegion: 'eu-west-1' }, environments).stack;
    expect([pinned.region, warnings(pinned)]).toEqual(['eu-west-1', []]);
  });

  // One Region today: an environment added above this one would move the stack, and only now is
  // the Region synth names the one the stack is deployed in.
  test('one Region, one GitHub environment: the Region warning alone; none once it is pinned', () => {
    expect(warnings(synth({ repository: 'acme/web-app' }, { staging: STAGING }).stack)).toEqual([
      regionWarning('eu-west-1', '111111111111'),
    ]);
    const pinned = synth({ repository: 'acme/web-app', accessRegion: 'eu-west-1' }, { staging: STAGING });
    expect(warnings(pinned.stack)).toEqual([]);
  });

  // The reviewers of "production" guard nothing if a "staging" job reaches the same account.
  test('an account deployed from two GitHub environments is warned about', () => {
    const { stack: shared } = synth(
      { repository: 'acme/web-app', accessRegion: 'eu-west-1' },
      {
        staging: STAGING,
        production: {
          ...STAGING,
          domain: 'example.com',
          fromAddress: 'a@example.com',
          github: { environment: 'production' },
        },
      },
    );
    expect(warnings(shared)).toEqual([
      `account 111111111111 is deployed from the GitHub environments staging, production: each deploy role reaches the account's CDK bootstrap roles, whose execution role may change anything in the account (IAM included), so a job of any of them can change the others' environments; the required reviewers of one guard it only in an account of its own [ack: ses-smtp:deployersShareAccount]`,
    ]);
  });

  test("with the repository's ids, each role trusts GitHub's immutable subject only", () => {
    const { template: t } = synth(
      { repository: 'acme/web-app', ownerId: 1234, repositoryId: 5678 },
      { prod: STAGING },
    );
    const subjects = trustPolicies(t).map(
      (trust) => trust.Statement[0].Condition.StringEquals['token.actions.githubusercontent.com:sub'],
    );
    expect(subjects).toEqual([
      'repo:acme@1234/web-app@5678:environment:prod',
      'repo:acme@1234/web-app@5678:environment:prod-preview',
    ]);
  });

  test('reuses an existing provider by ARN and follows a custom bootstrap qualifier', () => {
    const { stack: other, template: t } = synth(
      { repository: 'acme/web-app', existingOidcProviderAccounts: ['111111111111'] },
      { prod: { ...STAGING, terminationProtection: true } },
      { '@aws-cdk/core:bootstrapQualifier': 'team42' },
    );
    t.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    const [trust] = trustPolicies(t);
    expect(trust.Statement[0].Principal.Federated).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
        ],
      ],
    });
    expect(JSON.stringify(t.toJSON())).toContain('role/cdk-team42-deploy-role-111111111111-eu-west-1');
    expect(other.terminationProtection).toBe(true);
  });
});
