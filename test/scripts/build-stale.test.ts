import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/*
 * `scripts/build.mjs lambdas --if-stale`, cdk.json's build hook: it must rebuild whenever a bundle
 * would come out different (or is no longer what it built), else `cdk deploy` ships the old code
 * under the old asset hash and CloudFormation leaves the function as it was. Run in a copy of the
 * repository's layout with one small function, whose bundle shows what it was built from.
 */

const ROOT = path.resolve(__dirname, '..', '..');

function project() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'build-stale-'));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  fs.mkdirSync(path.join(dir, 'scripts'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'build.mjs'), path.join(dir, 'scripts', 'build.mjs'));
  // esbuild from this checkout; a dependency of the function's own, to edit in place.
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'esbuild'), path.join(dir, 'node_modules', 'esbuild'));
  write('node_modules/tiny-dep/package.json', '{"name":"tiny-dep","version":"1.0.0","main":"index.js"}');
  write('node_modules/tiny-dep/index.js', "module.exports = 'dep-v1';");
  write('package.json', '{"name":"p","version":"1.0.0"}');
  write('package-lock.json', '{"lockfileVersion":3}');
  write('tsconfig.json', '{"compilerOptions":{"target":"ES2022"}}');
  write('lib/x.ts', "export const LIB = 'lib-v1';");
  write('lambda/tiny/data.json', '{"v":"json-v1"}');
  write(
    'lambda/tiny/index.ts',
    [
      "import dep from 'tiny-dep';",
      "import { LIB } from '../../lib/x';",
      "import data from './data.json';",
      'class Counter { n = 1; }',
      'export const handler = async () => [dep, LIB, data.v, new Counter().n];',
    ].join('\n'),
  );
  const bundle = () => fs.readFileSync(path.join(dir, 'dist', 'lambda-bundles', 'tiny', 'index.js'), 'utf8');
  const build = () => {
    execFileSync(process.execPath, [path.join(dir, 'scripts', 'build.mjs'), 'lambdas', '--if-stale'], {
      cwd: dir,
      stdio: 'pipe',
    });
    return bundle();
  };
  return { dir, write, build, bundle };
}

describe('scripts/build.mjs lambdas --if-stale', () => {
  let p: ReturnType<typeof project>;
  beforeEach(() => {
    p = project();
    p.build();
  });
  afterEach(() => fs.rmSync(p.dir, { recursive: true, force: true }));

  test('nothing changed: the bundle is left as it is (not rewritten)', () => {
    const file = path.join(p.dir, 'dist', 'lambda-bundles', 'tiny', 'index.js');
    expect(p.bundle()).toMatch(/dep-v1.*lib-v1.*json-v1/s);
    const before = fs.statSync(file).ino;
    p.build();
    expect(fs.statSync(file).ino).toBe(before);
  });

  test('a TypeScript source of lib/ changed', () => {
    p.write('lib/x.ts', "export const LIB = 'lib-v2';");
    expect(p.build()).toContain('lib-v2');
  });

  test('a JSON file the function imports changed', () => {
    p.write('lambda/tiny/data.json', '{"v":"json-v2"}');
    expect(p.build()).toContain('json-v2');
  });

  test("tsconfig.json's options changed (esbuild reads them: class fields)", () => {
    expect(p.bundle()).not.toMatch(/this\.n=1/);
    p.write('tsconfig.json', '{"compilerOptions":{"target":"ES2022","useDefineForClassFields":false}}');
    expect(p.build()).toMatch(/this\.n=1/);
  });

  test('a dependency in node_modules changed with the lock file as it was', () => {
    p.write('node_modules/tiny-dep/index.js', "module.exports = 'dep-v2';");
    expect(p.build()).toContain('dep-v2');
  });

  test('a bundle was changed or removed after the build', () => {
    const file = path.join(p.dir, 'dist', 'lambda-bundles', 'tiny', 'index.js');
    fs.writeFileSync(file, 'truncated');
    expect(p.build()).toContain('dep-v1');
    fs.rmSync(path.dirname(file), { recursive: true });
    expect(p.build()).toContain('dep-v1');
  });
});

// A misspelt command (cdk.json's build hook, npm's prepare) must not pass as a build of nothing.
test('scripts/build.mjs: an unknown command prints the usage and exits 2, building nothing', () => {
  const run = spawnSync(
    process.execPath,
    [path.join(ROOT, 'scripts', 'build.mjs'), 'lamdbas', '--if-stale'],
    {
      encoding: 'utf8',
    },
  );
  expect(run).toMatchObject({
    status: 2,
    stdout: '',
    stderr: 'usage: node scripts/build.mjs [clean] [bin] [lambdas] [app] [cli] [--if-stale]\n',
  });
});
