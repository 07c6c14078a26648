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
 * With device tokens on, the same reset then voids every device bucket of the user and lifts an operator's lock of
 * them (a second write, on the user's devices item), unless the first kept a permanent lock.
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
      let keptPermanent = false;
      try {
        const result = await deps.guard.clearAfterPasswordReset(identity.key, policy === 'all', now, deps.config.signIn, { sub: identity.sub });
        keptPermanent = result.outcome === 'permanent';
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
      // A permanent lock kept for operators keeps the account's operator lock on the device buckets too.
      if (deps.config.devices !== undefined && identity.sub !== undefined && !keptPermanent) await clearDevices(deps, identity.sub, now);
    } catch (error) {
      reportFailure(deps.telemetry, error);
    } finally {
      flush(metrics);
    }
    return event;
  };
}

/** Voids the user's device buckets; never throws (a failure is logged and counted: their locks then run out). */
async function clearDevices(deps: TriggerDeps, sub: string, now: number): Promise<void> {
  const identity = devicesIdentity(sub);
  try {
    const outcome = await deps.guard.clearDevices(identity.key, now, { sub });
    deps.telemetry.logger.info('password reset: device buckets cleared', { identity: identity.logId, outcome });
  } catch (error) {
    count(deps.telemetry.metrics, error instanceof StoreBypassedError ? 'StoreBypassed' : 'StoreErrors');
    deps.telemetry.logger.error('lockout store unavailable: the password reset did not clear the device buckets', {
      identity: identity.logId,
      ...errorFields(error),
    });
  }
}
