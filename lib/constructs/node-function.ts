import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Root of the package: the nearest folder above this file with a package.json (from lib/ or dist/lib/). */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** Where the package build puts each function's bundle: dist/lambda-bundles/<handlerDir>/index.js (+ source map). */
export const LAMBDA_BUNDLES_DIR = path.join(PACKAGE_ROOT, 'dist', 'lambda-bundles');

/** The Lambda runtime every function of the project uses: the current Node.js LTS. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface NodeFunctionProps {
  /** Folder under lambda/ holding the function's index.ts. */
  readonly handlerDir: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default - none */
  readonly environment?: Record<string, string>;
  /** Retention of the function's log group. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** @default RemovalPolicy.DESTROY (logs of a deleted stack are not kept) */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** The variables every NodeFunction sets, before its own: stack traces name the TypeScript lines. */
export const NODE_FUNCTION_ENVIRONMENT: Readonly<Record<string, string>> = {
  NODE_OPTIONS: '--enable-source-maps',
};

/**
 * A Node.js Lambda function as this project builds them all: ARM64, the current LTS runtime, the
 * minified esbuild bundle with source maps that the package build made (`npm run build`: no
 * bundling, lockfile or Docker at synth), its own log group with retention, and a role that may
 * write to that log group and nothing else until granted more.
 */
export class NodeFunction extends lambda.Function {
  /** The folder under lambda/ whose index.ts the function runs. */
  public readonly handlerDir: string;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    const code = lambda.Code.fromAsset(bundleDir(props.handlerDir));
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: log writes to this log group only.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      code,
      handler: 'index.handler',
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      role,
      logGroup,
      environment: { ...NODE_FUNCTION_ENVIRONMENT, ...props.environment },
    });
    this.handlerDir = props.handlerDir;
    this.node.addDependency(logGroup);
  }
}

/** The prebuilt bundle folder of a function; a clear error when the package was not built. */
export function bundleDir(handlerDir: string): string {
  const dir = path.join(LAMBDA_BUNDLES_DIR, handlerDir);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(
      `Lambda bundle ${path.relative(process.cwd(), dir) || dir}${path.sep}index.js is missing: run npm run build (in ${PACKAGE_ROOT})`,
    );
  }
  return dir;
}

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}
