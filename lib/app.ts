import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { deployAccessPlan } from './config/github';
import { DEFAULT_CONFIG_PATH, loadConfig } from './config/load';
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
 * Builds one stack per environment of the environments file onto `app`, with cdk-nag's
 * AwsSolutions checks on every synth. Context: `-c config=PATH` picks another file, `-c env=NAME`
 * builds only that environment. With a top-level "github" in the file, it also builds one
 * deploy-access stack per account, always from every environment of the file (a stack built from
 * a selection would drop the other environments' roles). Throws ConfigError for a bad file.
 */
export function buildApp(app: App): SesSmtpStack[] {
  const configPath = (app.node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG_PATH;
  const only = app.node.tryGetContext('env') as string | undefined;
  const { environments, file } = loadConfig(configPath, only);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  for (const access of deployAccessPlan(file)) {
    const name = deployAccessStackName(access.account);
    new DeployAccessStack(app, name, { stackName: name, access });
  }
  return environments.map(
    ({ name, config }) =>
      new SesSmtpStack(app, stackName(name), {
        stackName: stackName(name),
        environmentName: name,
        config,
        terminationProtection: config.terminationProtection,
      }),
  );
}
