import { BARE_APP, FLOOR_APP, SynthOptions, synthArgs } from '../../scripts/bench';

/** What runs before the app: cdk.json's `build` command, or the one given with `--build`. */
const buildStep = (options: SynthOptions) => {
  const args = synthArgs('/out', options);
  const i = args.indexOf('--build');
  return i === -1 ? "cdk.json's build" : JSON.stringify(args[i + 1]);
};

describe('synth figures', () => {
  // The CDK CLI runs cdk.json's build before any app, `-a` or not: in this checkout that is
  // scripts/build.mjs, about 1 s, which made the yardsticks slower and both ratios look better.
  test("the bare app and the floor run without this repository's build; the example with it", () => {
    expect(buildStep(BARE_APP)).toBe('""');
    expect(buildStep(FLOOR_APP)).toBe('""');
    expect(buildStep({})).toBe("cdk.json's build");
  });

  test('the floor is the bare app with the validation off, and nothing else changed', () => {
    expect(FLOOR_APP).toEqual({ ...BARE_APP, env: { CDK_VALIDATION: 'false' } });
    expect(BARE_APP.env?.CDK_VALIDATION).toBeUndefined();
  });
});
