#!/usr/bin/env node
// The CDK app: `npx cdk deploy -c maxFailedAttempts=3 ...`. Configuration comes from cdk.json context and
// `-c key=value`; see the README's configuration table.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readAppConfig } from '../lib/app-config';
import { CognitoLockoutStack } from '../lib/cognito-lockout-stack';

const app = new App();
const { stackName, ...config } = readAppConfig(app.node);
new CognitoLockoutStack(app, stackName, {
  ...config,
  description: 'Cognito user pool with configurable account lockout (cognito-lockout)',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// Findings are reported at synth; each acknowledgement in lib/ carries its reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
