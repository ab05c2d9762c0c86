import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DeleteAccessKeyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  handleEvent,
  RELIST_AFTER_MS,
  USER_AGE_UNKNOWN,
  USER_PREDATES,
} from '../../lambda/smtp-user-cleanup/cleanup';
import { createLogger } from '../../lambda/shared/logger';
import { awsError, FakeIam, serviceUnavailable, throttling } from '../support/fake-aws';

const iamMock = mockClient(IAMClient);
const cfnMock = mockClient(CloudFormationClient);
const USER = 'SesSmtp-test-SmtpUser';
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/SesSmtp-test/1';
let iam: FakeIam;
let logged: string[];
const log = createLogger({}, (line) => void logged.push(line));
const clients = () => ({ iam: new IAMClient({}), cloudformation: new CloudFormationClient({}) });
/** Waits between status reads without waiting. */
const noWait = async () => {};

/** CloudFormation answers DescribeStacks for this stack only, with `status`. */
function stackStatus(status: string) {
  cfnMock.on(DescribeStacksCommand).callsFake(({ StackName }: { StackName?: string }) => {
    if (StackName !== STACK_ID) throw new Error(`unexpected stack ${StackName}`);
    return { Stacks: [{ StackName: 'SesSmtp-test', StackStatus: status, CreationTime: new Date() }] };
  });
}

const event = (RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent =>
  ({
    RequestType,
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:cleanup',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/x',
    StackId: STACK_ID,
    RequestId: 'req-1',
    LogicalResourceId: 'SmtpUserKeyCleanup',
    ResourceType: 'Custom::SmtpUserKeyCleanup',
    ResourceProperties: { ServiceToken: 'x', UserName: USER },
    PhysicalResourceId: `access-keys-of-${USER}`,
  }) as CloudFormationCustomResourceEvent;

/** A Delete of the resource CloudFormation knows by `physicalId`. */
const deleting = (physicalId: string) =>
  ({ ...event('Delete'), PhysicalResourceId: physicalId }) as CloudFormationCustomResourceEvent;

beforeEach(() => {
  logged = [];
  cfnMock.reset();
  stackStatus('DELETE_IN_PROGRESS');
  iamMock.reset();
  iam = new FakeIam(USER);
  iamMock.on(ListAccessKeysCommand).callsFake((i) => iam.listAccessKeys(i));
  iamMock.on(DeleteAccessKeyCommand).callsFake((i) => iam.deleteAccessKey(i));
});

describe('SMTP user key cleanup', () => {
  // A replaced SMTP user (CloudFormation gives the new user's name in an Update): the id, and the
  // marker of whether the user had keys before this stack, are the new user's.
  test("an Update to another user takes that user's id; one to the same user keeps its id", async () => {
    const NEW_USER = `${USER}-2`;
    iam = new FakeIam(NEW_USER);
    iamMock.on(ListAccessKeysCommand).callsFake((i) => iam.listAccessKeys(i));
    const update = (from: string, to: string) =>
      ({
        ...event('Update'),
        OldResourceProperties: { ServiceToken: 'x', UserName: from },
        ResourceProperties: { ServiceToken: 'x', UserName: to },
      }) as CloudFormationCustomResourceEvent;
    expect((await handleEvent(update(USER, NEW_USER), clients(), log, noWait)).PhysicalResourceId).toBe(
      `access-keys-of-${NEW_USER}`,
    );
    expect((await handleEvent(update(USER, USER), clients(), log, noWait)).PhysicalResourceId).toBe(
      `access-keys-of-${USER}`,
    );
  });

  test.each(['DELETE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS'])(
    'on Delete while the stack is deleted (%s), every key of the user goes so IAM can delete the user',
    async (status) => {
      stackStatus(status);
      iam.createAccessKey({ UserName: USER });
      iam.createAccessKey({ UserName: USER });
      const result = await handleEvent(event('Delete'), clients(), log, noWait);
      expect(result).toEqual({ Status: 'SUCCESS', PhysicalResourceId: `access-keys-of-${USER}` });
      expect(iam.keys.size).toBe(0);
    },
  );

  // The rollback cancels the rotation schedule just before this resource is deleted, but a rotation
  // step already past its check can still make a key; IAM would then refuse to delete the user.
  // In a rollback the first rotation may still run (the deploy failed while it retried): a step
  // already past its check when the schedule went can still make a key, and IAM would refuse to
  // delete the user.
  test.each([
    'ROLLBACK_IN_PROGRESS',
    'UPDATE_ROLLBACK_IN_PROGRESS',
    'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
  ])('%s: a key made while the keys are deleted goes too, on a second listing', async (status) => {
    stackStatus(status);
    iam.createAccessKey({ UserName: USER });
    const waits: number[] = [];
    const wait = async (ms: number) => {
      waits.push(ms);
      iam.createAccessKey({ UserName: USER });
    };
    const result = await handleEvent(event('Delete'), clients(), log, wait);
    expect(result).toEqual({ Status: 'SUCCESS', PhysicalResourceId: `access-keys-of-${USER}` });
    expect(waits).toEqual([RELIST_AFTER_MS]);
    expect(iam.keys.size).toBe(0);
    expect(iamMock.commandCalls(DeleteAccessKeyCommand)).toHaveLength(2);
  });

  test('a stack deletion lists the keys once and does not wait', async () => {
    iam.createAccessKey({ UserName: USER });
    const waits: number[] = [];
    const result = await handleEvent(event('Delete'), clients(), log, async (ms) => void waits.push(ms));
    expect(result.Status).toBe('SUCCESS');
    expect(waits).toEqual([]);
    expect(iamMock.commandCalls(ListAccessKeysCommand)).toHaveLength(1);
    expect(iam.keys.size).toBe(0);
  });

  // The user stays in each of these; deleting its keys would stop every app that sends mail.
  test.each([
    [
      'the removal policy changed to retain, so the resource left the template',
      'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
      `access-keys-of-${USER}`,
    ],
    [
      'a failed deploy rolls back this resource, which it created for an older user (switch to destroy, rename)',
      'UPDATE_ROLLBACK_IN_PROGRESS',
      `access-keys-of-${USER}${USER_PREDATES}`,
    ],
    [
      'a rolled-back deploy cleans up that resource',
      'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
      `access-keys-of-${USER}${USER_PREDATES}`,
    ],
  ])('on Delete when %s (%s), the keys stay', async (_why, status, physicalId) => {
    stackStatus(status);
    const keys = [iam.createAccessKey({ UserName: USER }), iam.createAccessKey({ UserName: USER })];
    const result = await handleEvent(deleting(physicalId), clients(), log, noWait);
    expect(result).toEqual({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    expect([...iam.keys.keys()]).toEqual(keys.map((k) => k.AccessKey.AccessKeyId));
    expect(iamMock.calls()).toHaveLength(0);
    expect(logged.join('\n')).toContain(`"stackStatus":"${status}"`);
  });

  // SesSmtp added to a stack, the rotation made a key, a later resource failed: the rollback
  // deletes the user made with this resource, which must not stay behind with a live key.
  test.each(['UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'])(
    'on Delete in %s of the deploy that made the user with this resource, its keys go',
    async (status) => {
      const created = await handleEvent(event('Create'), clients(), log, noWait);
      expect(created.PhysicalResourceId).toBe(`access-keys-of-${USER}`);
      iam.createAccessKey({ UserName: USER });
      stackStatus(status);
      await handleEvent(deleting(created.PhysicalResourceId), clients(), log, noWait);
      expect(iam.keys.size).toBe(0);
    },
  );

  // FAILED, not SUCCESS: CloudFormation sends Delete again when the operation is retried, while
  // a stack deletion that went on would stop at the user (DeleteConflict) with this resource gone.
  test('when the stack status cannot be read, the keys stay and the deletion fails, to be retried', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(serviceUnavailable());
    iam.createAccessKey({ UserName: USER });
    const waits: number[] = [];
    const result = await handleEvent(event('Delete'), clients(), log, async (ms) => void waits.push(ms));
    expect(result).toEqual({
      Status: 'FAILED',
      Reason: `Could not read the status of the stack (ServiceUnavailable), so the access keys of ${USER} stay: retry the operation`,
      PhysicalResourceId: `access-keys-of-${USER}`,
    });
    // Read four times, 14 s apart in all: a role made in the same deploy may need that.
    expect(cfnMock.commandCalls(DescribeStacksCommand)).toHaveLength(4);
    expect(waits).toEqual([2000, 4000, 8000]);
    expect(iam.keys.size).toBe(1);
    expect(logged.some((l) => l.includes('could not read the stack status: the access keys stay'))).toBe(
      true,
    );
    cfnMock.reset();
    stackStatus('DELETE_IN_PROGRESS');
    expect(await handleEvent(event('Delete'), clients(), log, noWait)).toMatchObject({ Status: 'SUCCESS' });
    expect(iam.keys.size).toBe(0);
  });

  test('a status that can be read on a later try decides as usual', async () => {
    cfnMock
      .on(DescribeStacksCommand)
      .rejectsOnce(Object.assign(new Error('not yet'), { name: 'AccessDenied' }))
      .resolves({
        Stacks: [{ StackName: 'SesSmtp-test', StackStatus: 'DELETE_IN_PROGRESS', CreationTime: new Date() }],
      });
    iam.createAccessKey({ UserName: USER });
    expect(await handleEvent(event('Delete'), clients(), log, noWait)).toMatchObject({ Status: 'SUCCESS' });
    expect(iam.keys.size).toBe(0);
  });

  // Retain, with a user older than this resource: no stack operation deletes that user, so its
  // keys stay whatever the status, and a rollback (an upgrade that added this resource) goes on.
  // A user whose keys could not be listed at Create may be one made in that deploy, which its
  // rollback deletes: only a user that had keys is known to stay.
  test.each([
    [USER_PREDATES, 'SUCCESS'],
    [USER_AGE_UNKNOWN, 'FAILED'],
  ])('status unknown, retain, physical id ending %s: %s', async (suffix, status) => {
    cfnMock.on(DescribeStacksCommand).rejects(serviceUnavailable());
    iam.createAccessKey({ UserName: USER });
    const retained = {
      ...deleting(`access-keys-of-${USER}${suffix}`),
      ResourceProperties: { ServiceToken: 'x', UserName: USER, KeepKeysOnStackDelete: 'true' },
    } as CloudFormationCustomResourceEvent;
    expect(await handleEvent(retained, clients(), log, noWait)).toMatchObject({ Status: status });
    expect(iam.keys.size).toBe(1);
  });

  // The other two sides of that rule: plain RETAIN keeps the user through every operation, so its
  // keys stay whatever the status; without a retain policy a stack deletion deletes even a user
  // older than this resource, so an unknown status fails, to be retried.
  test.each([
    [
      'RETAIN (KeepKeysOnRollback), a user made with this resource',
      'SUCCESS',
      { KeepKeysOnStackDelete: 'true', KeepKeysOnRollback: 'true' },
      '',
    ],
    ['DESTROY, a user that had keys', 'FAILED', {}, USER_PREDATES],
  ])('status unknown, %s: %s, the keys stay', async (_, status, keep, suffix) => {
    cfnMock.on(DescribeStacksCommand).rejects(serviceUnavailable());
    iam.createAccessKey({ UserName: USER });
    const e = {
      ...deleting(`access-keys-of-${USER}${suffix}`),
      ResourceProperties: { ServiceToken: 'x', UserName: USER, ...keep },
    } as CloudFormationCustomResourceEvent;
    expect(await handleEvent(e, clients(), log, noWait)).toMatchObject({ Status: status });
    expect(iam.keys.size).toBe(1);
  });

  // A Create still running when another resource failed is cancelled, and its Delete carries a
  // physical id CloudFormation made up (aws/aws-cdk#36951): not one that says the user came with
  // this resource. SesSmtp upgraded to a release that adds this resource to a user with keys, a
  // later resource failed: the rollback keeps that user, and its keys (the apps' credentials).
  const cancelledId = 'SesSmtp-test-SmtpCredentialsKeyCleanup-1A2B3C4D5E6F';
  test.each(['UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS'])(
    'a Delete in %s under a physical id CloudFormation made up (a cancelled Create) keeps the keys',
    async (status) => {
      stackStatus(status);
      iam.createAccessKey({ UserName: USER });
      expect(await handleEvent(deleting(cancelledId), clients(), log, noWait)).toEqual({
        Status: 'SUCCESS',
        PhysicalResourceId: cancelledId,
      });
      expect(iam.keys.size).toBe(1);
      expect(iamMock.calls()).toHaveLength(0);
    },
  );

  // The rollback of a first deploy, and a stack deletion, delete the user whatever its age.
  test.each(['ROLLBACK_IN_PROGRESS', 'DELETE_IN_PROGRESS'])(
    'a Delete in %s under a physical id CloudFormation made up still deletes the keys',
    async (status) => {
      stackStatus(status);
      iam.createAccessKey({ UserName: USER });
      expect(await handleEvent(deleting(cancelledId), clients(), log, noWait)).toMatchObject({
        Status: 'SUCCESS',
      });
      expect(iam.keys.size).toBe(0);
    },
  );

  test('a user of unknown age counts as older when the status is known: an update rollback keeps its keys', async () => {
    stackStatus('UPDATE_ROLLBACK_IN_PROGRESS');
    iam.createAccessKey({ UserName: USER });
    const unknown = deleting(`access-keys-of-${USER}${USER_AGE_UNKNOWN}`);
    expect(await handleEvent(unknown, clients(), log, noWait)).toMatchObject({ Status: 'SUCCESS' });
    expect(iam.keys.size).toBe(1);
  });

  // Plain RETAIN keeps the user through the rollback of the deploy that made it: its keys stay.
  test.each(['ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'DELETE_IN_PROGRESS'])(
    'with KeepKeysOnRollback (RETAIN), on Delete while the stack is %s, the keys stay',
    async (status) => {
      stackStatus(status);
      iam.createAccessKey({ UserName: USER });
      const kept = {
        ...event('Delete'),
        ResourceProperties: {
          ServiceToken: 'x',
          UserName: USER,
          KeepKeysOnStackDelete: 'true',
          KeepKeysOnRollback: 'true',
        },
      } as CloudFormationCustomResourceEvent;
      expect(await handleEvent(kept, clients(), log, noWait)).toMatchObject({ Status: 'SUCCESS' });
      expect(iam.keys.size).toBe(1);
    },
  );

  // A retain policy: the user outlives a stack deletion, and keeps its keys (the apps go on
  // sending); the rollback of the deploy that created it deletes it (RetainExceptOnCreate).
  test.each([
    ['DELETE_IN_PROGRESS', 2],
    ['ROLLBACK_IN_PROGRESS', 0],
  ])(
    'with KeepKeysOnStackDelete, on Delete while the stack is %s, %d keys are left',
    async (status, left) => {
      stackStatus(status);
      iam.createAccessKey({ UserName: USER });
      iam.createAccessKey({ UserName: USER });
      const retained = {
        ...event('Delete'),
        ResourceProperties: { ServiceToken: 'x', UserName: USER, KeepKeysOnStackDelete: 'true' },
      } as CloudFormationCustomResourceEvent;
      expect(await handleEvent(retained, clients(), log, noWait)).toEqual({
        Status: 'SUCCESS',
        PhysicalResourceId: `access-keys-of-${USER}`,
      });
      expect(iam.keys.size).toBe(left);
    },
  );

  test('on Create the physical id records whether the user is older than this resource (has keys)', async () => {
    expect(await handleEvent(event('Create'), clients(), log, noWait)).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: `access-keys-of-${USER}`,
    });
    iam.createAccessKey({ UserName: USER });
    expect((await handleEvent(event('Create'), clients(), log, noWait)).PhysicalResourceId).toBe(
      `access-keys-of-${USER}${USER_PREDATES}`,
    );
    // Not visible yet (a user made seconds ago): no keys. Unknown: a suffix of its own.
    const unseen = { ...event('Create'), ResourceProperties: { ServiceToken: 'x', UserName: 'just-made' } };
    expect((await handleEvent(unseen, clients(), log, noWait)).PhysicalResourceId).toBe(
      'access-keys-of-just-made',
    );
    // Refused at first (a role minutes old), then read: the waits of the status read.
    const waits: number[] = [];
    const recordWait = async (ms: number) => waits.push(ms);
    const denied = () => awsError('AccessDenied', 'not authorized to perform iam:ListAccessKeys', 403);
    iam.faults.failNext('ListAccessKeys', denied());
    iam.faults.failNext('ListAccessKeys', serviceUnavailable());
    expect((await handleEvent(event('Create'), clients(), log, recordWait)).PhysicalResourceId).toBe(
      `access-keys-of-${USER}${USER_PREDATES}`,
    );
    expect(waits).toEqual([2000, 4000]);
    for (let i = 0; i < 4; i++) iam.faults.failNext('ListAccessKeys', denied());
    expect((await handleEvent(event('Create'), clients(), log, noWait)).PhysicalResourceId).toBe(
      `access-keys-of-${USER}${USER_AGE_UNKNOWN}`,
    );
    expect(iam.keys.size).toBe(1);
    expect(iamMock.commandCalls(DeleteAccessKeyCommand)).toHaveLength(0);
    expect(cfnMock.calls()).toHaveLength(0);
  });

  test('on Update of the same user the physical id stays (a new one would replace the resource)', async () => {
    iam.createAccessKey({ UserName: USER });
    const update = {
      ...event('Update'),
      PhysicalResourceId: `access-keys-of-${USER}`,
      OldResourceProperties: { ServiceToken: 'x', UserName: USER },
    } as CloudFormationCustomResourceEvent;
    expect(await handleEvent(update, clients(), log, noWait)).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: `access-keys-of-${USER}`,
    });
    expect(iamMock.calls()).toHaveLength(0);
    expect(cfnMock.calls()).toHaveLength(0);
  });

  test('a user that is already gone is fine', async () => {
    const result = await handleEvent(
      { ...event('Delete'), ResourceProperties: { ServiceToken: 'x', UserName: 'gone' } },
      clients(),
      log,
    );
    expect(result.Status).toBe('SUCCESS');
  });

  test('a key IAM still lists but already deleted is skipped, and the keys after it still go', async () => {
    const gone = iam.createAccessKey({ UserName: USER }).AccessKey.AccessKeyId;
    iam.createAccessKey({ UserName: USER });
    // IAM's list lags a deletion (eventual consistency): it still names the deleted key first.
    const listed = iam.listAccessKeys({ UserName: USER });
    iam.deleteAccessKey({ UserName: USER, AccessKeyId: gone });
    iamMock.on(ListAccessKeysCommand).callsFake(() => listed);
    const result = await handleEvent(event('Delete'), clients(), log, noWait);
    expect(result.Status).toBe('SUCCESS');
    expect(iam.keys.size).toBe(0);
    expect(logged.join('\n')).toContain('access key already deleted');
    // Only the key this call deleted is logged as deleted by it.
    expect(logged.filter((l) => l.includes('deleted access key before the user is deleted'))).toHaveLength(1);
  });

  test('an IAM failure reports FAILED with a reason instead of hanging the stack', async () => {
    iam.createAccessKey({ UserName: USER });
    for (let i = 0; i < 3; i++) iam.faults.failNext('DeleteAccessKey', serviceUnavailable());
    const result = await handleEvent(event('Delete'), clients(), log, noWait);
    expect(result).toMatchObject({
      Status: 'FAILED',
      Reason: `Could not delete the access keys of ${USER}: Service is unavailable`,
    });
    expect(iam.keys.size).toBe(1);
  });

  // Beyond the SDK's own retries, a throttled or failing IAM failed the stack deletion (or left a
  // rollback in ROLLBACK_FAILED): the keys are listed and deleted again, 1 s and then 3 s later.
  test.each([
    ['ListAccessKeys', throttling],
    ['DeleteAccessKey', throttling],
    ['DeleteAccessKey', serviceUnavailable],
  ])('%s failing for now (%p) is tried again, and the keys go', async (operation, fault) => {
    iam.createAccessKey({ UserName: USER });
    iam.createAccessKey({ UserName: USER });
    iam.faults.failNext(operation, fault());
    iam.faults.failNext(operation, fault());
    const waits: number[] = [];
    const result = await handleEvent(event('Delete'), clients(), log, async (ms) => void waits.push(ms));
    expect(result).toEqual({ Status: 'SUCCESS', PhysicalResourceId: `access-keys-of-${USER}` });
    expect(iam.keys.size).toBe(0);
    expect(waits).toEqual([1000, 3000]);
  });

  test('a refusal (AccessDenied) is not tried again', async () => {
    iam.createAccessKey({ UserName: USER });
    iam.faults.failNext('DeleteAccessKey', awsError('AccessDenied', 'not authorized', 403));
    const waits: number[] = [];
    const result = await handleEvent(event('Delete'), clients(), log, async (ms) => void waits.push(ms));
    expect(result).toMatchObject({ Status: 'FAILED' });
    expect(waits).toEqual([]);
  });
});
