#!/usr/bin/env node
/**
 * `npm test`: every check of the repository, side by side.
 *
 *   node scripts/test.js                    # all checks (what `npm test` and CI run)
 *   node scripts/test.js jest lint:code     # some of them
 *
 * The checks are package.json scripts, run as `npm run` would run them (a shell with
 * node_modules/.bin on the PATH) but without an npm process each. They run at the same time:
 * alone, each leaves a core idle for part of its run (tsc uses one core;
 * jest's last suites use one). The output keeps the order of a sequential run (lint, format
 * check, type-check, jest): each check's output is printed in one piece once it and the checks
 * before it have ended, then a summary. The exit code is 1 when any check failed.
 *
 * No `cdk synth`: jest synthesizes every environment of the environments file with cdk-nag
 * (test/app.test.ts), without the CDK CLI's start, which cost as much CPU as the app it ran. CI
 * runs the CLI after `npm test` (`cdk synth -c validate=true`).
 */
const { Buffer } = require('node:buffer');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** In the order of the output (the house CI order). */
const CHECKS = ['lint:code', 'lint:format', 'typecheck', 'jest'];

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Runs one package.json script; resolves with its result and its whole output. */
function runScript(root, name, command, env) {
  return new Promise((resolve) => {
    const began = Date.now();
    const child = spawn(command, { cwd: root, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', (e) => output.push(Buffer.from(`${e.message}\n`)));
    child.on('close', (code, signal) =>
      resolve({
        name,
        ok: code === 0,
        ms: Date.now() - began,
        status: signal ?? code,
        output: Buffer.concat(output),
      }),
    );
  });
}

/**
 * Runs `checks` (script names of `root`'s package.json) at the same time, `first` started first,
 * and writes their outputs in the order of `checks`. Resolves with the exit code: 0 when all passed.
 */
async function runChecks({
  root,
  checks,
  first,
  write = (text) => process.stdout.write(text),
  env = process.env,
}) {
  const { scripts } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const missing = checks.filter((name) => !scripts?.[name]);
  if (missing.length) {
    write(`package.json has no script ${missing.join(', ')}: add it or leave it out of the checks\n`);
    return 2;
  }
  const childEnv = { ...env, PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${env.PATH}` };
  const start = Date.now();
  write(`npm test: ${checks.join(', ')}, side by side\n`);
  const order = [...checks].sort((a, b) => Number(b === first) - Number(a === first));
  const running = new Map(order.map((name) => [name, runScript(root, name, scripts[name], childEnv)]));
  const results = [];
  for (const name of checks) {
    const result = await running.get(name);
    results.push(result);
    write(`\n── ${name} (${scripts[name]}): ${result.ok ? 'passed' : 'FAILED'} in ${seconds(result.ms)}\n`);
    const text = result.output.toString('utf8').trimEnd();
    if (text) write(`${text}\n`);
  }
  const failed = results.filter((r) => !r.ok);
  write(
    `\nnpm test: ${results.length - failed.length} of ${results.length} checks passed in ${seconds(Date.now() - start)}\n`,
  );
  for (const r of results)
    write(
      `  ${r.ok ? 'passed' : 'FAILED'}  ${r.name.padEnd(12)} ${seconds(r.ms).padStart(7)}${r.ok ? '' : `  (exit ${r.status})`}\n`,
    );
  return failed.length ? 1 : 0;
}

/**
 * `npm test [check...]` in `root`: the checks named (all when none), or exit code 2 for a name that
 * is none of them. Resolves with the exit code.
 */
async function main(
  requested = process.argv.slice(2),
  { root = path.resolve(__dirname, '..'), write, error = (text) => process.stderr.write(text) } = {},
) {
  const unknown = requested.filter((name) => !CHECKS.includes(name));
  if (unknown.length) {
    error(`unknown check: ${unknown.join(', ')}; the checks are: ${CHECKS.join(', ')}\n`);
    return 2;
  }
  // Children write into pipes: keep colours when the terminal shows them.
  const env = { ...process.env, ...(process.stdout.isTTY && !process.env.NO_COLOR && { FORCE_COLOR: '1' }) };
  return runChecks({
    root,
    checks: CHECKS.filter((name) => !requested.length || requested.includes(name)),
    // The longest check: started first, it has the cores before the others take them.
    first: 'jest',
    write,
    env,
  });
}

module.exports = { CHECKS, runChecks, main };

if (require.main === module) main().then((code) => (process.exitCode = code));
