import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { CfnRole } from 'aws-cdk-lib/aws-iam';
import { buildSync } from 'esbuild';
import { NodeFunction } from '../lib/constructs/node-function';
import { synthStack } from './helpers';

/*
 * Every AWS API call a function's code can make is one its role allows. The wire walker
 * (test/support/wires.ts) follows the calls it was told of; this reads them from the code: each
 * `new <Name>Command(` in the files esbuild bundles for the function, with the client package it
 * is imported from. A call added to the code without its permission fails here, not in AWS.
 */

const ROOT = path.join(__dirname, '..');

/** The IAM service prefix of each AWS SDK client package the functions use. */
const SERVICE_PREFIX: Record<string, string> = {
  'client-cloudformation': 'cloudformation',
  'client-cloudwatch': 'cloudwatch',
  'client-cloudwatch-logs': 'logs',
  'client-iam': 'iam',
  'client-secrets-manager': 'secretsmanager',
  'client-sesv2': 'ses',
  'client-sqs': 'sqs',
};

/** The IAM actions the code of lambda/<dir>/index.ts can call, as `service:Action`. */
function actionsInCode(dir: string): string[] {
  const { metafile } = buildSync({
    entryPoints: [path.join(ROOT, 'lambda', dir, 'index.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    packages: 'external',
    logLevel: 'silent',
  });
  const actions = new Set<string>();
  for (const file of Object.keys(metafile.inputs)) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const clientOf = new Map<string, string>();
    for (const [, names, client] of source.matchAll(
      /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/(client-[a-z0-9-]+)'/g,
    ))
      for (const name of names.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]))
        if (name.endsWith('Command')) clientOf.set(name, client);
    for (const [, command] of source.matchAll(/new\s+(\w+Command)\s*\(/g)) {
      const client = clientOf.get(command);
      if (client === undefined)
        throw new Error(`${file}: ${command} is not imported from an @aws-sdk client`);
      const prefix = SERVICE_PREFIX[client];
      if (prefix === undefined) throw new Error(`${file}: no IAM service prefix for @aws-sdk/${client}`);
      actions.add(`${prefix}:${command.slice(0, -'Command'.length)}`);
    }
  }
  return [...actions].sort();
}

/** Whether `pattern` (an IAM action, with * and ?) covers `action` (case-insensitive, as IAM). */
const covers = (pattern: string, action: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  ).test(action);

describe('each function may call what its code calls', () => {
  // Every option that adds a function or a call on: the app queue, a webhook, the health checks.
  const { stack, template } = synthStack({
    feedback: { appQueue: true, webhookUrl: 'https://app.example.com/ses' },
  });
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const functions = stack.node.findAll().filter((c): c is NodeFunction => c instanceof NodeFunction);

  /** The Allow statements' actions of every policy on the role with logical id `role`. */
  function allowedActions(role: string): string[] {
    const statements = [
      ...Object.values(resources)
        .filter(
          (r) =>
            r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles ?? []).includes(`"${role}"`),
        )
        .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement),
      ...(
        (resources[role].Properties.Policies ?? []) as {
          PolicyDocument: { Statement: Record<string, unknown>[] };
        }[]
      ).flatMap((p) => p.PolicyDocument.Statement),
    ];
    return statements.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat() as string[]);
  }

  test('the stack has each function of lambda/', () => {
    const dirs = fs
      .readdirSync(path.join(ROOT, 'lambda'))
      .filter((d) => fs.existsSync(path.join(ROOT, 'lambda', d, 'index.ts')))
      .sort();
    expect([...new Set(functions.map((f) => f.handlerDir))].sort()).toEqual(dirs);
  });

  test.each([...new Set(functions.map((f) => f.handlerDir))].sort())(
    'lambda/%s: every call its code makes is allowed by its role',
    (dir) => {
      const calls = actionsInCode(dir);
      expect(calls.length).toBeGreaterThan(0);
      for (const fn of functions.filter((f) => f.handlerDir === dir)) {
        const role = Stack.of(fn).getLogicalId(fn.role!.node.defaultChild as CfnRole);
        const allowed = allowedActions(role);
        expect({ role, missing: calls.filter((a) => !allowed.some((p) => covers(p, a))) }).toEqual({
          role,
          missing: [],
        });
      }
    },
  );
});
