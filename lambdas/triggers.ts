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
import type { Context, PostAuthenticationTriggerEvent, PreAuthenticationTriggerEvent, PreSignUpTriggerEvent } from 'aws-lambda';
import { triggerEntry } from './engine/entry';
import { eventPublisherFromEnv } from './engine/lockout-event-publisher';
import { runtimeDeps } from './engine/deps';
import { createPostAuthenticationHandler } from './handlers/post-authentication';
import { createPreAuthenticationHandler } from './handlers/pre-authentication';
import { createPreSignUpHandler } from './handlers/pre-signup';

export type { PostAuthenticationTriggerEvent, PreAuthenticationTriggerEvent, PreSignUpTriggerEvent } from 'aws-lambda';
export { GENERIC_FAILURE_MESSAGE } from './engine/messages';

type Remaining = Pick<Context, 'getRemainingTimeInMillis'>;

/** Counts the attempt and throws the configured refusal when the identity is locked. */
export function preAuthenticationHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: PreAuthenticationTriggerEvent, context?: Remaining) => Promise<PreAuthenticationTriggerEvent> {
  return triggerEntry(
    'PreAuthentication',
    () => createPreAuthenticationHandler({ ...runtimeDeps('PreAuthentication', env), events: eventPublisherFromEnv(env) }),
    'fail',
  );
}

/** Clears the identity's failures after a successful sign-in. Never throws. */
export function postAuthenticationHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: PostAuthenticationTriggerEvent) => Promise<PostAuthenticationTriggerEvent> {
  return triggerEntry('PostAuthentication', () => createPostAuthenticationHandler(runtimeDeps('PostAuthentication', env)), 'pass');
}

/** Counts a self-service sign-up and throws the configured refusal when over a limit. */
export function preSignUpHandler(env: NodeJS.ProcessEnv = process.env): (event: PreSignUpTriggerEvent) => Promise<PreSignUpTriggerEvent> {
  return triggerEntry('PreSignUp', () => createPreSignUpHandler(runtimeDeps('PreSignUp', env)), 'fail');
}
