#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { APP_PROPS, buildApp } from '../lib/app';
import { ConfigError } from '../lib/config/load';

// A mistake in the environments file is the user's to fix: print its lines, no stack trace.
try {
  buildApp(new App(APP_PROPS));
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(2);
}
