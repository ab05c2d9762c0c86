import { spawnSync } from 'node:child_process';
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
