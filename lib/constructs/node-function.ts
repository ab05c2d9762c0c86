import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Root of the project: where package-lock.json and lambda/ live. */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

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

/**
 * A Node.js Lambda function as this project builds them all: ARM64, the current LTS runtime, a
 * minified esbuild bundle with source maps (built locally, never in Docker), its own log group
 * with retention, and a role that may write to that log group and nothing else until granted more.
 */
export class NodeFunction extends nodejs.NodejsFunction {
  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
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
      entry: path.join(PROJECT_ROOT, 'lambda', props.handlerDir, 'index.ts'),
      handler: 'handler',
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      role,
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node24',
        // Bundle the AWS SDK too: the deployed code runs the exact versions the tests ran.
        externalModules: [],
        forceDockerBundling: false,
      },
    });
    this.node.addDependency(logGroup);
  }
}
