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
