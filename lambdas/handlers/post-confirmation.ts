import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import type { TriggerDeps } from '../engine/deps';
import { passUnrecognized, reportFailure } from '../engine/failure';
import { devicesIdentity } from '../engine/device-bucket';
import { isLocked, isPermanent } from '../engine/policy';
import { StoreBypassedError } from '../engine/store-guard';
import { count, errorFields, flush } from '../engine/telemetry';
import { checkTriggerEvent, signInIdentityOf } from '../engine/trigger-event';

const RESET = 'PostConfirmation_ConfirmForgotPassword';

/**
 * A confirmed password reset (ConfirmForgotPassword, or the managed login's /confirmforgotpassword) lifts the
 * user's sign-in lock and clears the counts and the streak in one conditional write: the person who can read the
 * account's email is its owner, whatever an attacker did to the counter. A permanent lock stays for operators
 * unless `unlockOnPasswordReset` is `all`. Sign-up confirmations pass untouched.
 *
 * It never fails the user's action: a store error, a malformed event or a trigger source it does not know is
 * logged and counted, and the event is returned (the reset stands; a lock then simply runs out).
 *
 * With device tokens on, the same reset voids every device bucket of the user and lifts an operator's lock of them
 * (a second write, on the user's devices item, sent alongside the first); a permanent operator lock stays there as
 * it stays on the anonymous item, unless `unlockOnPasswordReset` is `all`.
 */
export function createPostConfirmationHandler(deps: TriggerDeps) {
  return async (event: PostConfirmationTriggerEvent): Promise<PostConfirmationTriggerEvent> => {
    const { logger, metrics } = deps.telemetry;
    try {
      const source = (event as { triggerSource?: unknown } | null)?.triggerSource;
      if (source !== RESET) {
        if (source !== 'PostConfirmation_ConfirmSignUp') passUnrecognized(deps.telemetry, 'PostConfirmation');
        return event;
      }
      const policy = deps.config.settings.unlockOnPasswordReset;
      if (policy === 'off') return event;
      const checked = checkTriggerEvent(event, 'PostConfirmation', [RESET]);
      const identity = signInIdentityOf(checked, deps.config.names);
      if (identity === undefined) {
        passUnrecognized(deps.telemetry, 'PostConfirmation');
        return event;
      }
      const now = deps.now();
      // Both writes at once: a store that hangs costs one budget, not two.
      const devices =
        deps.config.devices !== undefined && identity.sub !== undefined ? clearDevices(deps, identity.sub, policy === 'all', now) : undefined;
      try {
        const result = await deps.guard.clearAfterPasswordReset(identity.key, policy === 'all', now, deps.config.signIn, { sub: identity.sub });
        const lifted = result.outcome === 'cleared' && isLocked(result.removed, now);
        // The AccountUnlocked event comes from the table's stream (outbox.ts): the reset waits on nothing else.
        if (lifted) count(metrics, 'UnlockedByPasswordReset');
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
      await devices;
    } catch (error) {
      reportFailure(deps.telemetry, error);
    } finally {
      flush(metrics);
    }
    return event;
  };
}

/** Voids the user's device buckets; never throws (a failure is logged and counted: their locks then run out). */
async function clearDevices(deps: TriggerDeps, sub: string, permanentToo: boolean, now: number): Promise<void> {
  const identity = devicesIdentity(sub);
  try {
    const outcome = await deps.guard.clearDevices(identity.key, permanentToo, now, { sub });
    deps.telemetry.logger.info('password reset: device buckets cleared', { identity: identity.logId, outcome });
  } catch (error) {
    count(deps.telemetry.metrics, error instanceof StoreBypassedError ? 'StoreBypassed' : 'StoreErrors');
    deps.telemetry.logger.error('lockout store unavailable: the password reset did not clear the device buckets', {
      identity: identity.logId,
      ...errorFields(error),
    });
  }
}
