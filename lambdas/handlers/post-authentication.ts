import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { withDeadline } from '../engine/deadline';
import { checkTriggerEvent, isFederated } from '../engine/events';
import { signInIdentity } from '../engine/identity';
import { type TriggerDeps, reportInvalidEvent } from '../engine/runtime';
import { count, errorFields, flush } from '../engine/telemetry';

/**
 * A successful sign-in forgets the identity's failures and lockout streak, but never lifts an active lock.
 * This trigger must never fail a sign-in (Cognito fails it when the trigger throws), so every error, from
 * the store or a malformed event, is logged, counted and swallowed, and the event is returned.
 */
export function createPostAuthenticationHandler(deps: TriggerDeps) {
  return async (event: PostAuthenticationTriggerEvent): Promise<PostAuthenticationTriggerEvent> => {
    const { logger, metrics } = deps.telemetry;
    try {
      const checked = checkTriggerEvent(event, 'PostAuthentication', ['PostAuthentication_Authentication']);
      if (isFederated(checked)) return event;
      const identity = signInIdentity(checked.userName);
      const outcome = await withDeadline(deps.config.settings.storeTimeoutMs, (abortSignal) =>
        deps.store.clearUnlessLocked(identity.key, deps.now(), { abortSignal }),
      );
      if (outcome === 'cleared') count(metrics, 'FailuresCleared');
      logger.info(outcome === 'locked' ? 'sign-in succeeded while locked: lock kept' : 'sign-in succeeded', { identity: identity.logId, outcome });
    } catch (error) {
      if (!reportInvalidEvent(deps.telemetry, error)) {
        count(metrics, 'StoreErrors');
        logger.error('lockout store unavailable: failures not cleared', errorFields(error));
      }
    } finally {
      flush(metrics);
    }
    return event;
  };
}
