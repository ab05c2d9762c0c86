import { deployAccessPlan, gitHubEnvironmentsOf } from '../../lib/config/github';
import { ConfigError, parseConfig } from '../../lib/config/load';
import { BASE_ENV, OTHER_ACCOUNT_ENV } from '../helpers';

const FILE = 'config/environments.json';
const GITHUB = { repository: 'acme/web-app' };

function problemsOf(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw, FILE);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const other = OTHER_ACCOUNT_ENV;
/** The same domain in a second Region: its own MAIL FROM name, DMARC left to the first. */
const SECOND_REGION = { region: 'us-east-1', mailFrom: { subdomain: 'mail-us' }, dmarc: { enabled: false } };

describe('github config', () => {
  test('GitHub environments default to the name and "<deploy>-preview"', () => {
    expect(gitHubEnvironmentsOf('prod', { github: {} })).toEqual({ deploy: 'prod', preview: 'prod-preview' });
    expect(gitHubEnvironmentsOf('prod', { github: { environment: 'Production' } })).toEqual({
      deploy: 'Production',
      preview: 'Production-preview',
    });
    expect(gitHubEnvironmentsOf('prod', { github: { previewEnvironment: 'diff' } })).toEqual({
      deploy: 'prod',
      preview: 'diff',
    });
  });

  test.each<[string, unknown, string]>([
    [
      'wildcard repository',
      { repository: 'acme/*' },
      `${FILE}: field "github.repository": got "acme/*", expected a GitHub repository as "owner/name", like "acme/web-app"`,
    ],
    [
      'repository without owner',
      { repository: 'web-app' },
      `${FILE}: field "github.repository": got "web-app", expected a GitHub repository as "owner/name", like "acme/web-app"`,
    ],
    [
      'unknown field',
      { repository: 'acme/web-app', branch: 'main' },
      `${FILE}: field "github.branch": got unknown field with value "main", expected a known field (one of: repository, existingOidcProviderAccounts, accessRegion, ownerId, repositoryId, acknowledgedWarnings)`,
    ],
  ])('%s', (_name, github, expected) => {
    expect(problemsOf({ github, environments: { prod: BASE_ENV } })).toEqual([expected]);
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      'wildcard environment',
      { environment: 'prod*' },
      `${FILE}: environment "prod", field "github.environment": got "prod*", expected a GitHub environment name: letters, digits, ".", "_" and "-", like "production"`,
    ],
    [
      'a colon would change the subject claim',
      { previewEnvironment: 'a:b' },
      `${FILE}: environment "prod", field "github.previewEnvironment": got "a:b", expected a GitHub environment name: letters, digits, ".", "_" and "-", like "production"`,
    ],
  ])('%s', (_name, github, expected) => {
    expect(problemsOf({ github: GITHUB, environments: { prod: { ...BASE_ENV, github } } })).toEqual([
      expected,
    ]);
  });

  test.each<[string, Record<string, unknown>, string]>([
    [
      'an owner id without the repository id',
      { ownerId: 1234 },
      `${FILE}: field "github.ownerId": got 1234, expected "repositoryId" beside it (both or neither: gh api repos/OWNER/REPO --jq '[.owner.id, .id]' prints them)`,
    ],
    [
      'a repository id without the owner id',
      { repositoryId: 5678 },
      `${FILE}: field "github.repositoryId": got 5678, expected "ownerId" beside it (both or neither: gh api repos/OWNER/REPO --jq '[.owner.id, .id]' prints them)`,
    ],
    [
      'an id that is not a positive integer',
      { ownerId: 0, repositoryId: 5678 },
      `${FILE}: field "github.ownerId": got 0, expected a number >= 1`,
    ],
  ])('%s', (_name, ids, expected) => {
    expect(problemsOf({ github: { ...GITHUB, ...ids }, environments: { prod: BASE_ENV } })).toEqual([
      expected,
    ]);
  });

  test("the OIDC subject's repository: the name, or with both ids GitHub's immutable form", () => {
    const plan = (github: Record<string, unknown>) =>
      deployAccessPlan(parseConfig({ github, environments: { prod: BASE_ENV } }, FILE))[0].subjectRepository;
    expect(plan(GITHUB)).toBe('acme/web-app');
    expect(plan({ ...GITHUB, ownerId: 1234, repositoryId: 5678 })).toBe('acme@1234/web-app@5678');
  });

  test('per-environment GitHub fields need the top-level repository', () => {
    expect(
      problemsOf({ environments: { prod: { ...BASE_ENV, github: { environment: 'production' } } } }),
    ).toEqual([
      `${FILE}: environment "prod", field "github": got {"environment":"production"}, expected a top-level "github": {"repository": "owner/name"} to go with it (see README "Deploy from GitHub Actions")`,
    ]);
    // The preview name alone asks for GitHub access too.
    expect(
      problemsOf({ environments: { prod: { ...BASE_ENV, github: { previewEnvironment: 'diff' } } } }),
    ).toEqual([
      `${FILE}: environment "prod", field "github": got {"previewEnvironment":"diff"}, expected a top-level "github": {"repository": "owner/name"} to go with it (see README "Deploy from GitHub Actions")`,
    ]);
  });

  test('a GitHub environment holds one role: one account, one kind of access', () => {
    expect(
      problemsOf({
        github: GITHUB,
        environments: {
          a: { ...BASE_ENV, github: { environment: 'shared' } },
          b: { ...other, github: { environment: 'SHARED' } },
          c: {
            ...BASE_ENV,
            domain: 'c.example.com',
            fromAddress: 'x@c.example.com',
            github: { environment: 'shared-preview' },
          },
        },
      }),
    ).toEqual([
      `${FILE}: environment "b", field "github.environment": got "SHARED", expected a GitHub environment not already used by environment "a" in account 123456789012 (a GitHub environment holds one role ARN)`,
      `${FILE}: environment "c", field "github.environment": got "shared-preview", expected a GitHub environment not already used to preview environment "a" (a GitHub environment either deploys or previews)`,
    ]);
  });

  // GitHub takes "Staging" and "staging" for one environment, with one AWS_ROLE_ARN: the plan would
  // give each spelling a role of its own, each reaching only its own environments' stacks.
  test('a GitHub environment has one spelling across the environments of an account', () => {
    const staging = (github: Record<string, unknown>, region = {}) => ({ ...BASE_ENV, ...region, github });
    expect(
      problemsOf({
        github: GITHUB,
        environments: {
          a: staging({ environment: 'Staging' }),
          b: staging({ environment: 'staging' }, SECOND_REGION),
          c: staging(
            { environment: 'Staging', previewEnvironment: 'Staging-PREVIEW' },
            { ...SECOND_REGION, region: 'eu-central-1', mailFrom: { subdomain: 'mail-de' } },
          ),
        },
      }),
    ).toEqual([
      `${FILE}: environment "b", field "github.environment": got "staging", expected "Staging", as environment "a" spells it (GitHub environment names are case-insensitive, so both name one GitHub environment, which holds one role ARN; IAM compares the name in the token case-sensitively)`,
      `${FILE}: environment "c", field "github.previewEnvironment": got "Staging-PREVIEW", expected "Staging-preview", as environment "a" spells it (GitHub environment names are case-insensitive, so both name one GitHub environment, which holds one role ARN; IAM compares the name in the token case-sensitively)`,
    ]);
    // One spelling: one role for both.
    const file = parseConfig(
      {
        github: GITHUB,
        environments: {
          a: staging({ environment: 'Staging' }),
          b: staging({ environment: 'Staging' }, SECOND_REGION),
        },
      },
      FILE,
    );
    expect(deployAccessPlan(file)[0].gitHubEnvironments.map((g) => [g.name, g.environments])).toEqual([
      ['Staging', ['a', 'b']],
      ['Staging-preview', ['a', 'b']],
    ]);
  });

  test('an existing OIDC provider must be in an account of the file', () => {
    expect(
      problemsOf({
        github: { ...GITHUB, existingOidcProviderAccounts: ['999999999999'] },
        environments: { prod: BASE_ENV },
      }),
    ).toEqual([
      `${FILE}: field "github.existingOidcProviderAccounts[0]": got "999999999999", expected the account of one of the environments (123456789012)`,
    ]);
  });

  test('the plan has one entry per account with the Regions each GitHub environment reaches', () => {
    const file = parseConfig(
      {
        github: { ...GITHUB, existingOidcProviderAccounts: ['210987654321'] },
        environments: {
          staging: BASE_ENV,
          // One protected environment of an account protects its deploy-access stack.
          'staging-us': {
            ...BASE_ENV,
            ...SECOND_REGION,
            terminationProtection: true,
            github: { environment: 'staging', previewEnvironment: 'staging-preview' },
          },
          production: {
            ...other,
            region: 'eu-central-1',
            terminationProtection: true,
            verifiedEmailAddresses: ['qa@example.org'],
          },
        },
      },
      FILE,
    );
    // Each stack with its SES identities: the domain, then the verified addresses.
    const zone = (hostedZoneId: string) => ({ hostedZoneId });
    const STAGING_STACKS = [
      {
        name: 'SesSmtp-staging',
        region: 'eu-west-1',
        identities: ['example.com'],
        ...zone('Z0123456789EXAMPLE0AB'),
      },
      {
        name: 'SesSmtp-staging-us',
        region: 'us-east-1',
        identities: ['example.com'],
        ...zone('Z0123456789EXAMPLE0AB'),
      },
    ];
    const PRODUCTION_STACKS = [
      {
        name: 'SesSmtp-production',
        region: 'eu-central-1',
        identities: ['example.net', 'qa@example.org'],
        ...zone('Z0123456789EXAMPLE0CD'),
      },
    ];
    expect(deployAccessPlan(file)).toEqual([
      {
        account: '123456789012',
        region: 'eu-west-1',
        regionPinned: false,
        repository: 'acme/web-app',
        subjectRepository: 'acme/web-app',
        existingOidcProvider: false,
        terminationProtection: true,
        gitHubEnvironments: [
          {
            name: 'staging',
            kind: 'deploy',
            environments: ['staging', 'staging-us'],
            stacks: STAGING_STACKS,
          },
          {
            name: 'staging-preview',
            kind: 'preview',
            environments: ['staging', 'staging-us'],
            stacks: STAGING_STACKS,
          },
        ],
      },
      {
        account: '210987654321',
        region: 'eu-central-1',
        regionPinned: false,
        repository: 'acme/web-app',
        subjectRepository: 'acme/web-app',
        existingOidcProvider: true,
        terminationProtection: true,
        gitHubEnvironments: [
          {
            name: 'production',
            kind: 'deploy',
            environments: ['production'],
            stacks: PRODUCTION_STACKS,
          },
          {
            name: 'production-preview',
            kind: 'preview',
            environments: ['production'],
            stacks: PRODUCTION_STACKS,
          },
        ],
      },
    ]);
  });

  test("an account's access stack is protected when any of its environments is, wherever it is listed", () => {
    const third = {
      ...BASE_ENV,
      ...SECOND_REGION,
      region: 'eu-central-1',
      mailFrom: { subdomain: 'mail-de' },
    };
    const protectedAt = (i: number) => {
      const envs = [BASE_ENV, { ...BASE_ENV, ...SECOND_REGION }, third].map((env, j) => ({
        ...env,
        terminationProtection: j === i,
      }));
      const file = parseConfig(
        { github: GITHUB, environments: { a: envs[0], b: envs[1], c: envs[2] } },
        FILE,
      );
      return deployAccessPlan(file).map((plan) => plan.terminationProtection);
    };
    expect([0, 1, 2, -1].map(protectedAt)).toEqual([[true], [true], [true], [false]]);
  });

  // The access stacks come in the file's order: `cdk list` shows them beside their environments.
  test('one plan per account, in the order the file first uses it', () => {
    const file = parseConfig(
      { github: GITHUB, environments: { production: other, staging: BASE_ENV } },
      FILE,
    );
    expect(deployAccessPlan(file).map((plan) => plan.account)).toEqual(['210987654321', '123456789012']);
  });

  test('no "github", no access stacks', () => {
    expect(deployAccessPlan(parseConfig({ environments: { prod: BASE_ENV } }, FILE))).toEqual([]);
  });
});
