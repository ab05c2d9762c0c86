import { Annotations, CfnResource, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges a cdk-nag finding ("AwsSolutions-IAM5[Resource::*]") with its reason on the
 * CloudFormation resources under `scope`, for both ways an app runs cdk-nag:
 * - cdk-nag 3, a validation plugin: aws-cdk-lib's `Validations.of(scope).acknowledge`;
 * - cdk-nag 2, an Aspect (`Aspects.of(app).add(new AwsSolutionsChecks())`): it reads each
 *   resource's `cdk_nag` metadata, `rules_to_suppress` entries of id, reason and `applies_to`
 *   (the finding in brackets), as its NagSuppressions writes them.
 * Call it once the resources exist (after the grants that make a role's policy).
 */
export function acknowledgeNagFinding(scope: IConstruct, finding: { id: string; reason: string }): void {
  Validations.of(scope).acknowledge(finding);
  const [, rule, appliesTo] = /^([^[]+)(?:\[(.*)\])?$/.exec(finding.id)!;
  const suppression = { reason: finding.reason, id: rule, ...(appliesTo && { applies_to: [appliesTo] }) };
  for (const child of scope.node.findAll()) {
    if (!CfnResource.isCfnResource(child)) continue;
    const existing = (child.getMetadata('cdk_nag') as { rules_to_suppress?: unknown[] } | undefined)
      ?.rules_to_suppress;
    child.addMetadata('cdk_nag', { rules_to_suppress: [...(existing ?? []), suppression] });
  }
}

/**
 * Acknowledges synth warnings under `scope` by id, each with its reason (an environments file's
 * `acknowledgedWarnings`): aws-cdk-lib drops those already added and refuses later ones. The id may
 * keep the "Annotation::" the synth's "Acknowledge with" line puts before it.
 */
export function acknowledgeWarnings(scope: IConstruct, warnings: Readonly<Record<string, string>>): void {
  const acknowledge = () => {
    for (const [id, reason] of Object.entries(warnings))
      Annotations.of(scope).acknowledgeWarning(id.replace(/^Annotation::/, ''), reason);
  };
  acknowledge();
  if (Object.keys(warnings).length === 0) return;
  // aws-cdk-lib before 2.271.0 (the peer range starts below) refuses a later warning of the
  // scope's children only, not of the scope itself (aws/aws-cdk#38820): one added on the stack
  // after its constructor (the loader's, in buildApp) is dropped again at validation.
  scope.node.addValidation({
    validate: () => {
      acknowledge();
      return [];
    },
  });
}
