/**
 * The key-cleanup resource's property for a user that outlives the deletion of its stack (a
 * retain policy): its keys stay with it then, and go only in the rollback that deletes the user.
 */
export const KEEP_KEYS_ON_STACK_DELETE = 'KeepKeysOnStackDelete';
