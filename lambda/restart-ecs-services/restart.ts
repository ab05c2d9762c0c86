import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { isThrottlingError } from '../shared/aws-errors';
import { describeError, Logger } from '../shared/logger';
import { retried } from '../shared/retry';
import { EcsServiceTarget, SERVICES_VARIABLE } from './services';

/** What the function needs of the ECS client. */
export interface EcsLike {
  send(command: UpdateServiceCommand): Promise<unknown>;
}

/**
 * Pauses after a throttled UpdateService, beyond the SDK's own 3 attempts: ECS throttles
 * UpdateService per account and Region, where a deploy of the app may be calling it too.
 */
export const THROTTLE_WAITS_MS: readonly number[] = [2000, 5000, 10000];

/**
 * UpdateService's errors for a service that does not exist (yet), or no longer: it runs no task
 * that holds the previous credentials, and one created later reads the current ones. The first
 * credentials come before the app's services exist (a stack that reads the secret deploys after
 * the mail stack, a service of the mail stack after credentialsReady): an error there would alarm
 * on every new environment. A listed service that never exists (a typo) is left to the daily
 * ecs-services health check, which fails naming its ARN, and to the rotation's stale-use guard,
 * which stops and alarms before deleting a key still in use.
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html#API_UpdateService_Errors
 */
const NO_SUCH_SERVICE = new Set([
  'ServiceNotFoundException',
  'ServiceNotActiveException',
  'ClusterNotFoundException',
]);

/** The services of the function's environment; throws naming the variable when it is not a list of them. */
export function servicesFromEnv(env: NodeJS.ProcessEnv): EcsServiceTarget[] {
  const raw = env[SERVICES_VARIABLE];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw ?? '');
  } catch {
    parsed = undefined;
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.length > 0 &&
    parsed.every(
      (s: unknown) =>
        typeof (s as EcsServiceTarget | null)?.cluster === 'string' &&
        typeof (s as EcsServiceTarget).service === 'string',
    );
  if (!valid)
    throw new Error(
      `${SERVICES_VARIABLE} must be a JSON list of { "cluster", "service" }, got: ${raw === undefined ? 'nothing' : raw}`,
    );
  return parsed as EcsServiceTarget[];
}

/**
 * Forces a new deployment of every service (ECS replaces its tasks, which read the secret again as
 * they start), one after the other. A service that fails does not stop the others; throws at the
 * end, naming each that failed, so that the invocation counts as an error and its alarm fires.
 */
export async function restartServices(
  services: readonly EcsServiceTarget[],
  ecs: EcsLike,
  log: Logger,
  wait: (ms: number) => Promise<unknown> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<{ restarted: string[]; absent?: string[] }> {
  const restarted: string[] = [];
  const absent: string[] = [];
  const failed: string[] = [];
  for (const { cluster, service } of services) {
    const name = `${cluster}/${service}`;
    try {
      await retried(
        () => ecs.send(new UpdateServiceCommand({ cluster, service, forceNewDeployment: true })),
        wait,
        THROTTLE_WAITS_MS,
        isThrottlingError,
      );
      restarted.push(name);
      log.info('forced a new deployment', { cluster, service });
    } catch (error) {
      if (NO_SUCH_SERVICE.has((error as { name?: unknown } | undefined)?.name as string)) {
        absent.push(name);
        log.warn(
          'no such active service: nothing to restart (one created later reads the current credentials)',
          {
            cluster,
            service,
            ...describeError(error),
          },
        );
        continue;
      }
      failed.push(`${name} (${describeError(error).errorName ?? 'Error'})`);
      log.error('could not force a new deployment: its tasks keep the previous credentials', {
        cluster,
        service,
        ...describeError(error),
      });
    }
  }
  if (failed.length) {
    throw new Error(
      `could not force a new deployment of ${failed.length} of ${services.length} ECS services: ${failed.join(', ')}; their tasks keep the previous credentials until they restart (aws ecs update-service --cluster CLUSTER --service SERVICE --force-new-deployment)`,
    );
  }
  return { restarted, ...(absent.length && { absent }) };
}
