#!/usr/bin/env node
/**
 * Assertions of the consumer test (scripts/consumer-test.sh), one step per command:
 *
 *   tarball FILE                 what `npm pack` ships: compiled JS and declarations, the prebuilt
 *                                Lambda bundles, the CLI; no TypeScript sources, tests or scripts
 *   synth APP_DIR CDK_LIB        the consumer's cdk.out: SesSmtp, the cross-stack grant, the ECS
 *                                secrets, prebuilt assets, no cycle, cdk-nag clean, one aws-cdk-lib
 *   same-templates DIR_A DIR_B   two synths of the same app produced the same templates
 *   cli APP_DIR                  the installed `ses-smtp` bin: --version, --help, a user error;
 *                                the package's import, which loads no cdk-nag, and its names
 *                                from an ES module
 *   probe APP_DIR                a synth with one violating resource added fails on cdk-nag
 *   api APP_DIR                  every type the installed declarations name in the package's
 *                                exports is itself exported (a consumer can write it down)
 *
 * Each failure prints one line naming what was expected and exits 1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const [command, ...args] = process.argv.slice(2);
let failures = 0;

function check(ok, what) {
  if (ok) {
    console.log(`   ok: ${what}`);
  } else {
    console.error(`   FAILED: ${what}`);
    failures++;
  }
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));

/**
 * The files of a prebuilt Lambda bundle: index.js, the files it loads lazily (scripts/build.mjs),
 * each JavaScript file with its source map, nothing else.
 */
const isPrebuiltBundle = (files) =>
  files.includes('index.js') &&
  files.every(
    (f) =>
      (f.endsWith('.js') && files.includes(`${f}.map`)) ||
      (f.endsWith('.js.map') && files.includes(f.slice(0, -4))),
  );

function tarball(file) {
  const entries = execFileSync('tar', ['tzf', file], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((e) => e.replace(/^package\//, ''));
  const ts = entries.filter((e) => e.endsWith('.ts') && !e.endsWith('.d.ts'));
  check(ts.length === 0, `no TypeScript sources in the tarball (found: ${ts.join(', ') || 'none'})`);
  const stray = entries.filter(
    (e) => /^(test|scripts|lambda|lib|bin)\//.test(e) || e.includes('tsbuildinfo'),
  );
  check(stray.length === 0, `only dist/ and package files (stray: ${stray.join(', ') || 'none'})`);
  for (const needed of [
    'package.json',
    'README.md',
    'dist/lib/index.js',
    'dist/lib/index.d.ts',
    'dist/bin/ses-smtp.js',
  ]) {
    check(entries.includes(needed), `ships ${needed}`);
  }
  // tsc leaves the output of a deleted source in dist/: every compiled file has its source.
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const orphans = entries
    .filter((e) => /^dist\/(lib|bin)\/.*\.(js|d\.ts)$/.test(e))
    .filter(
      (e) => !fs.existsSync(path.join(root, e.slice('dist/'.length).replace(/(\.d\.ts|\.js)$/, '.ts'))),
    );
  check(orphans.length === 0, `no compiled file without its source (found: ${orphans.join(', ') || 'none'})`);
  const lambdaDir = path.join(root, 'lambda');
  const functions = fs
    .readdirSync(lambdaDir)
    .filter((n) => n !== 'shared' && fs.existsSync(path.join(lambdaDir, n, 'index.ts')));
  for (const name of functions) {
    const prefix = `dist/lambda-bundles/${name}/`;
    const files = entries.filter((e) => e.startsWith(prefix)).map((e) => e.slice(prefix.length));
    check(
      isPrebuiltBundle(files),
      `prebuilt bundle of lambda/${name}: index.js (and its lazy files), each with its source map, only (${files.sort().join(', ')})`,
    );
  }
}

function synth(appDir, cdkLib) {
  const out = path.join(appDir, 'cdk.out');
  const manifest = readJson(path.join(out, 'manifest.json'));
  const mail = readJson(path.join(out, 'Mail.template.json'));
  const web = readJson(path.join(out, 'Web.template.json'));
  const resources = (t, type) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

  const installed = readJson(path.join(appDir, 'node_modules', 'aws-cdk-lib', 'package.json')).version;
  check(installed === cdkLib, `the consumer runs aws-cdk-lib ${cdkLib} (installed: ${installed})`);
  const nested = fs.existsSync(
    path.join(appDir, 'node_modules', 'ses-smtp-cdk', 'node_modules', 'aws-cdk-lib'),
  );
  check(!nested, 'one aws-cdk-lib in the consumer (a peer, not a nested copy)');
  for (const tool of ['esbuild', 'tsx']) {
    check(!fs.existsSync(path.join(appDir, 'node_modules', tool)), `no ${tool} installed in the consumer`);
  }

  check(
    resources(web, 'AWS::SNS::Subscription').length === 1,
    'Web stack: the pager subscribes the alarm topic',
  );
  check(resources(mail, 'AWS::SES::EmailIdentity').length === 1, 'Mail stack: one SES domain identity');
  check(resources(mail, 'AWS::IAM::User').length === 1, 'Mail stack: the SMTP IAM user');
  const functions = resources(mail, 'AWS::Lambda::Function');
  check(functions.length >= 2, `Mail stack: the Lambda functions (${functions.length})`);

  // Every Lambda asset is one of the prebuilt bundles, copied as is.
  const assets = readJson(path.join(out, 'Mail.assets.json')).files;
  for (const [id, fn] of functions) {
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const source = assets[hash]?.source;
    const dir = source && path.join(out, source.path);
    const files = dir && fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
    check(
      source?.packaging === 'zip' && isPrebuiltBundle(files),
      `${id}: asset is a prebuilt bundle (index.js and its lazy files, with source maps), not bundled at synth (${files.join(', ')})`,
    );
  }

  // The exported access stack: one role, trusted by that GitHub environment's OIDC tokens only.
  const access = readJson(path.join(out, 'GitHubAccess.template.json'));
  const trusts = resources(access, 'AWS::IAM::Role').map(([, r]) =>
    JSON.stringify(r.Properties.AssumeRolePolicyDocument),
  );
  check(
    trusts.length === 1 &&
      trusts[0].includes('"token.actions.githubusercontent.com:sub":"repo:acme/web:environment:production"'),
    'GitHubAccess stack: the deploy role, trusted by repo:acme/web:environment:production only',
  );

  // Cross-stack: Web depends on Mail, never the other way round (that would be the cycle).
  const deps = (name) => manifest.artifacts[name].dependencies ?? [];
  check(deps('Web').includes('Mail'), 'Web depends on Mail (it imports the secret and key ARNs)');
  check(!deps('Mail').includes('Web'), 'Mail does not depend on Web: no cycle');
  check(
    !JSON.stringify(mail).includes('Web:'),
    'the Mail stack (key policies included) references nothing of Web',
  );

  const [, taskDef] = resources(web, 'AWS::ECS::TaskDefinition')[0] ?? [];
  const secrets = taskDef?.Properties.ContainerDefinitions[0].Secrets ?? [];
  const expected = {
    AWS_SES_SMTP_USERNAME: 'username',
    AWS_SES_SMTP_PASSWORD: 'password',
    AWS_SES_SMTP_ADDRESS: 'host',
    AWS_SES_SMTP_PORT: 'port',
    AWS_SES_REGION: 'region',
    DEFAULT_FROM_EMAIL: 'fromAddress',
  };
  for (const [name, key] of Object.entries(expected)) {
    const s = secrets.find((x) => x.Name === name);
    const parts = s?.ValueFrom?.['Fn::Join']?.[1] ?? [];
    check(
      String(parts[0]?.['Fn::ImportValue'] ?? '').startsWith('Mail:') && parts[1] === `:${key}::`,
      `ECS secret ${name} = JSON key "${key}" of the imported secret`,
    );
  }

  const statements = resources(web, 'AWS::IAM::Policy').flatMap(([, p]) =>
    p.Properties.PolicyDocument.Statement.map((st) => ({ ...st, roles: JSON.stringify(p.Properties.Roles) })),
  );
  for (const role of ['WorkerRole', 'RailsTaskExecutionRole']) {
    const own = statements.filter((st) => st.roles.includes(role));
    check(
      own.some((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue')),
      `${role} may read the secret`,
    );
    check(
      own.some(
        (st) =>
          st.Action === 'kms:Decrypt' &&
          JSON.stringify(st.Condition ?? {}).includes('kms:ViaService') &&
          JSON.stringify(st.Resource).includes('Mail:'),
      ),
      `${role} may decrypt with the secret's key, through Secrets Manager only`,
    );
  }

  // cdk.json asks for the JSON report: it lists a plugin that failed to run (the synth still
  // succeeds, as with aws-cdk-lib 2.257.0) or found something; a clean run leaves it empty. That
  // the checks did run is proven by the probe synth (consumer-test.sh), which must fail.
  const report = readJson(path.join(out, 'policy-validation-report.json'));
  const failedToRun = report.pluginReports.filter(
    (r) => r.summary.status !== 'success' && !r.violations.length,
  );
  check(
    failedToRun.length === 0,
    `every validation plugin ran (${JSON.stringify(failedToRun.map((r) => r.summary)) || 'none failed'})`,
  );
  const violations = report.pluginReports.flatMap((r) =>
    r.violations.map(
      (v) => `${v.ruleName} on ${v.violatingResources.map((x) => x.constructPath).join(', ')}`,
    ),
  );
  check(
    violations.length === 0,
    `cdk-nag AwsSolutions: no unacknowledged finding (${violations.join('; ') || 'none'})`,
  );
  const text = JSON.stringify(mail) + JSON.stringify(web);
  check(!/AKIA[0-9A-Z]{16}|"password"\s*:\s*"[^"]/.test(text), 'no access key or password in any template');
}

function sameTemplates(a, b) {
  for (const name of ['Mail.template.json', 'Web.template.json']) {
    const x = fs.readFileSync(path.join(a, name), 'utf8');
    const y = fs.readFileSync(path.join(b, name), 'utf8');
    check(x === y, `${name}: ts-node and compiled JS synthesize the same template`);
  }
}

function probe(appDir) {
  const r = spawnSync(
    'npx',
    ['cdk', 'synth', '--quiet', '-c', 'nag-probe=true', '-a', 'node bin/consumer.js', '-o', 'cdk.out.probe'],
    { cwd: appDir, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' } },
  );
  check(
    r.status !== 0 && /AwsSolutions-SNS3/.test(r.stdout + r.stderr),
    `cdk-nag runs in the consumer's synth: a topic without enforceSSL fails it (exit ${r.status})`,
  );
}

function cli(appDir) {
  const version = readJson(path.join(appDir, 'node_modules', 'ses-smtp-cdk', 'package.json')).version;
  const run = (...argv) =>
    spawnSync('npx', ['--no-install', 'ses-smtp', ...argv], { cwd: appDir, encoding: 'utf8' });
  const v = run('--version');
  check(
    v.status === 0 && v.stdout.trim() === version,
    `ses-smtp --version prints ${version} (got: ${v.stdout.trim() || v.stderr.trim()})`,
  );
  const help = run('--help');
  check(help.status === 0 && /Usage: ses-smtp/.test(help.stdout), 'ses-smtp --help prints the usage');
  // An app that only uses the constructs loads no cdk-nag (buildApp loads it when it runs).
  const loaded = spawnSync(
    process.execPath,
    [
      '-e',
      "require('ses-smtp-cdk'); console.log(Object.keys(require.cache).filter((f) => /[\\\\/]cdk-nag[\\\\/]/.test(f)).length)",
    ],
    { cwd: appDir, encoding: 'utf8' },
  );
  check(
    loaded.status === 0 && loaded.stdout.trim() === '0',
    `require('ses-smtp-cdk') loads no cdk-nag module (loaded: ${loaded.stdout.trim() || loaded.stderr.trim()})`,
  );
  // An ES module app ("type": "module") imports the CommonJS package by name: Node finds the
  // names by reading the compiled exports (cjs-module-lexer), and one it cannot read would be
  // undefined there while require() has it.
  const esm = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import * as esm from 'ses-smtp-cdk'; import { createRequire } from 'node:module'; const cjs = createRequire(`${process.cwd()}/`)('ses-smtp-cdk'); const names = Object.keys(cjs); console.log(JSON.stringify({ names: names.length, missing: names.filter((n) => esm[n] !== cjs[n]) }))",
    ],
    { cwd: appDir, encoding: 'utf8' },
  );
  const seen = esm.status === 0 ? JSON.parse(esm.stdout) : { names: 0, missing: [esm.stderr.trim()] };
  check(
    seen.names > 0 && seen.missing.length === 0,
    `an ES module imports each of the ${seen.names} exports by name (missing: ${seen.missing.join(', ') || 'none'})`,
  );
  const bad = run('env', '--format', 'xml');
  check(
    bad.status === 2 && bad.stderr.trim().split('\n').length === 1 && !/\n\s+at /.test(bad.stderr),
    `a user mistake is one line and exit 2 (got ${bad.status}: ${bad.stderr.trim()})`,
  );
}

/**
 * The installed declarations, read by the consumer's TypeScript: each type named in the public
 * part of an export (its signature, properties, heritage; not private members or bodies) that is
 * declared inside the package must be exported too. Otherwise a consumer sees the type in hovers
 * and errors but cannot import it to annotate a variable of its own.
 */
function api(app) {
  const require = createRequire(path.join(app, 'package.json'));
  const ts = require('typescript');
  const pkg = path.join(app, 'node_modules', 'ses-smtp-cdk');
  const entry = path.join(pkg, 'dist', 'lib', 'index.d.ts');
  // The package's declarations alone (noResolve): aws-cdk-lib's would add 10 s and no answer.
  const files = fs
    .readdirSync(path.join(pkg, 'dist'), { recursive: true })
    .filter((f) => f.endsWith('.d.ts'))
    .map((f) => path.join(pkg, 'dist', f));
  const program = ts.createProgram(files, { noEmit: true, noResolve: true, types: [] });
  const checker = program.getTypeChecker();
  const real = (s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const exports = checker
    .getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)))
    .map(real);
  const exported = new Set(exports);
  const ours = (s) => s.declarations?.some((d) => d.getSourceFile().fileName.startsWith(`${pkg}${path.sep}`));
  const unexported = new Map();
  const visit = (node, owner) => {
    if (ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node)) {
      const hidden = ts.SyntaxKind.PrivateKeyword;
      if (node.modifiers?.some((m) => m.kind === hidden)) return;
    }
    if (ts.isBlock(node)) return;
    const name = ts.isTypeReferenceNode(node)
      ? node.typeName
      : ts.isExpressionWithTypeArguments(node)
        ? node.expression
        : ts.isTypeQueryNode(node)
          ? node.exprName
          : undefined;
    const symbol = name && checker.getSymbolAtLocation(name);
    if (symbol) {
      const target = real(symbol);
      if (!(target.flags & ts.SymbolFlags.TypeParameter) && ours(target) && !exported.has(target))
        unexported.set(target.name, owner);
    }
    ts.forEachChild(node, (child) => visit(child, owner));
  };
  for (const symbol of exports)
    for (const declaration of symbol.declarations ?? []) visit(declaration, symbol.name);
  check(exports.length > 0, `the package exports names (${exports.length})`);
  const found = [...unexported].map(([type, owner]) => `${type} (in ${owner})`);
  check(found.length === 0, `every type the exports name is exported (not: ${found.join(', ') || 'none'})`);
}

switch (command) {
  case 'tarball':
    tarball(args[0]);
    break;
  case 'synth':
    synth(args[0], args[1]);
    break;
  case 'same-templates':
    sameTemplates(args[0], args[1]);
    break;
  case 'cli':
    cli(args[0]);
    break;
  case 'probe':
    probe(args[0]);
    break;
  case 'api':
    api(args[0]);
    break;
  default:
    console.error(
      'usage: consumer-assert.mjs tarball FILE | synth APP_DIR CDK_LIB | same-templates A B | cli APP_DIR | probe APP_DIR | api APP_DIR',
    );
    process.exit(2);
}
if (failures) {
  console.error(`${failures} consumer check(s) failed`);
  process.exit(1);
}
