/** Services that run CI jobs without setting CI, by a variable each sets (as ci-info tells them). */
const CI_VARIABLES = ['JENKINS_URL', 'TF_BUILD', 'CODEBUILD_BUILD_ARN', 'TEAMCITY_VERSION'] as const;

/**
 * What says a CI job runs, for messages ("CI=true", "JENKINS_URL is set"); undefined outside CI.
 * CI set, as GitHub Actions, GitLab, CircleCI, Travis, Bitbucket, Buildkite, Drone and Woodpecker
 * set it ("false" or empty says no CI), or the variable of Jenkins, Azure Pipelines, AWS CodeBuild
 * or TeamCity, which do not set CI.
 */
export function ciSignal(env: NodeJS.ProcessEnv): string | undefined {
  if (env.CI && env.CI !== 'false') return `CI=${env.CI}`;
  const name = CI_VARIABLES.find((variable) => env[variable]);
  return name && `${name} is set`;
}
