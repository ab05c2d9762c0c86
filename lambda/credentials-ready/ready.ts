import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { CustomResourceResult } from '../shared/custom-resource';
import { describeError, Logger } from '../shared/logger';
import { ROTATION_STEP_FAILED } from '../shared/rotation-log';
import { ROTATION_LOG_GROUP, SECRET_ID } from './properties';

/*
 * Custom resource that holds the stack's first deploy until the first rotation has stored SMTP
 * credentials that passed an SMTP login. The secret starts as a placeholder, and the rotation the
 * schedule starts runs asynchronously: without this, `cdk deploy` would end (and an app stack that
 * reads the secret would deploy and boot) before any credentials exist.
 *
 * Ready means AWSPREVIOUS exists: Secrets Manager puts it on the version AWSCURRENT leaves, which
 * happens first when the rotation's finishSecret moves AWSCURRENT to the tested version. Read with
 * DescribeSecret, so this function never reads the password.
 *
 * Only a secret created less than an hour before the wait starts is waited on, as in the deploy
 * that creates both. An older one (a stack upgraded to a release that adds this) is not: a rotation
 * that stopped long ago would otherwise fail, and roll back, the very deploy that brings its fix.
 * The credentials health check reports such a secret.
 */

/** Between reads of the secret: a rotation takes tens of seconds (new IAM keys reach SES slowly). */
export const POLL_MS = 5000;
/** A secret created longer ago than this predates the deploy that creates this resource. */
export const NEW_SECRET_MS = 60 * 60 * 1000;
/** How long reading the rotation log may take: the answer to CloudFormation must still go out. */
export const LOG_READ_MS = 15_000;
/** What Lambda logs for an invocation that reached its timeout. */
const TIMED_OUT = 'Task timed out';
/** At most this much of a logged error message goes into the failure reason. */
const REASON_ERROR_CHARS = 500;

export interface ReadyClients {
  readonly secretsManager: SecretsManagerClient;
  readonly logs: CloudWatchLogsClient;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
}

export async function handleEvent(
  event: CloudFormationCustomResourceEvent,
  clients: ReadyClients,
  log: Logger,
  clock: Clock,
  /** When to stop waiting (epoch ms): the function must still answer CloudFormation after it. */
  deadline: number,
): Promise<CustomResourceResult> {
  const secretId = String(event.ResourceProperties[SECRET_ID] ?? '');
  const physicalId = `credentials-ready-${secretId}`;
  // A failed Update answers with the id it was given (as aws-cdk's provider framework does): a new
  // id reads as a replacement, and CloudFormation keeps it and later deletes it (aws/aws-cdk#30012).
  const failedId = event.RequestType === 'Update' ? event.PhysicalResourceId : physicalId;
  if (
    event.RequestType === 'Delete' ||
    (event.RequestType === 'Update' && event.OldResourceProperties[SECRET_ID] === secretId)
  ) {
    return { Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId };
  }

  const started = clock.now();
  const success = { Status: 'SUCCESS', PhysicalResourceId: physicalId } as const;
  let createdAt: number | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      const secret = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
      lastError = undefined;
      createdAt = secret.CreatedDate?.getTime();
      // Deleted under the wait: CloudFormation cancelled this Create (another resource failed) and
      // rolls back. Nothing is left to wait for.
      if (secret.DeletedDate) return gone(failedId, secretId, log);
      const stages = Object.values(secret.VersionIdsToStages ?? {}).flat();
      if (stages.includes('AWSPREVIOUS')) {
        log.info('the secret holds tested SMTP credentials', {
          secretId,
          waitedSeconds: Math.round((clock.now() - started) / 1000),
        });
        return success;
      }
      if (createdAt !== undefined && started - createdAt > NEW_SECRET_MS) {
        log.warn('the secret predates this resource and holds no credentials yet: not waiting for them', {
          secretId,
          createdAt: new Date(createdAt).toISOString(),
        });
        return success;
      }
    } catch (error) {
      if ((error as Error).name === 'ResourceNotFoundException') return gone(failedId, secretId, log);
      // A role made in this deploy may not be usable for some seconds (IAM is eventually consistent).
      lastError = error;
      log.warn('could not read the secret: trying again', { secretId, ...describeError(error) });
    }
    if (clock.now() + POLL_MS > deadline) break;
    await clock.sleep(POLL_MS);
  }

  const minutes = Number(((clock.now() - started) / 60_000).toFixed(1));
  const logGroup = String(event.ResourceProperties[ROTATION_LOG_GROUP] ?? '');
  const cause =
    (await lastStepFailure(clients.logs, logGroup, createdAt ?? started, log, clock)) ??
    (lastError === undefined
      ? undefined
      : `could not read the secret: ${(lastError as Error).name}: ${(lastError as Error).message}`);
  const reason =
    `The first rotation did not store SMTP credentials in ${secretId} within ${minutes} minutes` +
    (cause ? `; the last error: ${cause}` : '') +
    `. The rotation function's log group ${logGroup} holds each attempt until the rollback deletes it with what this deploy created: fix the cause, then deploy again.`;
  log.error('the secret still holds no SMTP credentials', { secretId, minutes, cause });
  return { Status: 'FAILED', Reason: reason, PhysicalResourceId: failedId };
}

function gone(physicalId: string, secretId: string, log: Logger): CustomResourceResult {
  log.warn('the secret was deleted while waiting for it: the stack is rolling back', { secretId });
  return {
    Status: 'FAILED',
    Reason: `The secret ${secretId} was deleted before it held SMTP credentials (the deploy is rolling back)`,
    PhysicalResourceId: physicalId,
  };
}

/**
 * The step and message of the last failed rotation step logged since `since`, as
 * "testSecret: <message>", or the timeout that stopped the function; undefined when none was
 * logged or the log cannot be read in time. Only those two fields are copied: the logger redacts
 * fields that could hold a secret, and the message is what the operator reads in that log anyway.
 */
async function lastStepFailure(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  since: number,
  log: Logger,
  clock: Clock,
): Promise<string | undefined> {
  if (!logGroupName) return undefined;
  let last: string | undefined;
  let nextToken: string | undefined;
  // Within LOG_READ_MS, whatever the SDK's retries do: the answer goes out after this.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), LOG_READ_MS);
  const stopAt = clock.now() + LOG_READ_MS;
  try {
    // Phrases, not a JSON selector: Lambda's text log format puts a prefix before the JSON. A few
    // pages at most: they match only the failed steps and timeouts of this secret's function.
    for (let page = 0; page < 10 && clock.now() < stopAt; page++) {
      const result = await logs.send(
        new FilterLogEventsCommand({
          logGroupName,
          startTime: since,
          filterPattern: `?"${ROTATION_STEP_FAILED}" ?"${TIMED_OUT}"`,
          nextToken,
        }),
        { abortSignal: abort.signal },
      );
      for (const e of result.events ?? []) last = e.message ?? last;
      nextToken = result.nextToken;
      if (!nextToken) break;
    }
  } catch (error) {
    log.warn('could not read the rotation log', { logGroupName, ...describeError(error) });
    return undefined;
  } finally {
    clearTimeout(timer);
  }
  if (last === undefined) return undefined;
  // Lambda's own line when the function ran out of time (no step could log its failure).
  const timedOut = last.match(/Task timed out after [\d.]+ seconds/);
  if (timedOut) return `the rotation function stopped: ${timedOut[0]}`;
  const entry = loggedEntry(last);
  if (!entry) return undefined;
  const text = `${String(entry.step ?? 'a step')}: ${String(entry.errorMessage ?? entry.errorName ?? 'no message')}`;
  return text.length > REASON_ERROR_CHARS ? `${text.slice(0, REASON_ERROR_CHARS - 1)}…` : text;
}

/**
 * The logger's JSON object in a log event: behind Lambda's timestamp, request id and level in the
 * text log format, or as the string "message" of Lambda's own object in the JSON log format.
 */
function loggedEntry(line: string): Record<string, unknown> | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed = JSON.parse(line.slice(start)) as Record<string, unknown>;
    const inner = parsed.message;
    if (parsed.step === undefined && typeof inner === 'string' && inner.startsWith('{')) {
      return loggedEntry(inner);
    }
    return parsed;
  } catch {
    return undefined;
  }
}
