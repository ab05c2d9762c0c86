import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { shellOption, shellWord } from '../../lib/cli/shell';

/*
 * How the CLI writes a value into a command it prints: bash reads each word back as the value,
 * and a word that some shell would change is quoted.
 */

const VALUES = [
  'prod',
  'a=b',
  'arn:aws:secretsmanager:eu-west-1:1:secret:s',
  'my envs.json',
  "it's",
  '$HOME',
  '~/x',
  '=ls',
  '*',
];

test('bash reads every word back as the value it was made of', () => {
  const words = VALUES.map(shellWord).join(' ');
  const out = execFileSync('bash', ['-c', `printf '%s\\n' ${words}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(out).toBe(VALUES.map((v) => `${v}\n`).join(''));
});

// zsh (macOS's default shell) expands a word that starts with "=" to a command's path.
test('a word is left bare only when no shell would change it; a leading "=" is quoted', () => {
  expect(VALUES.map(shellWord)).toEqual([
    'prod',
    'a=b',
    'arn:aws:secretsmanager:eu-west-1:1:secret:s',
    "'my envs.json'",
    "'it'\\''s'",
    "'$HOME'",
    "'~/x'",
    "'=ls'",
    "'*'",
  ]);
});

// A value that starts with "-" (a secret, set, user or alarm so named) would be read as an option
// after its flag, by this CLI's parseArgs and by the AWS CLI's argparse: it goes after "=".
test.each([
  ['-set', ['--configuration-set=-set']],
  ["-it's", ["--configuration-set=-it's"]],
  ['set', ['--configuration-set', 'set']],
  ['my set', ['--configuration-set', 'my set']],
])('shellOption --configuration-set %j: bash and parseArgs read back the value', (value, words) => {
  const command = shellOption('--configuration-set', value);
  const argv = execFileSync('bash', ['-c', `printf '%s\\0' ${command}`], {
    encoding: 'utf8',
    env: {},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .split('\0')
    .slice(0, -1);
  expect(argv).toEqual(words);
  const { values } = parseArgs({ args: argv, options: { 'configuration-set': { type: 'string' } } });
  expect(values['configuration-set']).toBe(value);
});
