/** The stack name of an environment: `cdk deploy SesSmtp-production`. */
export function stackName(environmentName: string): string {
  return `SesSmtp-${environmentName}`;
}
