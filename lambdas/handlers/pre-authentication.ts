import type { PreAuthenticationTriggerEvent } from 'aws-lambda';
import { InvalidTriggerEventError, checkTriggerEvent, isFederated, signInIdentityOf } from '../identity/trigger-event';
import { type Decision, type KeyCheck, decideKeys } from '../decision/decide';
import { deviceChoice } from '../devices/device-choice';
import { DeviceBucketRefusedError } from '../store/store';
import { count } from '../shared/telemetry';
import type { TriggerDeps } from '../runtime/deps';
import { DecisionUnavailableError, RefusalError, refusingTrigger } from '../runtime/failure';
import { refusalText } from '../decision/refusal-text';

/**
 * Runs before Cognito checks the password: refuse while locked, otherwise count the attempt as presumed
 * failed (post-authentication clears it on success). Unknown users (`userNotFound`, sent when the app client
 * prevents user-existence errors) take exactly the same path, so lockout behaviour never reveals existence.
 *
 * A decision is its one write and nothing else: the lock it may start is announced, and its owner told, by the
 * table's stream consumers afterwards (outbox.ts). Nothing here waits on a side call, so a lock-starting attempt
 * costs the same for a known account and an unknown name.
 *
 * A valid device token (device-token.ts) sent in `validationData` counts in that device's own bucket, so a lock of
 * the anonymous bucket never refuses it; anything else counts in the anonymous bucket. A token an operator revoked
 * is found by the device write itself and counted anonymously in a second write (rare: a stolen device).
 */
export function createPreAuthenticationHandler(deps: TriggerDeps) {
  return (event: PreAuthenticationTriggerEvent): Promise<PreAuthenticationTriggerEvent> =>
    refusingTrigger(deps.telemetry, async () => {
      const checked = checkTriggerEvent(event, 'PreAuthentication', ['PreAuthentication_Authentication']);
      if (isFederated(checked)) {
        deps.telemetry.logger.debug('federated user: not counted');
        return event;
      }
      const identity = signInIdentityOf(checked, deps.config.names);
      // Cognito sends `sub` for every user it resolved. Keying such a user by the typed name instead would split
      // its counter by alias and share it with strangers, so the event is refused as malformed.
      if (identity === undefined)
        throw new InvalidTriggerEventError('Invalid PreAuthentication trigger event: request.userAttributes.sub is missing');
      const context = { userNotFound: checked.request.userNotFound === true };
      const anonymous: KeyCheck = { scope: 'signin', identity, policy: deps.config.signIn };
      const device = await deviceChoice(deps, identity, checked.request.validationData, deps.now());
      const { verdict, results, now, unavailable } =
        device === undefined
          ? await decideKeys(deps, [anonymous], context)
          : await decideDevice(deps, { scope: 'signin', ...device, policy: deps.config.devices!.policy }, anonymous, context);
      // Turned away only because this instance's record is full during an outage: nothing is held against the user,
      // so "try again later" rather than "too many failed attempts" (and no made-up {minutes}).
      if (!verdict.allow && unavailable) throw new DecisionUnavailableError();
      if (!verdict.allow) {
        throw new RefusalError(
          refusalText(deps.config.settings.refusalMessage, results[0]?.lockedUntil, results[0]?.permanent ?? false, now, deps.config.signIn),
        );
      }
      return event;
    });
}

/** Metric per reason a device write sent its attempt to the anonymous bucket. */
const REFUSAL_METRICS = {
  revoked: 'DeviceTokensRevoked',
  superseded: 'DeviceTokensSuperseded',
  'devices-full': 'DeviceBucketsFull',
  'window-full': 'DeviceBucketsFull',
} as const;

/**
 * The device's bucket first; when its write says the token does not count apart (revoked, superseded by a newer
 * token of the device, no place among the user's devices or those counting this window), the anonymous bucket, in
 * what is left of the same store budget: a decision's serial writes never wait longer than one budget in all.
 */
async function decideDevice(deps: TriggerDeps, device: KeyCheck, anonymous: KeyCheck, context: Record<string, unknown>): Promise<Decision> {
  const deadlineAt = deps.guard.decisionDeadline();
  try {
    return await decideKeys(deps, [device], context);
  } catch (error) {
    if (!(error instanceof DeviceBucketRefusedError)) throw error;
    count(deps.telemetry.metrics, REFUSAL_METRICS[error.reason]);
    deps.telemetry.logger.warn('device token does not count apart: counted as anonymous', {
      identity: anonymous.identity.logId,
      reason: error.reason,
    });
    return decideKeys(deps, [anonymous], context, deadlineAt);
  }
}
