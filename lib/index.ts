// `cognito-lockout`: the CDK construct library, compiled by jsii for TypeScript, JavaScript, Python, Java and Go.
// Everything here is synth-time code: it loads aws-cdk-lib and constructs only, never the AWS SDK or Powertools
// (the trigger bundles carry those). Only what every language can express is exported: enums for closed sets of
// values, structs, classes with static constants. The types of the functions' runtime side (settings, metric and
// event names, event details) are TypeScript-only and live in `cognito-lockout/triggers`.
export { CognitoLockout, type CognitoLockoutProps, LogLevel, type NotifyUserProps, type OwnTriggerFunctions } from './cognito-lockout';
export { CognitoLockoutStack, type CognitoLockoutStackProps } from './cognito-lockout-stack';
export { type LockoutPolicyProps, LockoutMode, StoreErrorPolicy, SuccessSignal, UnlockOnPasswordReset } from './lockout-props';
export { PoolRisk } from './pool-checks';
export {
  LockoutMonitoring,
  type LockoutMonitoringConstructProps,
  type LockoutMonitoringProps,
  type MonitoredOutbox,
  type MonitoredTriggers,
} from './lockout-monitoring';
