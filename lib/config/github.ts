import type { ConfigFile, EnvironmentConfig, ParsedConfigFile } from './types';
import { stackName } from '../stack-name';

/*
 * GitHub Actions access, derived from the environments file: which GitHub environment deploys and
 * which previews each environment, and what each account's deploy-access stack must hold.
 */

/** What a GitHub environment's role may do: deploy (CDK deploy and file-publishing roles) or preview (read its stacks' templates). */
export type AccessKind = 'deploy' | 'preview';

/** The two GitHub environments of one environment, with the defaults applied (the one place they are). */
export function gitHubEnvironmentsOf(
  name: string,
  env: Pick<EnvironmentConfig, 'github'>,
): { readonly deploy: string; readonly preview: string } {
  const deploy = env.github.environment ?? name;
  return { deploy, preview: env.github.previewEnvironment ?? `${deploy}-preview` };
}

/** One role of a deploy-access stack: trusted by one GitHub environment. */
export interface GitHubEnvironmentAccess {
  /** The GitHub environment name, as in the OIDC "sub" claim `repo:OWNER/REPO:environment:NAME`. */
  readonly name: string;
  /** What its role may do: "deploy" the stacks, or "preview" them (read their templates). */
  readonly kind: AccessKind;
  /** The environments (file keys) this GitHub environment serves. */
  readonly environments: string[];
  /**
   * Their CloudFormation stacks, by name and Region (what a preview reads), each with what
   * `ses-smtp preflight` reads: its SES identities (the domain, then `verifiedEmailAddresses`) and
   * its Route 53 hosted zone (none with DNS managed elsewhere). Both optional for a stack of your
   * own, which preflight (it reads an environments file) does not check.
   */
  readonly stacks: {
    /** The stack's name. */
    readonly name: string;
    /** The Region the stack is deployed to. */
    readonly region: string;
    /**
     * The SES identities preflight reads: the domain, then `verifiedEmailAddresses`.
     * @default - none
     */
    readonly identities?: readonly string[];
    /**
     * The Route 53 hosted zone preflight reads.
     * @default - none: DNS managed elsewhere
     */
    readonly hostedZoneId?: string;
  }[];
}

/** Everything one account's deploy-access stack holds. */
export interface AccountAccess {
  /** The AWS account the stack's roles deploy to. */
  readonly account: string;
  /**
   * Where the stack itself is deployed (IAM is global): "github.accessRegion", else the Region of
   * the account's first environment.
   */
  readonly region: string;
  /** Whether "github.accessRegion" set the Region (else it moves with the file's order). */
  readonly regionPinned: boolean;
  /** The repository as "owner/name". */
  readonly repository: string;
  /**
   * The repository as the OIDC `sub` claim names it: "owner/name", or with the immutable ids
   * "owner@OWNER_ID/name@REPO_ID".
   */
  readonly subjectRepository: string;
  /** Reference the account's existing GitHub OIDC provider instead of creating one. */
  readonly existingOidcProvider: boolean;
  /** On when any environment of the account has termination protection. */
  readonly terminationProtection: boolean;
  /** The GitHub environments that deploy to the account or preview its stacks, one role each. */
  readonly gitHubEnvironments: GitHubEnvironmentAccess[];
}

/** The repository as GitHub's OIDC subject writes it: with the immutable ids when the file gives them. */
function subjectRepository(github: NonNullable<ConfigFile['github']>): string {
  if (github.ownerId === undefined || github.repositoryId === undefined) return github.repository;
  const [owner, name] = github.repository.split('/');
  return `${owner}@${github.ownerId}/${name}@${github.repositoryId}`;
}

/** The deploy-access stacks the file asks for, one per account in order of first use; none without "github". */
export function deployAccessPlan(file: ConfigFile): AccountAccess[] {
  const { github } = file;
  if (github === undefined) return [];
  const entries = Object.entries(file.environments);
  const accounts = [...new Set(entries.map(([, env]) => env.account))];
  return accounts.map((account) => {
    const inAccount = entries.filter(([, env]) => env.account === account);
    const gitHubEnvironments: GitHubEnvironmentAccess[] = [];
    for (const [name, env] of inAccount) {
      const names = gitHubEnvironmentsOf(name, env);
      for (const kind of ['deploy', 'preview'] as const) {
        let access = gitHubEnvironments.find((a) => a.name === names[kind]);
        if (access === undefined) {
          access = { name: names[kind], kind, environments: [], stacks: [] };
          gitHubEnvironments.push(access);
        }
        access.environments.push(name);
        access.stacks.push({
          name: stackName(name),
          region: env.region,
          identities: [env.domain, ...env.verifiedEmailAddresses],
          ...(env.dns.mode === 'route53' && { hostedZoneId: env.dns.hostedZoneId }),
        });
      }
    }
    return {
      account,
      region: github.accessRegion ?? inAccount[0][1].region,
      regionPinned: github.accessRegion !== undefined,
      repository: github.repository,
      subjectRepository: subjectRepository(github),
      existingOidcProvider: github.existingOidcProviderAccounts.includes(account),
      terminationProtection: inAccount.some(([, env]) => env.terminationProtection),
      gitHubEnvironments,
    };
  });
}

/** A problem in the "github" fields, in the shape the loader prints (path, value received, expected ...). */
export interface GitHubProblem {
  readonly path: (string | number)[];
  readonly input: unknown;
  readonly expected: string;
}

/** Rules across environments for the "github" fields; run by the loader on a well-formed file. */
export function gitHubProblems(file: ParsedConfigFile): GitHubProblem[] {
  const problems: GitHubProblem[] = [];
  const entries = Object.entries(file.environments);
  if (file.github === undefined) {
    for (const [name, env] of entries) {
      if (env.github.environment !== undefined || env.github.previewEnvironment !== undefined) {
        problems.push({
          path: ['environments', name, 'github'],
          input: env.github,
          expected:
            'a top-level "github": {"repository": "owner/name"} to go with it (see README "Deploy from GitHub Actions")',
        });
      }
    }
    return problems;
  }
  // One role ARN per GitHub environment (the workflow reads it from that environment's variables):
  // a GitHub environment serves one account and one kind of access, and has one spelling (each
  // spelling would get a role of its own, whose subject IAM compares case-sensitively).
  const seen = new Map<
    string,
    { environment: string; account: string; kind: AccessKind; spelling: string }
  >();
  for (const [name, env] of entries) {
    const names = gitHubEnvironmentsOf(name, env);
    const before = problems.length;
    // One line per environment: a clash of the deploy name usually repeats in the derived preview name.
    for (const kind of ['deploy', 'preview'] as const) {
      if (problems.length > before) break;
      const key = names[kind].toLowerCase(); // GitHub environment names are case-insensitive
      const field = kind === 'deploy' ? 'environment' : 'previewEnvironment';
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, { environment: name, account: env.account, kind, spelling: names[kind] });
      } else if (first.kind !== kind) {
        problems.push({
          path: ['environments', name, 'github', field],
          input: names[kind],
          expected: `a GitHub environment not already used to ${first.kind} environment "${first.environment}" (a GitHub environment either deploys or previews)`,
        });
      } else if (first.account !== env.account) {
        problems.push({
          path: ['environments', name, 'github', field],
          input: names[kind],
          expected: `a GitHub environment not already used by environment "${first.environment}" in account ${first.account} (a GitHub environment holds one role ARN)`,
        });
      } else if (first.spelling !== names[kind]) {
        problems.push({
          path: ['environments', name, 'github', field],
          input: names[kind],
          expected: `"${first.spelling}", as environment "${first.environment}" spells it (GitHub environment names are case-insensitive, so both name one GitHub environment, which holds one role ARN; IAM compares the name in the token case-sensitively)`,
        });
      }
    }
  }
  // The immutable subject names both ids: with one alone, no token would carry the subject.
  const { ownerId, repositoryId } = file.github;
  if ((ownerId === undefined) !== (repositoryId === undefined)) {
    const [given, missing] =
      ownerId === undefined ? ['repositoryId', 'ownerId'] : ['ownerId', 'repositoryId'];
    problems.push({
      path: ['github', given],
      input: ownerId ?? repositoryId,
      expected: `"${missing}" beside it (both or neither: gh api repos/OWNER/REPO --jq '[.owner.id, .id]' prints them)`,
    });
  }
  const accounts = new Set(entries.map(([, env]) => env.account));
  file.github.existingOidcProviderAccounts.forEach((account, i) => {
    if (!accounts.has(account)) {
      problems.push({
        path: ['github', 'existingOidcProviderAccounts', i],
        input: account,
        expected: `the account of one of the environments (${[...accounts].join(', ')})`,
      });
    }
  });
  return problems;
}
