/*
 * Follows every delivery path ("wire") of a synthesized template as AWS authorizes it: who
 * publishes or delivers (a service principal acting for a source ARN in an account), to which
 * topic or queue, through that resource's policy, then through the key policy of the key that
 * encrypts it. Wires are found by walking the template, never from a list kept by hand:
 *
 * - CloudWatch alarm actions (AlarmActions, OKActions, InsufficientDataActions) -> SNS topic
 * - EventBridge rule targets -> SNS topic or SQS queue
 * - SES configuration set event destinations -> SNS topic
 * - SNS subscriptions with protocol sqs -> SQS queue
 * - SNS subscriptions with a dead-letter queue (RedrivePolicy) -> that SQS queue
 * - Lambda SQS event source mappings: the function's role (identity and queue policy) -> the queue,
 *   and the queue's key (a key policy that names the role or delegates to the account's IAM
 *   policies); a Deny in any of them that names the role, its account or everyone stops it
 * - The SES feedback handler (the consumer of a queue an SES event destination feeds): its role ->
 *   the account's suppression list (ses:PutSuppressedDestination)
 * - Functions that rotate or read a secret: the function's role -> the secret (identity and secret
 *   policy), and the secret's key as Secrets Manager uses it for the role (ViaService, SecretARN)
 * - The SMTP user sending as fromAddress: its identity policy -> the sending identity, its default
 *   configuration set and each sandbox recipient's identity
 * - Secrets Manager rotation schedules -> the rotation function (its Lambda permission, scoped to
 *   this account and, when it names a source, to the schedule's secret)
 * - EventBridge rule targets that are Lambda functions -> the function (its Lambda permission,
 *   which must name the rule as its source)
 *
 * Policies are evaluated, not pattern-matched: principal, action, resource, and every condition
 * (StringEquals/StringLike/ArnEquals/ArnLike, their Not forms, Bool; with IfExists) against the
 * request context the service sends. An explicit Deny wins. A condition on a key the context lacks
 * does not hold, so a statement conditioned on aws:SourceArn does not grant EventBridge the key:
 * AWS documents that EventBridge's KMS requests for an encrypted topic carry no
 * aws:SourceArn/aws:SourceAccount. The KMS requests of SNS, SES and CloudWatch carry aws:SourceArn
 * (the key policies AWS and aws-cdk-lib give for publishers condition on it; see fromSourceArn)
 * and are not assumed to carry aws:SourceAccount.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
 */

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

export interface Environment {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** The address apps send from (the environment's fromAddress): SES sees it as ses:FromAddress. */
  readonly fromAddress: string;
}

/** One statement of one policy: where it lives in the template. */
export interface StatementRef {
  readonly resource: string;
  /** Property path of the statement list, like "PolicyDocument.Statement". */
  readonly path: string;
  readonly index: number;
}

export interface Wire {
  /** Human description: "alarm X (OKActions) -> topic Y". */
  readonly name: string;
  readonly kind:
    | 'alarm'
    | 'rule'
    | 'ses'
    | 'subscription'
    | 'consumer'
    | 'invoke'
    | 'secret'
    | 'send'
    | 'suppress'
    | 'call';
  readonly principal: string;
  readonly action: string;
  /** Logical id of the topic or queue. */
  readonly target: string;
  readonly sourceArn: string;
  readonly sourceAccount: string;
  /**
   * Whether the service's KMS requests carry aws:SourceArn. aws:SourceAccount is never assumed
   * there: no AWS page says the account reaches KMS with those requests (see fromSourceArn).
   */
  readonly kmsCarriesSource: boolean;
}

/** The kinds of wire a role or user of this account makes itself, rather than a service. */
const ACCOUNT_CALLERS: Wire['kind'][] = ['consumer', 'secret', 'send', 'suppress', 'call'];

export interface HopResult {
  readonly allowed: boolean;
  /** The Allow statements that granted it. */
  readonly grants: StatementRef[];
  readonly reason?: string;
}

export interface WireResult {
  readonly wire: Wire;
  /**
   * The target's resource policy; for a wire a role or user of the account makes itself (see
   * ACCOUNT_CALLERS), its identity policies and the resource policy together.
   */
  readonly resourcePolicy: HopResult;
  /** Undefined when the target is not encrypted. */
  readonly keyPolicy?: HopResult;
  /** Logical id of the key whose policy `keyPolicy` evaluated. */
  readonly key?: string;
}

const KMS_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];

/** Resolves the intrinsics CDK emits into the strings AWS would see (tokens become names). */
export function resolve(value: unknown, t: CfnTemplate, env: Environment): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return ref(v.Ref as string, t, env);
    if ('Fn::GetAtt' in v) {
      const [id, attr] = v['Fn::GetAtt'] as [string, string];
      return getAtt(id, attr, t, env);
    }
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => resolve(p, t, env)).join(sep);
    }
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

function ref(id: string, t: CfnTemplate, env: Environment): string {
  const pseudo: Record<string, string> = {
    'AWS::Partition': env.partition,
    'AWS::Region': env.region,
    'AWS::AccountId': env.account,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackId': stackArn(env),
  };
  if (id in pseudo) return pseudo[id];
  const type = t.Resources[id]?.Type;
  if (!type) throw new Error(`Ref to a resource not in the template: ${id}`);
  // Ref of a topic is its ARN; of a queue, its URL; of most others, their name.
  if (type === 'AWS::SNS::Topic') return arnOf(id, t, env);
  if (type === 'AWS::SQS::Queue') return `https://sqs.${env.region}.amazonaws.com/${env.account}/${id}`;
  if (type === 'AWS::SecretsManager::Secret') return arnOf(id, t, env);
  // Ref of an email identity is the identity itself (the domain or the address).
  if (type === 'AWS::SES::EmailIdentity') return resolve(t.Resources[id].Properties?.EmailIdentity, t, env);
  return id;
}

/** The stack's ARN (`AWS::StackId`): CloudFormation ends it with an id it generates. */
function stackArn(env: Environment): string {
  return `arn:${env.partition}:cloudformation:${env.region}:${env.account}:stack/Stack/5f0c1a60-0000-4000-8000-000000000000`;
}

function getAtt(id: string, attr: string, t: CfnTemplate, env: Environment): string {
  if (attr === 'Arn') return arnOf(id, t, env);
  if (attr === 'QueueName' || attr === 'TopicName') return id;
  throw new Error(`cannot resolve Fn::GetAtt ${id}.${attr}`);
}

function arnOf(id: string, t: CfnTemplate, env: Environment): string {
  const here = `${env.region}:${env.account}`;
  const arns: Record<string, string> = {
    'AWS::SNS::Topic': `sns:${here}:${id}`,
    'AWS::SQS::Queue': `sqs:${here}:${id}`,
    'AWS::Events::Rule': `events:${here}:rule/${id}`,
    'AWS::CloudWatch::Alarm': `cloudwatch:${here}:alarm:${id}`,
    'AWS::KMS::Key': `kms:${here}:key/${id}`,
    'AWS::SecretsManager::Secret': `secretsmanager:${here}:secret:${id}-AbCdEf`,
    'AWS::Lambda::Function': `lambda:${here}:function:${id}`,
    'AWS::IAM::Role': `iam::${env.account}:role/${id}`,
    'AWS::IAM::User': `iam::${env.account}:user/${id}`,
    // With the trailing ":*" AWS documents for IAM policies on a log group's events (the
    // LogGroup "arn" of the CloudWatch Logs API reference), as CloudFormation's Arn gives it.
    'AWS::Logs::LogGroup': `logs:${here}:log-group:${id}:*`,
  };
  const type = t.Resources[id]?.Type;
  if (!arns[type]) throw new Error(`no ARN form for ${id} (${type})`);
  return `arn:${env.partition}:${arns[type]}`;
}

/** The logical id a `{Ref}` or `{Fn::GetAtt: [id, 'Arn']}` points at, if it is one. */
export function pointsAt(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return v.Ref;
    if (Array.isArray(v['Fn::GetAtt'])) return (v['Fn::GetAtt'] as string[])[0];
  }
  return undefined;
}

/** The logical ids of the template's resources of `type`. */
const idsOfType = (t: CfnTemplate, type: string) =>
  Object.keys(t.Resources).filter((id) => t.Resources[id].Type === type);

const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every wire in the template. Throws on one it cannot follow (a target outside the template). */
export function findWires(t: CfnTemplate, env: Environment): Wire[] {
  const wires: Wire[] = [];
  const target = (value: unknown, from: string): string => {
    const id = pointsAt(value);
    const type = id ? t.Resources[id]?.Type : undefined;
    if (!id || (type !== 'AWS::SNS::Topic' && type !== 'AWS::SQS::Queue')) {
      throw new Error(`${from}: target ${JSON.stringify(value)} is not a topic or queue of this template`);
    }
    return id;
  };
  const actionFor = (id: string) =>
    t.Resources[id].Type === 'AWS::SNS::Topic' ? ('sns:Publish' as const) : ('sqs:SendMessage' as const);

  for (const [id, r] of Object.entries(t.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::CloudWatch::Alarm') {
      for (const prop of ['AlarmActions', 'OKActions', 'InsufficientDataActions']) {
        for (const action of asList(p[prop])) {
          const to = target(action, `alarm ${id}`);
          wires.push({
            name: `alarm ${id} (${prop}) -> ${to}`,
            kind: 'alarm',
            principal: 'cloudwatch.amazonaws.com',
            action: actionFor(to),
            target: to,
            sourceArn: arnOf(id, t, env),
            sourceAccount: env.account,
            kmsCarriesSource: true,
          });
        }
      }
    }
    if (r.Type === 'AWS::Events::Rule') {
      for (const tg of asList(p.Targets as Record<string, unknown>[])) {
        // A function target is followed through its Lambda permission (followInvocations).
        if (t.Resources[pointsAt(tg.Arn) ?? '']?.Type === 'AWS::Lambda::Function') continue;
        const to = target(tg.Arn, `rule ${id}`);
        wires.push({
          name: `rule ${id} -> ${to}`,
          kind: 'rule',
          principal: 'events.amazonaws.com',
          action: actionFor(to),
          target: to,
          sourceArn: arnOf(id, t, env),
          sourceAccount: env.account,
          kmsCarriesSource: false,
        });
      }
    }
    if (r.Type === 'AWS::SES::ConfigurationSetEventDestination') {
      const destination = p.EventDestination as Record<string, Record<string, unknown> | undefined>;
      if (destination.SnsDestination) {
        const to = target(destination.SnsDestination.TopicARN, `event destination ${id}`);
        const setName = resolve(p.ConfigurationSetName, t, env);
        wires.push({
          name: `SES event destination ${id} -> ${to}`,
          kind: 'ses',
          principal: 'ses.amazonaws.com',
          action: 'sns:Publish',
          target: to,
          sourceArn: `arn:${env.partition}:ses:${env.region}:${env.account}:configuration-set/${setName}`,
          sourceAccount: env.account,
          kmsCarriesSource: true,
        });
      }
    }
    if (r.Type === 'AWS::SNS::Subscription' && p.Protocol === 'sqs') {
      const to = target(p.Endpoint, `subscription ${id}`);
      wires.push({
        name: `subscription ${id} -> ${to}`,
        kind: 'subscription',
        principal: 'sns.amazonaws.com',
        action: 'sqs:SendMessage',
        target: to,
        sourceArn: resolve(p.TopicArn, t, env),
        sourceAccount: env.account,
        kmsCarriesSource: true,
      });
    }
    // SNS moves what it could not deliver, whatever the protocol, to the subscription's queue.
    const redrive = p.RedrivePolicy as Record<string, unknown> | undefined;
    if (r.Type === 'AWS::SNS::Subscription' && redrive) {
      const to = target(redrive.deadLetterTargetArn, `subscription ${id} (RedrivePolicy)`);
      wires.push({
        name: `subscription ${id} dead letters -> ${to}`,
        kind: 'subscription',
        principal: 'sns.amazonaws.com',
        action: 'sqs:SendMessage',
        target: to,
        sourceArn: resolve(p.TopicArn, t, env),
        sourceAccount: env.account,
        kmsCarriesSource: true,
      });
    }
  }
  return wires;
}

type Statement = Record<string, unknown>;

/** Each pattern's expression, made once: the breakage tests evaluate every wire hundreds of times. */
const globs = new Map<string, RegExp>();

function glob(pattern: string, value: string): boolean {
  let re = globs.get(pattern);
  if (!re) {
    const source = pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    re = new RegExp(`^${source}$`, 's');
    globs.set(pattern, re);
  }
  return re.test(value);
}

/**
 * ArnEquals and ArnLike (they behave identically): each of the six colon-separated parts of the
 * ARN is matched on its own, so a `*` never runs across a colon; the sixth part (the resource)
 * keeps any colons of its own. A pattern or value with fewer than six parts matches nothing.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
 */
export function arnLike(pattern: string, arn: string): boolean {
  const parts = (s: string): string[] | undefined => {
    const p = s.split(':');
    return p.length < 6 ? undefined : [...p.slice(0, 5), p.slice(5).join(':')];
  };
  const want = parts(pattern);
  const got = parts(arn);
  return want !== undefined && got !== undefined && want.every((w, i) => glob(w, got[i]));
}

interface Request {
  readonly principal: string;
  readonly action: string;
  readonly resourceArn: string;
  /** Condition keys, lower-cased. */
  readonly context: Record<string, string>;
}

function principalMatches(principal: unknown, service: string): boolean {
  if (principal === '*') return true;
  const p = (principal ?? {}) as Record<string, unknown>;
  if (asList(p.AWS).includes('*')) return true;
  return asList(p.Service as string | string[]).includes(service);
}

function conditionsHold(conditions: unknown, req: Request, t: CfnTemplate, env: Environment): boolean {
  for (const [operator, entries] of Object.entries(
    (conditions ?? {}) as Record<string, Record<string, unknown>>,
  )) {
    const ifExists = operator.endsWith('IfExists');
    const op = operator.replace(/IfExists$/, '');
    // A negated operator (StringNotEquals, ArnNotLike, ...) holds when no value matches, and when
    // the key is missing from the request context.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    const negated = /^(String|Arn)Not/.test(op);
    for (const [key, expected] of Object.entries(entries)) {
      const actual = req.context[key.toLowerCase()];
      if (actual === undefined) {
        if (ifExists || negated) continue;
        return false;
      }
      const values = asList(expected).map((v) => resolve(v, t, env));
      const match = (v: string): boolean => {
        switch (op.replace(/^(String|Arn)Not/, '$1')) {
          case 'StringEquals':
            return v === actual;
          case 'StringLike':
            return glob(v, actual);
          case 'ArnEquals':
          case 'ArnLike':
            return arnLike(v, actual);
          case 'Bool':
            return v.toLowerCase() === actual.toLowerCase();
          default:
            throw new Error(`condition operator ${operator} is not evaluated by this checker`);
        }
      };
      if (values.some(match) === negated) return false;
    }
  }
  return true;
}

function statementMatches(
  s: Statement,
  req: Request,
  t: CfnTemplate,
  env: Environment,
  anyPrincipal = false,
): boolean {
  if (!anyPrincipal && !principalMatches(s.Principal, req.principal)) return false;
  if (!asList(s.Action as string | string[]).some((a) => glob(a.toLowerCase(), req.action.toLowerCase())))
    return false;
  if (!asList(s.Resource).some((r) => glob(resolve(r, t, env), req.resourceArn))) return false;
  return conditionsHold(s.Condition, req, t, env);
}

/** Evaluates `req` against a policy's statements: allowed when some Allow matches and no Deny does. */
function evaluate(
  statements: { statement: Statement; ref: StatementRef }[],
  req: Request,
  t: CfnTemplate,
  env: Environment,
): HopResult {
  const matching = statements.filter(({ statement }) => statementMatches(statement, req, t, env));
  const deny = matching.find(({ statement }) => statement.Effect === 'Deny');
  if (deny) return { allowed: false, grants: [], reason: `denied by ${describe(deny.ref)}` };
  const grants = matching.filter(({ statement }) => statement.Effect === 'Allow').map(({ ref }) => ref);
  return grants.length > 0
    ? { allowed: true, grants }
    : { allowed: false, grants, reason: `no statement allows ${req.principal} ${req.action}` };
}

export function describe(ref: StatementRef): string {
  return `${ref.resource}.${ref.path}[${ref.index}]`;
}

function statementsOf(t: CfnTemplate, resource: string, path: string) {
  const list = path
    .split('.')
    .reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], t.Resources[resource].Properties);
  return asList(list as Statement[]).map((statement, index) => ({
    statement,
    ref: { resource, path, index },
  }));
}

/** Each resource type's policy resource: its type, the property naming the target, its statements. */
const RESOURCE_POLICIES: Record<string, [policyType: string, targetProp: string, statements: string]> = {
  'AWS::SNS::Topic': ['AWS::SNS::TopicPolicy', 'Topics', 'PolicyDocument.Statement'],
  'AWS::SQS::Queue': ['AWS::SQS::QueuePolicy', 'Queues', 'PolicyDocument.Statement'],
  'AWS::SecretsManager::Secret': [
    'AWS::SecretsManager::ResourcePolicy',
    'SecretId',
    'ResourcePolicy.Statement',
  ],
};

/** The statements of every resource policy attached to `target` (a topic, queue or secret). */
function resourcePolicyStatements(t: CfnTemplate, target: string) {
  const [policyType, targetProp, statements] = RESOURCE_POLICIES[t.Resources[target].Type];
  return Object.entries(t.Resources)
    .filter(
      ([, r]) =>
        r.Type === policyType && asList(r.Properties?.[targetProp]).some((x) => pointsAt(x) === target),
    )
    .flatMap(([id]) => statementsOf(t, id, statements));
}

/** The KMS key of this template that `keyRef` points at, or the refused hop when it points elsewhere. */
function templateKey(t: CfnTemplate, keyRef: unknown): string | HopResult {
  const key = pointsAt(keyRef);
  return key && t.Resources[key]?.Type === 'AWS::KMS::Key'
    ? key
    : { allowed: false, grants: [], reason: `key ${JSON.stringify(keyRef)} is not a key of this template` };
}

export interface Source {
  readonly sourceArn: string;
  readonly sourceAccount: string;
  /**
   * The resource the key encrypts for, as its KMS calls name it in their encryption context
   * (SNS: aws:sns:topicArn; SQS: aws:sqs:arn). Default: the wire's target.
   */
  readonly encryptedFor?: string;
}

/** Follows one wire through the resource policy and the key policy, as `source` (default: the wire's own). */
export function followWire(t: CfnTemplate, env: Environment, wire: Wire, source: Source = wire): WireResult {
  const targetResource = t.Resources[wire.target];
  const targetArn =
    t.Resources[wire.target].Type === 'AWS::SNS::Topic'
      ? ref(wire.target, t, env)
      : arnOf(wire.target, t, env);
  const fromSource = {
    'aws:sourcearn': source.sourceArn,
    'aws:sourceaccount': source.sourceAccount,
    'aws:securetransport': 'true',
  };
  const statements = resourcePolicyStatements(t, wire.target);
  const resourcePolicy =
    statements.length === 0
      ? // A topic with no policy has SNS's default one, which admits only the owner account; a
        // queue with none admits no service at all.
        { allowed: false, grants: [], reason: `${wire.target} has no resource policy` }
      : evaluate(
          statements,
          { principal: wire.principal, action: wire.action, resourceArn: targetArn, context: fromSource },
          t,
          env,
        );

  const keyRef = targetResource.Properties?.KmsMasterKeyId;
  if (keyRef === undefined) return { wire, resourcePolicy };
  const key = templateKey(t, keyRef);
  if (typeof key !== 'string') return { wire, resourcePolicy, keyPolicy: key };
  const keyStatements = statementsOf(t, key, 'KeyPolicy.Statement');
  // SNS and SQS bind each data key to the topic or queue in the encryption context of every KMS
  // call they make for it, whoever publishes.
  const contextKey =
    targetResource.Type === 'AWS::SNS::Topic'
      ? 'kms:encryptioncontext:aws:sns:topicarn'
      : 'kms:encryptioncontext:aws:sqs:arn';
  const kmsContext: Record<string, string> = {
    'aws:securetransport': 'true',
    [contextKey]: source.encryptedFor ?? arnOf(wire.target, t, env),
    ...(wire.kmsCarriesSource && { 'aws:sourcearn': source.sourceArn }),
  };
  const perAction = KMS_ACTIONS.map((action) =>
    evaluate(
      keyStatements,
      { principal: wire.principal, action, resourceArn: arnOf(key, t, env), context: kmsContext },
      t,
      env,
    ),
  );
  return { wire, resourcePolicy, key, keyPolicy: allOf(perAction, `key ${key}: `) };
}

/** The wires that AWS would refuse, each as one line. */
export function brokenWires(t: CfnTemplate, env: Environment): string[] {
  return followAll(t, env).flatMap((r) => [
    ...(r.resourcePolicy.allowed
      ? []
      : [
          `${r.wire.name}: ${ACCOUNT_CALLERS.includes(r.wire.kind) ? 'permissions' : 'resource policy'}: ${r.resourcePolicy.reason}`,
        ]),
    ...(r.keyPolicy && !r.keyPolicy.allowed ? [`${r.wire.name}: key policy: ${r.keyPolicy.reason}`] : []),
  ]);
}

/** A deep copy of `t` without one statement. */
export function withoutStatement(t: CfnTemplate, statement: StatementRef): CfnTemplate {
  const copy = structuredClone(t);
  if (statement.index < 0) {
    delete copy.Resources[statement.resource];
    return copy;
  }
  const parts = statement.path.split('.');
  const holder = parts
    .slice(0, -1)
    .reduce<Record<string, unknown>>(
      (o, k) => o[k] as Record<string, unknown>,
      copy.Resources[statement.resource].Properties!,
    );
  (holder[parts[parts.length - 1]] as unknown[]).splice(statement.index, 1);
  return copy;
}

/** A deep copy of `t` without some statements. */
export function withoutStatements(t: CfnTemplate, statements: StatementRef[]): CfnTemplate {
  // Highest index first: each removal leaves the indexes of those still to remove as they were.
  return [...statements]
    .sort((a, b) => b.index - a.index)
    .reduce((copy, ref) => withoutStatement(copy, ref), t);
}

/** Every wire of the template, followed: publishers, queue consumers, secret users and invocations. */
export function followAll(t: CfnTemplate, env: Environment): WireResult[] {
  return [
    ...findWires(t, env).map((wire) => followWire(t, env, wire)),
    ...followConsumers(t, env),
    ...followSecretAccess(t, env),
    ...followSending(t, env),
    ...followSuppression(t, env),
    ...followApiCalls(t, env),
    ...followInvocations(t, env),
    ...followRuleInvocations(t, env),
  ];
}

/** A statement of a policy in the template, with where it lives. */
type PolicyStatement = { statement: Statement; ref: StatementRef };

/** A role or user of this template making a request itself (not a service acting for a source). */
interface Caller {
  /** Logical id of the role or user. */
  readonly id: string;
  readonly arn: string;
  /** The statements of every policy attached to it. */
  readonly identity: PolicyStatement[];
}

function callerOf(t: CfnTemplate, env: Environment, id: string): Caller {
  const attachedTo = t.Resources[id].Type === 'AWS::IAM::User' ? 'Users' : 'Roles';
  const identity = Object.entries(t.Resources)
    .filter(
      ([, p]) =>
        (p.Type === 'AWS::IAM::Policy' || p.Type === 'AWS::IAM::ManagedPolicy') &&
        asList(p.Properties?.[attachedTo]).some((x) => pointsAt(x) === id),
    )
    .flatMap(([pid]) => statementsOf(t, pid, 'PolicyDocument.Statement'));
  return { id, arn: arnOf(id, t, env), identity };
}

/** The role a function runs as, as a caller. */
function functionCaller(t: CfnTemplate, env: Environment, fn: string): Caller {
  return callerOf(t, env, pointsAt(t.Resources[fn].Properties?.Role)!);
}

/**
 * Whom a resource-policy statement's Principal names, for `caller`: the caller itself (its ARN, or
 * everyone), its account (the root ARN or the account id), or neither.
 */
function namesCaller(principal: unknown, caller: Caller, t: CfnTemplate, env: Environment) {
  if (principal === '*') return 'caller';
  const aws = asList((principal as { AWS?: unknown } | undefined)?.AWS).map((p) => resolve(p, t, env));
  if (aws.includes('*') || aws.includes(caller.arn)) return 'caller';
  if (aws.includes(`arn:${env.partition}:iam::${env.account}:root`) || aws.includes(env.account))
    return 'account';
  return undefined;
}

interface CallerRequest {
  readonly action: string;
  readonly resourceArn: string;
  /** Condition keys, lower-cased. */
  readonly context: Record<string, string>;
}

/** Every request goes over TLS (the SDKs and the services' pollers use HTTPS). */
const HTTPS = { 'aws:securetransport': 'true' };

/**
 * One request of a role or user of this account, evaluated as AWS does: an explicit Deny in the
 * identity policies or in the resource policy wins; otherwise an Allow in either grants it (within
 * one account, a resource policy that names the caller grants on its own). A KMS key is stricter:
 * its key policy must allow the request, by naming the caller, or by naming the account, which
 * lets the identity policies grant it.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html
 */
function authorize(
  t: CfnTemplate,
  env: Environment,
  caller: Caller,
  req: CallerRequest,
  resourcePolicy: { statements: PolicyStatement[]; isKeyPolicy: boolean },
): HopResult {
  const request = { principal: caller.id, ...req };
  const identity = caller.identity.filter(({ statement }) =>
    statementMatches(statement, request, t, env, true),
  );
  const resource = resourcePolicy.statements.flatMap((s) => {
    const names = namesCaller(s.statement.Principal, caller, t, env);
    return names && statementMatches(s.statement, request, t, env, true) ? [{ ...s, names }] : [];
  });
  const deny = [...identity, ...resource].find(({ statement }) => statement.Effect === 'Deny');
  if (deny) return { allowed: false, grants: [], reason: `${req.action} denied by ${describe(deny.ref)}` };
  const allows = <T extends PolicyStatement>(list: T[]) =>
    list.filter(({ statement }) => statement.Effect === 'Allow');
  const byIdentity = allows(identity).map(({ ref }) => ref);
  const byName = allows(resource.filter((s) => s.names === 'caller')).map(({ ref }) => ref);
  const delegations = allows(resource.filter((s) => s.names === 'account')).map(({ ref }) => ref);
  if (byName.length > 0) return { allowed: true, grants: [...byIdentity, ...byName] };
  if (!resourcePolicy.isKeyPolicy && byIdentity.length > 0) return { allowed: true, grants: byIdentity };
  if (resourcePolicy.isKeyPolicy && byIdentity.length > 0 && delegations.length > 0)
    return { allowed: true, grants: [...byIdentity, ...delegations] };
  const reason = !resourcePolicy.isKeyPolicy
    ? `no statement allows ${caller.id} ${req.action}`
    : byIdentity.length > 0
      ? `the key policy neither names ${caller.id} nor lets IAM policies grant ${req.action}`
      : delegations.length > 0
        ? `no identity policy of ${caller.id} allows ${req.action} (the key policy leaves it to IAM policies)`
        : `neither the key policy nor an identity policy allows ${caller.id} ${req.action}`;
  return { allowed: false, grants: [], reason };
}

/** One hop made of several requests: allowed when each is. */
function allOf(results: HopResult[], prefix = ''): HopResult {
  const refused = results.find((r) => !r.allowed);
  return refused
    ? { allowed: false, grants: [], reason: `${prefix}${refused.reason}` }
    : { allowed: true, grants: results.flatMap((r) => r.grants) };
}

/** `caller` using `key` through a service, which sends its own request context to KMS. */
function keyHop(
  t: CfnTemplate,
  env: Environment,
  caller: Caller,
  key: string,
  actions: string[],
  context: Record<string, string>,
): HopResult {
  const statements = statementsOf(t, key, 'KeyPolicy.Statement');
  const results = actions.map((action) =>
    authorize(
      t,
      env,
      caller,
      {
        action,
        resourceArn: arnOf(key, t, env),
        context: { ...HTTPS, 'kms:calleraccount': env.account, ...context },
      },
      { statements, isKeyPolicy: true },
    ),
  );
  return allOf(results, `key ${key}: `);
}

const SQS_CONSUME = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
];

/**
 * Lambda polling an encrypted queue as the function's role: the role's identity policies or the
 * queue policy must allow the SQS calls on the queue, with no Deny in either (the queue policy's
 * TLS-only Deny does not match: the poller uses HTTPS); SQS decrypts with the queue's key for the
 * role (kms:ViaService is SQS), so the key policy must allow kms:Decrypt, naming the role or
 * delegating to the account's IAM policies, with no Deny naming the role, its account or everyone.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
function followConsumers(t: CfnTemplate, env: Environment): WireResult[] {
  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')
    .map(([id, r]) => {
      const queue = pointsAt(r.Properties?.EventSourceArn)!;
      const fn = pointsAt(r.Properties?.FunctionName)!;
      const caller = functionCaller(t, env, fn);
      const wire: Wire = {
        name: `event source ${id}: ${fn} reads ${queue}`,
        kind: 'consumer',
        principal: caller.id,
        action: SQS_CONSUME.join(','),
        target: queue,
        sourceArn: '',
        sourceAccount: env.account,
        kmsCarriesSource: false,
      };
      const queuePolicy = { statements: resourcePolicyStatements(t, queue), isKeyPolicy: false };
      const resourcePolicy = allOf(
        SQS_CONSUME.map((action) =>
          authorize(
            t,
            env,
            caller,
            { action, resourceArn: arnOf(queue, t, env), context: HTTPS },
            queuePolicy,
          ),
        ),
        `role ${caller.id}: `,
      );
      const key = pointsAt(t.Resources[queue].Properties?.KmsMasterKeyId);
      if (!key) return { wire, resourcePolicy };
      const keyPolicy = keyHop(t, env, caller, key, ['kms:Decrypt'], {
        'kms:viaservice': `sqs.${env.region}.amazonaws.com`,
      });
      return { wire, resourcePolicy, keyPolicy, key };
    });
}

/**
 * A function's resource policy for one wire: a Lambda permission for the wire's principal to
 * invoke the wire's target whose source properties pass `sourceHolds`. Lambda turns a
 * permission's SourceArn into an ArnLike condition on aws:SourceArn.
 * https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
 */
function lambdaPermission(
  t: CfnTemplate,
  wire: Wire,
  sourceHolds: (permission: Record<string, unknown>) => boolean,
  refused: string,
): HopResult {
  const permission = Object.entries(t.Resources).find(
    ([, p]) =>
      p.Type === 'AWS::Lambda::Permission' &&
      pointsAt(p.Properties?.FunctionName) === wire.target &&
      p.Properties?.Principal === wire.principal &&
      p.Properties?.Action === wire.action &&
      sourceHolds(p.Properties),
  );
  return permission
    ? { allowed: true, grants: [{ resource: permission[0], path: '', index: -1 }] }
    : { allowed: false, grants: [], reason: refused };
}

/**
 * EventBridge invoking a function a rule targets: a Lambda permission for events.amazonaws.com
 * whose SourceArn is that rule (without it any rule of any account could invoke the function).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
 */
function followRuleInvocations(t: CfnTemplate, env: Environment): WireResult[] {
  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .flatMap(([id, r]) =>
      asList(r.Properties?.Targets as Record<string, unknown>[])
        .map((tg) => pointsAt(tg.Arn))
        .filter((fn): fn is string => t.Resources[fn ?? '']?.Type === 'AWS::Lambda::Function')
        .map((fn) => {
          const ruleArn = arnOf(id, t, env);
          const wire: Wire = {
            name: `rule ${id} invokes ${fn}`,
            kind: 'invoke',
            principal: 'events.amazonaws.com',
            action: 'lambda:InvokeFunction',
            target: fn,
            sourceArn: ruleArn,
            sourceAccount: env.account,
            kmsCarriesSource: false,
          };
          const resourcePolicy = lambdaPermission(
            t,
            wire,
            (p) => p.SourceArn !== undefined && arnLike(resolve(p.SourceArn, t, env), ruleArn),
            `no Lambda permission lets rule ${id} invoke ${fn}`,
          );
          return { wire, resourcePolicy };
        }),
    );
}

/**
 * Secrets Manager invoking the rotation function for the schedule's secret: a Lambda permission
 * for secretsmanager.amazonaws.com scoped to this account (SourceAccount); Secrets Manager sends
 * the secret's ARN as the source, so a SourceArn, if present, must match that secret.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-required-permissions-function.html
 */
function followInvocations(t: CfnTemplate, env: Environment): WireResult[] {
  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === 'AWS::SecretsManager::RotationSchedule' && r.Properties?.RotationLambdaARN)
    .map(([id, r]) => {
      const fn = pointsAt(r.Properties!.RotationLambdaARN)!;
      // Ref of a secret is its ARN.
      const secretArn = resolve(r.Properties!.SecretId, t, env);
      const wire: Wire = {
        name: `rotation schedule ${id} invokes ${fn}`,
        kind: 'invoke',
        principal: 'secretsmanager.amazonaws.com',
        action: 'lambda:InvokeFunction',
        target: fn,
        sourceArn: secretArn,
        sourceAccount: env.account,
        kmsCarriesSource: false,
      };
      return {
        wire,
        resourcePolicy: lambdaPermission(
          t,
          wire,
          (p) =>
            p.SourceAccount === env.account &&
            (p.SourceArn === undefined || arnLike(resolve(p.SourceArn, t, env), secretArn)),
          `no Lambda permission lets Secrets Manager (this account, this secret) invoke ${fn}`,
        ),
      };
    });
}

/** The Lambda rotation protocol's calls on the secret. */
const SECRET_ROTATE = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];
/** What a function that names the secret calls: the value, and its versions' stages (the health check). */
const SECRET_READ = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];

/** Whether `value` holds a Ref or Fn::GetAtt of `id` anywhere inside it. */
function mentions(value: unknown, id: string): boolean {
  if (pointsAt(value) === id) return true;
  if (value && typeof value === 'object') return Object.values(value).some((v) => mentions(v, id));
  return false;
}

/**
 * The functions that use a secret, as their roles: the rotation function of each rotation
 * schedule rotates it (DescribeSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage);
 * a function whose environment names it reads it. Each call needs the identity policy (or the
 * secret's resource policy) with no Deny. Secrets Manager calls KMS for the role with its own
 * context (kms:ViaService secretsmanager.<region>.amazonaws.com, encryption context SecretARN):
 * kms:Decrypt to read, kms:GenerateDataKey too to store a new version; the key policy must allow
 * them (naming the role, or delegating to the account's IAM policies) with no Deny that matches.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-required-permissions-function.html
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
 */
function followSecretAccess(t: CfnTemplate, env: Environment): WireResult[] {
  const results: WireResult[] = [];
  for (const [secret, s] of Object.entries(t.Resources)) {
    if (s.Type !== 'AWS::SecretsManager::Secret') continue;
    const users = new Map<string, 'rotates' | 'reads'>();
    for (const r of Object.values(t.Resources)) {
      if (r.Type === 'AWS::SecretsManager::RotationSchedule' && pointsAt(r.Properties?.SecretId) === secret) {
        const fn = pointsAt(r.Properties?.RotationLambdaARN);
        if (fn) users.set(fn, 'rotates');
      }
    }
    for (const [fn, r] of Object.entries(t.Resources)) {
      if (r.Type === 'AWS::Lambda::Function' && !users.has(fn) && mentions(r.Properties?.Environment, secret))
        users.set(fn, 'reads');
    }
    const secretArn = arnOf(secret, t, env);
    const secretPolicy = { statements: resourcePolicyStatements(t, secret), isKeyPolicy: false };
    for (const [fn, use] of users) {
      const caller = functionCaller(t, env, fn);
      const actions = use === 'rotates' ? SECRET_ROTATE : SECRET_READ;
      const wire: Wire = {
        name: `${fn} ${use} secret ${secret}`,
        kind: 'secret',
        principal: caller.id,
        action: actions.join(','),
        target: secret,
        sourceArn: '',
        sourceAccount: env.account,
        kmsCarriesSource: false,
      };
      const resourcePolicy = allOf(
        actions.map((action) =>
          authorize(t, env, caller, { action, resourceArn: secretArn, context: HTTPS }, secretPolicy),
        ),
        `role ${caller.id}: `,
      );
      const keyRef = s.Properties?.KmsKeyId;
      // Without KmsKeyId the secret uses aws/secretsmanager, whose policy AWS manages.
      if (keyRef === undefined) {
        results.push({ wire, resourcePolicy });
        continue;
      }
      const key = templateKey(t, keyRef);
      if (typeof key !== 'string') {
        results.push({ wire, resourcePolicy, keyPolicy: key });
        continue;
      }
      const kmsActions = use === 'rotates' ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
      const keyPolicy = keyHop(t, env, caller, key, kmsActions, {
        'kms:viaservice': `secretsmanager.${env.region}.amazonaws.com`,
        'kms:encryptioncontext:secretarn': secretArn,
      });
      results.push({ wire, resourcePolicy, keyPolicy, key });
    }
  }
  return results;
}

/**
 * The SMTP user sending as the environment's fromAddress (an SMTP send is ses:SendRawEmail, with
 * ses:FromAddress the From address). SES authorizes a send against the identity that covers the
 * From address (the address itself, else its domain or a parent domain), against the
 * configuration set it uses (the identity's default one), and, while the account is in the
 * sandbox, against each recipient's identity (the verified test addresses). Each IAM user of the
 * template is an SMTP user: the stack creates users for nothing else.
 * https://docs.aws.amazon.com/ses/latest/dg/control-user-access.html
 * https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html
 */
function followSending(t: CfnTemplate, env: Environment): WireResult[] {
  const identities = Object.entries(t.Resources)
    .filter(([, r]) => r.Type === 'AWS::SES::EmailIdentity')
    .map(([id, r]) => ({ id, name: resolve(r.Properties?.EmailIdentity, t, env).toLowerCase() }));
  const from = env.fromAddress.toLowerCase();
  const domain = from.slice(from.lastIndexOf('@') + 1);
  const sender =
    identities.find((i) => i.name === from) ??
    identities
      .filter((i) => !i.name.includes('@') && (domain === i.name || domain.endsWith(`.${i.name}`)))
      .sort((a, b) => b.name.length - a.name.length)[0];
  const ses = `arn:${env.partition}:ses:${env.region}:${env.account}`;
  const resources = new Set<string>();
  if (sender) {
    resources.add(`${ses}:identity/${sender.name}`);
    const set = (
      t.Resources[sender.id].Properties?.ConfigurationSetAttributes as Record<string, unknown> | undefined
    )?.ConfigurationSetName;
    if (set !== undefined) resources.add(`${ses}:configuration-set/${resolve(set, t, env)}`);
  }
  for (const recipient of identities.filter((i) => i.name.includes('@')))
    resources.add(`${ses}:identity/${recipient.name}`);

  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::User')
    .map(([user]) => {
      const caller = callerOf(t, env, user);
      const wire: Wire = {
        name: `${user} sends as ${env.fromAddress}`,
        kind: 'send',
        principal: caller.id,
        action: 'ses:SendRawEmail',
        target: sender?.id ?? '',
        sourceArn: '',
        sourceAccount: env.account,
        kmsCarriesSource: false,
      };
      if (!sender) {
        const reason = `no email identity of this template covers ${env.fromAddress}`;
        return { wire, resourcePolicy: { allowed: false, grants: [], reason } };
      }
      const context = { ...HTTPS, 'ses:fromaddress': env.fromAddress };
      const noPolicy = { statements: [], isKeyPolicy: false };
      const resourcePolicy = allOf(
        [...resources].map((resourceArn) => {
          const r = authorize(t, env, caller, { action: wire.action, resourceArn, context }, noPolicy);
          return r.allowed ? r : { ...r, reason: `${resourceArn}: ${r.reason}` };
        }),
        `user ${caller.id}: `,
      );
      return { wire, resourcePolicy };
    });
}

/**
 * The SES feedback handler: a function polling a queue that an SES event destination's topic feeds
 * puts bouncing and complaining recipients on the account's suppression list. Its role must be
 * allowed ses:PutSuppressedDestination, an action with no resource type: only a statement whose
 * Resource is "*" grants it.
 * https://docs.aws.amazon.com/ses/latest/dg/sending-email-suppression-list.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html
 */
function followSuppression(t: CfnTemplate, env: Environment): WireResult[] {
  const of = (type: string) => idsOfType(t, type).map((id) => t.Resources[id]);
  const feedbackTopics = new Set(
    of('AWS::SES::ConfigurationSetEventDestination').map((r) => {
      const destination = r.Properties?.EventDestination as
        | { SnsDestination?: { TopicARN?: unknown } }
        | undefined;
      return pointsAt(destination?.SnsDestination?.TopicARN);
    }),
  );
  const feedbackQueues = new Set(
    of('AWS::SNS::Subscription')
      .filter((r) => r.Properties?.Protocol === 'sqs' && feedbackTopics.has(pointsAt(r.Properties?.TopicArn)))
      .map((r) => pointsAt(r.Properties?.Endpoint)),
  );
  return of('AWS::Lambda::EventSourceMapping')
    .filter((r) => feedbackQueues.has(pointsAt(r.Properties?.EventSourceArn)))
    .map((r) => {
      const fn = pointsAt(r.Properties?.FunctionName)!;
      return functionCall(t, env, fn, 'ses:PutSuppressedDestination', '*', {
        name: `${fn} suppresses recipients`,
        kind: 'suppress',
      });
    });
}

/** The rotation function's calls on the SMTP user's access keys. */
const KEY_ROTATION = [
  'iam:ListAccessKeys',
  'iam:CreateAccessKey',
  'iam:DeleteAccessKey',
  'iam:GetAccessKeyLastUsed',
];
/** The key cleanup's calls when the stack deletes the user. */
const KEY_CLEANUP = ['iam:ListAccessKeys', 'iam:DeleteAccessKey'];
/** The credentials-ready wait's calls: the secret's staging labels, the rotation log's failures. */
const READY_SECRET = ['secretsmanager:DescribeSecret'];
const READY_LOG = ['logs:FilterLogEvents'];

/**
 * The other AWS calls the functions make as their roles, each needing an identity policy (none of
 * these resources has a resource policy):
 * - the rotation function (of a rotation schedule) on the keys of the user its environment names;
 * - the health check (a function whose environment names a configuration set): the identity and
 *   the configuration set it names, the account (ses:GetAccount and cloudwatch:GetMetricData,
 *   which take no resource), and the last use of the SMTP user's keys (IAM authorizes
 *   GetAccessKeyLastUsed on the key's user);
 * - the key cleanup (the function of a custom resource that names a user): that user's keys, and
 *   cloudformation:DescribeStacks on this stack (the event's StackId);
 * - the credentials-ready wait (the function of a custom resource that names a secret):
 *   DescribeSecret on it, and FilterLogEvents on the log group the resource names.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html
 */
function followApiCalls(t: CfnTemplate, env: Environment): WireResult[] {
  const here = `${env.partition}:ses:${env.region}:${env.account}`;
  const ofType = (type: string) => idsOfType(t, type);
  const users = ofType('AWS::IAM::User');
  const configurationSets = ofType('AWS::SES::ConfigurationSet');
  const identities = ofType('AWS::SES::EmailIdentity');
  const calls: { fn: string; action: string; resourceArn: string }[] = [];
  const call = (fn: string, actions: string[], resourceArn: string) =>
    calls.push(...actions.map((action) => ({ fn, action, resourceArn })));
  for (const schedule of ofType('AWS::SecretsManager::RotationSchedule')) {
    const fn = pointsAt(t.Resources[schedule].Properties?.RotationLambdaARN)!;
    for (const user of users.filter((u) => mentions(t.Resources[fn].Properties?.Environment, u)))
      call(fn, KEY_ROTATION, arnOf(user, t, env));
  }
  for (const fn of ofType('AWS::Lambda::Function')) {
    const environment = t.Resources[fn].Properties?.Environment;
    const sets = configurationSets.filter((c) => mentions(environment, c));
    if (sets.length === 0) continue;
    for (const identity of identities.filter((i) => mentions(environment, i)))
      call(fn, ['ses:GetEmailIdentity'], `arn:${here}:identity/${ref(identity, t, env)}`);
    for (const set of sets)
      call(
        fn,
        ['ses:GetConfigurationSet', 'ses:GetConfigurationSetEventDestinations'],
        `arn:${here}:configuration-set/${ref(set, t, env)}`,
      );
    call(fn, ['ses:GetAccount', 'cloudwatch:GetMetricData'], '*');
    // The previous key's last use; whether the current key still exists and is active; whether
    // the user still has a policy.
    for (const user of users)
      call(
        fn,
        [
          'iam:GetAccessKeyLastUsed',
          'iam:ListAccessKeys',
          'iam:ListUserPolicies',
          'iam:ListAttachedUserPolicies',
          'iam:ListGroupsForUser',
        ],
        arnOf(user, t, env),
      );
  }
  for (const r of Object.values(t.Resources)) {
    if (!r.Type.startsWith('Custom::') && r.Type !== 'AWS::CloudFormation::CustomResource') continue;
    const fn = pointsAt(r.Properties?.ServiceToken);
    if (!fn) continue;
    const [user, secret, logGroup] = ['UserName', 'SecretId', 'RotationLogGroupName'].map((p) =>
      pointsAt(r.Properties?.[p]),
    );
    if (user && t.Resources[user]?.Type === 'AWS::IAM::User') {
      call(fn, KEY_CLEANUP, arnOf(user, t, env));
      call(fn, ['cloudformation:DescribeStacks'], stackArn(env));
    }
    if (secret && t.Resources[secret]?.Type === 'AWS::SecretsManager::Secret') {
      call(fn, READY_SECRET, arnOf(secret, t, env));
      if (logGroup && t.Resources[logGroup]?.Type === 'AWS::Logs::LogGroup')
        call(fn, READY_LOG, arnOf(logGroup, t, env));
    }
  }
  // A function that lists ECS services in its environment (a literal JSON list of cluster and
  // service names) forces a new deployment of each, on the service's long ARN.
  for (const fn of ofType('AWS::Lambda::Function')) {
    const variables = (t.Resources[fn].Properties?.Environment as { Variables?: Record<string, unknown> })
      ?.Variables;
    const listed = variables?.ECS_SERVICES;
    if (typeof listed !== 'string') continue;
    for (const { cluster, service } of JSON.parse(listed) as { cluster: string; service: string }[])
      call(
        fn,
        ['ecs:UpdateService'],
        `arn:${env.partition}:ecs:${env.region}:${env.account}:service/${cluster}/${service}`,
      );
  }
  // A function that names queues in its environment reads their attributes (the health function:
  // the read keeps SQS reporting them), as its role and through each queue's policy (its TLS deny).
  const queueReads = ofType('AWS::Lambda::Function').flatMap((fn) =>
    ofType('AWS::SQS::Queue')
      .filter((queue) => mentions(t.Resources[fn].Properties?.Environment, queue))
      .map((queue) => {
        const action = 'sqs:GetQueueAttributes';
        const resourceArn = arnOf(queue, t, env);
        return functionCall(t, env, fn, action, resourceArn, {
          name: `${fn} calls ${action} on ${resourceArn}`,
          kind: 'call',
          resource: queue,
        });
      }),
  );
  return [
    ...calls.map(({ fn, action, resourceArn }) =>
      functionCall(t, env, fn, action, resourceArn, {
        name: `${fn} calls ${action} on ${resourceArn}`,
        kind: 'call',
      }),
    ),
    ...queueReads,
  ];
}

/**
 * Function `fn` calling `action` on `resourceArn` as its role: through the resource policies of
 * `resource` (a resource of this template), or on a resource with none.
 */
function functionCall(
  t: CfnTemplate,
  env: Environment,
  fn: string,
  action: string,
  resourceArn: string,
  { name, kind, resource }: Pick<Wire, 'name' | 'kind'> & { resource?: string },
): WireResult {
  const caller = functionCaller(t, env, fn);
  const wire: Wire = {
    name,
    kind,
    principal: caller.id,
    action,
    target: resource ?? fn,
    sourceArn: '',
    sourceAccount: env.account,
    kmsCarriesSource: false,
  };
  const resourcePolicy = authorize(
    t,
    env,
    caller,
    { action, resourceArn, context: HTTPS },
    { statements: resource ? resourcePolicyStatements(t, resource) : [], isKeyPolicy: false },
  );
  return { wire, resourcePolicy: allOf([resourcePolicy], `role ${caller.id}: `) };
}
