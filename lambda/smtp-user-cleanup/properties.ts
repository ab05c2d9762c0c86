/**
 * The key-cleanup resource's property for a user that outlives the deletion of its stack (a
 * retain policy): its keys stay with it then, and go only in the rollback that deletes the user.
 */
export const KEEP_KEYS_ON_STACK_DELETE = 'KeepKeysOnStackDelete';

/**
 * The key-cleanup resource's property for a user that outlives even the rollback of the deploy
 * that created it (plain RETAIN): its keys stay with it then too.
 */
export const KEEP_KEYS_ON_ROLLBACK = 'KeepKeysOnRollback';
