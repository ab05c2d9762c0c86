import { synthStack } from './helpers';
import { CfnTemplate } from './support/wires';

/*
 * With removalPolicy "retain", `cdk destroy` keeps the resources a live sender needs (identity,
 * its DNS records, the SMTP user, the secret and its key). Nothing such a retained resource
 * depends on may be deleted with the stack, or the kept resource stops working: the identity
 * names its default configuration set, and SES refuses every send of an identity whose default
 * configuration set is gone.
 */

/** Logical ids `value` refers to: Ref, Fn::GetAtt, and ${X} / ${X.Attr} inside Fn::Sub. */
function references(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => references(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') out.add(v);
      else if (k === 'Fn::GetAtt') out.add((v as string[])[0]);
      else if (k === 'Fn::Sub') {
        const text = Array.isArray(v) ? (v[0] as string) : (v as string);
        for (const m of text.matchAll(/\$\{([^}!.]+)(\.[^}]+)?\}/g)) out.add(m[1]);
        if (Array.isArray(v)) references(v[1], out);
      } else references(v, out);
    }
  }
  return out;
}

/** Kept by a stack deletion: Retain, or RetainExceptOnCreate (deleted only by the rollback of its creation). */
const kept = (policy: string | undefined) => policy === 'Retain' || policy === 'RetainExceptOnCreate';

function dependencies(t: CfnTemplate, id: string): string[] {
  const r = t.Resources[id];
  const deps = references(r.Properties ?? {});
  for (const d of [r.DependsOn ?? []].flat()) deps.add(d);
  // Pseudo parameters and parameters are not resources.
  return [...deps].filter((d) => d in t.Resources);
}

/**
 * Resources that attach something to a retained resource it cannot work without, though the
 * retained one does not refer to them: the SMTP user's inline policy (AWS::IAM::Policy names the
 * user). Deleting it would leave a kept user that may no longer send.
 */
function attachments(t: CfnTemplate, id: string): string[] {
  return Object.entries(t.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .filter(([, r]) => references(r.Properties?.Users ?? []).has(id))
    .map(([pid]) => pid);
}

describe.each([
  ['route53', { dns: { mode: 'route53', hostedZoneId: 'Z0123456789EXAMPLE0AB', zoneName: 'example.com' } }],
  ['manual', { dns: { mode: 'manual' } }],
])('removalPolicy retain (%s DNS): nothing a retained resource needs is deleted', (_, dns) => {
  const t = () =>
    synthStack({
      ...dns,
      removalPolicy: 'retain',
      verifiedEmailAddresses: ['dev@example.com'],
      feedback: { appQueue: true, webhookUrl: 'https://app.example.com/ses' },
      apexSpf: { enabled: true },
    }).template.toJSON() as CfnTemplate;

  test('every Ref/GetAtt/DependsOn target and every attached policy of a retained resource is retained', () => {
    const template = t();
    const retained = Object.keys(template.Resources).filter((id) =>
      kept(template.Resources[id].DeletionPolicy),
    );
    const problems: string[] = [];
    for (const id of retained) {
      for (const dep of [...dependencies(template, id), ...attachments(template, id)]) {
        if (!kept(template.Resources[dep].DeletionPolicy)) {
          problems.push(`${id} (retained) needs ${dep} (${template.Resources[dep].Type}), which is deleted`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  // A failed first deploy (an apex TXT record that exists already) rolls back: with plain Retain it
  // would keep the identity, records, user and secret, and the retry would fail on them.
  test('the rollback of the deploy that created them deletes them: RetainExceptOnCreate, never Retain', () => {
    const policies = new Set(Object.values(t().Resources).map((r) => r.DeletionPolicy ?? 'Delete'));
    expect([...policies].sort()).toEqual(['Delete', 'RetainExceptOnCreate']);
  });

  test('the retained set is what a live sender needs', () => {
    const template = t();
    const types = new Set(
      Object.values(template.Resources)
        .filter((r) => kept(r.DeletionPolicy))
        .map((r) => r.Type),
    );
    for (const type of [
      'AWS::SES::EmailIdentity',
      'AWS::SES::ConfigurationSet',
      'AWS::IAM::User',
      'AWS::IAM::Policy',
      'AWS::SecretsManager::Secret',
      'AWS::KMS::Key',
    ]) {
      expect([type, types.has(type)]).toEqual([type, true]);
    }
    if ('zoneName' in dns.dns) expect(types.has('AWS::Route53::RecordSet')).toBe(true);
  });
});

test('removalPolicy destroy retains nothing', () => {
  const template = synthStack({ removalPolicy: 'destroy' }).template.toJSON() as CfnTemplate;
  expect(
    Object.entries(template.Resources)
      .filter(([, r]) => kept(r.DeletionPolicy))
      .map(([id]) => id),
  ).toEqual([]);
});
