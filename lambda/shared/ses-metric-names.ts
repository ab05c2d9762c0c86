/*
 * The names of what SES itself publishes in CloudWatch, for the constructs' alarms and for the
 * checks and the CLI that read the same metrics, and of the webhook's event destination, which the
 * checks tell from the queues' (this module loads no aws-cdk-lib).
 */

export const SES_NAMESPACE = 'AWS/SES';

/**
 * The dimension of a configuration set's metrics (with ReputationMetricsEnabled): the name of
 * SES's own auto-tag. AWS's pages say SES publishes them but do not name their dimension (the
 * README's runbook shows how to see them in an account).
 */
export const CONFIGURATION_SET_DIMENSION = 'ses:configuration-set';

/** The reputation rates' metric names: fractions from 0 to 1, published only while mail is sent. */
export const REPUTATION_METRIC_NAMES = {
  Bounce: 'Reputation.BounceRate',
  Complaint: 'Reputation.ComplaintRate',
} as const;

/**
 * The name of the configuration set's event destination to the app webhook's own topic (a name
 * is unique within its set only). Fixed, so that the sending check, which knows no topic, does not
 * take it for the queues' (whose name CloudFormation gives): enabled, it would hide that one
 * disabled or deleted.
 */
export const WEBHOOK_EVENT_DESTINATION = 'AppWebhook';

/**
 * What the logical id of the queues' event destination contains (SendingFeedback's construct path
 * ConfigurationSet/Feedback), however the stack nests SesSmtp: the sending check's fix finds its
 * name by it. The set has other event destinations in the stack (Sends, to CloudWatch; AppWebhook),
 * whose names CloudFormation lists too.
 */
export const FEEDBACK_EVENT_DESTINATION_PATH = 'ConfigurationSetFeedback';
