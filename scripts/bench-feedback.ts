/**
 * Time for the feedback handler to parse and decide 1,000 notifications (unwrap + decide, the
 * code between receiving an SQS body and calling SES), median of 5 runs. API calls excluded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decide, unwrap } from '../lambda/ses-feedback/feedback';

const dir = path.join(__dirname, '..', 'test', 'fixtures', 'ses-events');
const samples = [
  'ses_event_bounce_permanent',
  'ses_event_bounce_transient',
  'ses_event_complaint',
  'ses_notification_bounce_legacy',
  'own_notification_complaint_legacy',
  'own_event_delivery',
].map((name) => JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')).payload);

// Half raw delivery, half inside the SNS envelope, like the two subscription modes.
const bodies = Array.from({ length: 1000 }, (_, i) => {
  const event = samples[i % samples.length];
  return i % 2 === 0
    ? JSON.stringify(event)
    : JSON.stringify({ Type: 'Notification', MessageId: `m${i}`, Message: JSON.stringify(event) });
});

function once(): { ms: number; suppress: number } {
  const start = process.hrtime.bigint();
  let suppress = 0;
  for (const body of bodies) {
    const event = unwrap(body);
    if (event) suppress += decide(event).suppress.length;
  }
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, suppress };
}

once(); // warm-up: JIT, like a warm Lambda
const runs = Array.from({ length: 5 }, once);
const times = runs.map((r) => r.ms).sort((a, b) => a - b);
console.log(
  `feedback parse+decide of 1000 notifications: median ${times[2].toFixed(2)} ms of 5 [${runs.map((r) => r.ms.toFixed(2)).join(', ')}], ${runs[0].suppress} suppressions decided`,
);
