/**
 * Prints the GitHub Actions matrix of the environments file, one entry per environment in file
 * order: `{"include":[{"name","stack","account","region","deployEnvironment","previewEnvironment"}]}`.
 * The workflows deploy and preview exactly what the file holds. Usage:
 *   npx tsx scripts/environments-matrix.ts [path/to/environments.json]
 * (default: the file cdk.json's context "config" names, else config/environments.json).
 * A mistake in the file prints its lines and exits 2, like `cdk synth`'s app.
 */
import { stackName } from '../lib/stack-name';
import { gitHubEnvironmentsOf } from '../lib/config/github';
import { ConfigError, loadConfig, projectConfigPath } from '../lib/config/load';

/** The matrix of the environments file at `file`; throws ConfigError on a mistake in it. */
export function environmentsMatrix(file: string) {
  const { environments } = loadConfig(file, undefined, "the path as this script's argument");
  return {
    include: environments.map(({ name, config }) => {
      const github = gitHubEnvironmentsOf(name, config);
      return {
        name,
        stack: stackName(name),
        account: config.account,
        region: config.region,
        deployEnvironment: github.deploy,
        previewEnvironment: github.preview,
      };
    }),
  };
}

/**
 * Prints the matrix of `file` (default: the environments file of the project in `dir`, the one
 * its cdk.json names), or the mistake in it; the exit code.
 */
export function main(
  [file]: string[],
  write: { out(text: string): void; err(text: string): void } = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
  dir = '.',
): number {
  try {
    write.out(`${JSON.stringify(environmentsMatrix(file ?? projectConfigPath(dir)))}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    write.err(`${e.message}\n`);
    return 2;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
