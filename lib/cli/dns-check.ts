import { SESv2Client } from '@aws-sdk/client-sesv2';
import { HealthTarget, LiveIdentity, readIdentity } from '../../lambda/shared/checks';
import { CliContext } from './context';
import { CheckFailed } from './errors';

/*
 * The CLI's view of the records to check: the records themselves (`expectedRecords`), the live
 * comparison (`checkRecord`) and the identity read are the health checks' own, shared with
 * `doctor` and the scheduled health-check function.
 */

/** What the expected records are derived from: the identity and DNS settings of the environment. */
export async function recordTarget(
  ctx: CliContext,
): Promise<Pick<HealthTarget, 'identity' | 'region' | 'dns'>> {
  const { config } = ctx;
  return {
    identity: await ctx.resource('identity'),
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
      `SES has no identity ${domain} in ${ctx.region}: deploy the stack (npx cdk deploy ${ctx.stackName})`,
    );
  }
  return identity;
}
