import type { PostAuthenticationTriggerEvent } from 'aws-lambda';
import { checkTriggerEvent, isFederated } from '../engine/trigger-event';
import { signInIdentity } from '../engine/identity';
import type { TriggerDeps } from '../engine/deps';
import { reportFailure } from '../engine/failure';
import { StoreBypassedError } from '../engine/store-guard';
import { count, errorFields, flush } from '../engine/telemetry';

/**
 * A successful sign-in forgets the identity's failures and lockout streak, but never lifts an active lock.
 * This trigger must never fail a sign-in (Cognito fails it when the trigger throws), so every error, from
 * the store, a malformed event or a bug, is logged, counted and swallowed, and the event is returned.
 */
export function createPostAuthenticationHandler(deps: TriggerDeps) {
  return async (event: PostAuthenticationTriggerEvent): Promise<PostAuthenticationTriggerEvent> => {
    const { logger, metrics } = deps.telemetry;
    try {
      const checked = checkTriggerEvent(event, 'PostAuthentication', ['PostAuthentication_Authentication']);
      if (isFederated(checked)) return event;
      const identity = signInIdentity(checked.userName);
      try {
        const outcome = await deps.guard.clear(identity.key, deps.now());
        if (outcome === 'cleared') count(metrics, 'FailuresCleared');
        logger.info(outcome === 'locked' ? 'sign-in succeeded while locked: lock kept' : 'sign-in succeeded', { identity: identity.logId, outcome });
      } catch (error) {
        count(metrics, error instanceof StoreBypassedError ? 'StoreBypassed' : 'StoreErrors');
        logger.error('lockout store unavailable: failures not cleared', { identity: identity.logId, ...errorFields(error) });
      }
    } catch (error) {
      reportFailure(deps.telemetry, error);
    } finally {
      flush(metrics);
    }
    return event;
  };
}
