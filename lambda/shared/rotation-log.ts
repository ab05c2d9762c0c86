/**
 * The message the rotation function logs (at ERROR, with `step` and `errorMessage`) when a step
 * fails: the credentials-ready wait reads the last one back into its failure reason.
 */
export const ROTATION_STEP_FAILED = 'rotation step failed';
