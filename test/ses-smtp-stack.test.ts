import { AwsSolutionsChecks } from 'cdk-nag';
import { synthStack } from './helpers';

describe('SesSmtpStack', () => {
  test('stateful resources keep their logical ids (a rename would replace them)', () => {
    const { template } = synthStack();
    const ids = (type: string) => Object.keys(template.findResources(type));
    expect(ids('AWS::SES::EmailIdentity')).toEqual(['SendingDomainIdentity93CB5B91']);
  });

  test.each(['route53', 'manual'])('cdk-nag AwsSolutions reports nothing unacknowledged (%s DNS)', (mode) => {
    const dns =
      mode === 'route53'
        ? { mode, hostedZoneId: 'Z0123456789EXAMPLE0AB', zoneName: 'example.com' }
        : { mode };
    const { stack } = synthStack({
      dns,
      apexSpf: { enabled: true },
      verifiedEmailAddresses: ['dev@example.com'],
      feedback: { webhookUrl: 'https://app.example.com/ses', appQueue: true, additionalEvents: ['REJECT'] },
      alarms: { emails: ['ops@example.com'] },
    });
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`,
      ),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('tags from config and the environment tag reach the resources', () => {
    const { template } = synthStack({ tags: { team: 'mail' } });
    template.hasResourceProperties('AWS::SES::EmailIdentity', {
      Tags: [
        { Key: 'ses-smtp:environment', Value: 'test' },
        { Key: 'team', Value: 'mail' },
      ],
    });
  });

  test('the stack deploys to the configured account and Region', () => {
    const { stack } = synthStack({ region: 'us-east-2' });
    expect([stack.account, stack.region]).toEqual(['123456789012', 'us-east-2']);
  });
});
