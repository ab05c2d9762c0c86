import { randomBytes } from 'node:crypto';

/*
 * Stateful fakes of the AWS behaviour that rotation and the health checks depend on: access keys
 * with IAM's 2-key limit and their last use, secret versions with staging labels, SES identities,
 * configuration sets and the account, and CloudWatch's Send metric. Wired to SDK clients through
 * aws-sdk-client-mock in the tests; `failNext` injects the errors AWS can return.
 */

export function awsError(name: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

export const throttling = () => awsError('ThrottlingException', 'Rate exceeded');
export const serviceUnavailable = () => awsError('ServiceUnavailable', 'Service is unavailable', 503);

/** Queued failures per operation name, consumed one per call. */
export class Faults {
  private readonly queue = new Map<string, { error: Error; skip: number }[]>();
  /** The next call of `operation` fails with `error`; with `skip`, the call after that many succeed. */
  failNext(operation: string, error: Error, skip = 0): void {
    this.queue.set(operation, [...(this.queue.get(operation) ?? []), { error, skip }]);
  }
  check(operation: string): void {
    const pending = this.queue.get(operation);
    const first = pending?.[0];
    if (!first) return;
    if (first.skip > 0) {
      first.skip--;
      return;
    }
    pending.shift();
    throw first.error;
  }
}

export interface FakeKey {
  readonly id: string;
  readonly secret: string;
  readonly createdAt: number;
}

/** What IAM records about a key's last use (GetAccessKeyLastUsed). */
export interface FakeLastUse {
  readonly date: Date;
  readonly service: string;
  readonly region: string;
}

export class FakeIam {
  readonly faults = new Faults();
  readonly keys = new Map<string, FakeKey>();
  /** Ids of deactivated keys (Status Inactive); every other key is Active, but: */
  readonly inactive = new Set<string>();
  /** Ids of keys IAM reports as Expired (a status of AccessKeyMetadata besides the two). */
  readonly expired = new Set<string>();
  /** Last use per key id; a key without an entry was never used (IAM answers N/A). */
  readonly lastUse = new Map<string, FakeLastUse>();
  readonly deleted: string[] = [];
  /**
   * The user's inline policies (the stack's send policy), managed policies attached to it, and
   * groups: what ListUserPolicies, ListAttachedUserPolicies and ListGroupsForUser answer.
   */
  readonly inlinePolicies = new Set(['SmtpUserDefaultPolicy']);
  readonly attachedPolicies = new Set<string>();
  readonly groups = new Set<string>();
  /** Every key ever created, deleted or not. */
  readonly created: FakeKey[] = [];
  private counter = 0;
  constructor(
    readonly userName: string,
    private readonly clock: () => number = Date.now,
  ) {}

  listAccessKeys(input: { UserName?: string }) {
    this.faults.check('ListAccessKeys');
    this.checkUser(input.UserName);
    return {
      AccessKeyMetadata: [...this.keys.values()].map((k) => ({
        AccessKeyId: k.id,
        UserName: this.userName,
        Status: this.inactive.has(k.id) ? 'Inactive' : this.expired.has(k.id) ? 'Expired' : 'Active',
        CreateDate: new Date(k.createdAt),
      })),
    };
  }

  createAccessKey(input: { UserName?: string }) {
    this.faults.check('CreateAccessKey');
    this.checkUser(input.UserName);
    if (this.keys.size >= 2)
      throw awsError('LimitExceededException', 'Cannot exceed quota for AccessKeysPerUser: 2', 409);
    const key = {
      id: `AKIAFAKE${String(++this.counter).padStart(12, '0')}`,
      secret: randomBytes(30).toString('base64').slice(0, 40),
      createdAt: this.clock(),
    };
    this.keys.set(key.id, key);
    this.created.push(key);
    return {
      AccessKey: {
        UserName: this.userName,
        AccessKeyId: key.id,
        SecretAccessKey: key.secret,
        Status: 'Active',
      },
    };
  }

  deleteAccessKey(input: { UserName?: string; AccessKeyId?: string }) {
    this.faults.check('DeleteAccessKey');
    this.checkUser(input.UserName);
    if (!input.AccessKeyId || !this.keys.delete(input.AccessKeyId)) {
      throw awsError(
        'NoSuchEntityException',
        `The Access Key with id ${input.AccessKeyId} cannot be found.`,
        404,
      );
    }
    this.deleted.push(input.AccessKeyId);
    this.lastUse.delete(input.AccessKeyId);
    return {};
  }

  /** Records a use of the key, as IAM does when a request signed with it reaches a service. */
  recordUse(accessKeyId: string, use: FakeLastUse): void {
    if (!this.keys.has(accessKeyId)) throw new Error(`fake IAM: no key ${accessKeyId} to use`);
    this.lastUse.set(accessKeyId, use);
  }

  getAccessKeyLastUsed(input: { AccessKeyId?: string }) {
    this.faults.check('GetAccessKeyLastUsed');
    const key = input.AccessKeyId ? this.keys.get(input.AccessKeyId) : undefined;
    if (!key) {
      throw awsError(
        'NoSuchEntityException',
        `The Access Key with id ${input.AccessKeyId} cannot be found.`,
        404,
      );
    }
    const use = this.lastUse.get(key.id);
    // IAM's shape for a key never used: no LastUsedDate, "N/A" for service and Region.
    return {
      UserName: this.userName,
      AccessKeyLastUsed: use
        ? { LastUsedDate: use.date, ServiceName: use.service, Region: use.region }
        : { ServiceName: 'N/A', Region: 'N/A' },
    };
  }

  listUserPolicies(input: { UserName?: string }) {
    this.faults.check('ListUserPolicies');
    this.checkUser(input.UserName);
    return { PolicyNames: [...this.inlinePolicies], IsTruncated: false };
  }

  listAttachedUserPolicies(input: { UserName?: string }) {
    this.faults.check('ListAttachedUserPolicies');
    this.checkUser(input.UserName);
    const policies = [...this.attachedPolicies].map((arn) => ({
      PolicyArn: arn,
      PolicyName: arn.split('/').pop(),
    }));
    return { AttachedPolicies: policies, IsTruncated: false };
  }

  listGroupsForUser(input: { UserName?: string }) {
    this.faults.check('ListGroupsForUser');
    this.checkUser(input.UserName);
    return { Groups: [...this.groups].map((GroupName) => ({ GroupName })), IsTruncated: false };
  }

  private checkUser(userName: string | undefined) {
    if (userName !== this.userName)
      throw awsError('NoSuchEntityException', `The user with name ${userName} cannot be found.`, 404);
  }
}

interface Version {
  value?: string;
  stages: Set<string>;
  /** CreatedDate: when RotateSecret or PutSecretValue made the version. */
  created: Date;
}

export class FakeSecretsManager {
  readonly faults = new Faults();
  readonly versions = new Map<string, Version>();
  rotationEnabled = true;
  /** The rotation function DescribeSecret names (kept when rotation is turned off). */
  rotationLambdaArn: string | undefined;
  /** What DescribeSecret reports (Secrets Manager sets them when a rotation succeeds). */
  lastRotatedDate?: Date;
  nextRotationDate?: Date;
  /** Errors thrown by PutSecretValue *after* it stored the value (a timeout after commit). */
  readonly failAfterCommit: Error[] = [];
  /** When the secret was created, with its first version (DescribeSecret's CreatedDate). */
  createdDate: Date;
  /** Set when the secret is scheduled for deletion (DescribeSecret's DeletedDate). */
  deletedDate?: Date;
  constructor(
    readonly arn: string,
    initialValue: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.createdDate = new Date(clock());
    this.versions.set('initial-version', {
      value: initialValue,
      stages: new Set(['AWSCURRENT']),
      created: new Date(clock()),
    });
  }

  /** What RotateSecret does before invoking the function: a version with AWSPENDING and no value. */
  startRotation(token: string): void {
    if (!this.versions.has(token)) {
      this.moveStage('AWSPENDING', token);
      this.versions.set(token, { stages: new Set(['AWSPENDING']), created: new Date(this.clock()) });
    }
  }

  stagesOf(label: string): string | undefined {
    return [...this.versions.entries()].find(([, v]) => v.stages.has(label))?.[0];
  }

  valueAt(label: string): string | undefined {
    const id = this.stagesOf(label);
    return id ? this.versions.get(id)?.value : undefined;
  }

  describeSecret(input: { SecretId?: string }) {
    this.faults.check('DescribeSecret');
    this.checkId(input.SecretId);
    return {
      ARN: this.arn,
      CreatedDate: this.createdDate,
      ...(this.deletedDate && { DeletedDate: this.deletedDate }),
      RotationEnabled: this.rotationEnabled,
      ...(this.rotationLambdaArn && { RotationLambdaARN: this.rotationLambdaArn }),
      ...(this.lastRotatedDate && { LastRotatedDate: this.lastRotatedDate }),
      ...(this.nextRotationDate && { NextRotationDate: this.nextRotationDate }),
      VersionIdsToStages: Object.fromEntries(
        [...this.versions.entries()].filter(([, v]) => v.stages.size).map(([id, v]) => [id, [...v.stages]]),
      ),
    };
  }

  getSecretValue(input: { SecretId?: string; VersionId?: string; VersionStage?: string }) {
    this.faults.check('GetSecretValue');
    this.checkId(input.SecretId);
    const id = input.VersionId ?? this.stagesOf(input.VersionStage ?? 'AWSCURRENT');
    const version = id ? this.versions.get(id) : undefined;
    if (!id || !version?.value || (input.VersionStage && !version.stages.has(input.VersionStage))) {
      throw awsError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret value for VersionId/VersionStage",
        400,
      );
    }
    return {
      ARN: this.arn,
      VersionId: id,
      SecretString: version.value,
      VersionStages: [...version.stages],
      CreatedDate: version.created,
    };
  }

  putSecretValue(input: {
    SecretId?: string;
    ClientRequestToken?: string;
    SecretString?: string;
    VersionStages?: string[];
  }) {
    this.faults.check('PutSecretValue');
    this.checkId(input.SecretId);
    const id = input.ClientRequestToken ?? randomBytes(8).toString('hex');
    const existing = this.versions.get(id);
    if (existing?.value !== undefined) {
      if (existing.value !== input.SecretString)
        throw awsError(
          'ResourceExistsException',
          'A version with this token already exists with different content',
        );
      return { ARN: this.arn, VersionId: id };
    }
    const version = existing ?? { stages: new Set<string>(), created: new Date(this.clock()) };
    version.value = input.SecretString;
    this.versions.set(id, version);
    for (const stage of input.VersionStages ?? ['AWSCURRENT']) {
      // AWSCURRENT moved from another version leaves AWSPREVIOUS on that one (PutSecretValue's
      // VersionStages), as UpdateSecretVersionStage does.
      const holder = this.stagesOf(stage);
      if (stage === 'AWSCURRENT' && holder && holder !== id) this.moveStage('AWSPREVIOUS', holder);
      this.moveStage(stage, id);
    }
    const late = this.failAfterCommit.shift();
    if (late) throw late;
    return { ARN: this.arn, VersionId: id };
  }

  updateSecretVersionStage(input: {
    SecretId?: string;
    VersionStage?: string;
    MoveToVersionId?: string;
    RemoveFromVersionId?: string;
  }) {
    this.faults.check('UpdateSecretVersionStage');
    this.checkId(input.SecretId);
    const stage = input.VersionStage!;
    const holder = this.stagesOf(stage);
    if (input.RemoveFromVersionId && holder !== input.RemoveFromVersionId) {
      throw awsError(
        'InvalidParameterException',
        `The staging label ${stage} is not attached to version ${input.RemoveFromVersionId}`,
      );
    }
    if (holder && input.MoveToVersionId && holder !== input.RemoveFromVersionId) {
      throw awsError(
        'InvalidParameterException',
        `The staging label ${stage} is attached to ${holder}: name it in RemoveFromVersionId`,
      );
    }
    if (input.MoveToVersionId) {
      if (stage === 'AWSCURRENT' && holder) this.moveStage('AWSPREVIOUS', holder);
      this.moveStage(stage, input.MoveToVersionId);
    } else if (holder) {
      this.versions.get(holder)!.stages.delete(stage);
    }
    return { ARN: this.arn };
  }

  private moveStage(stage: string, to: string) {
    for (const v of this.versions.values()) v.stages.delete(stage);
    this.versions.get(to)?.stages.add(stage);
  }

  private checkId(id: string | undefined) {
    if (id !== this.arn)
      throw awsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret: ${id}`);
  }
}

export interface FakeIdentity {
  verifiedForSending: boolean;
  dkimStatus: 'SUCCESS' | 'PENDING' | 'FAILED' | 'TEMPORARY_FAILURE' | 'NOT_STARTED';
  /** PutEmailIdentityDkimAttributes' switch; SES keeps the status when signing is turned off. */
  dkimSigning?: boolean;
  tokens: string[];
  mailFromDomain?: string;
  mailFromStatus?: 'SUCCESS' | 'PENDING' | 'FAILED' | 'TEMPORARY_FAILURE';
  /** BehaviorOnMxFailure; USE_DEFAULT_VALUE when not given. */
  mailFromBehavior?: 'USE_DEFAULT_VALUE' | 'REJECT_MESSAGE';
  /** The identity's default configuration set (ConfigurationSetName), if any. */
  configurationSet?: string;
}

/** An event destination of a configuration set, as GetConfigurationSetEventDestinations reports it. */
export interface FakeEventDestination {
  name: string;
  enabled: boolean;
  matchingEventTypes: string[];
  /** The SNS topic it publishes to; undefined: another kind of destination (EventBridge, ...). */
  snsTopicArn?: string;
}

/** A configuration set's switches and its event destinations. */
export interface FakeConfigurationSet {
  sendingEnabled: boolean;
  /** PutConfigurationSetReputationOptions' switch. @default true (the stack turns it on) */
  reputationMetricsEnabled?: boolean;
  /** @default - the stack's: "Feedback", enabled, BOUNCE and COMPLAINT to FEEDBACK_TOPIC_ARN */
  eventDestinations?: FakeEventDestination[];
}

/** The stack's feedback topic, where its configuration set's event destination publishes. */
export const FEEDBACK_TOPIC_ARN =
  'arn:aws:sns:eu-west-1:123456789012:SesSmtp-prod-SendingFeedbackTopic-EXAMPLE';

/** The event destination the stack creates on its configuration set. */
export const feedbackDestination = (): FakeEventDestination => ({
  name: 'Feedback',
  enabled: true,
  matchingEventTypes: ['BOUNCE', 'COMPLAINT'],
  snsTopicArn: FEEDBACK_TOPIC_ARN,
});

export interface FakeAccount {
  productionAccessEnabled: boolean;
  sendingEnabled: boolean;
  enforcementStatus: 'HEALTHY' | 'PROBATION' | 'SHUTDOWN';
  reviewStatus?: 'PENDING' | 'FAILED' | 'GRANTED' | 'DENIED';
  max24HourSend: number;
  maxSendRate: number;
}

/**
 * The SES v2 state the health checks read: identities with their DKIM and MAIL FROM status,
 * configuration sets with their switches and event destinations, the account (sandbox, sending,
 * enforcement, quota). `send` records messages the way SES counts them for SentLast24Hours.
 */
export class FakeSes {
  readonly faults = new Faults();
  readonly identities = new Map<string, FakeIdentity>();
  readonly configurationSets = new Map<string, FakeConfigurationSet>();
  /** Timestamps of sent messages. */
  readonly sent: number[] = [];
  account: FakeAccount = {
    productionAccessEnabled: true,
    sendingEnabled: true,
    enforcementStatus: 'HEALTHY',
    max24HourSend: 50_000,
    maxSendRate: 14,
  };
  constructor(private readonly clock: () => number = Date.now) {}

  send(count: number, at = this.clock()): void {
    for (let i = 0; i < count; i++) this.sent.push(at);
  }

  getEmailIdentity(input: { EmailIdentity?: string }) {
    this.faults.check('GetEmailIdentity');
    const identity = input.EmailIdentity ? this.identities.get(input.EmailIdentity) : undefined;
    if (!identity)
      throw awsError('NotFoundException', `Email identity ${input.EmailIdentity} does not exist.`, 404);
    return {
      IdentityType: 'DOMAIN' as const,
      VerifiedForSendingStatus: identity.verifiedForSending,
      DkimAttributes: {
        SigningEnabled: identity.dkimSigning ?? true,
        Status: identity.dkimStatus,
        Tokens: identity.tokens,
        SigningAttributesOrigin: 'AWS_SES' as const,
      },
      ...(identity.configurationSet && { ConfigurationSetName: identity.configurationSet }),
      ...(identity.mailFromDomain && {
        MailFromAttributes: {
          MailFromDomain: identity.mailFromDomain,
          MailFromDomainStatus: identity.mailFromStatus ?? 'PENDING',
          BehaviorOnMxFailure: identity.mailFromBehavior ?? 'USE_DEFAULT_VALUE',
        },
      }),
    };
  }

  getConfigurationSet(input: { ConfigurationSetName?: string }) {
    this.faults.check('GetConfigurationSet');
    const set = this.configurationSet(input.ConfigurationSetName);
    return {
      ConfigurationSetName: input.ConfigurationSetName,
      SendingOptions: { SendingEnabled: set.sendingEnabled },
      ReputationOptions: { ReputationMetricsEnabled: set.reputationMetricsEnabled ?? true },
    };
  }

  getConfigurationSetEventDestinations(input: { ConfigurationSetName?: string }) {
    this.faults.check('GetConfigurationSetEventDestinations');
    const set = this.configurationSet(input.ConfigurationSetName);
    return {
      EventDestinations: (set.eventDestinations ?? [feedbackDestination()]).map((d) => ({
        Name: d.name,
        Enabled: d.enabled,
        MatchingEventTypes: d.matchingEventTypes,
        ...(d.snsTopicArn
          ? { SnsDestination: { TopicArn: d.snsTopicArn } }
          : {
              EventBridgeDestination: {
                EventBusArn: 'arn:aws:events:eu-west-1:123456789012:event-bus/default',
              },
            }),
      })),
    };
  }

  private configurationSet(name: string | undefined): FakeConfigurationSet {
    const set = name ? this.configurationSets.get(name) : undefined;
    if (!set) throw awsError('NotFoundException', `Configuration set <${name}> does not exist.`, 404);
    return set;
  }

  getAccount() {
    this.faults.check('GetAccount');
    const a = this.account;
    const dayAgo = this.clock() - 86_400_000;
    return {
      ProductionAccessEnabled: a.productionAccessEnabled,
      SendingEnabled: a.sendingEnabled,
      EnforcementStatus: a.enforcementStatus,
      SendQuota: {
        Max24HourSend: a.max24HourSend,
        MaxSendRate: a.maxSendRate,
        SentLast24Hours: this.sent.filter((t) => t > dayAgo).length,
      },
      ...(a.reviewStatus && { Details: { ReviewDetails: { Status: a.reviewStatus, CaseId: '1234' } } }),
    };
  }
}

/**
 * CloudWatch GetMetricData over the AWS/SES Send metric of a FakeSes: sums per period, like
 * CloudWatch returns them (newest first, periods without sends left out).
 */
export class FakeCloudWatch {
  readonly faults = new Faults();
  constructor(private readonly ses: FakeSes) {}

  getMetricData(input: {
    StartTime?: Date;
    EndTime?: Date;
    MetricDataQueries?: {
      Id?: string;
      MetricStat?: { Metric?: { Namespace?: string; MetricName?: string }; Period?: number; Stat?: string };
    }[];
  }) {
    this.faults.check('GetMetricData');
    const start = input.StartTime!.getTime();
    const end = input.EndTime!.getTime();
    return {
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const m = q.MetricStat?.Metric;
        if (m?.Namespace !== 'AWS/SES' || m.MetricName !== 'Send' || q.MetricStat?.Stat !== 'Sum')
          return { Id: q.Id, Values: [], Timestamps: [], StatusCode: 'Complete' };
        const period = (q.MetricStat.Period ?? 60) * 1000;
        const sums = new Map<number, number>();
        for (const t of this.ses.sent.filter((t) => t >= start && t < end)) {
          const bucket = start + Math.floor((t - start) / period) * period;
          sums.set(bucket, (sums.get(bucket) ?? 0) + 1);
        }
        const buckets = [...sums.keys()].sort((a, b) => b - a);
        return {
          Id: q.Id,
          Timestamps: buckets.map((b) => new Date(b)),
          Values: buckets.map((b) => sums.get(b)!),
          StatusCode: 'Complete',
        };
      }),
    };
  }
}
