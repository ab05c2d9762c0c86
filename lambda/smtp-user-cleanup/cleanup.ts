import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DeleteAccessKeyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { isTransientAwsError } from '../shared/aws-errors';
import { retried } from '../shared/retry';
import type { CustomResourceResult } from '../shared/custom-resource';
import { describeError, Logger } from '../shared/logger';
import { KEEP_KEYS_ON_ROLLBACK, KEEP_KEYS_ON_STACK_DELETE } from './properties';

/*
 * Custom resource that removes the SMTP user's access keys when the stack deletes the user.
 * The keys are made by the rotation function, not by CloudFormation, and IAM refuses to delete
 * a user that still has keys: without this, `cdk destroy` fails after the first rotation.
 *
 * CloudFormation also sends Delete when only this resource goes while the user stays: the
 * removal policy changed to retain (the resource leaves the template), a failed deploy rolls back
 * the resource it had just created, a refactor changed its logical id. Deleting the keys then
 * would stop every app. So the keys go while the whole stack is deleted (cdk destroy, or the
 * rollback of a failed first deploy), and in the rollback of an update that created the user
 * together with this resource (SesSmtp added to a stack whose update then failed: the rollback
 * deletes that user, which must not be left behind with a live key). In every other case they stay.
 *
 * Whether the user came with this resource is known at Create: a user made in the same deploy has
 * no keys yet (the rotation that makes them waits for this resource). The physical id records it.
 * A Delete whose physical id this function did not give is of a Create that never answered: one
 * CloudFormation cancelled (another resource failed) sends a physical id of CloudFormation's own
 * (aws/aws-cdk#36951). Its user counts as older: no rollback may delete the keys of a user that
 * stays, and a user made with this resource has none yet (the schedule waits for its Create).
 *
 * With a retain policy (KEEP_KEYS_ON_STACK_DELETE), a stack deletion keeps the user, and its keys
 * stay with it; the rollback of the deploy that created the user still deletes it (CloudFormation's
 * RetainExceptOnCreate), and its keys go first.
 */

/** How each physical id this function gives starts (then the user name, then a suffix or none). */
export const PHYSICAL_ID_PREFIX = 'access-keys-of-';
/** The physical id's suffix when the user already had keys at Create: it is older than this resource. */
export const USER_PREDATES = '/user-predates-this-resource';
/**
 * The physical id's suffix when the user's keys could not be listed at Create: counted as older
 * (no rollback deletes keys of a user that may stay), but not trusted where that is not enough.
 */
export const USER_AGE_UNKNOWN = '/user-age-unknown';

export type CleanupResult = CustomResourceResult;
/** Where it was before the wait shared it. */
export { responseBody } from '../shared/custom-resource';

export interface CleanupClients {
  readonly iam: IAMClient;
  readonly cloudformation: CloudFormationClient;
}

/** Waits between reads of the stack's status; a test passes one that does not wait. */
export type Sleep = (ms: number) => Promise<unknown>;
/**
 * Waits before each new read of the stack status or the keys, whatever the error (this function's
 * role may be minutes old, SesSmtp added to a stack in this deploy, and IAM is eventually
 * consistent): 14 s in all, within the function's minute.
 */
const STATUS_RETRY_WAITS_MS = [2000, 4000, 8000];
/**
 * Waits before each new try of deleting the keys after IAM failed for now (throttled, 5xx) beyond
 * the SDK's own retries: a failure fails the stack deletion, or the rollback (ROLLBACK_FAILED).
 */
const KEY_RETRY_WAITS_MS = [1000, 3000];
/** Before listing the keys a second time: longer than a rotation step takes to make a key. */
export const RELIST_AFTER_MS = 10_000;

export async function handleEvent(
  event: CloudFormationCustomResourceEvent,
  clients: CleanupClients,
  log: Logger,
  wait: Sleep = sleep,
): Promise<CleanupResult> {
  const userName = String(event.ResourceProperties.UserName ?? '');
  if (event.RequestType === 'Update' && event.OldResourceProperties.UserName === userName) {
    return { Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId };
  }
  if (event.RequestType !== 'Delete') {
    return { Status: 'SUCCESS', PhysicalResourceId: await physicalIdFor(userName, clients.iam, log, wait) };
  }
  const success = { Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId } as const;

  const keepOnStackDelete = event.ResourceProperties[KEEP_KEYS_ON_STACK_DELETE] === 'true';
  const keepOnRollback = event.ResourceProperties[KEEP_KEYS_ON_ROLLBACK] === 'true';
  const userHadKeys = event.PhysicalResourceId.endsWith(USER_PREDATES);
  const userPredates =
    userHadKeys ||
    event.PhysicalResourceId.endsWith(USER_AGE_UNKNOWN) ||
    !event.PhysicalResourceId.startsWith(PHYSICAL_ID_PREFIX);
  let stackStatus: string | undefined;
  try {
    const { Stacks: stacks = [] } = await retried(
      () => clients.cloudformation.send(new DescribeStacksCommand({ StackName: event.StackId })),
      wait,
      STATUS_RETRY_WAITS_MS,
    );
    stackStatus = stacks[0]?.StackStatus;
  } catch (error) {
    // Unknown. When no stack operation could delete the user with keys (retain, and a user that
    // had keys before this resource, or one kept by rollbacks too), keeping them is right
    // whatever the status. Otherwise the deletion fails here, to be retried: CloudFormation sends
    // Delete again to a resource whose deletion failed, while a stack deletion that went on would
    // stop at the user (DeleteConflict) with this resource gone, the keys left for a person to
    // delete.
    log.warn('could not read the stack status: the access keys stay', {
      userName,
      ...describeError(error),
    });
    if (keepOnStackDelete && (userHadKeys || keepOnRollback)) return success;
    return {
      Status: 'FAILED',
      Reason: `Could not read the status of the stack (${(error as Error).name}), so the access keys of ${userName} stay: retry the operation`,
      PhysicalResourceId: event.PhysicalResourceId,
    };
  }
  const userGoes =
    (stackStatus === 'DELETE_IN_PROGRESS' && !keepOnStackDelete) ||
    (stackStatus === 'ROLLBACK_IN_PROGRESS' && !keepOnRollback) ||
    (stackStatus?.startsWith('UPDATE_ROLLBACK') === true && !userPredates && !keepOnRollback);
  if (!userGoes) {
    log.info('the stack is not being deleted, so the user stays: its access keys stay', {
      userName,
      stackStatus,
    });
    return success;
  }

  // Listed again on each try: what a failed try deleted is gone from the list.
  const deleteAll = () =>
    retried(
      () => deleteKeys(userName, clients.iam, log, stackStatus),
      wait,
      KEY_RETRY_WAITS_MS,
      isTransientAwsError,
    );
  try {
    await deleteAll();
    // In a rollback the first rotation may still be running (the deploy failed while it retried):
    // a step already past its check when the schedule went can still make a key, and IAM would
    // then refuse to delete the user. Listed again. A stack deletion is not made to wait: it meets
    // a rotation in flight only by a rare coincidence (minutes after a first deploy kept with
    // --no-rollback), and then fails on the user (DeleteConflict) until that key is deleted by hand.
    if (stackStatus?.includes('ROLLBACK')) {
      await wait(RELIST_AFTER_MS);
      await deleteAll();
    }
    return success;
  } catch (error) {
    // From ListAccessKeys: the user is gone, and its keys with it.
    if ((error as Error).name === 'NoSuchEntityException') return success;
    log.error('could not delete the access keys', { userName, ...describeError(error) });
    return {
      Status: 'FAILED',
      Reason: `Could not delete the access keys of ${userName}: ${(error as Error).message}`,
      PhysicalResourceId: event.PhysicalResourceId,
    };
  }
}

/** Deletes every access key of the user (ListAccessKeys, then DeleteAccessKey each). */
async function deleteKeys(userName: string, iam: IAMClient, log: Logger, stackStatus?: string) {
  const { AccessKeyMetadata: keys = [] } = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  for (const key of keys) {
    try {
      await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: key.AccessKeyId }));
    } catch (error) {
      // IAM lists a deleted key for a while (eventual consistency): it is gone, the next one is not.
      if ((error as Error).name !== 'NoSuchEntityException') throw error;
      log.info('access key already deleted', { userName, accessKeyId: key.AccessKeyId });
      continue;
    }
    log.info('deleted access key before the user is deleted', {
      userName,
      accessKeyId: key.AccessKeyId,
      stackStatus,
    });
  }
}

/**
 * The physical id for a user: with USER_PREDATES when it has keys already, USER_AGE_UNKNOWN when
 * that stays unknown (read with retries: an unknown age keeps the keys of a user an update's
 * rollback deletes, and IAM then refuses to delete the user).
 */
async function physicalIdFor(userName: string, iam: IAMClient, log: Logger, wait: Sleep): Promise<string> {
  const id = PHYSICAL_ID_PREFIX + userName;
  try {
    const keys = await retried(
      async () => {
        try {
          const listed = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
          return listed.AccessKeyMetadata ?? [];
        } catch (error) {
          // A user created seconds ago may not be visible yet: it has no keys then.
          if ((error as Error).name === 'NoSuchEntityException') return [];
          throw error;
        }
      },
      wait,
      STATUS_RETRY_WAITS_MS,
    );
    return keys.length ? id + USER_PREDATES : id;
  } catch (error) {
    // Unknown: the safe side is "older", so that no rollback deletes keys of a user that stays.
    log.warn('could not list the access keys: the user counts as older than this resource', {
      userName,
      ...describeError(error),
    });
    return id + USER_AGE_UNKNOWN;
  }
}
