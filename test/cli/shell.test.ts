import { execFileSync } from 'node:child_process';
import { shellWord } from '../../lib/cli/shell';

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
