import {
  Annotations,
  Aws,
  CfnOutput,
  DefaultStackSynthesizer,
  RemovalPolicy,
  Stack,
  StackProps,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { AccountAccess } from './config/github';
import { acknowledgeNagFinding } from './constructs/nag';

/** GitHub Actions' OIDC issuer (without the scheme, as IAM writes it in condition keys and ARNs). */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
/** The audience configure-aws-credentials asks GitHub to put in the token. */
export const GITHUB_OIDC_AUDIENCE = 'sts.amazonaws.com';

/**
 * The CDK bootstrap roles a deploy role may assume (names from the bootstrap template:
 * `cdk-<qualifier>-<role>-<account>-<region>`): the deploy role (CloudFormation, which passes the
 * execution role) and the file-publishing role (Lambda code to the staging bucket). No
 * image-publishing role: the stacks have no container images. No lookup role: the stacks make no
 * context lookups (CI's `cdk synth` runs without AWS credentials), and `cdk deploy
 * --require-approval never` reads no deployed template, so nothing in a deploy job uses it, while
 * it holds AWS's ReadOnlyAccess on the whole account (S3 objects, DynamoDB items, logs): more than
 * the deploy role reaches where `--cloudformation-execution-policies` narrows the execution role.
 * @see https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
 */
export const DEPLOY_BOOTSTRAP_ROLES: readonly string[] = ['deploy-role', 'file-publishing-role'];

/**
 * What a preview role may do: read its environments' deployed templates, which is all
 * `cdk diff --method=template` asks of CloudFormation (DescribeStacks, then GetTemplate). Not the
 * bootstrap lookup role: that one holds the ReadOnlyAccess managed policy, which would let any
 * branch's pull request read the account (S3 objects, DynamoDB items, logs). The CDK CLI tries the
 * lookup role, is refused, and goes on with the preview role's own credentials (it warns so).
 */
export const PREVIEW_ACTIONS: readonly string[] = [
  'cloudformation:DescribeStacks',
  'cloudformation:GetTemplate',
];

/** An inline policy of one statement: `actions` on `resources`. */
function policy(actions: string | readonly string[], resources: string[]): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [new iam.PolicyStatement({ actions: [actions].flat(), resources })],
  });
}

export interface DeployAccessStackProps extends StackProps {
  /** What the account's stack holds (lib/config/github.ts `deployAccessPlan`). */
  readonly access: AccountAccess;
}

/**
 * One per account: GitHub's OIDC provider (created, or referenced when it exists) and one role per
 * GitHub environment, trusted only by tokens whose `sub` is exactly
 * `repo:OWNER/REPO:environment:NAME` (or, with the repository's ids, GitHub's immutable
 * `repo:OWNER@OWNER_ID/REPO@REPO_ID:environment:NAME`) and whose `aud` is sts.amazonaws.com. A
 * deploy role may only assume this account's CDK bootstrap deploy and file-publishing roles in the
 * Regions that GitHub environment deploys to, and read what `ses-smtp preflight` reads (its stacks'
 * status, their SES identities and hosted zones' record sets); a preview role may only read its
 * environments' deployed templates.
 * @see https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services
 */
export class DeployAccessStack extends Stack {
  /** The GitHub OIDC provider the roles trust. */
  public readonly provider: iam.IOidcProvider;
  /** The role of each GitHub environment, by its name. */
  public readonly roles: Record<string, iam.Role> = {};

  constructor(scope: Construct, id: string, props: DeployAccessStackProps) {
    const { access } = props;
    super(scope, id, {
      ...props,
      env: { account: access.account, region: access.region },
      terminationProtection: props.terminationProtection ?? access.terminationProtection,
      description: `GitHub Actions deploy access for ${access.repository} in account ${access.account} (ses-smtp-cdk)`,
    });
    const qualifier = this.synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    warnAboutSharing(this, access);

    this.provider = access.existingOidcProvider
      ? iam.OidcProviderNative.fromOidcProviderArn(
          this,
          'GitHubOidcProvider',
          `arn:${Aws.PARTITION}:iam::${access.account}:oidc-provider/${GITHUB_OIDC_HOST}`,
        )
      : new iam.OidcProviderNative(this, 'GitHubOidcProvider', {
          url: `https://${GITHUB_OIDC_HOST}`,
          clientIds: [GITHUB_OIDC_AUDIENCE],
          // Other repositories' roles may come to trust it too: deleting this stack keeps it.
          removalPolicy: RemovalPolicy.RETAIN,
        });

    // A stack's ARN, with its Region's partition written out where aws-cdk-lib knows it: the
    // cdk-nag finding on its "/*" is acknowledged by name, and aws-cdk-lib 2.258 (the oldest this
    // package supports) refuses a name with a token in it ("<AWS::Partition>": a second "::").
    const stackArn = (stack: { name: string; region: string }) =>
      `arn:${RegionInfo.get(stack.region).partition ?? Aws.PARTITION}:cloudformation:${stack.region}:${access.account}:stack/${stack.name}/*`;
    const outputIds = new Set<string>();
    for (const env of access.gitHubEnvironments) {
      const subject = `repo:${access.subjectRepository}:environment:${env.name}`;
      // The bootstrap roles of each Region its stacks deploy to.
      const regions = [...new Set(env.stacks.map((stack) => stack.region))];
      const assumable = regions.flatMap((region) =>
        DEPLOY_BOOTSTRAP_ROLES.map(
          (role) =>
            `arn:${Aws.PARTITION}:iam::${access.account}:role/cdk-${qualifier}-${role}-${access.account}-${region}`,
        ),
      );
      const stackArns = env.stacks.map(stackArn);
      const identityArns = env.stacks.flatMap((stack) =>
        (stack.identities ?? []).map(
          (identity) => `arn:${Aws.PARTITION}:ses:${stack.region}:${access.account}:identity/${identity}`,
        ),
      );
      const zoneArns = [...new Set(env.stacks.flatMap((stack) => stack.hostedZoneId ?? []))].map(
        (zone) => `arn:${Aws.PARTITION}:route53:::hostedzone/${zone}`,
      );
      const role = new iam.Role(this, `${env.kind === 'deploy' ? 'Deploy' : 'Preview'}-${env.name}`, {
        description: `${env.kind === 'deploy' ? 'Deploys' : 'Previews (cdk diff)'} ${env.environments.join(', ')} from GitHub environment ${env.name} of ${access.repository}`,
        assumedBy: new iam.WebIdentityPrincipal(this.provider.oidcProviderArn, {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:sub`]: subject,
            [`${GITHUB_OIDC_HOST}:aud`]: GITHUB_OIDC_AUDIENCE,
          },
        }),
        inlinePolicies:
          env.kind === 'deploy'
            ? {
                AssumeCdkBootstrapRoles: policy('sts:AssumeRole', assumable),
                // `ses-smtp preflight` before `cdk deploy`: whether the stack exists, and whether
                // its SES identities and record sets do (made by hand, they would fail a first deploy).
                PreflightReads: new iam.PolicyDocument({
                  // An action without resources gets no statement: IAM refuses an empty Resource.
                  statements: (
                    [
                      ['cloudformation:DescribeStacks', stackArns],
                      ['ses:GetEmailIdentity', identityArns],
                      ['route53:ListResourceRecordSets', zoneArns],
                    ] as const
                  ).flatMap(([action, resources]) =>
                    resources.length ? [new iam.PolicyStatement({ actions: [action], resources })] : [],
                  ),
                }),
              }
            : { ReadDeployedTemplates: policy(PREVIEW_ACTIONS, stackArns) },
      });
      // Both kinds read their stacks (a preview its templates, a deploy's preflight its status).
      for (const stack of env.stacks) {
        acknowledgeNagFinding(role, {
          id: `AwsSolutions-IAM5[Resource::${stackArn(stack).replace(Aws.PARTITION, '<AWS::Partition>')}]`,
          reason:
            "A stack's ARN ends with the id CloudFormation gives it when it creates the stack: the * stands for that id, within this one stack name and Region.",
        });
      }
      this.roles[env.name] = role;
      const output = new CfnOutput(this, `RoleArn-${env.name}`, {
        value: role.roleArn,
        description: `Set as variable AWS_ROLE_ARN of GitHub environment "${env.name}" (${env.kind})`,
      });
      // A top-level output's logical id is its id without the characters other than letters and
      // digits: GitHub environments "eu-prod" and "eu.prod" would both get RoleArneuprod, which
      // fails the synth. The later one gets a number (the first keeps the id it always had).
      const logicalId = this.getLogicalId(output);
      let unique = logicalId;
      for (let n = 2; outputIds.has(unique); n++) unique = `${logicalId}${n}`;
      if (unique !== logicalId) output.overrideLogicalId(unique);
      outputIds.add(unique);
    }
  }
}

/**
 * Synth warnings for two choices a team may make knowingly, but should know about:
 * - An account deployed from several GitHub environments: each deploy role assumes the account's
 *   CDK bootstrap roles, and CloudFormation's execution role may do anything (AdministratorAccess
 *   unless bootstrapped with --cloudformation-execution-policies), IAM included, which is global.
 *   So a job of any of them can change every environment of the account: the required reviewers
 *   of one GitHub environment guard it only in an account of its own.
 * - No "github.accessRegion": the stack goes to the Region of the account's first environment,
 *   and moves when the file changes.
 */
function warnAboutSharing(stack: Stack, access: AccountAccess): void {
  const deployers = access.gitHubEnvironments.filter((g) => g.kind === 'deploy').map((g) => g.name);
  if (deployers.length > 1) {
    Annotations.of(stack).addWarningV2(
      'ses-smtp:deployersShareAccount',
      `account ${access.account} is deployed from the GitHub environments ${deployers.join(', ')}: each deploy role reaches the account's CDK bootstrap roles, whose execution role may change anything in the account (IAM included), so a job of any of them can change the others' environments; the required reviewers of one guard it only in an account of its own`,
    );
  }
  // Whatever the Regions: an environment added above the first one moves the stack too. And only
  // before that edit is the Region synth picks the one the stack is deployed in.
  if (!access.regionPinned) {
    Annotations.of(stack).addWarningV2(
      'ses-smtp:accessRegionFollowsFile',
      `this stack goes to ${access.region}, the Region of account ${access.account}'s first environment in the file: adding, removing or moving environments can move it, and a moved stack is a new stack, which fails on the OIDC provider the old one holds; set "github.accessRegion" to the Region it is deployed in (${access.region}, if it was deployed from this file as it is)`,
    );
  }
}
