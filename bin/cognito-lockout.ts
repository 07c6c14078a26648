#!/usr/bin/env node
// The CDK app: `npx cdk deploy -c maxFailedAttempts=3 ...`. Configuration comes from cdk.json context and
// `-c key=value`; see the README's configuration table.
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

buildApp(new App());
