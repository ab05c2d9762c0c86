/** The credentials-ready resource's property naming the secret to wait on (its ARN). */
export const SECRET_ID = 'SecretId';

/** The property naming the rotation function's log group, where a failed step logs its reason. */
export const ROTATION_LOG_GROUP = 'RotationLogGroupName';
