/*
 * How the CLI writes a value into a command it prints, for a POSIX shell (and Ruby's shellsplit
 * in Kamal). Loads nothing: main.ts uses it before any command's module.
 */

/** `value` in single quotes, for a POSIX shell: a quote inside as '\''. */
export const singleQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * A word the shell, and Ruby's shellsplit in Kamal, read as itself: as it is, or in single quotes
 * (also one that starts with "=", which zsh expands to a command's path).
 */
export const shellWord = (value: string) =>
  /^[A-Za-z0-9_.,:/+@%-][A-Za-z0-9_.,:/+=@%-]*$/.test(value) ? value : singleQuote(value);

/**
 * An option and its value as a printed command's words: `--flag value`, or `--flag=value` for a
 * value that starts with "-" (a secret, set, user or alarm may be so named), which this CLI
 * (node's parseArgs) and the AWS CLI (Python's argparse) would take for another option.
 */
export const shellOption = (flag: string, value: string) =>
  value.startsWith('-') ? shellWord(`${flag}=${value}`) : `${flag} ${shellWord(value)}`;
