/**
 * `npm run lint:cfn`: cfn-lint on every synthesized template in cdk.out, each with the Region its
 * stack deploys to (from cdk.out/manifest.json). Errors fail; warnings and informational findings
 * are printed. Findings listed in .cfnlint-exceptions.json (each with its reason) are accepted.
 * Synthesizes first when cdk.out holds no template; run `npm run synth` to refresh an old one.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Finding {
  readonly Filename: string;
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: { readonly Start: { readonly LineNumber: number }; readonly Path: (string | number)[] };
}
interface Exception {
  readonly rule: string;
  readonly resourceType: string;
  readonly message: string;
  readonly reason: string;
}

const OUT = 'cdk.out';
const EXCEPTIONS = '.cfnlint-exceptions.json';

function stacks(): { template: string; region?: string }[] {
  const manifestPath = path.join(OUT, 'manifest.json');
  if (!fs.existsSync(manifestPath)) return [];
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as {
    artifacts?: Record<
      string,
      { type: string; environment?: string; properties?: { templateFile?: string } }
    >;
  };
  return Object.values(manifest.artifacts ?? {})
    .filter((a) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile)
    .map((a) => ({
      template: path.join(OUT, a.properties!.templateFile!),
      region: /^aws:\/\/[^/]+\/([a-z0-9-]+)$/.exec(a.environment ?? '')?.[1],
    }))
    .filter((s) => fs.existsSync(s.template));
}

function main(): number {
  if (stacks().length === 0) {
    console.log('cdk.out holds no template: running cdk synth first');
    const synth = spawnSync('npx', ['cdk', 'synth', '--quiet'], { stdio: 'inherit' });
    if (synth.status !== 0) return synth.status ?? 1;
  }
  const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (version.error) {
    console.error(
      'cfn-lint is not installed: pip install cfn-lint (https://github.com/aws-cloudformation/cfn-lint)',
    );
    return 1;
  }
  const exceptions = (JSON.parse(fs.readFileSync(EXCEPTIONS, 'utf8')) as { exceptions: Exception[] })
    .exceptions;
  const used = new Set<Exception>();
  let errors = 0;
  for (const { template, region } of stacks()) {
    const resources = (
      JSON.parse(fs.readFileSync(template, 'utf8')) as { Resources: Record<string, { Type: string }> }
    ).Resources;
    const args = ['--format', 'json', ...(region ? ['--regions', region] : []), '--', template];
    const run = spawnSync('cfn-lint', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    let findings: Finding[];
    try {
      findings = JSON.parse(run.stdout || '[]') as Finding[];
    } catch {
      console.error(`cfn-lint gave no JSON for ${template}: ${run.stderr.trim()}`);
      return 1;
    }
    const accepted = (f: Finding) => {
      const [section, id] = f.Location.Path;
      const type = section === 'Resources' ? resources[String(id)]?.Type : undefined;
      const match = exceptions.find(
        (e) => e.rule === f.Rule.Id && e.resourceType === type && f.Message.includes(e.message),
      );
      if (match) used.add(match);
      return match !== undefined;
    };
    const shown = findings.filter((f) => !accepted(f));
    for (const f of shown) {
      console.log(
        `${f.Level.toUpperCase()} ${f.Rule.Id} ${f.Filename}:${f.Location.Start.LineNumber} ${f.Location.Path.join('/')}: ${f.Message}`,
      );
    }
    const templateErrors = shown.filter((f) => f.Level === 'Error').length;
    errors += templateErrors;
    console.log(
      `${template} (${region ?? 'default Regions'}): ${templateErrors} error(s), ${shown.length - templateErrors} other finding(s), ${findings.length - shown.length} accepted (${EXCEPTIONS})`,
    );
  }
  for (const e of exceptions.filter((x) => !used.has(x))) {
    console.log(
      `note: ${EXCEPTIONS} entry ${e.rule} on ${e.resourceType} matched nothing: remove it if cfn-lint has caught up`,
    );
  }
  return errors > 0 ? 1 : 0;
}

process.exit(main());
