import type { PostConfirmationTriggerEvent } from 'aws-lambda';
import type { TriggerDeps } from '../runtime/deps';
import { DecisionUnavailableError, passUnrecognized, reportFailure } from '../runtime/failure';
import { devicesIdentity } from '../devices/device-bucket';
import { isLocked, isPermanent } from '../policy/policy';
import { reportStoreError } from '../store/store-guard';
import { count, flush } from '../shared/telemetry';
import { checkTriggerEvent, signInIdentityOf } from '../identity/trigger-event';

const RESET = 'PostConfirmation_ConfirmForgotPassword';

/**
 * A confirmed password reset (ConfirmForgotPassword, or the managed login's /confirmforgotpassword) lifts the
 * user's sign-in lock and clears the counts and the streak in one conditional write: the person who can read the
 * account's email is its owner, whatever an attacker did to the counter. A permanent lock stays for operators
 * unless `unlockOnPasswordReset` is `all`. Sign-up confirmations pass untouched.
 *
 * With device tokens on, the same reset voids every device bucket of the user, lifts an operator's lock of them and
 * revokes every token issued before it (a second write, on the user's devices item, sent alongside the first, so a
 * store that hangs costs one budget, not two); a permanent operator lock stays there as it stays on the anonymous
 * item, unless `unlockOnPasswordReset` is `all`.
 *
 * What may fail and what may not:
 * - The lift of the lock may: a store error, a malformed event or a trigger source it does not know is logged and
 *   counted, and the event is returned (the reset stands; a lock then simply runs out).
 * - The revocation may not be lost: whoever held a token (a stolen laptop, a leaked ID token) would keep counting
 *   apart from the anonymous bucket after the owner changed the password. Its write is retried within the one
 *   budget (store-guard.ts); if it still has not landed, the trigger fails, so the user is told, with the generic
 *   message, to try again, and the repeated reset writes it. Cognito's handling of a failed PostConfirmation is
 *   UNVERIFIED (whether the new password stands): either way is safe here. If the password did not change, the old
 *   tokens and the old password stand together, as before the attempt. If it did, the user, told the reset failed,
 *   repeats it; one who instead signs in with the new password leaves the old tokens valid until they expire or an
 *   operator revokes them, which `DeviceRevocationsFailed` (and the function's error alarm) makes visible.
 */
export function createPostConfirmationHandler(deps: TriggerDeps) {
  return async (event: PostConfirmationTriggerEvent): Promise<PostConfirmationTriggerEvent> => {
    const { logger, metrics } = deps.telemetry;
    let revocationLost = false;
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
        deps.config.devices !== undefined && identity.sub !== undefined
          ? revokeDevices(deps, identity.sub, identity.logId, policy === 'all', now)
          : Promise.resolve(true);
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
        reportStoreError(deps.telemetry, error, 'lockout store unavailable: the password reset did not lift the lock', { identity: identity.logId });
      }
      revocationLost = !(await devices);
    } catch (error) {
      reportFailure(deps.telemetry, error);
    } finally {
      flush(metrics);
    }
    // Already logged and counted: Cognito's caller gets the generic message, and the user repeats the reset.
    if (revocationLost) throw new DecisionUnavailableError();
    return event;
  };
}

/**
 * Voids the user's device buckets and revokes the tokens issued before now. True when that is written (under a
 * permanent operator lock, which stays, the revocation alone: store.ts `clearDevices`); false, logged and counted,
 * when the store did not take it within the budget. Never throws.
 */
async function revokeDevices(deps: TriggerDeps, sub: string, userLogId: string, permanentToo: boolean, now: number): Promise<boolean> {
  const identity = devicesIdentity(sub);
  const { logger, metrics } = deps.telemetry;
  try {
    const outcome = await deps.guard.clearDevices(identity.key, permanentToo, now, { sub });
    logger.info('password reset: device buckets cleared, earlier tokens revoked', { identity: identity.logId, outcome });
    return true;
  } catch (error) {
    // Never bypassed (store-guard.ts `clearDevices` retries within its budget): counted as a store error. The user's
    // identity as `status` shows it, so that an operator can find whom to `revoke-devices`.
    reportStoreError(
      deps.telemetry,
      error,
      'lockout store unavailable: the password reset is failed, so that the user repeats it and the revocation of device tokens is not lost',
      { identity: userLogId, devices: identity.logId },
    );
    count(metrics, 'DeviceRevocationsFailed');
    return false;
  }
}
