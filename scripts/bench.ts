/**
 * Measured figures, printed as a table: `npm run bench` (or `npm run bench -- synth|bundle|coldstart|rotation|feedback`).
 *
 * - synth: wall time of `cdk synth` of the example app (with Lambda bundling) next to a bare
 *   App+Stack, same CLI, same machine, median of 5 each.
 * - bundle: size of each Lambda asset as synthesized into cdk.out.
 * - coldstart: load + module init of each bundle in a fresh Node process, median of 10.
 * - feedback: time for the feedback handler to parse and decide 1,000 notifications, median of 5.
 * - rotation: wall time of a full rotation (all four steps, real SMTP login on 127.0.0.1) when the
 *   server accepts a new key only 5 s after IAM created it; the rotation test measures it, median of 3.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const cdk = path.join(root, 'node_modules', '.bin', 'cdk');
const only = process.argv[2];

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function synthOnce(app: string, outdir: string): number {
  return time(() =>
    execFileSync(cdk, ['synth', '--quiet', '--no-notices', '-a', app, '-o', outdir], {
      cwd: root,
      stdio: 'pipe',
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
    }),
  );
}

/** The app process alone, as the CDK CLI starts it (no CLI start-up, no asset staging by the CLI). */
function appOnce(entry: string, outdir: string): number {
  return time(() =>
    execFileSync(process.execPath, ['--import', 'tsx', entry], {
      cwd: root,
      stdio: 'pipe',
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: '{}' },
    }),
  );
}

function benchSynth(): void {
  const runs = 5;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
  const example: number[] = [];
  const bare: number[] = [];
  // Interleaved, so both see the same machine state.
  for (let i = 0; i < runs; i++) {
    example.push(synthOnce('npx tsx bin/app.ts', path.join(tmp, `example-${i}`)));
    bare.push(synthOnce('npx tsx scripts/bare-app.ts', path.join(tmp, `bare-${i}`)));
  }
  console.log(
    `synth example app (cdk synth, with bundling): median ${median(example).toFixed(0)} ms of ${runs} [${example.map((x) => x.toFixed(0)).join(', ')}]`,
  );
  console.log(
    `synth bare App+Stack (cdk synth):             median ${median(bare).toFixed(0)} ms of ${runs} [${bare.map((x) => x.toFixed(0)).join(', ')}]`,
  );
  const exampleApp: number[] = [];
  const bareApp: number[] = [];
  for (let i = 0; i < runs; i++) {
    exampleApp.push(appOnce('bin/app.ts', path.join(tmp, `example-app-${i}`)));
    bareApp.push(appOnce('scripts/bare-app.ts', path.join(tmp, `bare-app-${i}`)));
  }
  const show = (xs: number[]) =>
    `median ${median(xs).toFixed(0)} ms of ${runs} [${xs.map((x) => x.toFixed(0)).join(', ')}]`;
  console.log(`app process only, example (with bundling):    ${show(exampleApp)}`);
  console.log(`app process only, bare App+Stack:             ${show(bareApp)}`);
}

/** Lambda functions of the example stack and their synthesized asset folders. */
function lambdaAssets(): { name: string; dir: string; env: Record<string, string> }[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-assets-'));
  synthOnce('npx tsx bin/app.ts', outdir);
  const template = JSON.parse(fs.readFileSync(path.join(outdir, 'SesSmtp-example.template.json'), 'utf8'));
  return Object.entries(
    template.Resources as Record<
      string,
      {
        Type: string;
        Properties: { Environment?: { Variables?: Record<string, unknown> } };
        Metadata?: Record<string, string>;
      }
    >,
  )
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => ({
      name: id,
      dir: path.join(outdir, r.Metadata!['aws:asset:path']),
      env: Object.fromEntries(
        Object.entries(r.Properties.Environment?.Variables ?? {}).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : 'bench-placeholder',
        ]),
      ),
    }));
}

function benchBundles(assets: ReturnType<typeof lambdaAssets>): void {
  for (const a of assets) {
    const js = fs.statSync(path.join(a.dir, 'index.js')).size;
    const map = fs.existsSync(path.join(a.dir, 'index.js.map'))
      ? fs.statSync(path.join(a.dir, 'index.js.map')).size
      : 0;
    console.log(
      `bundle ${a.name}: index.js ${(js / 1024).toFixed(0)} KiB (source map ${(map / 1024).toFixed(0)} KiB)`,
    );
  }
}

function benchColdStart(assets: ReturnType<typeof lambdaAssets>): void {
  const runs = 10;
  const probe = `const t0=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t0)/1e6));`;
  for (const a of assets) {
    for (const sourceMaps of [false, true]) {
      const samples: number[] = [];
      for (let i = 0; i < runs; i++) {
        const r = spawnSync(
          process.execPath,
          [...(sourceMaps ? ['--enable-source-maps'] : []), '-e', probe, path.join(a.dir, 'index.js')],
          {
            encoding: 'utf8',
            env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...a.env, NODE_OPTIONS: '' },
          },
        );
        if (r.status !== 0) throw new Error(`${a.name} failed to load: ${r.stderr}`);
        samples.push(Number(r.stdout));
      }
      console.log(
        `cold start ${a.name} (load + init${sourceMaps ? ', --enable-source-maps' : ''}): median ${median(samples).toFixed(1)} ms of ${runs}`,
      );
    }
  }
}

function benchRotation(): void {
  const jest = path.join(root, 'node_modules', '.bin', 'jest');
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(jest, ['test/lambda/rotation.test.ts', '-t', 'full rotation waits'], {
      cwd: root,
      encoding: 'utf8',
    });
    const ms = /full rotation against local SMTP with 5000 ms acceptance delay: (\d+) ms/.exec(
      r.stdout + r.stderr,
    )?.[1];
    if (r.status !== 0 || !ms) throw new Error(`rotation measurement failed:\n${r.stderr}`);
    samples.push(Number(ms));
  }
  console.log(
    `full rotation, local SMTP, 5 s acceptance delay: median ${median(samples)} ms of 3 [${samples.join(', ')}]`,
  );
}

async function main() {
  console.log(
    `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString()}`,
  );
  if (!only || only === 'synth') benchSynth();
  if (!only || only === 'bundle' || only === 'coldstart') {
    const assets = lambdaAssets();
    if (!only || only === 'bundle') benchBundles(assets);
    if (!only || only === 'coldstart') benchColdStart(assets);
  }
  if (!only || only === 'rotation') benchRotation();
  if (!only || only === 'feedback') {
    const feedback = path.join(root, 'scripts', 'bench-feedback.ts');
    if (fs.existsSync(feedback))
      execFileSync(process.execPath, ['--import', 'tsx', feedback], { stdio: 'inherit', cwd: root });
  }
}

void main();
