import {
  DEFAULT_EASY_DKIM_DOMAIN,
  easyDkimDomain,
  feedbackSmtpEndpoint,
  SES_REGIONS,
  SES_SMTP_REGIONS,
  smtpEndpoint,
} from '../../lib/config/smtp-regions';
import { dkimRecords } from '../../lib/dns-records';

describe('SES Regions', () => {
  test('Regions with an SES API endpoint and no SMTP endpoint are not SMTP Regions', () => {
    for (const region of ['af-south-1', 'ap-southeast-5', 'ca-west-1', 'eu-central-2', 'me-central-1']) {
      expect(SES_REGIONS[region]).toMatchObject({ smtp: false });
      expect(SES_SMTP_REGIONS).not.toContain(region);
    }
    expect(SES_SMTP_REGIONS).toEqual(
      expect.arrayContaining(['us-east-1', 'eu-west-1', 'il-central-1', 'us-gov-west-1']),
    );
  });

  test('a Region-specific Easy DKIM zone is always dkim.<region>.amazonses.com', () => {
    const regional = Object.entries(SES_REGIONS).filter(([, r]) => r.easyDkimDomain !== undefined);
    expect(regional.map(([region]) => region).sort()).toEqual([
      'af-south-1',
      'ap-northeast-3',
      'ap-south-2',
      'ap-southeast-3',
      'ap-southeast-5',
      'ca-west-1',
      'eu-central-2',
      'eu-south-1',
      'il-central-1',
      'me-central-1',
      'us-gov-east-1',
    ]);
    for (const [region, r] of regional) expect(r.easyDkimDomain).toBe(`dkim.${region}.amazonses.com`);
  });

  test.each([
    ['eu-west-1', DEFAULT_EASY_DKIM_DOMAIN],
    ['ap-northeast-3', 'dkim.ap-northeast-3.amazonses.com'],
    ['xx-nowhere-9', DEFAULT_EASY_DKIM_DOMAIN],
  ])('easyDkimDomain(%s) = %s', (region, zone) => expect(easyDkimDomain(region)).toBe(zone));

  test('endpoints derive from the Region', () => {
    expect(smtpEndpoint('eu-south-1')).toBe('email-smtp.eu-south-1.amazonaws.com');
    expect(feedbackSmtpEndpoint('af-south-1')).toBe('feedback-smtp.af-south-1.amazonses.com');
  });

  test('DKIM records point to the zone given, with or without its trailing dot', () => {
    for (const zone of ['dkim.eu-south-1.amazonses.com', 'dkim.eu-south-1.amazonses.com.']) {
      expect(dkimRecords('example.com', ['t1'], zone)[0]).toMatchObject({
        name: 't1._domainkey.example.com.',
        type: 'CNAME',
        values: ['t1.dkim.eu-south-1.amazonses.com'],
      });
    }
  });
});
