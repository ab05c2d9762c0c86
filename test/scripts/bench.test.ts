import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { retryUntil } from '../../lambda/shared/smtp-login';
import {
  BARE_APP,
  FLOOR_APP,
  npmTestRuns,
  parseOptions,
  RetryUntil,
  rotationRows,
  SynthOptions,
  synthArgs,
} from '../../scripts/bench';

const REPO = path.resolve(__dirname, '../..');

/** What runs before the app: cdk.json's `build` command, or the one given with `--build`. */
const buildStep = (options: SynthOptions) => {
  const args = synthArgs('/out', options);
  const i = args.indexOf('--build');
  return i === -1 ? "cdk.json's build" : JSON.stringify(args[i + 1]);
};

describe('synth figures', () => {
  // The CDK CLI runs cdk.json's build before any app, `-a` or not: in this checkout that is
  // scripts/build.mjs, about 1 s, which made the yardsticks slower and both ratios look better.
  test("the bare app and the floor run without this repository's build; the example with it", () => {
    expect(buildStep(BARE_APP)).toBe('""');
    expect(buildStep(FLOOR_APP)).toBe('""');
    expect(buildStep({})).toBe("cdk.json's build");
  });

  test('the floor is the bare app with the validation off, and nothing else changed', () => {
    expect(FLOOR_APP).toEqual({ ...BARE_APP, env: { CDK_VALIDATION: 'false' } });
    expect(BARE_APP.env?.CDK_VALIDATION).toBeUndefined();
  });
});

describe('rotation wall time', () => {
  test('the rotation code as it is meets the goal at every propagation of 5 to 60 s', async () => {
    // Every 50 ms of D here (the bench tries every 10 ms): a fifth of the time.
    const rows = await rotationRows(retryUntil, undefined, { stepMs: 50 });
    expect(rows.map((r) => [r.figure, r.pass])).toEqual([
      ['Rotation wall time, propagation 5 s', true],
      ['Rotation wall time, propagation 10 s', true],
      ['Rotation wall time, propagation 20 s', true],
      ['Rotation wall time, propagation 60 s', true],
      ['Rotation wall time, worst of propagation 5 to 60 s', true],
    ]);
  });

  // The goal is for every D from 5 to 60 s: a retry that waits too long only between the round
  // values the table shows (5, 10, 20 and 60 s) must still fail it.
  test('a retry that misses the goal only when it would end between 30 and 40 s fails the figure', async () => {
    const slowIn30s: RetryUntil = async (attempt, options) => {
      await retryUntil(attempt, options);
      if (options.now() > 30_000 && options.now() < 40_000) await options.sleep(10_000);
    };
    const rows = await rotationRows(slowIn30s, undefined, { stepMs: 50 });
    expect(rows.filter((r) => r.pass === false).map((r) => r.figure)).toEqual([
      'Rotation wall time, worst of propagation 5 to 60 s',
    ]);
    expect(rows.at(-1)!.value).toMatch(/ for [23]\d\.\d\d s \(1\d\d % of its goal\)$/);
  });
});

describe('Ctrl-C', () => {
  // With a baseline the folder holds a git worktree (and maybe its own node_modules): a bench
  // stopped by Ctrl-C left it all in /tmp, registered in this repository's .git/worktrees.
  test('removes the temporary folder and exits 130', async () => {
    const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));
    const benchFolders = () => fs.readdirSync(tmpdir).filter((f) => f.startsWith('bench-'));
    try {
      // In a process group of its own, signalled as a terminal does: the bench and its child.
      const bench = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--only', 'feedback'], {
        cwd: REPO,
        env: { ...process.env, TMPDIR: tmpdir },
        detached: true,
        stdio: 'ignore',
      });
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const exited = new Promise<void>((resolve) =>
        bench.on('exit', (code, signal) => {
          exit = { code, signal };
          resolve();
        }),
      );
      // Its folder exists once its handlers are set; then it runs the feedback figure's process.
      while (benchFolders().length === 0 && exit === undefined) await sleep(20);
      expect(benchFolders()).toHaveLength(1);
      process.kill(-bench.pid!, 'SIGINT');
      await exited;
      expect(exit).toEqual({ code: 130, signal: null });
      expect(benchFolders()).toEqual([]);
    } finally {
      fs.rmSync(tmpdir, { recursive: true, force: true });
    }
  });
});

describe('npm test figure', () => {
  // Of two runs the figure was the slower one's, labelled "median of 2".
  test.each([1, 2, 3, 4, 5, 10])('--runs %i gives an odd number of runs: the median is one run', (runs) => {
    expect(npmTestRuns(runs) % 2).toBe(1);
    expect(npmTestRuns(runs)).toBeLessThanOrEqual(Math.max(runs, 1));
  });
});

describe('command line', () => {
  test('the defaults, and every option', () => {
    expect(parseOptions([])).toEqual({ runs: 5, npmTest: false });
    expect(
      parseOptions(['--runs', '3', '--baseline', '42c3314', '--npm-test', '--only', 'synth,npm-test']),
    ).toEqual({ runs: 3, baseline: '42c3314', npmTest: true, only: ['synth', 'npm-test'] });
  });

  // Each of these measured nothing or not what was asked, and a misspelt section printed an empty
  // table and exited 0.
  test.each([
    [
      ['--only', 'synths'],
      '--only: no section synths; the sections are: synth, bundles, prebuilt, rotation, scaling, cli, feedback, npm-test',
    ],
    [
      ['--only', 'synth,npmtest'],
      '--only: no section npmtest; the sections are: synth, bundles, prebuilt, rotation, scaling, cli, feedback, npm-test',
    ],
    [['--runs', '0'], '--runs takes a whole number of 1 or more, got: 0'],
    [['--runs', 'three'], '--runs takes a whole number of 1 or more, got: three'],
    [['--runs', '2.5'], '--runs takes a whole number of 1 or more, got: 2.5'],
    [['--baseline'], '--baseline needs a value'],
    [['--baseline', '--npm-test'], '--baseline needs a value'],
    [
      ['--npmtest'],
      'unknown argument --npmtest; the options are --runs N, --only A,B, --baseline REF, --npm-test',
    ],
  ])('%j: %s', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(new Error(message));
  });
});

describe('a baseline that cannot be set up', () => {
  test('exits 1 with one line saying why, and leaves no temporary folder', () => {
    const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));
    try {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/bench.ts', '--baseline', 'no-such-ref', '--only', 'feedback'],
        { cwd: REPO, env: { ...process.env, TMPDIR: tmpdir }, encoding: 'utf8' },
      );
      expect(r.stderr).toBe('bench: --baseline no-such-ref: fatal: invalid reference: no-such-ref\n');
      expect(r.status).toBe(1);
      expect(fs.readdirSync(tmpdir).filter((f) => f.startsWith('bench-'))).toEqual([]);
    } finally {
      fs.rmSync(tmpdir, { recursive: true, force: true });
    }
  });
});
