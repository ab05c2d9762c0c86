import { Output } from '../../lib/cli/output';

// Node leaves isTTY undefined (not false) on a pipe or file: that is not a terminal, so `env`
// prints the password unmasked into `| sh` or `> FILE`.
test('a stdout without isTTY (a pipe) is not interactive', () => {
  const write = () => true;
  const out = new Output({ stdout: { write }, stderr: { write } }, { json: false, noColour: false, env: {} });
  expect(out.interactive).toBe(false);
  expect(out.colour).toBe(false);
});
