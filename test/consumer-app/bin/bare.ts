#!/usr/bin/env node
// The baseline for synth time: an App with one empty Stack, same packages, same CLI.
import { App, Stack } from 'aws-cdk-lib';

const app = new App();
new Stack(app, 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
