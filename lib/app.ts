import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEFAULT_CONFIG_PATH, loadConfig } from './config/load';
import { SesSmtpStack } from './ses-smtp-stack';
import { stackName } from './stack-name';

// In its own module so the CLI finds stacks without loading aws-cdk-lib.
export { stackName } from './stack-name';

/**
 * Builds one stack per environment of the environments file onto `app`, with cdk-nag's
 * AwsSolutions checks on every synth. Context: `-c config=PATH` picks another file, `-c env=NAME`
 * builds only that environment. Throws ConfigError for a bad file.
 */
export function buildApp(app: App): SesSmtpStack[] {
  const configPath = (app.node.tryGetContext('config') as string | undefined) ?? DEFAULT_CONFIG_PATH;
  const only = app.node.tryGetContext('env') as string | undefined;
  const { environments } = loadConfig(configPath, only);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return environments.map(
    ({ name, config }) =>
      new SesSmtpStack(app, stackName(name), { stackName: stackName(name), environmentName: name, config }),
  );
}
