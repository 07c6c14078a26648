import type { Context, PreAuthenticationTriggerEvent } from 'aws-lambda';
import { runtimeDeps } from '../engine/deps';
import { triggerEntry } from '../engine/entry';
import { eventPublisherFromEnv } from '../engine/lockout-event-publisher';
import { noticeRequesterFromEnv } from '../engine/notice-requester';
import { createPreAuthenticationHandler } from '../handlers/pre-authentication';

/** Counts the attempt and throws the configured refusal when the identity is locked. */
export function preAuthenticationHandler(
  env: NodeJS.ProcessEnv = process.env,
): (event: PreAuthenticationTriggerEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<PreAuthenticationTriggerEvent> {
  return triggerEntry(
    'PreAuthentication',
    () =>
      createPreAuthenticationHandler({
        ...runtimeDeps('PreAuthentication', env),
        events: eventPublisherFromEnv(env),
        notices: noticeRequesterFromEnv(env),
      }),
    'fail',
  );
}
