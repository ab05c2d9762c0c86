/**
 * Prints the GitHub Actions matrix of the environments file, one entry per environment in file
 * order: `{"include":[{"name","stack","account","region","deployEnvironment","previewEnvironment"}]}`.
 * The workflows deploy and preview exactly what the file holds. Usage:
 *   npx tsx scripts/environments-matrix.ts [path/to/environments.json]
 * A mistake in the file prints its lines and exits 2, like `cdk synth`'s app.
 */
import { stackName } from '../lib/stack-name';
import { gitHubEnvironmentsOf } from '../lib/config/github';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig } from '../lib/config/load';

/** The matrix of the environments file at `file`; throws ConfigError on a mistake in it. */
export function environmentsMatrix(file: string) {
  const { environments } = loadConfig(file);
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

if (require.main === module) {
  try {
    console.log(JSON.stringify(environmentsMatrix(process.argv[2] ?? DEFAULT_CONFIG_PATH)));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    process.exit(2);
  }
}
