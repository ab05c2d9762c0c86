import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import * as ts from 'typescript';
import { REVERT_DRIFT_CLI } from '../lib/stack-name';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  private?: boolean;
  main: string;
  types: string;
  name: string;
  exports: Record<string, { types: string; default: string } | string>;
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};

/** The source file a dist/ path is compiled from (tsconfig.build.json: rootDir ".", outDir "dist"). */
const sourceOf = (distPath: string) =>
  path.join(root, distPath.replace(/^\.?\/?dist\//, '').replace(/\.(d\.ts|js)$/, '.ts'));

/** Package name of a bare specifier: "@aws-sdk/client-iam/x" -> "@aws-sdk/client-iam", "aws-cdk-lib/aws-iam" -> "aws-cdk-lib". */
const packageName = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/**
 * Runtime imports of every file the package build compiles: the import graph from bin/ and
 * lib/, followed through relative imports (type-only imports load nothing at run time).
 */
function runtimeImports(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const seen = new Set<string>();
  const queue = [
    ...fs.readdirSync(path.join(root, 'bin')).map((f) => path.join(root, 'bin', f)),
    ...fs
      .readdirSync(path.join(root, 'lib'), { recursive: true })
      .map((f) => path.join(root, 'lib', String(f))),
  ].filter((f) => f.endsWith('.ts'));
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+'([^']+)'/gm),
      ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
      ...text.matchAll(/\b(?:require|import)\(\s*'([^']+)'\s*\)/g),
    ].map((m) => m[1]);
    for (const spec of specs) {
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        const candidates = [`${target}.ts`, path.join(target, 'index.ts')];
        const next = candidates.find((c) => fs.existsSync(c));
        if (next) queue.push(next);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        const name = packageName(spec);
        found.set(name, [...(found.get(name) ?? []), path.relative(root, file)]);
      }
    }
  }
  return found;
}

describe('package.json', () => {
  test('a publishable package whose entry points are what the build compiles', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.main).toBe('dist/lib/index.js');
    expect(pkg.types).toBe('dist/lib/index.d.ts');
    expect(pkg.exports['.']).toEqual({ types: './dist/lib/index.d.ts', default: './dist/lib/index.js' });
    // The schema, for an app's own validation or editor: `ses-smtp-cdk/config/environments.schema.json`
    // (Node resolves a package's own name through its exports, as it will in an app).
    const resolved = execFileSync(
      process.execPath,
      ['-p', `require.resolve('${pkg.name}/config/environments.schema.json')`],
      { cwd: root, encoding: 'utf8' },
    ).trim();
    expect(resolved).toBe(path.join(root, 'config', 'environments.schema.json'));
    expect(pkg.files).toContain('config/environments.schema.json');
    for (const file of [pkg.main, pkg.types, ...Object.values(pkg.bin)]) {
      expect(fs.existsSync(sourceOf(file))).toBe(true);
    }
    expect(pkg.bin).toEqual({ 'ses-smtp': 'dist/bin/ses-smtp.js' });
    expect(pkg.files).toEqual(expect.arrayContaining(['dist/lib/', 'dist/bin/', 'dist/lambda-bundles/']));
    // `npm ci` here builds everything: the package, and the Lambda bundles the synth uses; from an
    // empty dist/, so that no output of a deleted source ships.
    expect(pkg.scripts.prepare).toBe('node scripts/build.mjs clean && npm run build');
    // Then bin: tsc writes the CLI 0644, and `npm pack` rebuilds dist/ after npm ci set its bits.
    expect(pkg.scripts.build).toMatch(
      /tsc -p tsconfig\.build\.json && node scripts\/build\.mjs bin lambdas$/,
    );
  });

  test("a git install keeps its build under every package manager's order of lifecycle scripts", () => {
    // What each script does to dist/: a script that empties it and builds nothing after leaves a
    // package without dist/ (pnpm 9 and 10 installed it "successfully", with no bin and no
    // dist/lib/index.js, when prepack removed dist/).
    const effect = (name: string): string[] => {
      const script = pkg.scripts[name] ?? '';
      return script
        .split('&&')
        .map((step) => step.trim())
        .flatMap((step) =>
          /scripts\/build\.mjs\b.*\bclean\b/.test(step)
            ? ['clean']
            : step === 'npm run build'
              ? ['build']
              : [],
        );
    };
    // The scripts run before the folder is packed (with `files`) into the app:
    const orders: Record<string, string[]> = {
      // npm pack (here, and Yarn Berry's git fetch, which runs npm install then npm pack)
      'npm pack': ['prepare', 'prepack', 'prepare'],
      // npm's git fetch (pacote) runs prepare only
      'npm git': ['prepare'],
      // @pnpm/prepare-package: `npm install` in the clone (prepare), then prepublish, prepack, publish
      'pnpm git': ['prepare', 'prepublish', 'prepack', 'publish'],
    };
    for (const [how, scripts] of Object.entries(orders)) {
      const effects = scripts.flatMap(effect);
      expect({ how, last: effects.at(-1) }).toEqual({ how, last: 'build' });
    }
  });

  test('aws-cdk-lib and constructs are peers, and the versions built with here are inside their ranges', () => {
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    for (const name of ['aws-cdk-lib', 'constructs']) {
      expect(pkg.dependencies[name]).toBeUndefined();
      const [major, minor, patch] = pkg.devDependencies[name].split('.').map(Number);
      const [lmajor, lminor, lpatch] = pkg.peerDependencies[name].replace(/^\^/, '').split('.').map(Number);
      expect(pkg.peerDependencies[name]).toMatch(/^\^\d+\.\d+\.\d+$/);
      expect(major).toBe(lmajor);
      expect(minor * 1e6 + patch).toBeGreaterThanOrEqual(lminor * 1e6 + lpatch);
    }
  });

  // The texts that give `cdk deploy --revert-drift` name the first CDK CLI that has it (an older
  // one makes a plain deploy without a word): the CLI pinned here has it, and README names the same.
  test('the CDK CLI pinned here has --revert-drift, from the version the texts and README name', () => {
    const version = REVERT_DRIFT_CLI.match(/^CDK CLI (\d+)\.(\d+)\.(\d+) or later$/);
    expect(version).not.toBeNull();
    const [, major, minor, patch] = version!.map(Number);
    const [pmajor, pminor, ppatch] = pkg.devDependencies['aws-cdk'].split('.').map(Number);
    expect(pmajor).toBe(major);
    expect(pminor * 1e6 + ppatch).toBeGreaterThanOrEqual(minor * 1e6 + patch);
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain(`needs ${REVERT_DRIFT_CLI}`);
  });

  // npm 11 lists dependencies whose install scripts package.json's allowScripts does not cover,
  // and npm 12 skips them. This project needs none (npm ci --ignore-scripts, then the build, the
  // tests and the synth pass): each is denied, so npm 11 and 12 install alike. A new dependency
  // with an install script fails here until someone decides.
  test("no dependency's install script runs: each one in the lock is denied in allowScripts", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([key]) => key.replace(/^.*node_modules\//, ''));
    expect(withScripts.length).toBeGreaterThan(0);
    expect(pkg.allowScripts).toEqual(Object.fromEntries(withScripts.sort().map((name) => [name, false])));
  });

  test('dependencies are exactly what runs at synth or in the CLI', () => {
    const used = runtimeImports();
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
    const missing = [...used.keys()].filter((name) => !declared.has(name));
    expect(missing.map((name) => `${name} (imported by ${used.get(name)!.join(', ')})`)).toEqual([]);
    const unused = Object.keys(pkg.dependencies).filter((name) => !used.has(name));
    expect(unused).toEqual([]);
    // Build and test tools stay out of a consumer's install.
    for (const tool of ['esbuild', 'tsx', 'typescript', 'aws-cdk'])
      expect(pkg.dependencies[tool]).toBeUndefined();
  });
});

/**
 * The interfaces a library user fills in, as the package's index exports them: every `*Props` and
 * `*Settings`, and every exported interface their fields name (AlarmLevels, DmarcRecordOptions,
 * AccountAccess...), with the type literals written inline in them. Read from the sources (the
 * declarations keep their comments).
 */
function propsInterfaces(): { name: string; members: ts.NodeArray<ts.TypeElement> }[] {
  const exported = new Map<string, ts.InterfaceDeclaration>();
  const visit = (file: string, only: Set<string> | undefined) => {
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      if (ts.isExportDeclaration(statement) && statement.moduleSpecifier) {
        const spec = (statement.moduleSpecifier as ts.StringLiteral).text;
        if (!spec.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), spec);
        const next = fs.existsSync(`${target}.ts`) ? `${target}.ts` : path.join(target, 'index.ts');
        const clause = statement.exportClause;
        const names =
          clause && ts.isNamedExports(clause)
            ? new Set(clause.elements.map((e) => (e.propertyName ?? e.name).text))
            : only;
        visit(next, names);
      } else if (
        ts.isInterfaceDeclaration(statement) &&
        statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) &&
        (!only || only.has(statement.name.text))
      ) {
        exported.set(statement.name.text, statement);
      }
    }
  };
  visit(path.join(root, 'lib', 'index.ts'), undefined);
  const found = new Map<string, ts.NodeArray<ts.TypeElement>>();
  const add = (name: string, members: ts.NodeArray<ts.TypeElement>) => {
    if (found.has(name)) return;
    found.set(name, members);
    const named = (node: ts.Node, field: string): void => {
      // A struct, not an interface a construct implements (IFeedbackMonitoring): those have no defaults.
      if (ts.isTypeReferenceNode(node) && ts.isIdentifier(node.typeName)) {
        const ref = exported.get(node.typeName.text);
        if (ref && !/^I[A-Z]/.test(ref.name.text)) add(ref.name.text, ref.members);
      }
      if (ts.isTypeLiteralNode(node)) add(`${name}.${field}`, node.members);
      else ts.forEachChild(node, (child) => named(child, field));
    };
    for (const member of members) {
      if (ts.isPropertySignature(member) && member.type) named(member.type, member.name.getText());
    }
  };
  for (const [name, declaration] of exported) {
    if (/(Props|Settings)$/.test(name)) add(name, declaration.members);
  }
  return [...found].map(([name, members]) => ({ name, members }));
}

test('every prop a library user passes is readonly, has a one-line summary and, when optional, its @default (STYLE.md)', () => {
  const interfaces = propsInterfaces();
  // The constructs' props, SesSmtp's settings and the parts they name.
  expect(interfaces.map((i) => i.name)).toEqual(
    expect.arrayContaining([
      'SesSmtpProps',
      'SesSmtpSettings',
      'AlarmLevels',
      'SmtpCredentialsProps',
      'SendingDomainProps',
      'DmarcRecordOptions',
      'HealthChecksProps.dns',
      'AccountAccess',
    ]),
  );
  const problems: string[] = [];
  for (const { name, members } of interfaces) {
    for (const member of members) {
      if (!ts.isPropertySignature(member)) continue;
      const prop = `${name}.${member.name.getText()}`;
      const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc);
      const summary = docs
        .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
        .join('')
        .trim();
      const tags = docs.flatMap((d) => d.tags ?? []).map((t) => t.tagName.text);
      if (!member.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword))
        problems.push(`${prop}: not readonly`);
      if (!summary) problems.push(`${prop}: no summary`);
      if (member.questionToken && !tags.includes('default')) problems.push(`${prop}: no @default`);
    }
  }
  expect(problems).toEqual([]);
});
