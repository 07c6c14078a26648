import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import { announce, eventBudget } from '../engine/announce';
import type { TriggerDeps } from '../engine/deps';
import { TriggerFailureError, reportFailure } from '../engine/failure';
import { signInIdentity } from '../engine/identity';
import { isLocked, isPermanent } from '../engine/policy';
import { StoreBypassedError } from '../engine/store-guard';
import { count, errorFields, flush } from '../engine/telemetry';
import { checkTriggerEvent } from '../engine/trigger-event';

const SOURCES = ['PostConfirmation_ConfirmSignUp', 'PostConfirmation_ConfirmForgotPassword'] as const;

/**
 * A confirmed password reset (ConfirmForgotPassword, or the managed login's /confirmforgotpassword) lifts the
 * user's sign-in lock and clears the counts and the streak in one conditional write: the person who can read the
 * account's email is its owner, whatever an attacker did to the counter. A permanent lock stays for operators
 * unless `unlockOnPasswordReset` is `all`. Sign-up confirmations pass untouched.
 *
 * Like post-authentication it never fails the user's action on a store error (logged and counted, and the reset
 * stands); only a malformed event, which Cognito does not send, gets the generic message.
 */
export function createPostConfirmationHandler(deps: TriggerDeps) {
  return async (event: PostConfirmationTriggerEvent, context?: { getRemainingTimeInMillis?(): number }): Promise<PostConfirmationTriggerEvent> => {
    const { logger, metrics } = deps.telemetry;
    try {
      const checked = checkTriggerEvent(event, 'PostConfirmation', SOURCES);
      const policy = deps.config.settings.unlockOnPasswordReset;
      if (checked.triggerSource !== 'PostConfirmation_ConfirmForgotPassword' || policy === 'off') return event;
      const identity = signInIdentity(checked.userName);
      const now = deps.now();
      try {
        const result = await deps.guard.clearAfterPasswordReset(identity.key, policy === 'all');
        const lifted = result.outcome === 'cleared' && isLocked(result.removed, now);
        if (lifted) {
          count(metrics, 'UnlockedByPasswordReset');
          await announce(deps, 'AccountUnlocked', identity.logId, eventBudget(context?.getRemainingTimeInMillis?.()), {
            userPoolId: checked.userPoolId ?? null,
            lockedUntil: null,
            reason: 'password-reset',
          });
        }
        const message = lifted
          ? `password reset: ${isPermanent(result.removed) ? 'permanent' : 'temporary'} lock lifted`
          : result.outcome === 'permanent'
            ? 'password reset: permanent lock kept for an operator'
            : 'password reset: counts cleared';
        logger.info(message, { identity: identity.logId, outcome: result.outcome });
      } catch (error) {
        count(metrics, error instanceof StoreBypassedError ? 'StoreBypassed' : 'StoreErrors');
        logger.error('lockout store unavailable: the password reset did not lift the lock', { identity: identity.logId, ...errorFields(error) });
      }
    } catch (error) {
      reportFailure(deps.telemetry, error);
      throw new TriggerFailureError();
    } finally {
      flush(metrics);
    }
    return event;
  };
}
