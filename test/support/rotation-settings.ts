import type { RotationSettings } from '../../lambda/rotate-smtp-credentials/rotation';

/** The rotation function's settings as the tests' stack would set them, for `userName` in `region`. */
export function testRotationSettings(userName: string, region: string): RotationSettings {
  return {
    userName,
    region,
    fromAddress: 'no-reply@example.com',
    publishedPort: 587,
    environmentName: 'test',
    cliOptions: '--stack Mail --region eu-west-1',
    previousKeyQuietDays: 7,
    replacedKeyHoldDays: 7,
    rotateWhilePreviousKeyInUse: false,
  };
}
