import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import type { TriggerDeps } from '../runtime/deps';
import { createSuccessHandler } from './sign-in-success';

/** Post-authentication as a success signal: every error, a malformed event's too, is logged and swallowed. */
export function createPostAuthenticationHandler(
  deps: TriggerDeps,
): (event: PostAuthenticationTriggerEvent) => Promise<PostAuthenticationTriggerEvent> {
  return createSuccessHandler<PostAuthenticationTriggerEvent>(deps, {
    trigger: 'PostAuthentication',
    signIns: ['PostAuthentication_Authentication'],
    others: [],
  });
}
