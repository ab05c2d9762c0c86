import * as fs from 'node:fs';
import * as path from 'node:path';
import { PutSuppressedDestinationCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { SQSRecord } from 'aws-lambda';
import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { processBatch } from '../lambda/ses-feedback/process';
import { createLogger } from '../lambda/shared/logger';
import { FEEDBACK_NAMESPACE, MetricBatch } from '../lambda/shared/metrics';
import { SendingFeedback } from '../lib/constructs/sending-feedback';
import { testApp } from './helpers';

/*
 * The handler writes the feedback metrics, the dashboard graphs them with SEARCH. A SEARCH schema
 * ({Namespace,Dim1,Dim2}) finds only metrics with exactly those dimensions, so a dimension the
 * handler adds and the schema lacks leaves the graph empty. This test runs the handler's batch
 * processing on SES events and checks every metric it wrote against the construct's expression.
 */

interface EmfDocument {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
}

const sesMock = mockClient(SESv2Client);

async function writtenByTheHandler(): Promise<EmfDocument[]> {
  sesMock.reset();
  sesMock.on(PutSuppressedDestinationCommand).resolves({});
  const events = [
    'ses_event_bounce_permanent.json',
    'ses_event_bounce_transient.json',
    'ses_event_complaint.json',
  ];
  const records = events.map((name, i) => {
    const fixture = fs.readFileSync(path.join(__dirname, 'fixtures', 'ses-events', name), 'utf8');
    return { messageId: `m${i}`, body: JSON.stringify(JSON.parse(fixture).payload) } as SQSRecord;
  });
  const metrics = new MetricBatch(FEEDBACK_NAMESPACE, { Environment: 'test' });
  const failures = await processBatch(records, {
    ses: new SESv2Client({ region: 'eu-west-1' }),
    log: createLogger({}, () => undefined),
    metrics,
  });
  expect(failures).toEqual([]);
  return metrics.flush().map((line) => JSON.parse(line) as EmfDocument);
}

test("every feedback metric the handler writes is found by the dashboard's SEARCH for it", async () => {
  const docs = await writtenByTheHandler();
  const stack = new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const feedback = new SendingFeedback(stack, 'SendingFeedback', {
    encryptionKey: new kms.Key(stack, 'Key'),
    environmentName: 'test',
  });

  for (const name of ['Events', 'RecipientsSuppressed'] as const) {
    const expression = (feedback.metricHandled(name) as cloudwatch.MathExpression).expression;
    const search = /SEARCH\('\{([^}]+)\} MetricName="([^"]+)" Environment="([^"]+)"'/.exec(expression);
    expect(search).not.toBeNull();
    const [namespace, ...schema] = search![1].split(',');
    expect([namespace, search![2], search![3]]).toEqual([FEEDBACK_NAMESPACE, name, 'test']);
    const carrying = docs.filter((d) => d._aws.CloudWatchMetrics[0].Metrics.some((m) => m.Name === name));
    expect(carrying.length).toBeGreaterThan(0);
    for (const { _aws } of carrying) {
      const [{ Namespace, Dimensions }] = _aws.CloudWatchMetrics;
      expect(Namespace).toBe(namespace);
      // One dimension set per document, and it is exactly the schema's.
      expect(Dimensions).toHaveLength(1);
      expect([...Dimensions[0]].sort()).toEqual([...schema].sort());
    }
  }
});
