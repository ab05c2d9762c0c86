import { synthStack } from '../../helpers';

interface Widget {
  type: string;
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

/** The dashboard's widgets, each token of its body (a Ref, an ARN) as a placeholder. */
function widgets(): Widget[] {
  const { template } = synthStack();
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const text = (dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[])
    .map((part) => (typeof part === 'string' ? part : '«token»'))
    .join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

describe('SendingDashboard', () => {
  // A paged operator opens the dashboard to see what is wrong: the alarm panel is the first thing
  // in view, and the alarm that paged is at its top whatever its name.
  test('the alarm panel comes first, across the top, its alarms in ALARM first', () => {
    const all = widgets();
    const top = all.filter((w) => w.y === 0);
    expect(top).toHaveLength(1);
    expect(top[0]).toMatchObject({
      type: 'alarm',
      x: 0,
      width: 24,
      properties: { sortBy: 'stateUpdatedTimestamp' },
    });
    expect((top[0].properties.alarms as unknown[]).length).toBe(34);
    // The graphs follow it, none beside or above it.
    for (const w of all.filter((w) => w !== top[0])) expect(w.y).toBeGreaterThanOrEqual(top[0].height);
  });
});
