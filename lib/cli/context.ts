import { promises as dns } from 'node:dns';
import * as fs from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';
import {
  ConfigError,
  DEFAULT_CONFIG_PATH,
  loadConfig,
  NamedEnvironment,
  projectConfigPath,
} from '../config/load';
import type { EnvironmentConfig } from '../config/types';
import { smtpEndpoint } from '../config/smtp-regions';
import { cdkCommand, cliOptions, sesSmtpCommand, stackName } from '../stack-name';
import { IMPLICIT_TLS_PORTS, type SmtpEndpoint } from '../../lambda/shared/smtp-login';
import { quoted } from '../config/syntax';
import { CheckFailed, UsageError } from './errors';
import { resolverAddress, smtpCaPem, smtpPort, smtpTimeoutSeconds } from './option-checks';
import { checkDomainName, checkHost, checkRegion, checkStackName } from './validate';
import { Output } from './output';
import { shellOption, shellWord } from './shell';

/** Options every command takes. */
export interface GlobalOptions {
  readonly env?: string;
  readonly config?: string;
  readonly region?: string;
  readonly stack?: string;
  readonly secretId?: string;
  readonly identity?: string;
  readonly configurationSet?: string;
  readonly userName?: string;
  readonly smtpHost?: string;
  readonly smtpPort?: string;
  readonly smtpCa?: string;
  readonly smtpTimeout?: string;
  readonly resolver?: string;
}

/** How long an AWS call may take to connect, and in all, before it fails (each SDK attempt). */
export interface AwsHttpOptions {
  readonly connectionTimeout: number;
  readonly requestTimeout: number;
  readonly throwOnRequestTimeout: true;
}

/**
 * The SDK waits forever by default: an endpoint that accepts the connection and never answers (a
 * stuck proxy, a TLS-inspecting box, a wrong AWS_ENDPOINT_URL) would hang every command, past its
 * --timeout. No call of the CLI runs long on AWS's side (no Lambda Invoke), so 15 s is plenty; the
 * SDK's 3 attempts then fail in about 45 s with "cannot reach AWS".
 */
export const AWS_HTTP_OPTIONS: AwsHttpOptions = {
  connectionTimeout: 5_000,
  requestTimeout: 15_000,
  throwOnRequestTimeout: true,
};

/** An AWS SDK v3 client class: `new X({ region, requestHandler })`. */
export type ClientClass<T> = new (config: {
  region: string;
  requestHandler: AwsHttpOptions;
  logger: SdkLogger;
}) => T;

/** The AWS SDK's logger interface (@smithy/types Logger). */
export interface SdkLogger {
  trace?: (...content: unknown[]) => void;
  debug: (...content: unknown[]) => void;
  info: (...content: unknown[]) => void;
  warn: (...content: unknown[]) => void;
  error: (...content: unknown[]) => void;
}

/**
 * The clients' logger: the SDK's warnings as one line each (its warning that AWS_PROFILE and the
 * key variables are both set takes nine lines of console output without one). Nothing else: the
 * SDK logs each call's input and output at info, and on an error at error (a secret's value is one).
 */
export function sdkLogger(warn: (line: string) => void): SdkLogger {
  const ignore = () => undefined;
  return {
    debug: ignore,
    info: ignore,
    error: ignore,
    warn: (...content) => {
      const text = content.filter((c) => typeof c === 'string').join(' ');
      if (/Multiple credential sources detected/.test(text))
        warn(
          'AWS_PROFILE and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are both set: the AWS SDK uses the profile; unset the one you do not mean',
        );
      else if (text) warn(text.replace(/\s+/g, ' ').trim());
    },
  };
}

/** What the context needs to know about the command it runs. */
export interface CommandNeeds {
  /** The command's name, for messages. */
  readonly name: string;
  /**
   * It reads the environment's settings: from the environments file, else from the health-check
   * function of the stack --stack names. @default false
   */
  readonly config?: boolean;
}

/**
 * The deployed resources a command works on, by flag (GlobalOptions key): the stack output that
 * names it, and its noun and value placeholder in messages.
 */
export const RESOURCES = {
  secretId: { output: 'SmtpSecretArn', noun: 'secret', value: 'ID' },
  identity: { output: 'IdentityName', noun: 'identity', value: 'DOMAIN' },
  configurationSet: { output: 'ConfigurationSetName', noun: 'configuration set', value: 'NAME' },
  userName: { output: 'SmtpUserName', noun: 'SMTP user', value: 'NAME' },
} as const;
export type Resource = keyof typeof RESOURCES;

/**
 * The stack output that names the health-check function, whose settings doctor and dns read
 * without an environments file.
 */
export const HEALTH_FUNCTION_OUTPUT = 'HealthCheckFunctionName';

const flagOf = (name: Resource) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The Region in a Secrets Manager ARN. */
const arnRegion = (id: string | undefined) => /^arn:[a-z-]+:secretsmanager:([^:]+):/.exec(id ?? '')?.[1];

/**
 * What a command works on: an environment of the environments file (--env, or its only one), or,
 * without that file (an app that uses the SesSmtp construct in a stack of its own), the stack and
 * resources the flags name. Every option is checked here, before any AWS call.
 */
export class CliContext {
  /** The environment's name; undefined without an environments file. */
  readonly environmentName?: string;
  readonly region: string;
  /** The stack to read outputs from: --stack, else the environment's; undefined without either. */
  readonly stackName?: string;
  /** What DescribeStacks is asked for: --stack's ARN as given (AWS then checks its account), else the name. */
  private readonly stackId?: string;
  /** What the command works on, in messages: "environment prod", or "stack Mail" without the file. */
  readonly subject: string;
  private readonly settings?: EnvironmentConfig;
  /** Where the environments file was looked for. */
  private readonly configPath: string;
  /**
   * What is wrong with cdk.json's context "config" (not a path): in an app of your own that key
   * may be another tool's, so it counts only where the environments file does.
   */
  private readonly configProblem?: string;
  private readonly clients = new Map<ClientClass<unknown>, unknown>();
  private readonly sdkLogger = sdkLogger((line) => this.out.warn(line));
  private readonly smtpEndpoint: SmtpEndpoint;
  /** The stack's outputs by SesSmtp's names, the constructs they show and its status, read once. */
  private outputs?: Promise<StackRead | undefined>;

  /**
   * The options as given, --identity as SES names the identity (lower case, no final dot) and
   * --stack as the stack's name (a stack ARN's name part).
   */
  readonly options: GlobalOptions;

  constructor(
    given: GlobalOptions,
    readonly out: Output,
    private readonly command: CommandNeeds = { name: 'this command' },
    private readonly http: AwsHttpOptions = AWS_HTTP_OPTIONS,
  ) {
    const stack = given.stack === undefined ? undefined : checkStackName('--stack', given.stack);
    if (stack?.region !== undefined) this.stackId = given.stack;
    const options = {
      ...given,
      ...(stack && { stack: stack.name }),
      ...(given.identity !== undefined && { identity: checkDomainName('--identity', given.identity) }),
    };
    this.options = options;
    const { path: configPath, problem } =
      options.config !== undefined ? { path: options.config, problem: undefined } : defaultConfigPath();
    this.configPath = configPath;
    this.configProblem = problem;
    const environments = this.readEnvironments();
    if (options.region !== undefined) checkRegion('--region', options.region);
    if (stack?.region !== undefined) checkRegion(`the Region of --stack ${given.stack}`, stack.region);
    if (environments) {
      const names = environments.map((e) => e.name);
      const chosen = options.env ?? (names.length === 1 ? names[0] : undefined);
      if (chosen === undefined) {
        throw new UsageError(
          `--env is required: ${this.configPath} has several environments (${names.join(', ')}); pick one with --env NAME`,
        );
      }
      const found = environments.find((e) => e.name === chosen);
      if (!found)
        throw new UsageError(
          `--env ${quoted(chosen)}: no such environment in ${this.configPath}; known: ${names.join(', ')}`,
        );
      this.environmentName = found.name;
      this.settings = found.config;
      this.region = options.region ?? stack?.region ?? found.config.region;
      this.stackName = options.stack ?? stackName(found.name);
      this.subject = `environment ${found.name}`;
    } else {
      const fromSecretArn = options.region === undefined ? arnRegion(options.secretId) : undefined;
      if (fromSecretArn !== undefined)
        checkRegion(`the Region of --secret-id ${options.secretId}`, fromSecretArn);
      const region = options.region ?? stack?.region ?? fromSecretArn;
      if (region === undefined) {
        throw new UsageError(
          `--region is missing: without an environments file (${this.noFile}) pass --region REGION, the Region of the stack (or --config PATH)`,
        );
      }
      this.region = region;
      this.stackName = options.stack;
      const resource = (Object.keys(RESOURCES) as Resource[]).find((r) => options[r] !== undefined);
      this.subject = options.stack
        ? `stack ${options.stack}`
        : resource
          ? `${RESOURCES[resource].noun} ${options[resource]}`
          : `Region ${region}`;
    }
    // An ARN names its Region: a command run in another would not find what it names.
    const arns = [
      ['--stack', given.stack, stack?.region],
      ['--secret-id', options.secretId, arnRegion(options.secretId)],
    ] as const;
    for (const [flag, arn, region] of arns) {
      if (region !== undefined && region !== this.region) {
        const from =
          options.region !== undefined
            ? '--region'
            : (arns.find(([, , r]) => r === this.region)?.[0] ?? `environment ${this.environmentName}`);
        throw new UsageError(
          `${flag} ${arn} is in ${region}, and this command runs in ${this.region} (from ${from}); pass --region ${region}, or a ${flag} in ${this.region}`,
        );
      }
    }
    this.smtpEndpoint = smtpSettings(options, this.region);
    if (options.resolver) this.resolver();
  }

  /**
   * The environments of the file, or undefined when the default file does not exist and the
   * command can do without it. A UsageError when the file is needed: --config or --env given,
   * or a command that reads the environment's settings without a --stack to read them from.
   */
  private readEnvironments(): NamedEnvironment[] | undefined {
    const { options, configPath } = this;
    // A stack of your own needs no file: cdk.json's "config" may then be another tool's.
    if (this.configProblem !== undefined) {
      if (options.stack === undefined || options.env !== undefined) throw new UsageError(this.configProblem);
      return undefined;
    }
    if (options.config === undefined && !fs.existsSync(configPath)) {
      if (options.env !== undefined) {
        throw new UsageError(
          `--env ${quoted(options.env)}: ${configPath} not found, so there is no environment to pick; run it where that file is, pass --config PATH, or name a stack of your own with --stack NAME --region REGION instead`,
        );
      }
      if (this.command.config && options.stack === undefined) {
        throw new UsageError(
          `${this.command.name} reads the environment's settings from the environments file (${configPath} not found) or from the health-check function of a stack: name a stack of your own with --stack NAME --region REGION, run it where that file is, or pass --config PATH`,
        );
      }
      return undefined;
    }
    try {
      return loadConfig(configPath, undefined, '--config PATH').environments;
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(e.message);
      throw e;
    }
  }

  /** The environment of the environments file and its stack; a UsageError without that file. */
  environment(): { readonly name: string; readonly config: EnvironmentConfig; readonly stackName: string } {
    if (this.environmentName === undefined || this.settings === undefined || this.stackName === undefined) {
      throw new UsageError(this.needsFile());
    }
    return { name: this.environmentName, config: this.settings, stackName: this.stackName };
  }

  /** The environment's settings from the environments file; a UsageError without that file. */
  get config(): EnvironmentConfig {
    return this.environment().config;
  }

  /** Why no environments file was read, for messages: not found, or cdk.json's "config" is no path. */
  private get noFile(): string {
    return this.configProblem === undefined
      ? `${this.configPath} not found`
      : `cdk.json names none: ${this.configProblem}`;
  }

  private needsFile(): string {
    return `${this.command.name} reads the environment's settings from the environments file: ${this.noFile}; run it where that file is, or pass --config PATH`;
  }

  /**
   * The command line that runs `command` on what this one worked on: "ses-smtp rotate --env prod"
   * with the flags given that changed it (--config, --stack, the `resources` given, a --region
   * other than the environment's); without an environments file, the flags of the stack, of the
   * `resources` given and the Region. Values the shell would change are quoted.
   */
  rerun(command: string, resources: readonly Resource[] = []): string {
    return sesSmtpCommand(command, this.cliOptions(resources));
  }

  /**
   * How a fix says to run `npx cdk deploy` (or `import`) on this stack. An environment's stack has
   * its name as its id in the app, which the CDK CLI selects by, and the app reads the environments
   * file this command read (--config, as `-c config=`); a stack of your own (`--stack`) may have
   * another id there.
   */
  cdkCommand(verb: 'deploy' | 'import'): string {
    if (this.settings === undefined || this.options.stack !== undefined || this.stackName === undefined) {
      return `npx cdk ${verb} with the id of stack ${this.stackName} in your CDK app; npx cdk ls lists them`;
    }
    const { config } = this.options;
    return [
      cdkCommand(verb, { stackName: this.stackName }),
      // Absolute: --config is relative to where this runs, cdk to the project it runs in.
      ...(config !== undefined ? [`-c ${shellWord(`config=${path.resolve(config)}`)}`] : []),
    ].join(' ');
  }

  /** The options of `rerun`: those that name what this command worked on. */
  cliOptions(resources: readonly Resource[] = []): string {
    const given = resources.flatMap((r) =>
      this.options[r] ? [shellOption(flagOf(r), this.options[r])] : [],
    );
    // Without an environments file there is no --config, and no environment's Region to leave out.
    const flags = [
      ...(this.environmentName !== undefined ? [cliOptions({ environmentName: this.environmentName })] : []),
      ...(this.options.config !== undefined ? [shellOption('--config', this.options.config)] : []),
      ...(this.options.stack !== undefined ? [`--stack ${this.stackName}`] : []),
      ...given,
      ...(this.region !== this.settings?.region ? [`--region ${this.region}`] : []),
    ];
    return flags.join(' ');
  }

  /**
   * The AWS client of that class for this Region, made on first use: a command loads and builds
   * only the clients it uses. The standard credential chain, profile and AWS_ENDPOINT_URL_*
   * variables apply.
   */
  client<T>(Client: ClientClass<T>): T {
    let client = this.clients.get(Client) as T | undefined;
    if (client === undefined) {
      client = new Client({ region: this.region, requestHandler: this.http, logger: this.sdkLogger });
      this.clients.set(Client, client);
    }
    return client;
  }

  /** The stack's outputs, read once; undefined when the stack does not exist, or without a stack. */
  async stackOutputs(): Promise<Record<string, string> | undefined> {
    return (await this.readOutputs())?.outputs;
  }

  /** The stack's status (CREATE_COMPLETE, ROLLBACK_COMPLETE, ...); undefined when it does not exist. */
  async stackStatus(): Promise<string | undefined> {
    return (await this.readOutputs())?.status;
  }

  private readOutputs(): Promise<StackRead | undefined> {
    const stack = this.stackName;
    if (stack === undefined) return Promise.resolve(undefined);
    const id = this.stackId ?? stack;
    this.outputs ??= import('@aws-sdk/client-cloudformation')
      .then(({ CloudFormationClient, DescribeStacksCommand }) =>
        this.client(CloudFormationClient).send(new DescribeStacksCommand({ StackName: id })),
      )
      .then((r) => {
        // AWS answers a missing stack with a ValidationError, never without a list: an answer
        // without one came from something else (a proxy's page), and "deploy it" would mislead.
        if (!Array.isArray(r.Stacks))
          throw new CheckFailed(
            `the answer to DescribeStacks for ${quoted(id)} holds no stack list: it did not come from CloudFormation (check the network, proxy settings and any AWS_ENDPOINT_URL_* variable)`,
          );
        // The stack of that name or id only: DescribeStacks without a name lists every stack.
        const found = r.Stacks.find((s) => s.StackName === id || s.StackId === id);
        // Asked for by id, DescribeStacks also returns a deleted stack: that is no stack.
        if (!found || found.StackStatus === 'DELETE_COMPLETE') return undefined;
        return {
          ...sesSmtpOutputs(
            Object.fromEntries((found.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
            this.options.secretId,
          ),
          status: found.StackStatus ?? 'UNKNOWN',
        };
      })
      .catch((e: Error) => {
        if (e.name === 'ValidationError' && /does not exist/.test(e.message)) return undefined;
        throw e;
      });
    return this.outputs;
  }

  /** A deployed resource: the flag if given, else the stack output; a clear usage error otherwise. */
  async resource(name: Resource): Promise<string> {
    const flag = this.options[name];
    if (flag) return flag;
    const flagName = flagOf(name);
    if (this.stackName === undefined) {
      throw new UsageError(
        `${flagName} is missing: without an environments file (${this.noFile}) pass ${flagName} ${RESOURCES[name].value}, or --stack NAME to read it from the stack's outputs`,
      );
    }
    return this.stackOutput(RESOURCES[name].output, {
      notFound: `pass ${flagName} (and --stack or --region if it lives elsewhere)`,
      several: `pass ${flagName} (which one is meant is not known)`,
      missing: `redeploy it with this version, or pass ${flagName}`,
    });
  }

  /**
   * The name of the stack's health-check function (its output HealthCheckFunctionName): without an
   * environments file, doctor and dns read the environment's settings from that function's. A
   * UsageError that says what to do when the stack has none.
   */
  async healthFunctionName(): Promise<string> {
    const name = this.command.name;
    if (this.stackName === undefined) throw new UsageError(this.needsFile());
    return this.stackOutput(HEALTH_FUNCTION_OUTPUT, {
      notFound: 'pass the --stack and --region where it lives',
      several: `which one's settings ${name} should read is not known; without an environments file (--config PATH) it works on a stack with one SesSmtp construct`,
      missing: `it has no health-check function, whose settings ${name} reads without an environments file; deploy the stack with this version and health.enabled true (the default), or run ${name} where the environments file is (or pass --config PATH)`,
    });
  }

  /**
   * The value of the stack's output `output`; when there is none, a UsageError that names why (no
   * such stack, several SesSmtp constructs in it, or no such output) and then the caller's fix.
   */
  async stackOutput(
    output: string,
    fix: { readonly notFound: string; readonly several: string; readonly missing: string },
  ): Promise<string> {
    const stack = this.stackName;
    const read = await this.readOutputs();
    const value = read?.outputs[output];
    if (value) return value;
    if (!read) {
      throw new UsageError(
        `stack ${stack} not found in ${this.region}: deploy it (${this.cdkCommand('deploy')}), or ${fix.notFound}`,
      );
    }
    if (read.constructs.length > 1) {
      throw new UsageError(
        `stack ${stack} holds ${read.constructs.length} SesSmtp constructs (${read.constructs.join(', ')}): ${fix.several}`,
      );
    }
    throw new UsageError(`stack ${stack} has no output ${output}: ${fix.missing}`);
  }

  /** Where to talk SMTP: --smtp-host/--smtp-port, else the Region's SES endpoint on 587. */
  async smtp(): Promise<SmtpEndpoint> {
    return this.smtpEndpoint;
  }

  /** A DNS resolver: --resolver IP[:PORT], else the system's. */
  resolver(): dns.Resolver {
    const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });
    const spec = this.options.resolver;
    if (spec) {
      const { ip, port } = resolverAddress(spec);
      resolver.setServers([isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`]);
    }
    return resolver;
  }
}

/** The SMTP endpoint of the options (--smtp-*), in `region` unless --smtp-host; a UsageError for a bad one. */
function smtpSettings(options: GlobalOptions, region: string): SmtpEndpoint {
  const host =
    options.smtpHost === undefined ? smtpEndpoint(region) : checkHost('--smtp-host', options.smtpHost);
  const port = smtpPort(options.smtpPort ?? '587');
  const timeoutSeconds = smtpTimeoutSeconds(options.smtpTimeout ?? '10');
  const ca = options.smtpCa === undefined ? undefined : smtpCaPem(options.smtpCa);
  return {
    host,
    port,
    timeoutMs: timeoutSeconds * 1000,
    ...(IMPLICIT_TLS_PORTS.includes(port) && { implicitTls: true }),
    ...(ca && { tls: { ca } }),
  };
}

type StackRead = ReturnType<typeof sesSmtpOutputs> & { readonly status: string };

/** The key CDK gives a SesSmtp construct's SmtpSecretArn output in a stack of your own; its path. */
const SECRET_ARN_OUTPUT = /^([A-Za-z0-9]*)SmtpSecretArn[0-9A-F]{8}$/;

/**
 * A stack's outputs by the names SesSmtp gives them, and the paths of the SesSmtp constructs found.
 * The environments-file app's stacks use the names as keys; a SesSmtp construct in a stack of your
 * own gets keys CDK derives from each output's path: "<construct path><Name><8 hex digits>", like
 * MailSmtpSecretArn46B3BB99. With several constructs in one stack, the one whose secret is
 * `secretId` (--secret-id) is meant; without it no key is renamed: which one a command means is
 * not known (resource() says so when it needs one).
 */
export function sesSmtpOutputs(
  outputs: Record<string, string>,
  secretId?: string,
): {
  outputs: Record<string, string>;
  constructs: string[];
} {
  if (Object.hasOwn(outputs, 'SmtpSecretArn')) return { outputs, constructs: [''] };
  const found = Object.entries(outputs).flatMap(([key, value]) => {
    const path = SECRET_ARN_OUTPUT.exec(key)?.[1];
    return path === undefined ? [] : [{ path, secretArn: value }];
  });
  const constructs = found.map((c) => c.path);
  const meant = found.length === 1 ? found[0] : found.find((c) => c.secretArn === secretId);
  if (meant === undefined) return { outputs, constructs };
  const named = new RegExp(`^${meant.path}([A-Za-z0-9]+)[0-9A-F]{8}$`);
  // A key of a construct whose path starts with this one's ("MailX" beside "Mail") is not its.
  const longer = constructs.filter((path) => path.length > meant.path.length && path.startsWith(meant.path));
  return {
    outputs: Object.fromEntries(
      Object.entries(outputs).flatMap(([key, value]) => {
        const name = named.exec(key)?.[1];
        return name && !longer.some((path) => key.startsWith(path)) ? [[name, value]] : [];
      }),
    ),
    constructs,
  };
}

/**
 * The file cdk.json names, or the default; with what is wrong with cdk.json's "config" (the
 * user's to fix, one line and exit 2, where the file is needed) and then the default.
 */
function defaultConfigPath(): { path: string; problem?: string } {
  try {
    return { path: projectConfigPath() };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // A cdk.json that is not JSON is a mistake whatever reads it.
    if (/^\S*cdk\.json: not JSON \(/.test(e.message)) throw new UsageError(e.message);
    return { path: DEFAULT_CONFIG_PATH, problem: e.message };
  }
}
