import { DeleteAccessKeyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { describeError, Logger } from '../shared/logger';

/*
 * Custom resource that removes the SMTP user's access keys when the stack deletes the user.
 * The keys are made by the rotation function, not by CloudFormation, and IAM refuses to delete
 * a user that still has keys: without this, `cdk destroy` fails after the first rotation.
 */

export interface CleanupResult {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
}

export async function handleEvent(
  event: CloudFormationCustomResourceEvent,
  iam: IAMClient,
  log: Logger,
): Promise<CleanupResult> {
  const userName = String(event.ResourceProperties.UserName ?? '');
  const physicalId = `access-keys-of-${userName}`;
  if (event.RequestType !== 'Delete') return { Status: 'SUCCESS', PhysicalResourceId: physicalId };
  try {
    const { AccessKeyMetadata: keys = [] } = await iam.send(
      new ListAccessKeysCommand({ UserName: userName }),
    );
    for (const key of keys) {
      await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: key.AccessKeyId }));
      log.info('deleted access key before the user is deleted', { userName, accessKeyId: key.AccessKeyId });
    }
    return { Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId };
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') {
      return { Status: 'SUCCESS', PhysicalResourceId: event.PhysicalResourceId };
    }
    log.error('could not delete the access keys', { userName, ...describeError(error) });
    return {
      Status: 'FAILED',
      Reason: `Could not delete the access keys of ${userName}: ${(error as Error).message}`,
      PhysicalResourceId: event.PhysicalResourceId,
    };
  }
}

/** CloudFormation's response document for the pre-signed ResponseURL. */
export function responseBody(
  event: CloudFormationCustomResourceEvent,
  result: CleanupResult,
  logStream: string,
): string {
  return JSON.stringify({
    Status: result.Status,
    Reason: result.Reason ?? `See CloudWatch log stream ${logStream}`,
    PhysicalResourceId: result.PhysicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
}
