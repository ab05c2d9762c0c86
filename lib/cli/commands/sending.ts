import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  PutAccountSendingAttributesCommand,
  PutConfigurationSetSendingOptionsCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { Scope } from '../command-table';
import { CliContext } from '../context';
import { CheckFailed, UsageError } from '../errors';

export interface SetSendingOptions {
  /** false pauses sending, true resumes it. */
  readonly enabled: boolean;
  readonly scope: Scope;
  /** Asks the operator (true at once with --yes); resolves true to go ahead. */
  readonly confirm: (question: string) => Promise<boolean>;
}

/**
 * `pause` and `resume`: turns sending off or on for the stack's configuration set
 * (PutConfigurationSetSendingOptions) or for the whole account in the Region
 * (PutAccountSendingAttributes). Reads the state first: nothing to do is said, not sent.
 * @see https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_PutAccountSendingAttributes.html
 */
export async function setSendingCommand(ctx: CliContext, options: SetSendingOptions): Promise<number> {
  const verb = options.enabled ? 'resume' : 'pause';
  if (options.scope === 'account' && ctx.options.configurationSet !== undefined) {
    throw new UsageError(
      `--configuration-set with --scope account: the account scope ${verb}s every sender in ${ctx.region}, not one configuration set; drop one of them`,
    );
  }
  const ses = ctx.client(SESv2Client);
  let target: string;
  let current: boolean;
  let apply: () => Promise<unknown>;
  if (options.scope === 'account') {
    const account = await ses.send(new GetAccountCommand({}));
    if (options.enabled && account.EnforcementStatus === 'SHUTDOWN') {
      throw new CheckFailed(
        `AWS itself paused sending for the account in ${ctx.region} (enforcement status SHUTDOWN), which resume cannot undo: answer the review case in the SES console (Account dashboard)`,
      );
    }
    target = `the whole account in ${ctx.region} (every sender, not only this app)`;
    current = account.SendingEnabled !== false;
    apply = () => ses.send(new PutAccountSendingAttributesCommand({ SendingEnabled: options.enabled }));
  } else {
    const name = await ctx.resource('configurationSet');
    const set = await ses.send(new GetConfigurationSetCommand({ ConfigurationSetName: name }));
    // Another set named by --configuration-set is not the environment's.
    target =
      ctx.environmentName && ctx.options.configurationSet === undefined
        ? `configuration set ${name} (mail of environment ${ctx.environmentName})`
        : `configuration set ${name}`;
    current = set.SendingOptions?.SendingEnabled !== false;
    apply = () =>
      ses.send(
        new PutConfigurationSetSendingOptionsCommand({
          ConfigurationSetName: name,
          SendingEnabled: options.enabled,
        }),
      );
  }
  const undo =
    options.scope === 'account'
      ? ctx.rerun('resume --scope account')
      : ctx.rerun('resume --scope configuration-set', ['configurationSet']);
  const after = options.enabled ? 'sending is on again' : `sends are refused until you run: ${undo}`;
  if (current === options.enabled) {
    if (ctx.out.json) ctx.out.document({ changed: false, scope: options.scope, sendingEnabled: current });
    ctx.out.check({
      id: verb,
      status: 'ok',
      title: `sending is already ${current ? 'enabled' : 'paused'} for ${target}`,
    });
    return 0;
  }
  if (!(await options.confirm(`${options.enabled ? 'Resume' : 'Pause'} sending for ${target}? [y/N] `))) {
    throw new CheckFailed(`nothing changed (${verb} not confirmed)`);
  }
  await apply();
  if (ctx.out.json)
    ctx.out.document({ changed: true, scope: options.scope, sendingEnabled: options.enabled });
  ctx.out.check({
    id: verb,
    status: 'ok',
    title: `${options.enabled ? 'resumed' : 'paused'} sending for ${target}`,
    detail: after,
  });
  return 0;
}
