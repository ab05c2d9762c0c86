import { Output } from '../../lib/cli/output';

// Node leaves isTTY undefined (not false) on a pipe or file: that is not a terminal, so `env`
// prints the password unmasked into `| sh` or `> FILE`.
test('a stdout without isTTY (a pipe) is not interactive', () => {
  const write = () => true;
  const out = new Output({ stdout: { write }, stderr: { write } }, { json: false, noColour: false, env: {} });
  expect(out.interactive).toBe(false);
  expect(out.colour).toBe(false);
});

// A result that passed or only informs has nothing to fix: an arrow under it would read as a task.
test.each([
  ['ok', false],
  ['info', false],
  ['warn', true],
  ['fail', true],
] as const)('a %s result shows its fix: %s', (status, shown) => {
  let stdout = '';
  const write = (text: string) => ((stdout += text), true);
  const out = new Output({ stdout: { write }, stderr: { write } }, { json: false, noColour: true, env: {} });
  out.check({ id: 'x', status, title: 'the title', fix: 'run this' });
  expect(stdout.includes('→ run this')).toBe(shown);
});
