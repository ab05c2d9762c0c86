/*
 * Everything the CLI prints goes through here: human lines on stdout (colour only on a TTY),
 * progress and warnings on stderr, and with --json one JSON document on stdout instead.
 */

// One shape for a check's result, shared with the scheduled health checks (type-only: loads nothing).
import type { CheckResult, CheckStatus } from '../../lambda/shared/checks';
export type { CheckResult, CheckStatus };

export interface Streams {
  readonly stdout: { write(text: string): unknown; isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; isTTY?: boolean };
}

const MARK: Record<CheckStatus, string> = { ok: '✓', fail: '✗', warn: '!', info: '·' };
const COLOUR: Record<CheckStatus, string> = { ok: '32', fail: '31', warn: '33', info: '2' };

export class Output {
  readonly json: boolean;
  readonly colour: boolean;
  readonly stderrColour: boolean;
  readonly interactive: boolean;

  constructor(
    readonly streams: Streams,
    options: { json: boolean; noColour: boolean; env: NodeJS.ProcessEnv },
  ) {
    this.json = options.json;
    this.interactive = streams.stdout.isTTY === true;
    // NO_COLOR counts when present and not empty (no-color.org).
    const allowed = !options.noColour && !options.env.NO_COLOR && options.env.TERM !== 'dumb';
    this.colour = this.interactive && allowed;
    this.stderrColour = streams.stderr.isTTY === true && allowed;
  }

  line(text = ''): void {
    if (!this.json) this.streams.stdout.write(`${text}\n`);
  }

  /** Raw text on stdout, in every mode (for output meant to be piped, like `env`). */
  raw(text: string): void {
    this.streams.stdout.write(text);
  }

  document(value: unknown): void {
    this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  warn(text: string): void {
    this.streams.stderr.write(`${this.stderrColour ? '\x1b[33m!\x1b[0m' : '!'} ${text}\n`);
  }

  check(result: CheckResult): void {
    if (this.json) return;
    const head = `${this.paint(COLOUR[result.status], MARK[result.status])} ${result.title}${result.detail ? `: ${result.detail}` : ''}`;
    this.line(head);
    if (result.fix && (result.status === 'fail' || result.status === 'warn'))
      this.line(`    → ${result.fix}`);
  }

  /** Progress for anything that waits: a rewritten line on a TTY, a line every call otherwise. */
  progress(text: string): void {
    if (this.streams.stderr.isTTY) this.streams.stderr.write(`\r\x1b[2K${text}`);
    else this.streams.stderr.write(`${text}\n`);
  }

  progressDone(): void {
    if (this.streams.stderr.isTTY) this.streams.stderr.write('\r\x1b[2K');
  }

  paint(code: string, text: string): string {
    return this.colour ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}
