import * as cdk from 'aws-cdk-lib';
import { Annotations, App, IPolicyValidationPlugin, PolicyViolation, Stack, Validations } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import type * as CdkNag from 'cdk-nag';
import { ciSignal } from './ci';
import { deployAccessPlan } from './config/github';
import { ConfigError, configPathValue, loadConfig } from './config/load';
import { acknowledgeWarnings } from './constructs/nag';
import { DeployAccessStack } from './deploy-access-stack';
import { SesSmtpStack } from './ses-smtp-stack';
import { stackName } from './stack-name';

// In its own module so the CLI finds stacks without loading aws-cdk-lib.
export { stackName } from './stack-name';

/** The stack name of an account's GitHub Actions access: `cdk deploy SesSmtpDeployAccess-123456789012`. */
export function deployAccessStackName(account: string): string {
  return `SesSmtpDeployAccess-${account}`;
}

/**
 * Props for the app's `App`: aws-cdk-lib's built-in CloudFormation validation is off (it only
 * prints warnings, and costs more than the rest of the synth); cfn-lint checks the templates in
 * CI instead. `-c validate=true` turns the built-in validation back on (see buildApp).
 *
 * Construct creation stack traces are off too: aws-cdk-lib would capture one for every resource,
 * output and stack (about 90 per environment) into cdk.out's metadata, about 7 % of the time each
 * environment adds to a synth. The templates are the same; `--debug` (`CDK_DEBUG=true`) records
 * them again, and the CLI then names the source line of a resource that fails to deploy.
 */
export const APP_PROPS = {
  builtinCloudFormationValidation: false,
  context: { [cxapi.DISABLE_CREATION_STACK_TRACES]: true },
} as const;

/** A boolean switch from CDK context (`-c name=true|false`); a command line gives strings. */
function contextSwitch(app: App, name: string, fallback: boolean): boolean {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError([
    `context "${name}": got ${JSON.stringify(value)}, expected true or false (-c ${name}=true)`,
  ]);
}

/**
 * Builds one stack per environment of the environments file onto `app`, with cdk-nag's
 * AwsSolutions checks on every synth of the stacks it builds (not on other stacks of `app`). It
 * reads four context keys of `app`: `-c config=PATH` picks another file, `-c env=NAME` builds only
 * that environment, `-c validate=true` runs aws-cdk-lib's CloudFormation validation engine as
 * well, `-c nag=false` skips cdk-nag for a quick local synth (refused when `CI` is set: CI and
 * `npm test` always run it). With a top-level "github" in the file and no `-c env`, it also builds
 * one deploy-access stack per account, from every environment of the file. Throws ConfigError for
 * a bad file or switch.
 */
export function buildApp(app: App, env: NodeJS.ProcessEnv = process.env): SesSmtpStack[] {
  const configPath = configPathValue(app.node.tryGetContext('config'), 'context "config"');
  const only = app.node.tryGetContext('env') as string | undefined;
  const nag = contextSwitch(app, 'nag', true);
  const ci = ciSignal(env);
  if (!nag && ci) {
    throw new ConfigError([
      `context "nag": got false with ${ci}; cdk-nag always runs in CI: remove -c nag=false`,
    ]);
  }
  const validate = contextSwitch(app, 'validate', false);
  const { environments, file, warnings } = loadConfig(configPath, only);
  // Registered explicitly, the engine runs whatever the App's builtinCloudFormationValidation says.
  if (validate) Validations.of(app).addPlugins(new (validatePlugin())());
  // Not with -c env: `cdk deploy -c env=NAME` then has that environment's stack only to deploy
  // (and needs no credentials of other accounts).
  const accessStacks =
    only === undefined
      ? deployAccessPlan(file).map((access) => {
          const name = deployAccessStackName(access.account);
          const stack = new DeployAccessStack(app, name, { stackName: name, access });
          acknowledgeWarnings(stack, file.github?.acknowledgedWarnings ?? {});
          return stack;
        })
      : [];
  const stacks = environments.map(({ name, config }) => {
    const stack = new SesSmtpStack(app, stackName(name), {
      stackName: stackName(name),
      environmentName: name,
      config,
      additionalSmtpRegions: file.additionalSmtpRegions,
      terminationProtection: config.terminationProtection,
    });
    for (const w of warnings.filter((x) => x.environment === name))
      Annotations.of(stack).addWarningV2(w.id, w.text);
    return stack;
  });
  if (nag) Validations.of(app).addPlugins(nagChecks([...accessStacks, ...stacks]));
  return stacks;
}

/**
 * cdk-nag's AwsSolutions checks on `stacks` only. cdk-nag's own plugin walks the whole App, so an
 * app with stacks of its own that calls buildApp would have them checked (and failed) too.
 */
function nagChecks(stacks: readonly Stack[]): IPolicyValidationPlugin {
  // Loaded here, not with the package: an app that only uses the constructs never pays for it
  // (about 100 ms of each import of the package).
  // oxlint-disable-next-line typescript/no-require-imports
  const { AwsSolutionsChecks } = require('cdk-nag') as typeof CdkNag;
  const pack = new AwsSolutionsChecks();
  return {
    name: pack.name,
    version: pack.version,
    ruleIds: pack.ruleIds,
    validate: () => {
      // One entry per rule, its resources in every stack, as cdk-nag's App-wide report has them.
      const byRule = new Map<string, PolicyViolation>();
      for (const violation of stacks.flatMap((stack) => pack.validateScope(stack).violations)) {
        const seen = byRule.get(violation.ruleName);
        if (seen) seen.violatingResources.push(...violation.violatingResources);
        else
          byRule.set(violation.ruleName, {
            ...violation,
            violatingResources: [...violation.violatingResources],
          });
      }
      const violations = [...byRule.values()];
      return { success: violations.length === 0, violations };
    },
  };
}

/**
 * aws-cdk-lib's CloudFormation validation plugin: exported from 2.262.0, while the package takes
 * aws-cdk-lib from 2.258.0 (the constructs need no more). An app on an older one gets one line.
 */
export function validatePlugin(
  // Typed without naming the class, so that the declarations also hold for an aws-cdk-lib without it.
  lib: { readonly CloudFormationValidatePlugin?: unknown } = cdk,
): new () => cdk.IPolicyValidationPlugin {
  const plugin = lib.CloudFormationValidatePlugin;
  if (typeof plugin === 'function') return plugin as new () => cdk.IPolicyValidationPlugin;
  throw new ConfigError([
    `context "validate": got true, but aws-cdk-lib ${cdkVersion()} has no CloudFormationValidatePlugin (2.262.0 and later do): upgrade aws-cdk-lib, or leave validate off and check the templates with cfn-lint`,
  ]);
}

function cdkVersion(): string {
  try {
    // oxlint-disable-next-line typescript/no-require-imports
    return (require('aws-cdk-lib/package.json') as { version: string }).version;
  } catch {
    return '(version unknown)';
  }
}
