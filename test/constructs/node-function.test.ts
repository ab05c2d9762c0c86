import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileSystem, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  bundleDir,
  LAMBDA_BUNDLES_DIR,
  NodeFunction,
  PACKAGE_ROOT,
} from '../../lib/constructs/node-function';
import { testApp } from '../helpers';

describe('NodeFunction', () => {
  test('uses the prebuilt bundle as its asset: ARM64, Node.js 24, index.handler, source maps on', () => {
    const stack = new Stack(testApp(), 'S', { env: { region: 'eu-west-1' } });
    new NodeFunction(stack, 'Fn', { handlerDir: 'ses-feedback', description: 'd' });
    const template = Template.fromStack(stack);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fn.Properties).toMatchObject({
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
    });
    // The asset is the bundle folder itself (its fingerprint is the S3 key): nothing is bundled at synth.
    expect(fn.Properties.Code.S3Key).toBe(`${FileSystem.fingerprint(bundleDir('ses-feedback'))}.zip`);
    expect(fs.readdirSync(bundleDir('ses-feedback')).sort()).toEqual(['index.js', 'index.js.map']);
  });

  test('every lambda/<name>/index.ts except shared has a bundle (found by the build, not listed)', () => {
    const functions = fs
      .readdirSync(path.join(PACKAGE_ROOT, 'lambda'))
      .filter(
        (name) => name !== 'shared' && fs.existsSync(path.join(PACKAGE_ROOT, 'lambda', name, 'index.ts')),
      );
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const name of functions) {
      expect(fs.statSync(path.join(LAMBDA_BUNDLES_DIR, name, 'index.js')).size).toBeGreaterThan(1000);
    }
    expect(fs.existsSync(path.join(LAMBDA_BUNDLES_DIR, 'shared'))).toBe(false);
  });

  test('a missing bundle says how to build it', () => {
    expect(() => bundleDir('no-such-function')).toThrow(
      /Lambda bundle .*no-such-function.index\.js is missing: run npm run build/,
    );
  });
});
