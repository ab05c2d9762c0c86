import { scheduleGapHours } from '../../lib/config/syntax';

// The longest time between two runs of an EventBridge schedule: what the health checks' watchers
// wait before they report that runs stopped.
describe('scheduleGapHours', () => {
  test.each([
    ['rate(1 day)', 24],
    ['rate(1 hour)', 1],
    ['rate(15 minutes)', 0.25],
    ['rate(10 days)', 240],
    ['cron(0 6 * * ? *)', 24],
    // Friday 17:45 to Monday 08:00.
    ['cron(0/15 8-17 ? * MON-FRI *)', 62.25],
    ['cron(0 6 ? * MON *)', 168],
    ['cron(0 6 ? * mon,wed *)', 120],
    // A range of days that wraps: Friday to Monday, then Tuesday to Thursday off.
    ['cron(0 6 ? * FRI-MON *)', 96],
    ['cron(30 */6 * * ? *)', 6],
    // Odd days of the month: the 31st to the 1st is one day, the 29th (or 27th) to the 1st two.
    ['cron(0 6 1/2 * ? *)', 48],
    // The 1st of each month: 31 days from a month of 31.
    ['cron(0 6 1 * ? *)', 744],
    ['cron(* * * * ? *)', 1 / 60],
  ])('%s: %d hours', (expression, hours) => {
    expect(scheduleGapHours(expression)).toBeCloseTo(hours, 6);
  });

  test.each([
    'cron(0 6 L * ? *)', // the last day: depends on the month
    'cron(0 6 ? * 6L *)',
    'cron(0 6 ? * 3#2 *)',
    'cron(0 6 15W * ? *)',
    'cron(0 6 * * ? 2027)', // ends
    'cron(0 0 29 2 ? *)', // once in the two years listed
    'at(2027-01-01T00:00:00)',
    'rate(1 week)',
  ])('%s: cannot tell', (expression) => {
    expect(scheduleGapHours(expression)).toBeUndefined();
  });
});
