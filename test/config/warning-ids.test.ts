import * as fs from 'node:fs';
import * as path from 'node:path';
import { SES_SMTP_WARNING_IDS } from '../../lib/config/warning-ids';
import { parseConfig } from '../../lib/config/load';
import { BASE_ENV } from '../helpers';

// The list the environments file's acknowledgedWarnings is checked against: every id the code adds.
test('SES_SMTP_WARNING_IDS is every ses-smtp warning id in lib/, and nothing else', () => {
  const libDir = path.join(__dirname, '..', '..', 'lib');
  const ids = new Set<string>();
  for (const file of fs.readdirSync(libDir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('warning-ids.ts')) continue;
    const source = fs.readFileSync(path.join(libDir, file), 'utf8');
    for (const [, id] of source.matchAll(/['`"](ses-smtp:[a-zA-Z-]+)['`"]/g)) ids.add(id);
  }
  ids.delete('ses-smtp:environment'); // the tag key, not a warning
  expect([...SES_SMTP_WARNING_IDS].sort()).toEqual([...ids].sort());
});

test.each([
  ['ses-smtp:no-alarm-recipient', false],
  ['Annotation::ses-smtp:no-alarm-recipients', true],
  ['ses-smtp:no-alarm-recipients', true],
  ['@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias', true],
])('acknowledgedWarnings id %s: taken %s', (id, taken) => {
  const parse = () =>
    parseConfig(
      { environments: { a: { ...BASE_ENV, acknowledgedWarnings: { [id]: 'a reason' } } } },
      'e.json',
    );
  if (taken) expect(parse).not.toThrow();
  else expect(parse).toThrow(/one of this package's warning ids \(ses-smtp:accessRegionFollowsFile, /);
});
