#!/usr/bin/env node
// The CDK app: `npx cdk deploy -c maxFailedAttempts=3 ...`. Configuration comes from cdk.json context and
// `-c key=value`; see docs/configuration.md.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

// In a clone, deploy what the source says now: build the Lambda bundles from lambdas/ before the construct picks
// them up, so `git clone && npm ci && npx cdk deploy` works and an edit is never deployed stale. (An installed
// package has no builder and always uses the bundles it was published with.)
const builder = path.join(__dirname, '..', 'scripts', 'build-assets.mjs');
if (existsSync(builder)) execFileSync(process.execPath, [builder, '--lambdas'], { stdio: ['ignore', 'ignore', 'inherit'] });

buildApp(new App());
