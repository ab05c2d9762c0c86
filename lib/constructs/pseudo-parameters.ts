/** The longest each pseudo parameter resolves to: aws-us-gov, ap-southeast-1, an account, amazonaws.com.cn. */
export const PSEUDO_PARAMETER_LONGEST: Record<string, number> = {
  'AWS::Partition': 10,
  'AWS::Region': 14,
  'AWS::AccountId': 12,
  'AWS::URLSuffix': 16,
  'AWS::StackName': 128,
};
