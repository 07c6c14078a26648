// `cognito-lockout`: the CDK construct library. Everything here is synth-time code: it loads aws-cdk-lib and
// constructs only, never the AWS SDK or Powertools (the trigger bundles carry those).
export { CognitoLockout, type CognitoLockoutProps, type LogLevel, type NotifyUserProps, type OwnTriggerFunctions } from './cognito-lockout';
export { CognitoLockoutStack, type CognitoLockoutStackProps } from './cognito-lockout-stack';
export type { LockoutPolicyProps } from './lockout-props';
export { POOL_RISKS, type PoolRisk } from './pool-checks';
export { LockoutMonitoring, type LockoutMonitoringProps } from './lockout-monitoring';
export type { DeviceTokens, LockoutMode, LockoutSettings, StoreErrorPolicy } from '../lambdas/engine/settings';
export { DEFAULT_SETTINGS } from '../lambdas/engine/settings';
export type { RateLimitPolicy } from '../lambdas/engine/policy';
export { EVENT_SOURCE, METRICS_NAMESPACE, type MetricName, type TriggerName } from '../lambdas/engine/contract';
export type { LockoutEventDetail, LockoutEventType } from '../lambdas/engine/lockout-events';
