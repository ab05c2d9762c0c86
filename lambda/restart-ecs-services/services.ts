/** The environment variable that lists the services: JSON, [{ "cluster": ..., "service": ... }]. */
export const SERVICES_VARIABLE = 'ECS_SERVICES';

/** One ECS service to replace the tasks of: its cluster and its name (or ARN). */
export interface EcsServiceTarget {
  readonly cluster: string;
  readonly service: string;
}

/**
 * The long ARN of an ECS service, arn:PARTITION:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE (cluster
 * and service names: 1 to 255 letters, digits, "-" and "_"). The short one,
 * arn:PARTITION:ecs:REGION:ACCOUNT:service/SERVICE, names no cluster, which UpdateService needs
 * (without one it looks in the cluster "default").
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-arn-migration.html
 */
export const ECS_SERVICE_ARN =
  /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):service\/([A-Za-z0-9_-]{1,255})\/([A-Za-z0-9_-]{1,255})$/;

/** The parts of a long ECS service ARN; undefined for anything else. */
export function parseServiceArn(
  arn: string,
): { partition: string; region: string; account: string; cluster: string; service: string } | undefined {
  const m = ECS_SERVICE_ARN.exec(arn);
  return m ? { partition: m[1], region: m[2], account: m[3], cluster: m[4], service: m[5] } : undefined;
}

/**
 * The partition of a Region's ARNs: IAM matches a policy's resource to the service's own ARN, so a
 * service of us-gov-west-1 named arn:aws:... would never be allowed.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
 */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
}

/** Where a service must be for the restart function, which runs in the mail stack's account and Region. */
export interface ServicePlace {
  /** undefined: not known yet (a token), not compared. */
  readonly region?: string;
  readonly account?: string;
}

/** Whether the long ARN `arn` names a service of `place` (its partition, Region and account). */
export function isServiceOf(arn: string, place: ServicePlace): boolean {
  const parts = parseServiceArn(arn);
  if (!parts) return false;
  const { region, account } = place;
  return (
    (region === undefined || (parts.partition === partitionOfRegion(region) && parts.region === region)) &&
    (account === undefined || parts.account === account)
  );
}

/** The long ARN of a service of `place`, with what is unknown or free in capitals: for error texts. */
export function serviceArnOf(place: ServicePlace): string {
  const { region, account } = place;
  return `arn:${region ? partitionOfRegion(region) : 'aws'}:ecs:${region ?? 'REGION'}:${account ?? 'ACCOUNT'}:service/CLUSTER/SERVICE`;
}
