import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO = path.resolve(__dirname, '../..');

/** median() of scripts/measure-consumer.mjs (an ES module: run by node, not jest) for each list. */
function medians(lists: number[][]): number[] {
  const r = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { median } from './scripts/measure-consumer.mjs'; console.log(JSON.stringify(${JSON.stringify(lists)}.map(median)));`,
    ],
    { cwd: REPO, encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

// The CLI figures are medians of 10 runs: they were the lower of the middle two.
test('the median of an even count is the mean of the middle two; numbers sort as numbers', () => {
  expect(medians([[40, 10, 30, 20], [5], [100, 9, 10], [3, 1]])).toEqual([25, 5, 10, 2]);
});

// A failed run (a process that exits non-zero, a folder that is not a consumer app) left its
// folder of cdk.out copies in /tmp.
test('a failed measurement removes its temporary folder', () => {
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'measure-consumer-test-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { measureConsumer } from './scripts/measure-consumer.mjs';
         try { measureConsumer(${JSON.stringify(path.join(tmpdir, 'no-app'))}); } catch (e) { console.log('failed'); }`,
      ],
      { cwd: REPO, encoding: 'utf8', env: { ...process.env, TMPDIR: tmpdir } },
    );
    expect(r.stdout.trim()).toBe('failed');
    expect(fs.readdirSync(tmpdir).filter((f) => f.startsWith('measure-consumer-'))).toEqual([]);
  } finally {
    fs.rmSync(tmpdir, { recursive: true, force: true });
  }
});
