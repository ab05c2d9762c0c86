import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { buildApp, deployAccessStackName, stackName } from '../lib/app';
import { ConfigError } from '../lib/config/load';
import { DeployAccessStack } from '../lib/deploy-access-stack';
import { BASE_ENV } from './helpers';

/** The tests' own environments file: the user's config/environments.json is theirs to edit. */
const FIXTURE = 'test/fixtures/config/single.json';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-app-'));
function configFile(environments: Record<string, unknown>): string {
  const file = path.join(tmp, `${Object.keys(environments).join('-') || 'none'}.json`);
  fs.writeFileSync(file, JSON.stringify({ environments }));
  return file;
}
const appWith = (context: Record<string, unknown>) =>
  new App({
    context: { 'aws:cdk:bundling-stacks': [], ...context },
    outdir: fs.mkdtempSync(path.join(tmp, 'out-')),
  });

describe('buildApp', () => {
  test('one stack per environment, named after it', () => {
    const config = configFile({
      staging: { ...BASE_ENV, domain: 'staging.example.com', fromAddress: 'a@staging.example.com' },
      production: BASE_ENV,
    });
    const stacks = buildApp(appWith({ config }));
    expect(stacks.map((s) => s.stackName)).toEqual(['SesSmtp-staging', 'SesSmtp-production']);
  });

  test('-c env=NAME builds only that environment', () => {
    // The same domain in a second Region writes its own MAIL FROM name and leaves DMARC to "a".
    const b = {
      ...BASE_ENV,
      region: 'us-east-1',
      mailFrom: { subdomain: 'mail-us' },
      dmarc: { enabled: false },
    };
    const config = configFile({ a: BASE_ENV, b });
    expect(buildApp(appWith({ config, env: 'b' })).map((s) => [s.stackName, s.region])).toEqual([
      [stackName('b'), 'us-east-1'],
    ]);
  });

  test('termination protection is per environment', () => {
    const config = configFile({
      staging: { ...BASE_ENV, domain: 'staging.example.com', fromAddress: 'a@staging.example.com' },
      production: { ...BASE_ENV, terminationProtection: true },
    });
    expect(buildApp(appWith({ config })).map((s) => [s.stackName, s.terminationProtection])).toEqual([
      ['SesSmtp-staging', false],
      ['SesSmtp-production', true],
    ]);
  });

  test('with "github", one deploy-access stack per account, built from every environment even with -c env', () => {
    const config = configFile({
      a: BASE_ENV,
      b: { ...BASE_ENV, region: 'us-east-1' },
      c: { ...BASE_ENV, account: '210987654321' },
    });
    const file = JSON.parse(fs.readFileSync(config, 'utf8'));
    fs.writeFileSync(config, JSON.stringify({ github: { repository: 'acme/web-app' }, ...file }));
    const app = appWith({ config, env: 'c' });
    expect(buildApp(app).map((s) => s.stackName)).toEqual(['SesSmtp-c']);
    const access = app.node.children.filter((c): c is DeployAccessStack => c instanceof DeployAccessStack);
    expect(access.map((s) => [s.stackName, Object.keys(s.roles)])).toEqual([
      [deployAccessStackName('123456789012'), ['a', 'a-preview', 'b', 'b-preview']],
      [deployAccessStackName('210987654321'), ['c', 'c-preview']],
    ]);
  });

  test('a bad file throws a ConfigError before any stack exists', () => {
    const app = appWith({ config: configFile({ prod: { ...BASE_ENV, account: 'x' } }) });
    expect(() => buildApp(app)).toThrow(ConfigError);
    expect(app.node.children).toHaveLength(0);
  });

  test('an environment synthesizes offline and passes cdk-nag (validation runs on synth)', () => {
    const app = appWith({ config: FIXTURE });
    buildApp(app);
    const assembly = app.synth();
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['SesSmtp-qa']);
  });
});

describe('bin/app.ts', () => {
  test('a config mistake prints one line and exits 2, without a stack trace', () => {
    const config = configFile({ prod: { ...BASE_ENV, dmarc: { policy: 'block' } } });
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ config }),
        CDK_OUTDIR: fs.mkdtempSync(path.join(tmp, 'bin-')),
      },
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `${config}: environment "prod", field "dmarc.policy": got "block", expected one of: "none", "quarantine", "reject"`,
    );
  });
});

describe('cdk-nag on synth', () => {
  test('an unacknowledged finding fails synth', () => {
    const app = appWith({ config: FIXTURE });
    const [stack] = buildApp(app);
    // A topic that accepts plain HTTP publishers violates AwsSolutions-SNS3.
    new Topic(stack, 'Unsafe');
    expect(() => app.synth()).toThrow(/AwsSolutions-SNS3/);
  });
});
