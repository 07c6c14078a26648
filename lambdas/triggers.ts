/**
 * `cognito-lockout/triggers`: the lockout's trigger logic for Lambda functions you own, for a user pool that
 * already has a pre-authentication, post-authentication or pre-signup trigger. Call it first in your handler:
 *
 *   import { preAuthenticationHandler } from 'cognito-lockout/triggers';
 *   const lockout = preAuthenticationHandler(); // reads LOCKOUT_* variables once, at cold start
 *   export const handler = async (event, context) => {
 *     await lockout(event, context); // throws the refusal (or the generic message); returns the event otherwise
 *     // ... your own checks ...
 *     return event;
 *   };
 *
 * The construct's `ownFunctions` option gives your function the table, the IAM grants and the environment these
 * read. Each factory behaves exactly like the function the construct deploys: configuration errors are logged
 * and answered with the generic message (post-authentication never fails a sign-in).
 */
export type {
  PostAuthenticationTriggerEvent,
  PostConfirmationTriggerEvent,
  PreAuthenticationTriggerEvent,
  PreSignUpTriggerEvent,
  PreTokenGenerationTriggerEvent,
} from 'aws-lambda';
export { GENERIC_FAILURE_MESSAGE } from './shared/messages';
// One module per factory: each Lambda entry imports only its own, so only pre-authentication and
// post-confirmation bundles carry the EventBridge client.
export { postAuthenticationHandler } from './factories/post-authentication';
export { postConfirmationHandler } from './factories/post-confirmation';
export { preAuthenticationHandler } from './factories/pre-authentication';
export { preSignUpHandler } from './factories/pre-signup';
export { preTokenGenerationHandler } from './factories/pre-token-generation';
// The runtime side's names and shapes, for TypeScript code that reads the lockout's settings, metrics and events
// (the construct library's main entry exports only what jsii can carry to every language).
export { DEFAULT_SETTINGS } from './policy/settings';
export type { DeviceTokens, LockoutMode, LockoutSettings, StoreErrorPolicy, SuccessSignal, UnlockOnPasswordReset } from './policy/settings';
export type { RateLimitPolicy } from './policy/policy';
export { EVENT_SOURCE, METRICS_NAMESPACE, type MetricName, type TriggerName } from './shared/contract';
export type { LockoutEventDetail, LockoutEventType } from './outbox/lockout-events';
