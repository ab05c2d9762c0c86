import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { targetFromEnv } from '../../lambda/health-check/health';
import { HealthTarget, LiveIdentity, readIdentity } from '../../lambda/shared/checks';
import { CliContext } from './context';
import { CheckFailed, UsageError } from './errors';

/*
 * The CLI's view of the records to check: the records themselves (`expectedRecords`), the live
 * comparison (`checkRecord`) and the identity read are the health checks' own, shared with
 * `doctor` and the scheduled health-check function.
 */

/**
 * The settings of a stack without an environments file, as its health-check function runs the
 * checks with them: the function's HEALTH_TARGET variable, read by the function's own parser.
 */
export async function deployedTarget(ctx: CliContext): Promise<HealthTarget> {
  const name = await ctx.healthFunctionName();
  const redeploy = `deploy the stack again (${ctx.cdkCommand('deploy')})`;
  const fn = await ctx
    .client(LambdaClient)
    .send(new GetFunctionConfigurationCommand({ FunctionName: name }))
    .catch((e: Error) => {
      if (e.name !== 'ResourceNotFoundException') throw e;
      throw new UsageError(
        `the stack's output HealthCheckFunctionName names function ${name}, which does not exist in ${ctx.region}: ${redeploy}`,
      );
    });
  // Lambda answers an error instead of the variables when it cannot decrypt them.
  const error = fn.Environment?.Error;
  if (error) {
    throw new UsageError(
      `health-check function ${name} of ${ctx.subject}: Lambda could not read its environment variables (${error.ErrorCode}: ${error.Message}); check the function's KMS key, or ${redeploy}`,
    );
  }
  let target: HealthTarget;
  try {
    target = targetFromEnv(fn.Environment?.Variables ?? {});
  } catch (e) {
    throw new UsageError(
      `health-check function ${name} of ${ctx.subject}: ${(e as Error).message}; ${redeploy}`,
    );
  }
  // The flags that name a resource win over the function's settings, as over the stack's outputs.
  const { identity, secretId } = ctx.options;
  return {
    ...target,
    // The fixes name what this command was given (the function's own options name the stack).
    cliOptions: ctx.cliOptions(['secretId', 'identity']),
    ...(identity !== undefined && { identity }),
    ...(secretId !== undefined && { secretId }),
  };
}

/**
 * What the expected records are derived from: the identity and DNS settings of the environment,
 * or, without an environments file, of the stack's health-check function.
 */
export async function recordTarget(
  ctx: CliContext,
): Promise<Pick<HealthTarget, 'identity' | 'region' | 'dns'>> {
  if (ctx.environmentName === undefined) {
    const { identity, region, dns } = await deployedTarget(ctx);
    return { identity, region, dns };
  }
  return environmentRecordTarget(ctx, await ctx.resource('identity'));
}

/** The records' settings of the environment of the environments file, for `identity`. */
export function environmentRecordTarget(
  ctx: CliContext,
  identity: string,
): Pick<HealthTarget, 'identity' | 'region' | 'dns'> {
  const { config } = ctx;
  return {
    identity,
    region: ctx.region,
    dns: {
      mailFromSubdomain: config.mailFrom.subdomain,
      ...(config.dmarc.enabled && { dmarc: config.dmarc }),
      ...(config.apexSpf.enabled && { apexSpf: config.apexSpf }),
    },
  };
}

/** The identity as SES sees it now; a clear error when the stack is not deployed. */
export async function liveIdentity(ctx: CliContext, domain: string): Promise<LiveIdentity> {
  const identity = await readIdentity(ctx.client(SESv2Client), domain);
  if (!identity.found) {
    throw new CheckFailed(
      `SES has no identity ${domain} in ${ctx.region}: deploy the stack (${ctx.cdkCommand('deploy')})`,
    );
  }
  return identity;
}
