import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

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
    // `npm ci` here builds everything: the package, and the Lambda bundles the synth uses.
    expect(pkg.scripts.prepare).toBe('npm run build');
    // Then bin: tsc writes the CLI 0644, and `npm pack` rebuilds dist/ after npm ci set its bits.
    expect(pkg.scripts.build).toMatch(
      /tsc -p tsconfig\.build\.json && node scripts\/build\.mjs bin lambdas$/,
    );
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
