import { checkTriggerEvent, isFederated, signInIdentityOf } from '../identity/trigger-event';
import { deviceChoice } from '../devices/device-choice';
import type { TriggerDeps } from '../runtime/deps';
import { passUnrecognized, reportFailure } from '../runtime/failure';
import { reportStoreError } from '../store/store-guard';
import { type Accounting, accountingOf } from '../store/accounting';
import { type TriggerName, count, countBy, flush } from '../shared/telemetry';

export interface SuccessSignal {
  readonly trigger: Extract<TriggerName, 'PostAuthentication' | 'PreTokenGeneration'>;
  /** Trigger sources that mean a completed sign-in: the identity's failures are forgotten. */
  readonly signIns: readonly string[];
  /** Trigger sources known not to be sign-ins (a token refresh, machine-to-machine tokens): passed untouched. */
  readonly others: readonly string[];
}

/**
 * A completed sign-in forgets the identity's failures and lockout streak, but never lifts an active lock. It never
 * fails the sign-in or the token issuance (Cognito fails it when the trigger throws): a store error, a malformed
 * event, a trigger source it does not know (a function composed into a consumer's own trigger sees every source,
 * and AWS adds sources) are logged, counted and passed, and the event is returned as it came.
 *
 * A sign-in that sent a valid device token (in `clientMetadata`, which only challenge responses carry: SRP
 * sign-ins from Amplify and identity-js) succeeded in that device's bucket: only that bucket is cleared, so the
 * owner's sign-in leaves the anonymous bucket, where an attacker may be counting, as it is. Without one (a
 * USER_PASSWORD_AUTH sign-in carries no metadata here) the anonymous bucket is cleared, as before device tokens.
 */
export function createSuccessHandler<E>(deps: TriggerDeps, signal: SuccessSignal) {
  return async (event: E): Promise<E> => {
    const { logger, metrics } = deps.telemetry;
    try {
      const source = (event as { triggerSource?: unknown } | null)?.triggerSource;
      if (typeof source !== 'string' || !signal.signIns.includes(source)) {
        if (!signal.others.includes(source as string)) passUnrecognized(deps.telemetry, signal.trigger);
        return event;
      }
      const checked = checkTriggerEvent(event, signal.trigger, signal.signIns);
      if (isFederated(checked)) return event;
      const identity = signInIdentityOf(checked, deps.config.names);
      if (identity === undefined) {
        passUnrecognized(deps.telemetry, signal.trigger);
        return event;
      }
      try {
        const now = deps.now();
        const device = await deviceChoice(deps, identity, checked.request.clientMetadata, now);
        const deadlineAt = deps.guard.decisionDeadline();
        let cleared =
          device === undefined
            ? await deps.guard.clear(identity.key, now, deps.config.signIn)
            : await deps.guard.clearDevice(device.identity.key, device.device.did, now, deps.config.devices!.policy);
        // A valid token whose bucket holds no count and no attempt from this authentication session: its attempt
        // was counted in the anonymous bucket (the device found no place this window, or its token was superseded
        // or revoked). Clear that one, unless locked, as a sign-in without a token would, in what is left of the
        // same budget. A bucket with an attempt from the session was counted and cleared already (both success
        // triggers clear, and either may run first): clearing the anonymous bucket then would wipe an attacker's
        // failures. When the device also counted an earlier sign-in in the session, the owner's one anonymous
        // failure is left standing: the error that keeps more counted, never fewer.
        if (device !== undefined && cleared.outcome === 'absent' && accountingOf(cleared.attemptAt, now) === 'uncounted')
          cleared = await deps.guard.clear(identity.key, now, deps.config.signIn, deadlineAt);
        if (cleared.outcome === 'cleared') count(metrics, 'FailuresCleared');
        // Post-authentication runs once per sign-in (pre token generation also at refreshes and for other tokens):
        // it accounts for the sign-in. Federated users were returned above: no password, nothing to count.
        const accounting = signal.trigger === 'PostAuthentication' ? accountingOf(cleared.attemptAt, now) : undefined;
        logger.info(cleared.outcome === 'locked' ? 'sign-in succeeded while locked: lock kept' : 'sign-in succeeded', {
          identity: identity.logId,
          outcome: cleared.outcome,
          bucket: device === undefined ? 'anonymous' : 'device',
          ...(accounting === undefined ? {} : { accounting }),
        });
        if (accounting === 'uncounted') {
          const given = (event as { callerContext?: { clientId?: unknown } }).callerContext?.clientId;
          await reportUncounted(deps, {
            key: identity.key,
            logId: identity.logId,
            sub: identity.sub,
            clientId: typeof given === 'string' && given !== '' ? given : undefined,
            triggerSource: source,
            now,
            deadlineAt,
          });
        }
      } catch (error) {
        reportStoreError(deps.telemetry, error, 'lockout store unavailable: failures not cleared', {
          identity: identity.logId,
          // Without the store's answer nothing is known of the attempt: never reported as uncounted.
          ...(signal.trigger === 'PostAuthentication' ? { accounting: 'unknown' satisfies Accounting } : {}),
        });
      }
    } catch (error) {
      reportFailure(deps.telemetry, error);
    } finally {
      flush(metrics);
    }
    return event;
  };
}

/**
 * An uncounted sign-in: counted (with the trigger source and the app client as dimensions, `countBy`), logged
 * without personal data, and marked on the identity's item for the stream's announcer, which publishes a
 * `SignInUncounted` event (outbox.ts). The mark is the one extra request, made only for such a sign-in; its failure
 * is logged and counted, and never fails the sign-in.
 */
async function reportUncounted(
  deps: TriggerDeps,
  signIn: {
    readonly key: string;
    readonly logId: string;
    readonly sub: string | undefined;
    readonly clientId: string | undefined;
    readonly triggerSource: string;
    readonly now: number;
    readonly deadlineAt: number;
  },
): Promise<void> {
  const { logger, metrics } = deps.telemetry;
  const { key, logId, sub, clientId, triggerSource, now, deadlineAt } = signIn;
  count(metrics, 'UncountedSignIns');
  countBy(metrics, 'UncountedSignIns', { triggerSource, clientId });
  logger.warn('sign-in not counted by pre-authentication: its flow bypasses the lockout', { identity: logId, triggerSource, clientId });
  try {
    await deps.guard.markUncounted(key, now, { sub, clientId }, deadlineAt);
  } catch (error) {
    reportStoreError(deps.telemetry, error, 'could not mark an uncounted sign-in for its event', { identity: logId });
  }
}
