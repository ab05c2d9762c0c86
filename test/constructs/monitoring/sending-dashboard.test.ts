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

  // The lines are drawn where the alarms fire, the last where AWS may pause sending.
  test('each rate graph draws both alarm levels and the pause point, as fractions', () => {
    const graphs = widgets().filter((w) => String(w.properties.title).includes(' rate (fraction)'));
    const drawn = graphs.map((w) =>
      (w.properties.annotations as { horizontal: { value: number; label: string }[] }).horizontal.map((a) => [
        a.value,
        a.label,
      ]),
    );
    expect(drawn).toEqual([
      [
        [0.02, 'warning 2 %'],
        [0.05, 'critical 5 %'],
        [0.1, 'AWS may pause sending 10 %'],
      ],
      [
        [0.0005, 'warning 0.05 %'],
        [0.001, 'critical 0.1 %'],
        [0.005, 'AWS may pause sending 0.5 %'],
      ],
    ]);
  });

  // A count drawn as an Average shows 1 whatever was sent; each handled line is its own metric.
  test('counts are drawn as hourly sums, depths as maxima, each handled line its own metric', () => {
    const lines = widgets()
      .flatMap((w) => (w.properties.metrics as unknown[][] | undefined) ?? [])
      .map((l) => l[l.length - 1] as { label: string; stat?: string; period?: number; expression?: string });
    const byLabel = Object.fromEntries(lines.map((o) => [o.label, o]));
    for (const label of [
      'sends of this environment',
      'sends (account)',
      'deliveries',
      'bounces',
      'complaints',
      'handler errors',
      'rotation steps run',
      'rotation step errors',
      'rotations failed',
    ])
      expect([label, byLabel[label]]).toEqual([
        label,
        expect.objectContaining({ stat: 'Sum', period: 3600 }),
      ]);
    for (const label of ['queue', 'dead-letter queue']) expect(byLabel[label].stat).toBe('Maximum');
    expect(byLabel.events.expression).toContain('MetricName="Events"');
    expect(byLabel['recipients suppressed'].expression).toContain('MetricName="RecipientsSuppressed"');
  });
});
