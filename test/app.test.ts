import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Annotations as CdkAnnotations,
  App,
  CfnResource,
  CloudFormationValidatePlugin,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { ArtifactMetadataEntryType } from 'aws-cdk-lib/cloud-assembly-schema';
import { APP_PROPS, buildApp, deployAccessStackName, stackName, validatePlugin } from '../lib/app';
import { ConfigError, projectConfigPath } from '../lib/config/load';
import { DeployAccessStack } from '../lib/deploy-access-stack';
import { BASE_ENV, OTHER_ACCOUNT_ENV } from './helpers';
import { version as CDK_VERSION } from 'aws-cdk-lib/package.json';
import { TEST_APP_PROPS } from './support/app-props';

/** The tests' own environments file: the user's config/environments.json is theirs to edit. */
const FIXTURE = 'test/fixtures/config/single.json';
/** The repository's cdk.json context: feature flags, as `cdk synth` passes them to the app. */
const CDK_JSON_CONTEXT = JSON.parse(fs.readFileSync('cdk.json', 'utf8')).context;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ses-smtp-app-'));
let files = 0;
/** A file of its own for `environments`: two made before either is read must not share one. */
function configFile(environments: Record<string, unknown>): string {
  const file = path.join(tmp, `${Object.keys(environments).join('-') || 'none'}-${++files}.json`);
  fs.writeFileSync(file, JSON.stringify({ environments }));
  return file;
}
/** An App as the CLI runs it, with the tests' environments file unless `context` names one. */
const appWith = (context: Record<string, unknown>) =>
  new App({
    ...APP_PROPS,
    ...TEST_APP_PROPS,
    context: { ...APP_PROPS.context, ...TEST_APP_PROPS.context, config: FIXTURE, ...context },
    outdir: fs.mkdtempSync(path.join(tmp, 'out-')),
  });

/** The warnings buildApp put on a stack (its synth warnings). */
const warnings = (stack: App['node']['children'][number]) =>
  stack.node.metadata.filter((m) => m.type === ArtifactMetadataEntryType.WARN).map((m) => m.data);

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

  test('a Region from the top-level additionalSmtpRegions is accepted by the stack too', () => {
    const file = path.join(tmp, 'additional-regions.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        additionalSmtpRegions: ['eu-central-9'],
        environments: { a: { ...BASE_ENV, region: 'eu-central-9' } },
      }),
    );
    const [stack] = buildApp(appWith({ config: file }));
    expect(stack.region).toBe('eu-central-9');
    // The rotation function writes that Region's SMTP endpoint into the secret.
    expect(stack.credentials.smtpHost).toBe('email-smtp.eu-central-9.amazonaws.com');
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

  test('with "github", one deploy-access stack per account, from every environment; none with -c env', () => {
    const config = configFile({
      a: BASE_ENV,
      b: { ...BASE_ENV, region: 'us-east-1', mailFrom: { subdomain: 'mail-us' }, dmarc: { enabled: false } },
      c: OTHER_ACCOUNT_ENV,
    });
    const file = JSON.parse(fs.readFileSync(config, 'utf8'));
    fs.writeFileSync(config, JSON.stringify({ github: { repository: 'acme/web-app' }, ...file }));
    const accessOf = (app: App) =>
      app.node.children.filter((c): c is DeployAccessStack => c instanceof DeployAccessStack);
    const app = appWith({ config });
    expect(buildApp(app).map((s) => s.stackName)).toEqual(['SesSmtp-a', 'SesSmtp-b', 'SesSmtp-c']);
    expect(accessOf(app).map((s) => [s.stackName, Object.keys(s.roles)])).toEqual([
      [deployAccessStackName('123456789012'), ['a', 'a-preview', 'b', 'b-preview']],
      [deployAccessStackName('210987654321'), ['c', 'c-preview']],
    ]);
    // `cdk deploy -c env=c` (and `cdk diff -c env=c`) then has exactly one stack to work on.
    const one = appWith({ config, env: 'c' });
    expect(buildApp(one).map((s) => s.stackName)).toEqual(['SesSmtp-c']);
    expect(one.node.children.map((c) => c.node.id)).toEqual(['SesSmtp-c']);
  });

  // The loader refuses a named owner without health checks; an owner by default is warned about.
  test('an account left without quota alarms by an opted-out environment: a warning on the owner', () => {
    const b = {
      ...BASE_ENV,
      domain: 'b.example.com',
      fromAddress: 'a@b.example.com',
      dns: { mode: 'manual' },
    };
    const config = configFile({
      a: { ...BASE_ENV, health: { enabled: false } },
      b: { ...b, alarms: { accountAlarms: false } },
    });
    const [a, bStack] = buildApp(appWith({ config }));
    expect(warnings(a)).toEqual([
      'account 123456789012 in eu-west-1 has no quota, send-rate or send anomaly alarm: this environment owns its account alarms but has health checks off, and b, which has them, sets alarms.accountAlarms to false; drop that false, or turn health checks on here [ack: ses-smtp:accountQuotaAlarmsLost]',
    ]);
    expect(warnings(bStack)).toEqual([]);
    // Without the false, b owns them, and nothing is lost.
    const fine = configFile({ a2: { ...BASE_ENV, health: { enabled: false } }, b2: b });
    expect(buildApp(appWith({ config: fine })).flatMap(warnings)).toEqual([]);
  });

  // Staging listed first owns the account alarms; production's on-call would never hear of them.
  test("account-wide alarms that miss a sibling environment's recipients: a warning on the owner, unless it is named", () => {
    const production = {
      ...BASE_ENV,
      domain: 'b.example.com',
      fromAddress: 'a@b.example.com',
      dns: { mode: 'manual' },
      alarms: { emails: ['oncall@example.com', 'Dev@example.com'] },
    };
    const staging = { ...BASE_ENV, alarms: { emails: ['dev@example.com'] } };
    const [stagingStack, productionStack] = buildApp(
      appWith({ config: configFile({ staging, production }) }),
    );
    expect(warnings(stagingStack)).toEqual([
      "the account-wide alarms of account 123456789012 in eu-west-1 (its bounce and complaint rates, quota, send rate and volume) go to this environment's alarms.emails only (dev@example.com), which owns them by default; production's oncall@example.com does not get them. Set alarms.accountAlarms to true on the environment whose operators should get them (on this one, to keep them here) [ack: ses-smtp:account-alarms-audience]",
    ]);
    // And on the environment that misses out: `-c env=production` synthesizes only that one.
    expect(warnings(productionStack)).toEqual([
      "the account-wide alarms of account 123456789012 in eu-west-1 (its bounce and complaint rates, quota, send rate and volume) do not reach this environment's oncall@example.com: staging owns them by default and notifies its own alarms.emails only. Set alarms.accountAlarms to true here to move them here [ack: ses-smtp:account-alarms-audience]",
    ]);
    const alone = buildApp(appWith({ config: configFile({ staging, production }), env: 'production' }));
    expect(alone.flatMap(warnings)).toHaveLength(1);
    // Named, on either: a choice, not a default.
    for (const config of [
      configFile({ staging: { ...staging, alarms: { ...staging.alarms, accountAlarms: true } }, production }),
      configFile({
        staging,
        production: { ...production, alarms: { ...production.alarms, accountAlarms: true } },
      }),
    ]) {
      expect(buildApp(appWith({ config })).flatMap(warnings)).toEqual([]);
    }
    // Production without health checks beside staging with them: `true` there would be refused.
    const unchecked = configFile({ staging, production: { ...production, health: { enabled: false } } });
    const [, quiet] = buildApp(appWith({ config: unchecked }));
    expect(warnings(quiet)).toEqual([
      expect.stringContaining(
        "Add them to staging's alarms.emails, or turn health checks on here and set alarms.accountAlarms to true",
      ),
    ]);
    // Another account, or another Region: nothing shared.
    for (const other of [{ account: '210987654321' }, { region: 'us-east-1' }]) {
      const apart = configFile({ staging, production: { ...production, ...other } });
      expect(buildApp(appWith({ config: apart })).flatMap(warnings)).toEqual([]);
    }
  });

  test.each([[5], [''], [{ path: 'x.json' }]])(
    'context "config" %j is one line saying what it takes',
    (config) => {
      expect(() => buildApp(appWith({ config }))).toThrow(
        new ConfigError([
          `context "config": got ${JSON.stringify(config)}, expected the path of the environments file, like "config/environments.json"`,
        ]),
      );
    },
  );

  test('a bad file throws a ConfigError before any stack exists', () => {
    const app = appWith({ config: configFile({ prod: { ...BASE_ENV, account: 'x' } }) });
    expect(() => buildApp(app)).toThrow(ConfigError);
    expect(app.node.children).toHaveLength(0);
  });
});

describe('acknowledgedWarnings: synth warnings a team accepts, in the file', () => {
  /**
   * The acknowledgement ids of each stack's warnings, sorted: those synth prints, read from the
   * construct tree after running the constructs' validations (which add some), without a synth.
   */
  function warningIds(app: App): Record<string, string[]> {
    for (const construct of app.node.findAll()) construct.node.validate();
    return Object.fromEntries(
      app.node.children.filter(Stack.isStack).map((stack) => [
        stack.stackName,
        stack.node
          .findAll()
          .flatMap((c) => c.node.metadata)
          .filter((m) => m.type === ArtifactMetadataEntryType.WARN)
          .map((m) => /\[ack: ([^\]]+)\]/.exec(String(m.data))?.[1] ?? String(m.data))
          .sort(),
      ]),
    );
  }
  const build = (file: Record<string, unknown>) => {
    const config = path.join(tmp, `acknowledged-${++files}.json`);
    fs.writeFileSync(config, JSON.stringify(file));
    const app = appWith({ config, nag: 'false' });
    buildApp(app, {});
    return app;
  };

  test('an environment\'s list silences those warnings in its own stack only, the synth\'s "Annotation::" form too', () => {
    // No alarms.emails: each stack warns that its alarm topic reaches nobody.
    const reason = "the operator alarm topic is subscribed to the pager in the on-call team's stack";
    const app = build({
      environments: {
        a: { ...BASE_ENV, acknowledgedWarnings: { 'ses-smtp:no-alarm-recipients': reason } },
        b: {
          ...OTHER_ACCOUNT_ENV,
          acknowledgedWarnings: { 'Annotation::ses-smtp:no-alarm-recipients': reason },
        },
        c: {
          ...OTHER_ACCOUNT_ENV,
          region: 'us-east-1',
          domain: 'c.example.net',
          fromAddress: 'a@c.example.net',
        },
      },
    });
    expect(warningIds(app)).toEqual({
      'SesSmtp-a': [],
      'SesSmtp-b': [],
      'SesSmtp-c': ['ses-smtp:no-alarm-recipients'],
    });
  });

  test("the loader's warnings about the file are acknowledged the same way", () => {
    const production = {
      ...OTHER_ACCOUNT_ENV,
      account: BASE_ENV.account,
      alarms: { emails: ['oncall@example.com'] },
    };
    const staging = { ...BASE_ENV, alarms: { emails: ['dev@example.com'] } };
    const accepted = { 'ses-smtp:account-alarms-audience': 'staging and production share one on-call rota' };
    const app = build({
      environments: { staging: { ...staging, acknowledgedWarnings: accepted }, production },
    });
    expect(warningIds(app)).toEqual({
      'SesSmtp-staging': [],
      'SesSmtp-production': ['ses-smtp:account-alarms-audience'],
    });
  });

  test("the loader's warnings are acknowledged on aws-cdk-lib before 2.271.0 too (acknowledgements reach later warnings of the children only)", () => {
    // Those versions look an acknowledgement up on a warning's construct's ancestors, not on the
    // construct itself (aws/aws-cdk#38820): simulated on the app's registry of acknowledgements.
    const probe = new App();
    CdkAnnotations.of(probe).acknowledgeWarning('probe:probe');
    const registry = (probe as unknown as Record<symbol, object>)[
      Symbol.for('@aws-cdk/core.Acknowledgements')
    ];
    const prototype = Object.getPrototypeOf(registry) as { searchPaths(path: string): string[] };
    const searchPaths = prototype.searchPaths;
    const spy = jest.spyOn(prototype, 'searchPaths').mockImplementation(function (this: unknown, p: string) {
      return searchPaths.call(this, p).filter((candidate) => candidate !== p);
    });
    try {
      const production = {
        ...OTHER_ACCOUNT_ENV,
        account: BASE_ENV.account,
        alarms: { emails: ['oncall@example.com'] },
      };
      const staging = {
        ...BASE_ENV,
        alarms: { emails: ['dev@example.com'] },
        acknowledgedWarnings: { 'ses-smtp:account-alarms-audience': 'one on-call rota' },
      };
      // No alarms.emails: the alarm topic (a child) warns at validation, after the acknowledgement.
      const quiet = {
        ...OTHER_ACCOUNT_ENV,
        region: 'us-east-1',
        domain: 'c.example.net',
        fromAddress: 'a@c.example.net',
        acknowledgedWarnings: { 'ses-smtp:no-alarm-recipients': 'paged from the on-call stack' },
      };
      const app = build({ environments: { staging, production, quiet } });
      expect(spy).toHaveBeenCalled();
      const ids = warningIds(app);
      expect([ids['SesSmtp-staging'], ids['SesSmtp-quiet']]).toEqual([[], []]);
    } finally {
      spy.mockRestore();
    }
  });

  test('"github" has its own list, for the access stacks (an environment\'s list does not reach them)', () => {
    const emails = { alarms: { emails: ['ops@example.com'] } };
    const shared = { ses: 'staging and production share one account on purpose' };
    const environments = {
      staging: {
        ...BASE_ENV,
        ...emails,
        acknowledgedWarnings: { 'ses-smtp:deployersShareAccount': shared.ses },
      },
      production: {
        ...OTHER_ACCOUNT_ENV,
        ...emails,
        account: BASE_ENV.account,
        region: 'us-east-1',
      },
    };
    const access = deployAccessStackName(BASE_ENV.account);
    const warned = build({ github: { repository: 'acme/web-app' }, environments });
    expect(warningIds(warned)[access]).toEqual([
      'ses-smtp:accessRegionFollowsFile',
      'ses-smtp:deployersShareAccount',
    ]);
    const github = {
      repository: 'acme/web-app',
      acknowledgedWarnings: { 'ses-smtp:deployersShareAccount': shared.ses },
    };
    expect(warningIds(build({ github, environments }))[access]).toEqual(['ses-smtp:accessRegionFollowsFile']);
  });

  test.each([
    [{ 'ses-smtp:no-alarm-recipients': ' ' }, 'acknowledgedWarnings.ses-smtp:no-alarm-recipients'],
    [{ 'no-alarm-recipients': 'a reason' }, 'acknowledgedWarnings'],
  ])('%j is refused with one line', (acknowledgedWarnings, field) => {
    const config = configFile({ a: { ...BASE_ENV, acknowledgedWarnings } });
    const thrown = (() => {
      try {
        buildApp(appWith({ config }), {});
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown?.message.split('\n')).toEqual([expect.stringContaining(field)]);
  });
});

describe("config/environments.json (or the file cdk.json names), the team's own file", () => {
  // What `cdk synth` would find in it, without the CDK CLI (npm test runs none; CI's
  // `cdk synth -c validate=true` does): each environment builds, with the repository's cdk.json
  // context, and synthesizes under cdk-nag, whose findings throw.
  test('every environment synthesizes with cdk-nag, and no stack carries an error', () => {
    const app = new App({
      ...APP_PROPS,
      context: { ...CDK_JSON_CONTEXT, ...APP_PROPS.context },
      outdir: fs.mkdtempSync(path.join(tmp, 'own-')),
    });
    const stacks = buildApp(app, {});
    const assembly = app.synth();

    // The file cdk.json's context names, else config/environments.json (what the app read above).
    const { environments } = JSON.parse(fs.readFileSync(projectConfigPath(), 'utf8'));
    expect(stacks.map((s) => s.stackName)).toEqual(Object.keys(environments).map(stackName));
    const errors = assembly.stacks.flatMap((s) =>
      s.messages
        .filter((m) => m.level === 'error')
        .map((m) => `${s.stackName}${m.id}: ${String(m.entry.data)}`),
    );
    expect(errors).toEqual([]);
  });
});

const STRICT_VALIDATION = '@aws-cdk/core:validateAgainstDefaultRules';

describe('switches', () => {
  /** The example app with a topic property CloudFormation does not know: only the validation engine sees it. */
  function withUnknownProperty(context: Record<string, unknown>): App {
    const app = appWith({ [STRICT_VALIDATION]: true, nag: 'false', ...context });
    const [stack] = buildApp(app, {});
    new CfnResource(stack, 'Odd', { type: 'AWS::SNS::Topic', properties: { NotAProperty: 1 } });
    return app;
  }

  test('construct creation stack traces are off; --debug (CDK_DEBUG=true) records them', () => {
    const traced = () => {
      // The app's own props only: the tests' App props turn the traces off on their own.
      const app = new App({
        ...APP_PROPS,
        context: { ...APP_PROPS.context, 'aws:cdk:bundling-stacks': [], config: FIXTURE },
        outdir: fs.mkdtempSync(path.join(tmp, 'out-')),
      });
      const [stack] = buildApp(app, {});
      return [stack, ...stack.node.findAll()].filter((c) =>
        c.node.metadata.some((m) => m.type === ArtifactMetadataEntryType.CREATION_STACK),
      ).length;
    };
    expect(traced()).toBe(0);
    const debug = process.env.CDK_DEBUG;
    process.env.CDK_DEBUG = 'true';
    try {
      expect(traced()).toBeGreaterThan(80);
    } finally {
      if (debug === undefined) delete process.env.CDK_DEBUG;
      else process.env.CDK_DEBUG = debug;
    }
  });

  test('the CloudFormation validation engine is off by default', () => {
    expect(() => withUnknownProperty({}).synth()).not.toThrow();
  });

  /** The names of the validation plugins buildApp registers for `context` (cdk-nag off). */
  const pluginsFor = (context: Record<string, unknown>) => {
    // Stage#policyValidationBeta1 would list them, but it is deprecated: watch the registration.
    const addPlugins = jest.spyOn(Validations.prototype, 'addPlugins');
    try {
      buildApp(appWith({ nag: 'false', ...context }), {});
      return addPlugins.mock.calls.flat().map((p) => p.name);
    } finally {
      addPlugins.mockRestore();
    }
  };

  test('-c validate=true registers the engine, which then runs on synth whatever the App props say', () => {
    // The engine costs about 8 s of CPU per run, mostly its start: CI runs it once on the example
    // app (.ci/run: `cdk synth -c validate=true`, which fails on an unknown property).
    expect(pluginsFor({ validate: 'true' })).toEqual([new CloudFormationValidatePlugin().name]);
    expect(pluginsFor({})).toEqual([]);
    expect(pluginsFor({ validate: 'false' })).toEqual([]);
    // A context file or cdk.json gives a boolean, not a string.
    expect(pluginsFor({ validate: false })).toEqual([]);
    expect(APP_PROPS.builtinCloudFormationValidation).toBe(false);
  });

  // The package takes aws-cdk-lib from 2.258.0; the plugin is exported from 2.262.0.
  test('-c validate=true on an aws-cdk-lib without the validation plugin: one line, what to do', () => {
    expect(validatePlugin()).toBe(CloudFormationValidatePlugin);
    expect(() => validatePlugin({})).toThrow(
      new ConfigError([
        `context "validate": got true, but aws-cdk-lib ${CDK_VERSION} has no CloudFormationValidatePlugin (2.262.0 and later do): upgrade aws-cdk-lib, or leave validate off and check the templates with cfn-lint`,
      ]),
    );
  });

  test('-c nag=false skips cdk-nag for a local synth', () => {
    const app = appWith({ nag: 'false' });
    const [stack] = buildApp(app, {});
    new Topic(stack, 'Unsafe');
    expect(() => app.synth()).not.toThrow();
  });

  test.each([
    [{ CI: 'true' }, 'CI=true'],
    [{ CI: '1' }, 'CI=1'],
    // CI services that do not set CI: the same rule as the CLI's env (lib/ci.ts).
    [{ JENKINS_URL: 'https://ci.example.com/' }, 'JENKINS_URL is set'],
  ])('-c nag=false is refused in CI (%j)', (env, signal) => {
    const app = appWith({ nag: 'false' });
    expect(() => buildApp(app, env)).toThrow(
      `context "nag": got false with ${signal}; cdk-nag always runs in CI: remove -c nag=false`,
    );
    expect(app.node.children).toHaveLength(0);
  });

  test('CI=false does not count as CI', () => {
    expect(buildApp(appWith({ nag: 'false' }), { CI: 'false' })).toHaveLength(1);
  });

  test.each([['nag'], ['validate']])(
    'a switch that is not true or false is one line naming it (%s)',
    (name) => {
      expect(() => buildApp(appWith({ [name]: 'yes' }), {})).toThrow(
        new ConfigError([`context "${name}": got "yes", expected true or false (-c ${name}=true)`]),
      );
    },
  );
});

describe('bin/app.ts, bundled as cdk.json runs it (.build/app.js under plain Node)', () => {
  // jest's global setup builds .build/app.js (scripts/build.mjs app), as cdk.json's build hook does.
  const runApp = (config: string, outdir = fs.mkdtempSync(path.join(tmp, 'bin-'))) => {
    return {
      outdir,
      result: spawnSync(process.execPath, ['.build/app.js'], {
        encoding: 'utf8',
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ ...CDK_JSON_CONTEXT, config }),
          CDK_OUTDIR: outdir,
        },
      }),
    };
  };

  test('a config mistake prints one line and exits 2, without a stack trace', () => {
    const config = configFile({ prod: { ...BASE_ENV, dmarc: { policy: 'block' } } });
    const { result } = runApp(config);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(
      `${config}: environment "prod", field "dmarc.policy": got "block", expected one of: "none", "quarantine", "reject"`,
    );
  });

  test('it synthesizes an environment with cdk-nag, and stages each function from the prebuilt bundles', () => {
    const { result, outdir } = runApp(FIXTURE);
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.status).toBe(0);
    const assets = JSON.parse(fs.readFileSync(path.join(outdir, 'SesSmtp-qa.assets.json'), 'utf8'));
    const staged = Object.values(
      assets.files as Record<string, { source: { path: string; packaging: string } }>,
    )
      .filter((f) => f.source.packaging === 'zip')
      .map((f) => fs.existsSync(path.join(outdir, f.source.path, 'index.js')));
    expect(staged.length).toBeGreaterThanOrEqual(3);
    expect(staged.every(Boolean)).toBe(true);
  });
});

describe('cdk-nag on synth', () => {
  test('an unacknowledged finding fails synth', () => {
    const app = appWith({});
    const [stack] = buildApp(app, { CI: 'true' });
    // A topic that accepts plain HTTP publishers violates AwsSolutions-SNS3.
    new Topic(stack, 'Unsafe');
    expect(() => app.synth()).toThrow(/AwsSolutions-SNS3/);
  });
});

describe('cdk-nag on the stacks buildApp builds, not on the App', () => {
  test("a stack of the app's own beside them is not checked (an app that calls buildApp keeps its stacks)", () => {
    const app = appWith({ config: 'test/fixtures/config/github.json' });
    new Topic(new Stack(app, 'OurWeb'), 'Unsafe');
    const stacks = buildApp(app, { CI: 'true' });
    expect(app.node.children.filter((c) => c instanceof DeployAccessStack)).not.toHaveLength(0);
    expect(() => app.synth()).not.toThrow();
    expect(stacks).not.toHaveLength(0);
  });

  test('a finding in each of its stacks, the access stack too: each one reported', () => {
    const app = appWith({ config: 'test/fixtures/config/github.json' });
    const stacks = buildApp(app, { CI: 'true' });
    const owners = [...stacks, app.node.children.find((c) => c instanceof DeployAccessStack)!];
    expect(stacks.length).toBeGreaterThan(1);
    for (const stack of owners) new Topic(stack, 'Unsafe');
    const message = (() => {
      try {
        app.synth();
      } catch (e) {
        return String(e);
      }
      return 'no error';
    })();
    for (const stack of owners)
      expect(message).toContain(`${stack.node.path}/Unsafe/Resource aws-cdk-lib.aws_sns.CfnTopic`);
  });
});
