import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/** What the functions read of a secret version: its id, value, when it was made, and its stages. */
export type SecretVersion = {
  readonly VersionId?: string;
  readonly SecretString?: string;
  readonly CreatedDate?: Date;
  readonly VersionStages?: string[];
};

/**
 * The secret's version with `version`'s stage (and id, when given; by id alone, whatever its
 * stages), or undefined when no version holds it. Any other error, a refused read included, is
 * thrown.
 */
export async function readSecretVersion(
  client: SecretsManagerClient,
  secretId: string,
  version: { VersionId?: string; VersionStage?: string },
): Promise<SecretVersion | undefined> {
  try {
    return await client.send(new GetSecretValueCommand({ SecretId: secretId, ...version }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException')
      return undefined;
    throw error;
  }
}

/**
 * The version a rotation in progress holds: AWSPENDING without AWSCURRENT, from DescribeSecret's
 * VersionIdsToStages (a finished rotation's version may keep AWSPENDING beside AWSCURRENT until
 * its finishSecret clears it).
 */
export function pendingVersionId(versions: Record<string, string[]> | undefined): string | undefined {
  return Object.entries(versions ?? {}).find(
    ([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'),
  )?.[0];
}
