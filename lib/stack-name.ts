import { shellWord } from './cli/shell';

/** The tag an environment's stack puts on what it makes, with the environment's name. */
export const ENVIRONMENT_TAG = 'ses-smtp:environment';

/** The stack name of an environment: `cdk deploy SesSmtp-production`. */
export function stackName(environmentName: string): string {
  return `SesSmtp-${environmentName}`;
}

/**
 * The `ses-smtp` options that pick a stack in the commands the texts give an operator (alarms,
 * checks' fixes, errors): with the environments file "--env NAME", for a stack of your own its
 * name and Region (no file needed).
 */
export function cliOptions(
  target: { environmentName: string } | { stackName: string; region: string },
): string {
  return 'environmentName' in target
    ? `--env ${target.environmentName}`
    : `--stack ${target.stackName} --region ${target.region}`;
}

/** A stack as the commands name it: by its name, or by its construct path where that differs. */
export interface StackRef {
  readonly stackName: string;
  readonly stackPath?: string;
}

/**
 * `npx cdk deploy` (or `import`) for a stack. The CDK CLI selects a stack by its construct path in
 * the app, not by its name: `new Stack(app, 'MailStack', { stackName: 'Mail' })` is `MailStack`,
 * and in a Stage `Stage/MailStack`. An environment's stack has its name as its id.
 */
export function cdkCommand(verb: 'deploy' | 'import', target: StackRef): string {
  return `npx cdk ${verb} ${shellWord(target.stackPath ?? target.stackName)}`;
}

/** What `cdkStackPath` reads of a Stack (this file is the CLI's too, which loads no aws-cdk-lib). */
interface StackLike {
  readonly stackName: string;
  readonly node: { readonly path: string };
  readonly nestedStackParent?: StackLike;
}

/**
 * The construct path `npx cdk deploy` selects `stack` by, where its name is not it: the stack's own
 * (`Stage/MailStack`), or for a nested stack its top-level stack's, which the CDK CLI deploys with
 * it (it selects no nested stack).
 */
export function cdkStackPath(stack: StackLike): string | undefined {
  let top = stack;
  while (top.nestedStackParent) top = top.nestedStackParent;
  return top.node.path !== stack.stackName ? top.node.path : undefined;
}

/**
 * The CDK CLI a drift-aware deploy (`cdk deploy --revert-drift`) needs: the option came with
 * 2.1110.0, and 2.1109.0 (tried) takes it without a word and makes a plain deploy, which leaves what
 * was changed by hand as it is.
 */
export const REVERT_DRIFT_CLI = 'CDK CLI 2.1110.0 or later';

/** The command line `ses-smtp <command> <options>`, as the texts print it (no options: none). */
export function sesSmtpCommand(command: string, options?: string): string {
  return ['ses-smtp', command, options].filter(Boolean).join(' ');
}
