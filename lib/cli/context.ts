import { promises as dns } from 'node:dns';
import * as fs from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../config/load';
import { EnvironmentConfig } from '../config/schema';
import { smtpEndpoint } from '../config/smtp-regions';
import { stackName } from '../stack-name';
import type { SmtpEndpoint } from '../../lambda/shared/smtp-login';
import { UsageError } from './errors';
import { checkRegion } from './validate';
import { Output } from './output';

/** The SMTP endpoint of the options (--smtp-*), in `region` unless --smtp-host; a UsageError for a bad one. */
function smtpSettings(options: GlobalOptions, region: string): SmtpEndpoint {
  const host = options.smtpHost ?? smtpEndpoint(region);
  const portText = options.smtpPort ?? '587';
  const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new UsageError(
      `--smtp-port: got ${JSON.stringify(options.smtpPort)}, expected a TCP port number from 1 to 65535 (SES offers 25, 587 and 2587 for STARTTLS)`,
    );
  }
  const timeoutSeconds = options.smtpTimeout === undefined ? 10 : Number(options.smtpTimeout);
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 300)) {
    throw new UsageError(
      `--smtp-timeout: got ${JSON.stringify(options.smtpTimeout)}, expected a number of seconds above 0 and at most 300`,
    );
  }
  let ca: string | undefined;
  if (options.smtpCa !== undefined) {
    try {
      ca = fs.readFileSync(options.smtpCa, 'utf8');
    } catch {
      throw new UsageError(
        `--smtp-ca: cannot read ${JSON.stringify(options.smtpCa)}; pass a PEM file of the CA to trust`,
      );
    }
  }
  return { host, port, timeoutMs: timeoutSeconds * 1000, ...(ca && { tls: { ca } }) };
}

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

/** An AWS SDK v3 client class: `new X({ region })`. */
export type ClientClass<T> = new (config: { region: string }) => T;

/** The deployed resources a command works on: flag (GlobalOptions key) -> stack output. */
const RESOURCE_OUTPUTS = {
  secretId: 'SmtpSecretArn',
  identity: 'IdentityName',
  configurationSet: 'ConfigurationSetName',
  userName: 'SmtpUserName',
} as const;
export type Resource = keyof typeof RESOURCE_OUTPUTS;

export class CliContext {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly region: string;
  readonly stackName: string;
  private readonly clients = new Map<ClientClass<unknown>, unknown>();
  private readonly smtpEndpoint: SmtpEndpoint;
  private outputs?: Promise<Record<string, string> | undefined>;

  constructor(
    readonly options: GlobalOptions,
    readonly out: Output,
  ) {
    const configPath = options.config ?? DEFAULT_CONFIG_PATH;
    if (!fs.existsSync(configPath)) {
      throw new UsageError(
        `${configPath || '(empty path)'}: no such environments file; create it (see README "Configuration") or pass --config PATH`,
      );
    }
    let environments;
    try {
      environments = loadConfig(configPath, undefined, '--config PATH').environments;
    } catch (e) {
      if (e instanceof ConfigError) throw new UsageError(e.message);
      throw e;
    }
    const names = environments.map((e) => e.name);
    const chosen = options.env ?? (names.length === 1 ? names[0] : undefined);
    if (chosen === undefined) {
      throw new UsageError(
        `--env is required: ${configPath} has several environments (${names.join(', ')}); pick one with --env NAME`,
      );
    }
    const found = environments.find((e) => e.name === chosen);
    if (!found)
      throw new UsageError(
        `--env ${chosen}: no such environment in ${configPath}; known: ${names.join(', ')}`,
      );
    this.environmentName = found.name;
    this.config = found.config;
    if (options.region !== undefined) checkRegion('--region', options.region);
    this.region = options.region ?? found.config.region;
    this.stackName = options.stack ?? stackName(found.name);
    // Every flag is checked here, before any command talks to AWS.
    this.smtpEndpoint = smtpSettings(options, this.region);
    if (options.resolver) this.resolver();
  }

  /**
   * The AWS client of that class for this Region, made on first use: a command loads and builds
   * only the clients it uses. The standard credential chain, profile and AWS_ENDPOINT_URL_*
   * variables apply.
   */
  client<T>(Client: ClientClass<T>): T {
    let client = this.clients.get(Client) as T | undefined;
    if (client === undefined) {
      client = new Client({ region: this.region });
      this.clients.set(Client, client);
    }
    return client;
  }

  /** The stack's outputs, read once; undefined when the stack does not exist. */
  stackOutputs(): Promise<Record<string, string> | undefined> {
    this.outputs ??= import('@aws-sdk/client-cloudformation')
      .then(({ CloudFormationClient, DescribeStacksCommand }) =>
        this.client(CloudFormationClient).send(new DescribeStacksCommand({ StackName: this.stackName })),
      )
      .then((r) =>
        Object.fromEntries(
          (r.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
        ),
      )
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
    const outputs = await this.stackOutputs();
    const output = RESOURCE_OUTPUTS[name];
    const value = outputs?.[output];
    if (value) return value;
    const flagName = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (!outputs) {
      throw new UsageError(
        `stack ${this.stackName} not found in ${this.region}: deploy it (npx cdk deploy ${this.stackName}), or pass ${flagName} (and --stack or --region if it lives elsewhere)`,
      );
    }
    throw new UsageError(
      `stack ${this.stackName} has no output ${output}: redeploy it with this version, or pass ${flagName}`,
    );
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
      const match = /^(?:\[([0-9a-fA-F:]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(spec);
      const ip = match?.[1] ?? match?.[2];
      const port = match?.[3] ? Number(match[3]) : 53;
      if (!ip || !isIP(ip) || port < 1 || port > 65535) {
        throw new UsageError(
          `--resolver: got ${JSON.stringify(spec)}, expected IP[:PORT] like 1.1.1.1 or 127.0.0.1:5353 or [::1]:53`,
        );
      }
      resolver.setServers([isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`]);
    }
    return resolver;
  }
}
