import {
  CHECKS,
  CheckOutcome,
  CheckRun,
  HealthTarget,
  FREQUENT_CHECKS,
  runChecks,
  SmtpLoginClient,
} from '../shared/checks';
import {
  CHECK_METRIC,
  emfLine,
  MetricValue,
  QUOTA_METRICS,
  RUN_METRIC,
  UNDETERMINED_METRIC,
} from '../shared/health-metrics';
import { describeError, Logger } from '../shared/logger';
import { pause, smtpEndpointFromEnv, smtpLogin } from '../shared/smtp-login';

/*
 * The scheduled health check: the doctor's checks, each turned into a metric (1 passed, 0 failed
 * or warned) that an alarm watches, plus the quota figures. Failing checks are logged with their
 * fix; the invocation itself succeeds, because a failing check is reported through its alarm.
 * It fails only when the event or its settings are wrong.
 */

/** What EventBridge sends: which set of checks to run. */
export interface HealthEvent {
  readonly checks?: 'all' | 'quota';
}

/** The target from the HEALTH_TARGET variable the HealthChecks construct writes. */
export function targetFromEnv(env: NodeJS.ProcessEnv): HealthTarget {
  const text = env.HEALTH_TARGET;
  if (!text) throw new Error('HEALTH_TARGET is not set: the HealthChecks construct sets it');
  let target: HealthTarget;
  try {
    target = JSON.parse(text) as HealthTarget;
  } catch {
    throw new Error('HEALTH_TARGET is not JSON: the HealthChecks construct writes it');
  }
  for (const field of ['environmentName', 'stackName', 'region', 'identity', 'secretId'] as const) {
    if (typeof target[field] !== 'string' || !target[field])
      throw new Error(
        `HEALTH_TARGET.${field} must be a non-empty string, got: ${JSON.stringify(target[field])}`,
      );
  }
  for (const field of ['cliOptions', 'stackPath'] as const) {
    if (target[field] !== undefined && typeof target[field] !== 'string')
      throw new Error(`HEALTH_TARGET.${field} must be a string, got: ${JSON.stringify(target[field])}`);
  }
  for (const field of ['rotationDays', 'previousKeyQuietDays', 'sendRatePercent'] as const) {
    if (typeof target[field] !== 'number')
      throw new Error(`HEALTH_TARGET.${field} must be a number, got: ${JSON.stringify(target[field])}`);
  }
  const webhook: unknown = target.webhook;
  if (
    webhook !== undefined &&
    (typeof webhook !== 'object' ||
      webhook === null ||
      typeof (webhook as { url?: unknown }).url !== 'string' ||
      typeof (webhook as { topicArn?: unknown }).topicArn !== 'string')
  )
    throw new Error(
      // Not the value: the URL may hold a token of the app's.
      'HEALTH_TARGET.webhook must be {"url": string, "topicArn": string}: the HealthChecks construct writes it',
    );
  const services: unknown = target.ecsServices;
  if (services !== undefined && !(Array.isArray(services) && services.every((s) => typeof s === 'string')))
    throw new Error(
      `HEALTH_TARGET.ecsServices must be a list of ECS service ARNs, got: ${JSON.stringify(services)}`,
    );
  return target;
}

/**
 * The SMTP login, at SMTP_HOST and SMTP_PORT (the HealthChecks construct sets them). Read when
 * the check runs: a missing or bad value fails that check, naming the variable, not the whole
 * function (the other checks of the run still report).
 */
export function smtpLoginFromEnv(env: NodeJS.ProcessEnv): SmtpLoginClient {
  return {
    endpoint: () => smtpEndpointFromEnv(env),
    login: smtpLogin,
    pauseBeforeRetry: () => pause(SMTP_RETRY_PAUSE_MS),
  };
}

/** The wait before the SMTP login's second attempt (the function's timeout is 2 minutes). */
export const SMTP_RETRY_PAUSE_MS = 5_000;

/** The queues of KEEP_REPORTING_QUEUES (the HealthChecks construct writes it): none when unset. */
export function queuesFromEnv(env: NodeJS.ProcessEnv): string[] {
  const text = env.KEEP_REPORTING_QUEUES;
  if (text === undefined) return [];
  let urls: unknown;
  try {
    urls = JSON.parse(text);
  } catch {
    urls = undefined;
  }
  if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string' && u.startsWith('https://')))
    throw new Error(
      'KEEP_REPORTING_QUEUES must be a JSON array of queue URLs: the HealthChecks construct writes it',
    );
  return urls as string[];
}

/**
 * Reads each queue's attributes. SQS reports a queue to CloudWatch only while it is active, "for
 * up to six hours from the last activity (i.e., any API call) on the queue": a dead-letter queue
 * nobody touches, or an app queue nobody reads, would fall silent, and the alarms on its depth and
 * age with it. A read that fails is logged, not thrown: the checks' metrics are what the run is for.
 */
export async function keepQueuesReporting(
  urls: readonly string[],
  readAttributes: (url: string) => Promise<unknown>,
  log: Logger,
): Promise<void> {
  await Promise.all(
    urls.map((url) =>
      readAttributes(url).catch((e: unknown) =>
        log.warn('could not read a queue: SQS may stop reporting it, and its alarms with it', {
          queue: url,
          ...describeError(e),
        }),
      ),
    ),
  );
}

export interface HealthResult {
  readonly checks: number;
  readonly failed: string[];
}

/** Runs the checks the event names, writes one EMF line per check and one for the quota. */
export async function runHealth(
  event: HealthEvent,
  run: CheckRun,
  emitMetric: (line: string) => void,
  log: Logger,
): Promise<HealthResult> {
  const which = event.checks ?? 'all';
  if (which !== 'all' && which !== 'quota')
    throw new Error(`event.checks must be "all" or "quota", got: ${JSON.stringify(event.checks)}`);
  const environment = run.target.environmentName;
  // Each check's metric as it finishes: a run cut short by the timeout keeps those it has.
  const outcomes: CheckOutcome[] = await runChecks(
    run,
    which === 'all' ? CHECKS : FREQUENT_CHECKS,
    () => undefined,
    ({ check, results, passed }) => {
      // A check that could not tell publishes nothing: a 1 would clear an alarm that is still
      // due, a 0 would raise one with a runbook for a fault nobody found.
      if (passed !== undefined) {
        emitMetric(
          emfLine({ Environment: environment, Check: check.id }, [
            { name: CHECK_METRIC, value: passed ? 1 : 0, unit: 'None' },
          ]),
        );
      }
      const problems = results.filter((r) => r.status === 'fail' || r.status === 'warn' || r.undetermined);
      if (passed === undefined) {
        log.warn(`health check ${check.id} could not tell: no data point, its alarm keeps its state`, {
          check: check.id,
          problems,
        });
      } else if (problems.length)
        log.warn(`health check ${check.id} did not pass`, { check: check.id, problems });
    },
  );
  const q = run.quota;
  if (q) {
    const values: MetricValue[] = [
      { name: QUOTA_METRICS.max24HourSend, value: q.max24HourSend, unit: 'Count' },
      { name: QUOTA_METRICS.sentLast24Hours, value: q.sentLast24Hours, unit: 'Count' },
      { name: QUOTA_METRICS.maxSendRate, value: q.maxSendRate, unit: 'Count/Second' },
      { name: QUOTA_METRICS.quotaUsedPercent, value: q.quotaUsedPercent, unit: 'Percent' },
    ];
    if (q.peakSendRatePercent !== undefined)
      values.push({ name: QUOTA_METRICS.peakSendRatePercent, value: q.peakSendRatePercent, unit: 'Percent' });
    emitMetric(emfLine({ Environment: environment }, values));
  }
  const failed = outcomes.filter((o) => o.passed === false).map((o) => o.check.id);
  const undetermined = outcomes.filter((o) => o.passed === undefined).map((o) => o.check.id);
  // Last, so a run that dies on the way writes none; with the count of checks that could not tell
  // (an alarm says when they keep not telling: their own alarms would stay as they were).
  emitMetric(
    emfLine({ Environment: environment, Run: which }, [
      { name: RUN_METRIC, value: 1, unit: 'Count' },
      { name: UNDETERMINED_METRIC, value: undetermined.length, unit: 'Count' },
    ]),
  );
  log.info('health checks done', { checks: which, ran: outcomes.length, failed, undetermined });
  return { checks: outcomes.length, failed };
}
