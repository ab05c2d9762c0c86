/*
 * Command-line options declared once: each table entry drives both parsing (node:util parseArgs)
 * and the generated help. No CLI library: the table and parseArgs are all it takes, and the
 * module loads nothing but node:util.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors';

export interface OptionSpec {
  /** The long name, without "--". */
  readonly name: string;
  readonly type: 'string' | 'boolean';
  /** One line for the help. */
  readonly description: string;
  /** A one-letter alias. */
  readonly short?: string;
  /** May be given several times; the value is a list. */
  readonly multiple?: boolean;
  /** The accepted values (matched case-insensitively, returned as written here). */
  readonly choices?: readonly string[];
  /** The value's name in the help. @default - the upper-cased option name */
  readonly placeholder?: string;
  /**
   * What a value is, completing "expected ..." in messages ("a CloudFormation stack name").
   * @default - "one of: " and the choices, else "a" and the placeholder
   */
  readonly expects?: string;
  /** The default shown in the help (the command applies it). */
  readonly defaultText?: string;
  /**
   * Checks a given value, throwing a UsageError (one line) for a bad one: run for every option
   * given before the command reads the environments file or AWS.
   */
  readonly check?: (value: string) => unknown;
  /**
   * The value names a file on the machine the CLI runs on, which `check` reads: a check of the
   * options elsewhere (`cliOptions`, at synth) leaves it to the CLI.
   */
  readonly localFile?: boolean;
}

/** Parsed values, typed by the accessor used. */
export class OptionValues {
  constructor(private readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>) {}

  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === 'string' ? v : undefined;
  }

  flag(name: string): boolean {
    return this.values[name] === true;
  }

  list(name: string): string[] | undefined {
    const v = this.values[name];
    return Array.isArray(v) ? v.map(String) : undefined;
  }
}

const placeholder = (s: OptionSpec) => s.placeholder ?? s.name.toUpperCase().replace(/-/g, '_');
/** What the option takes, completing "expected ...". */
const expected = (s: OptionSpec) =>
  s.choices ? `one of: ${s.choices.join(', ')}` : (s.expects ?? `a ${placeholder(s)}`);

/**
 * Parses `args` against the table: unknown options, missing or empty values, values outside
 * `choices` and a single-value option given twice throw a UsageError naming the option, the value
 * and what is accepted. An empty value never stands for "not given" (which would mean the
 * default: the stack's own user, set or file).
 */
export function parseOptions(specs: readonly OptionSpec[], args: string[]): OptionValues {
  const config: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = {};
  for (const s of specs) {
    config[s.name] = {
      type: s.type,
      ...(s.short && { short: s.short }),
      ...(s.multiple && { multiple: true }),
    };
  }
  const { values, tokens } = (() => {
    try {
      return parseArgs({ args, options: config, strict: true, allowPositionals: false, tokens: true });
    } catch (e) {
      throw new UsageError(oneLine((e as Error).message, args));
    }
  })();
  // parseArgs keeps the last of a repeated option: "--to a --to b" would silently send to b only.
  for (const s of specs) {
    if (s.type !== 'string' || s.multiple) continue;
    const given = tokens.flatMap((t) => (t.kind === 'option' && t.name === s.name ? [t.value] : []));
    if (given.length > 1)
      throw new UsageError(
        `--${s.name}: got ${given.length} values (${given.map((v) => JSON.stringify(v)).join(', ')}), expected one; give it once`,
      );
  }
  for (const s of specs) {
    const given = values[s.name];
    if (given === '' || (Array.isArray(given) && given.includes('')))
      throw new UsageError(`--${s.name}: got "", expected ${expected(s)}`);
  }
  for (const s of specs) {
    if (!s.choices || values[s.name] === undefined) continue;
    const given = values[s.name] as string | string[];
    const pick = (v: string) => {
      const found = s.choices!.find((c) => c.toLowerCase() === v.toLowerCase());
      if (found === undefined)
        throw new UsageError(`--${s.name}: got ${JSON.stringify(v)}, expected ${expected(s)}`);
      return found;
    };
    values[s.name] = Array.isArray(given) ? given.map(pick) : pick(given);
  }
  return new OptionValues(values);
}

/**
 * parseArgs's message on one line: its later lines carry the fix ("use '--smtp-timeout=-XYZ'"),
 * shown with the value that was given ("'--smtp-timeout=-1'").
 */
function oneLine(message: string, args: readonly string[]): string {
  const text = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  return text.replace(/'(--?[^'=\s]+)=-XYZ'/, (whole, option: string) => {
    const at = args.findIndex((arg, i) => arg === option && args[i + 1]?.startsWith('-'));
    return at < 0 ? whole : `'${option}=${args[at + 1]}'`;
  });
}

/**
 * `text` as a decimal number from `min` to `max`, or undefined: "16" or "2.5" (with `fraction`),
 * not "0x10", "1e3", " 16", ".5" or "Infinity" (which Number() would all take).
 */
export function decimalNumber(
  text: string,
  min: number,
  max: number,
  { fraction = false } = {},
): number | undefined {
  const value = (fraction ? /^[0-9]+(\.[0-9]+)?$/ : /^[0-9]+$/).test(text) ? Number(text) : NaN;
  return value >= min && value <= max ? value : undefined;
}

/** The help lines for a table: "  -y, --yes  description (one of: ...; default ...)". */
export function optionsHelp(specs: readonly OptionSpec[]): string {
  const heads = specs.map((s) => {
    const value = s.type === 'string' ? ` ${placeholder(s)}` : '';
    return `${s.short ? `-${s.short}, ` : '    '}--${s.name}${value}${s.multiple ? '...' : ''}`;
  });
  const width = Math.min(30, Math.max(...heads.map((h) => h.length)));
  return specs
    .map((s, i) => {
      const notes = [
        s.choices && `one of: ${s.choices.join(', ')}`,
        s.defaultText && `default ${s.defaultText}`,
      ].filter(Boolean);
      const text = `${s.description}${notes.length ? ` (${notes.join('; ')})` : ''}`;
      const head = heads[i];
      return head.length > width
        ? `  ${head}\n  ${' '.repeat(width)}  ${text}`
        : `  ${head.padEnd(width)}  ${text}`;
    })
    .join('\n');
}
