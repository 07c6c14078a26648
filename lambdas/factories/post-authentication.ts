import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { runtimeDeps } from '../runtime/deps';
import { secretsManagerReader } from '../runtime/secret-reader';
import { triggerEntry } from '../runtime/entry';
import { createPostAuthenticationHandler } from '../handlers/post-authentication';

/** Clears the identity's failures after a successful sign-in. Never throws. */
export function postAuthenticationHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: PostAuthenticationTriggerEvent) => Promise<PostAuthenticationTriggerEvent> {
  return triggerEntry(
    'PostAuthentication',
    () => createPostAuthenticationHandler(runtimeDeps('PostAuthentication', env, secretsManagerReader())),
    'pass',
  );
}
