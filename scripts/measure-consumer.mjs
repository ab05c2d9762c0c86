#!/usr/bin/env node
/**
 * Figures from a consumer app that installed the packed package (scripts/consumer-test.sh makes
 * one; `CONSUMER_DIR=DIR npm run test:consumer` keeps it):
 *
 * - CLI start: `ses-smtp --help` from the installed package, as `node <bin>`, as the bin itself
 *   (shebang, what a shell runs) and as `npx ses-smtp`; wall time of the whole process.
 * - Synth: the consumer app (SesSmtp + cross-stack grant + ECS task, cdk-nag on) against a bare
 *   App with one empty Stack, both compiled JS run by node: the app process alone, and `cdk synth`
 *   with the same CLI. Runs are interleaved so both see the same machine state.
 *
 * Every figure is the median of its runs. Usage: node scripts/measure-consumer.mjs APP_DIR [--json]
 * (or import { measureConsumer } from it).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The median of `xs` (numbers); of an even count, the mean of the middle two. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function timed(cmd, args, options) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/**
 * Measures the consumer app in `appDir` (built with tsc, so bin/consumer.js and bin/bare.js exist).
 * Returns { name, method, runs, medianMs, samplesMs }[].
 */
export function measureConsumer(appDir, { cliRuns = 10, synthRuns = 5 } = {}) {
  const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' };
  const bin = path.join(appDir, 'node_modules', 'ses-smtp-cdk', 'dist', 'bin', 'ses-smtp.js');
  const shim = path.join(appDir, 'node_modules', '.bin', 'ses-smtp');
  const cdk = path.join(appDir, 'node_modules', '.bin', 'cdk');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'measure-consumer-'));
  try {
    return measureIn(tmp, { appDir, env, bin, shim, cdk, cliRuns, synthRuns });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** measureConsumer's runs, writing its synth outputs into `tmp`. */
function measureIn(tmp, { appDir, env, bin, shim, cdk, cliRuns, synthRuns }) {
  const results = [];
  const record = (name, method, samples) =>
    results.push({ name, method, runs: samples.length, medianMs: median(samples), samplesMs: samples });

  const cli = { floor: [], node: [], shim: [], npx: [] };
  for (let i = 0; i < cliRuns; i++) {
    cli.floor.push(timed(process.execPath, ['-e', '0'], { cwd: appDir, env }));
    cli.node.push(timed(process.execPath, [bin, '--help'], { cwd: appDir, env }));
    cli.shim.push(timed(shim, ['--help'], { cwd: appDir, env }));
    if (i < Math.ceil(cliRuns / 2))
      cli.npx.push(timed('npx', ['--no-install', 'ses-smtp', '--help'], { cwd: appDir, env }));
  }
  record('node -e 0 (process start, the floor)', 'wall time of the process', cli.floor);
  record('CLI --help, node <installed bin>', 'wall time of the process', cli.node);
  record('CLI --help, installed bin (shebang)', 'wall time of the process', cli.shim);
  record('CLI --help, npx ses-smtp', 'wall time of the process', cli.npx);

  const app = { consumer: [], bare: [] };
  const synth = { consumer: [], bare: [] };
  for (let i = 0; i < synthRuns; i++) {
    for (const name of ['consumer', 'bare']) {
      const outdir = path.join(tmp, `${name}-app-${i}`);
      app[name].push(
        timed(process.execPath, [path.join('bin', `${name}.js`)], {
          cwd: appDir,
          env: { ...env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: '{}' },
        }),
      );
      synth[name].push(
        timed(
          cdk,
          [
            'synth',
            '--quiet',
            '--no-notices',
            '-a',
            `node bin/${name}.js`,
            '-o',
            path.join(tmp, `${name}-${i}`),
          ],
          {
            cwd: appDir,
            env,
          },
        ),
      );
    }
  }
  record(
    'consumer app process (SesSmtp + grant + ECS, cdk-nag)',
    'node bin/consumer.js, synth to a temp dir',
    app.consumer,
  );
  record('bare app process (App + empty Stack)', 'node bin/bare.js, synth to a temp dir', app.bare);
  record('cdk synth, consumer app', 'cdk synth --quiet -a "node bin/consumer.js"', synth.consumer);
  record('cdk synth, bare app', 'cdk synth --quiet -a "node bin/bare.js"', synth.bare);
  return results;
}

if (fileURLToPath(import.meta.url) === path.resolve(process.argv[1] ?? '')) {
  const appDir = process.argv[2];
  if (!appDir) {
    console.error('usage: node scripts/measure-consumer.mjs APP_DIR [--json]');
    process.exit(2);
  }
  const results = measureConsumer(path.resolve(appDir));
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    for (const r of results) {
      console.log(
        `${r.name.padEnd(56)} median ${r.medianMs.toFixed(0).padStart(6)} ms of ${r.runs} [${r.samplesMs.map((x) => x.toFixed(0)).join(', ')}]`,
      );
    }
  }
}
