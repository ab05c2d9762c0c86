#!/usr/bin/env node
/**
 * Build steps that need no TypeScript loader (they run in `npm ci`'s prepare, in jest's global
 * setup and in cdk.json's build hook):
 *
 *   node scripts/build.mjs lambdas [--if-stale]  every lambda/<name>/index.ts (but lambda/shared)
 *                                                bundled once into dist/lambda-bundles/<name>/;
 *                                                --if-stale: only when an input or a bundle changed
 *   node scripts/build.mjs app                   bin/app.ts and lib/ as one file for `cdk synth`
 *                                                here (.build/app.js; packages stay external)
 *   node scripts/build.mjs cli                   bin/ses-smtp.ts likewise (.build/ses-smtp.js), for
 *                                                the tests that run the CLI in its own process
 *   node scripts/build.mjs clean                 removes dist/ (prepare runs it before the build: no
 *                                                output of a deleted source ships; not as prepack,
 *                                                which pnpm runs after prepare for a git install)
 *   node scripts/build.mjs bin                   makes package.json's bin files executable: tsc writes
 *                                                them 0644, and npm sets the bit only when it links
 *                                                them (npm ci), not after `npm pack` rebuilt dist/
 *
 * `npm run build` runs tsc (dist/ JS and declarations for the package), then `bin` and `lambdas`.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lambdaDir = path.join(root, 'lambda');
export const BUNDLES_DIR = path.join(root, 'dist', 'lambda-bundles');
const STAMP = path.join(root, 'dist', '.lambda-bundles-hash');

/** Every function: a folder of lambda/ with an index.ts, except the code they share. */
export function lambdaNames() {
  return fs
    .readdirSync(lambdaDir, { withFileTypes: true })
    .filter(
      (d) =>
        d.isDirectory() && d.name !== 'shared' && fs.existsSync(path.join(lambdaDir, d.name, 'index.ts')),
    )
    .map((d) => d.name)
    .sort();
}

/** A file's path and content into `hash`; a missing file counts as one (its absence is hashed). */
function hashFile(hash, rel) {
  let content;
  try {
    content = fs.readFileSync(path.join(root, rel));
  } catch (e) {
    if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') throw e;
  }
  hash
    .update(rel)
    .update(content ? '\0+' : '\0-')
    .update(content ?? '')
    .update('\0');
}

/** Every file under `dir` (relative to the root, sorted); none when it does not exist. */
function filesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => path.relative(root, path.join(d.parentPath, d.name)))
    .sort();
}

/*
 * Files esbuild reads for every bundle that its metafile does not list: the tsconfig.json its
 * TypeScript options come from (useDefineForClassFields, paths, ...), the package.json above the
 * sources, the lock and npm's record of what it installed.
 */
const BUILD_SETTINGS = [
  'tsconfig.json',
  'package.json',
  'package-lock.json',
  'node_modules/.package-lock.json',
];

/**
 * A hash of everything the bundles are made from and of the bundles themselves: every file of
 * lambda/ and lib/ (any kind: a function may import JSON; a deleted or renamed file changes it),
 * the build settings, this build, each file the last build read (`inputs`, from esbuild's
 * metafiles: node_modules files edited or reinstalled without a lock change) and every file of
 * dist/lambda-bundles/ (a bundle removed or changed since). Contents, not times: a checkout may
 * set any mtime.
 */
function bundlesHash(names, inputs) {
  const hash = createHash('sha256');
  const own = [...filesUnder(lambdaDir), ...filesUnder(path.join(root, 'lib'))];
  for (const rel of [...own, ...BUILD_SETTINGS, path.relative(root, fileURLToPath(import.meta.url))])
    hashFile(hash, rel);
  hash.update(names.join(',')).update('\0');
  for (const rel of inputs) hashFile(hash, rel);
  hash.update('\0outputs\0');
  for (const rel of filesUnder(BUNDLES_DIR)) hashFile(hash, rel);
  return hash.digest('hex');
}

/** Whether the stamp the last complete build wrote still matches (a missing or old stamp does not). */
function bundlesFresh(names) {
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  } catch {
    return false;
  }
  return Array.isArray(stamp?.inputs) && stamp.hash === bundlesHash(names, stamp.inputs);
}

/** The files an esbuild metafile lists as read, relative to the root (no stdin, no virtual ones). */
const metafileInputs = (metafile) =>
  Object.keys(metafile.inputs)
    .map((input) => path.resolve(input))
    .filter((file) => fs.statSync(file, { throwIfNoEntry: false })?.isFile())
    .map((file) => path.relative(root, file));

/*
 * What the AWS SDK would make every cold start load for nothing, and how the bundles leave it out
 * (`npm run bench -- --only bundles` measures the init time this saves):
 *
 * - the credential chain beyond its first link: see lambda/shared/lambda-credentials.ts;
 * - event streams: @smithy/core loads its event-stream code (codec, CRC32 over zlib) with
 *   import() for operations that stream events, and no operation our functions call does
 *   (test/scripts/build.test.ts checks every one; CloudWatch Logs' StartLiveTail would). Bundled, that import() also made esbuild
 *   turn most of the SDK core into lazily initialised modules (functions called at load,
 *   __esm), which all ran at init anyway and cost more there than plain top-level code. The
 *   bundles leave it out: the import() rejects, naming this file;
 * - schemas of operations we never call: a client's schemas_0.js declares every operation's
 *   schema with computed keys (`{ [_h]: ... }` where `const _h = "http"`), which esbuild
 *   cannot prove free of side effects, so it keeps them all (SESv2: over 100 operations,
 *   47 KB). Written as the plain keys they are, the unused ones are tree-shaken.
 *
 * Each rewrite fails the build when the SDK code no longer has the expected shape.
 */
const LAMBDA_ALIASES = {
  '@aws-sdk/credential-provider-node': path.join(lambdaDir, 'shared', 'lambda-credentials.ts'),
};

const sdkRewrites = {
  name: 'sdk-rewrites',
  setup(build) {
    const eventStreams = 'await import("@smithy/core/event-streams")';
    build.onLoad(
      { filter: /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]protocols[\\/]HttpProtocol\.js$/ },
      async (args) => {
        const source = await fs.promises.readFile(args.path, 'utf8');
        if (!source.includes(eventStreams)) throw new Error(`${args.path}: no ${eventStreams} to leave out`);
        const refusal =
          'await Promise.reject(new Error("event streams are not in the Lambda bundles (scripts/build.mjs)"))';
        return { contents: source.replace(eventStreams, refusal), loader: 'js' };
      },
    );
    build.onLoad(
      { filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
      async (args) => {
        const source = await fs.promises.readFile(args.path, 'utf8');
        const strings = new Map(
          [...source.matchAll(/^const (_\w+) = ("[^"\\]*");$/gm)].map((m) => [m[1], m[2]]),
        );
        if (!strings.size) throw new Error(`${args.path}: no string constants to inline`);
        // An own "__proto__" property needs the computed form: a literal "__proto__" key sets the prototype.
        const contents = source.replace(/\[(_\w+)\]:/g, (key, name) =>
          strings.has(name) && strings.get(name) !== '"__proto__"' ? `${strings.get(name)}:` : key,
        );
        return { contents, loader: 'js' };
      },
    );
  },
};

/*
 * Modules a handler loads with import() only on the invocations that need them ship as files of
 * their own next to index.js, so a cold start of the other invocations neither parses nor runs
 * them: nodemailer's SMTP client, which the rotation loads for its testSecret step only
 * (lambda/shared/smtp-login.ts).
 */
const LAZY_FILES = { 'nodemailer/lib/smtp-connection': 'smtp-connection.js' };

const lazyFiles = {
  name: 'lazy-files',
  setup(build) {
    const specifiers = Object.keys(LAZY_FILES).map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
    build.onResolve({ filter: new RegExp(`^(${specifiers.join('|')})$`) }, (args) =>
      args.kind === 'dynamic-import' ? { path: `./${LAZY_FILES[args.path]}`, external: true } : undefined,
    );
  },
};

const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  // ES module entry points first: smaller bundles and better tree shaking (the AWS SDK ships both).
  mainFields: ['module', 'main'],
  // import() becomes a require(): a lazy file loads as CommonJS, without the ES module loader.
  supported: { 'dynamic-import': false },
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
};

/** esbuild options for a function's index.js; scripts/bench.ts builds with them too. */
export function lambdaBuildOptions(name) {
  return {
    ...BUNDLE_OPTIONS,
    entryPoints: [path.join(lambdaDir, name, 'index.ts')],
    alias: LAMBDA_ALIASES,
    plugins: [sdkRewrites, lazyFiles],
  };
}

/**
 * Bundles each function as the Lambda runtime loads it: dist/lambda-bundles/<name>/index.js
 * (CommonJS, handler export `handler`) with its source map, and the lazy files it imports. The
 * AWS SDK is bundled in, so the deployed code runs the versions the tests ran.
 */
export async function buildLambdas({ ifStale = false } = {}) {
  const names = lambdaNames();
  if (ifStale && bundlesFresh(names)) return { built: [] };
  // Removed first: a build that fails or is killed leaves no stamp, and the next one builds anew.
  fs.rmSync(STAMP, { force: true });
  fs.rmSync(BUNDLES_DIR, { recursive: true, force: true });
  // Every file esbuild read, for the stamp: --if-stale hashes them again.
  const inputs = new Set();
  await Promise.all(
    names.map(async (name) => {
      const outdir = path.join(BUNDLES_DIR, name);
      const { metafile } = await build({
        ...lambdaBuildOptions(name),
        outfile: path.join(outdir, 'index.js'),
        metafile: true,
      });
      for (const input of metafileInputs(metafile)) inputs.add(input);
      const imported = new Set(
        Object.values(metafile.inputs).flatMap((input) => input.imports.map((i) => i.path)),
      );
      for (const [spec, file] of Object.entries(LAZY_FILES)) {
        if (!imported.has(`./${file}`)) continue;
        const lazy = await build({
          ...BUNDLE_OPTIONS,
          stdin: { contents: `export { default } from ${JSON.stringify(spec)};`, resolveDir: root },
          outfile: path.join(outdir, file),
          metafile: true,
        });
        for (const input of metafileInputs(lazy.metafile)) inputs.add(input);
      }
    }),
  );
  const sorted = [...inputs].sort();
  fs.writeFileSync(STAMP, JSON.stringify({ hash: bundlesHash(names, sorted), inputs: sorted }));
  return { built: names };
}

/**
 * A bin of this repository as one CommonJS file under .build/, run without a TypeScript loader:
 * the CDK app (`cdk synth`), and the CLI as the tests start it in a process of its own.
 */
async function buildBin(name) {
  await build({
    entryPoints: [path.join(root, 'bin', `${name}.ts`)],
    outfile: path.join(root, '.build', `${name}.js`),
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}

export const buildApp = () => buildBin('app');

/** Sets the execute bits of every file package.json's `bin` names (they must exist: tsc wrote them). */
export function markBinsExecutable() {
  const { bin = {} } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  for (const file of typeof bin === 'string' ? [bin] : Object.values(bin)) {
    const target = path.join(root, file);
    fs.chmodSync(target, fs.statSync(target).mode | 0o111);
  }
}

const args = process.argv.slice(2);
const commands = args.filter((a) => !a.startsWith('--'));
if (fileURLToPath(import.meta.url) === path.resolve(process.argv[1] ?? '')) {
  if (!commands.length || commands.some((c) => !['clean', 'bin', 'lambdas', 'app', 'cli'].includes(c))) {
    console.error('usage: node scripts/build.mjs [clean] [bin] [lambdas] [app] [cli] [--if-stale]');
    process.exit(2);
  }
  if (commands.includes('clean')) fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
  if (commands.includes('bin')) markBinsExecutable();
  if (commands.includes('lambdas')) {
    const { built } = await buildLambdas({ ifStale: args.includes('--if-stale') });
    if (built.length) console.error(`Lambda bundles built in dist/lambda-bundles/: ${built.join(', ')}`);
  }
  if (commands.includes('app')) await buildApp();
  if (commands.includes('cli')) await buildBin('ses-smtp');
}
