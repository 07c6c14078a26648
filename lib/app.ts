import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readAppConfig } from './app-config';
import { CognitoLockoutStack } from './cognito-lockout-stack';

export interface BuildAppOptions {
  /** Run cdk-nag's AwsSolutions checks at synth. */
  readonly nag?: boolean;
}

/** Adds the stack, configured from the app's context, to `app`. Shared by the CDK app and the local sandbox. */
export function buildApp(app: App, options: BuildAppOptions = {}): CognitoLockoutStack {
  const { stackName, ...config } = readAppConfig(app.node);
  const stack = new CognitoLockoutStack(app, stackName, {
    ...config,
    description: 'Cognito user pool with configurable account lockout (cognito-lockout)',
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  // Findings fail the synth; each acknowledgement in lib/ carries its reason.
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
