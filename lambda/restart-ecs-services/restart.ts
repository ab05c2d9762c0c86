import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { THROTTLING_ERRORS } from '../shared/aws-errors';
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

const throttled = (error: unknown) =>
  THROTTLING_ERRORS.has((error as { name?: string } | undefined)?.name ?? '') ||
  (error as { $retryable?: { throttling?: boolean } } | undefined)?.$retryable?.throttling === true;

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
): Promise<{ restarted: string[] }> {
  const restarted: string[] = [];
  const failed: string[] = [];
  for (const { cluster, service } of services) {
    const name = `${cluster}/${service}`;
    try {
      await retried(
        () => ecs.send(new UpdateServiceCommand({ cluster, service, forceNewDeployment: true })),
        wait,
        THROTTLE_WAITS_MS,
        throttled,
      );
      restarted.push(name);
      log.info('forced a new deployment', { cluster, service });
    } catch (error) {
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
  return { restarted };
}
