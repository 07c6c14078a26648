import type { Context, PostConfirmationTriggerEvent } from 'aws-lambda';
import { runtimeDeps } from '../runtime/deps';
import { triggerEntry } from '../runtime/entry';
import { createPostConfirmationHandler } from '../handlers/post-confirmation';

/** Lifts the sign-in lock after a confirmed password reset (unlockOnPasswordReset); sign-up confirmations pass. */
export function postConfirmationHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: PostConfirmationTriggerEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<PostConfirmationTriggerEvent> {
  return triggerEntry('PostConfirmation', () => createPostConfirmationHandler(runtimeDeps('PostConfirmation', env)), 'pass');
}
