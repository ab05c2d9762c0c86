/**
 * `npm run lint:cfn`: cfn-lint on every synthesized template in cdk.out, each with the Region its
 * stack deploys to (from cdk.out/manifest.json). Errors fail; warnings and informational findings
 * are printed. Findings listed in .cfnlint-exceptions.json (each with its reason) are accepted.
 * Synthesizes first when cdk.out holds no template; run `npm run synth` to refresh an old one.
 * A cfn-lint that fails to lint (crashes, refuses its arguments) fails this too: no output is not
 * "no findings".
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Finding {
  readonly Filename: string | null;
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: {
    readonly Start: { readonly LineNumber: number };
    /** null for a finding about the whole file (one that does not parse). */
    readonly Path: (string | number)[] | null;
  };
}
interface Exception {
  readonly rule: string;
  readonly resourceType: string;
  readonly message: string;
  readonly reason: string;
}

/** One cfn-lint run: its exit code (null when a signal ended it) and output. */
export interface CfnLintRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when cfn-lint could not be started (not installed). */
  readonly error?: Error;
}

export interface LintOptions {
  /** The cloud assembly folder. @default 'cdk.out' */
  readonly out?: string;
  /** @default '.cfnlint-exceptions.json' */
  readonly exceptionsFile?: string;
  /** Runs cfn-lint with these arguments. @default the cfn-lint on the PATH */
  readonly cfnLint?: (args: string[]) => CfnLintRun;
  readonly log?: (line: string) => void;
}

/** cfn-lint's exit code has one bit per level of finding; any other bit means it did not lint. */
const FINDING_BITS = 2 | 4 | 8;
const linted = (run: CfnLintRun) =>
  run.error === undefined && run.status !== null && (run.status & ~FINDING_BITS) === 0;

/**
 * cfn-lint's JSON findings, or undefined when `run` did not lint or its output is not theirs: an
 * exit code with a bit other than the finding bits, output that is not a JSON list (cfn-lint
 * prints `[]` for a clean template; nothing means it wrote elsewhere, as a `.cfnlintrc` with an
 * output file makes it), or an error bit with no error among the findings.
 */
function findingsOf(run: CfnLintRun): Finding[] | undefined {
  if (!linted(run)) return undefined;
  let findings: unknown;
  try {
    findings = JSON.parse(run.stdout);
  } catch {
    return undefined;
  }
  if (!Array.isArray(findings)) return undefined;
  const hasError = findings.some((f: Finding) => f?.Level === 'Error');
  return (run.status! & 2) === 0 || hasError ? (findings as Finding[]) : undefined;
}

/** Linted against when the manifest names no Region or cfn-lint does not know it (cfn-lint's own default). */
const FALLBACK_REGION = 'us-east-1';

const runCfnLint = (args: string[]): CfnLintRun => {
  const run = spawnSync('cfn-lint', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: run.status, stdout: run.stdout ?? '', stderr: run.stderr ?? '', error: run.error };
};

/** The templates of `out`, each with the Region its stack deploys to when the manifest says. */
function stacks(out: string): { template: string; region?: string }[] {
  const manifestPath = path.join(out, 'manifest.json');
  if (!fs.existsSync(manifestPath)) return [];
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as {
    artifacts?: Record<
      string,
      { type: string; environment?: string; properties?: { templateFile?: string } }
    >;
  };
  return Object.values(manifest.artifacts ?? {})
    .filter((a) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile)
    .map((a) => {
      const region = /^aws:\/\/[^/]+\/([a-z0-9-]+)$/.exec(a.environment ?? '')?.[1];
      return {
        template: path.join(out, a.properties!.templateFile!),
        // An environment-agnostic stack's Region is "unknown-region": FALLBACK_REGION then.
        region: region === 'unknown-region' ? undefined : region,
      };
    })
    .filter((s) => fs.existsSync(s.template));
}

/** Lints every template of `out`; the exit code (0 when no error outside the exceptions). */
export function lintTemplates({
  out = 'cdk.out',
  exceptionsFile = '.cfnlint-exceptions.json',
  cfnLint = runCfnLint,
  log = (line) => console.log(line),
}: LintOptions = {}): number {
  const templates = stacks(out);
  if (templates.length === 0) {
    log(`${out} holds no template: run npx cdk synth first`);
    return 1;
  }
  const exceptions = (JSON.parse(fs.readFileSync(exceptionsFile, 'utf8')) as { exceptions: Exception[] })
    .exceptions;
  const used = new Set<Exception>();
  let errors = 0;
  for (const { template, region } of templates) {
    let resources: Record<string, { Type: string }>;
    try {
      resources = (
        JSON.parse(fs.readFileSync(template, 'utf8')) as { Resources: Record<string, { Type: string }> }
      ).Resources;
    } catch (e) {
      log(`${template} is not a JSON template (${(e as Error).message}): run npx cdk synth again`);
      return 1;
    }
    // Always an explicit Region: without one, cfn-lint takes AWS_REGION from the shell.
    const lint = (lintRegion: string) =>
      cfnLint(['--format', 'json', '--regions', lintRegion, '--', template]);
    let lintRegion = region ?? FALLBACK_REGION;
    let run = lint(lintRegion);
    // A Region younger than this cfn-lint (it refuses the name): lint against FALLBACK_REGION's
    // schemas rather than not at all, and say so.
    if (lintRegion !== FALLBACK_REGION && run.status === 32 && /unsupported/i.test(run.stderr)) {
      log(
        `note: this cfn-lint does not know ${lintRegion}: ${template} linted against ${FALLBACK_REGION} (update cfn-lint)`,
      );
      lintRegion = FALLBACK_REGION;
      run = lint(lintRegion);
    }
    if (run.error) {
      log(`cfn-lint is not installed: pip install 'cfn-lint==1.51.*' (${run.error.message})`);
      return 1;
    }
    const findings = findingsOf(run);
    if (findings === undefined) {
      const why =
        run.stderr.trim().split('\n').at(-1) ||
        (run.stdout.trim() ? "output not cfn-lint's JSON findings" : 'no output');
      log(`cfn-lint failed on ${template} (exit ${run.status ?? 'by a signal'}): ${why}`);
      return 1;
    }
    const accepted = (f: Finding) => {
      const [section, id] = f.Location.Path ?? [];
      const type = section === 'Resources' ? resources[String(id)]?.Type : undefined;
      const match = exceptions.find(
        (e) => e.rule === f.Rule.Id && e.resourceType === type && f.Message.includes(e.message),
      );
      if (match) used.add(match);
      return match !== undefined;
    };
    const shown = findings.filter((f) => !accepted(f));
    for (const f of shown) {
      log(
        `${f.Level.toUpperCase()} ${f.Rule.Id} ${f.Filename ?? template}:${f.Location.Start.LineNumber} ${(f.Location.Path ?? []).join('/')}: ${f.Message}`,
      );
    }
    const templateErrors = shown.filter((f) => f.Level === 'Error').length;
    errors += templateErrors;
    log(
      `${template} (${lintRegion}): ${templateErrors} error(s), ${shown.length - templateErrors} other finding(s), ${findings.length - shown.length} accepted (${exceptionsFile})`,
    );
  }
  for (const e of exceptions.filter((x) => !used.has(x))) {
    log(
      `note: ${exceptionsFile} entry ${e.rule} on ${e.resourceType} matched nothing: remove it if cfn-lint has caught up`,
    );
  }
  return errors > 0 ? 1 : 0;
}

if (require.main === module) {
  if (stacks('cdk.out').length === 0) {
    console.log('cdk.out holds no template: running cdk synth first');
    const synth = spawnSync('npx', ['cdk', 'synth', '--quiet'], { stdio: 'inherit' });
    if (synth.status !== 0) process.exit(synth.status ?? 1);
  }
  process.exitCode = lintTemplates();
}
