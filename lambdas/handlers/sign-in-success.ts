import { checkTriggerEvent, isFederated } from '../engine/trigger-event';
import { signInIdentity } from '../engine/identity';
import type { TriggerDeps } from '../engine/deps';
import { TriggerFailureError, reportFailure } from '../engine/failure';
import { StoreBypassedError } from '../engine/store-guard';
import { type TriggerName, count, errorFields, flush } from '../engine/telemetry';

export interface SuccessSignal {
  readonly trigger: Extract<TriggerName, 'PostAuthentication' | 'PreTokenGeneration'>;
  /** Trigger sources that mean a completed sign-in: the identity's failures are forgotten. */
  readonly signIns: readonly string[];
  /** Trigger sources that are not sign-ins (a token refresh): passed untouched. */
  readonly others: readonly string[];
  /** A malformed event: 'pass' returns it (post-authentication never fails a sign-in), 'fail' gives the generic message. */
  readonly malformed: 'pass' | 'fail';
}

/**
 * A completed sign-in forgets the identity's failures and lockout streak, but never lifts an active lock. It never
 * fails the sign-in on a store error (Cognito fails it when the trigger throws): the error is logged, counted and
 * swallowed, and the event is returned.
 */
export function createSuccessHandler<E>(deps: TriggerDeps, signal: SuccessSignal) {
  return async (event: E): Promise<E> => {
    const { logger, metrics } = deps.telemetry;
    try {
      const checked = checkTriggerEvent(event, signal.trigger, [...signal.signIns, ...signal.others]);
      if (!signal.signIns.includes(checked.triggerSource) || isFederated(checked)) return event;
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
      if (signal.malformed === 'fail') throw new TriggerFailureError();
    } finally {
      flush(metrics);
    }
    return event;
  };
}
