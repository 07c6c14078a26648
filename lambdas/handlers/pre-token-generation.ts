import type { PreTokenGenerationTriggerEvent } from 'aws-lambda';
import type { TriggerDeps } from '../runtime/deps';
import { devicesIdentity } from '../devices/device-bucket';
import { issueDeviceToken } from '../devices/device-token';
import { TRIGGER_TIMEOUT_MS, TRIGGER_WORK_ROOM_MS } from '../shared/contract';
import { deviceChoice } from '../devices/device-choice';
import { reportFailure } from '../runtime/failure';
import { userIdentity } from '../identity/identity';
import { reportStoreError } from '../store/store-guard';
import { count, flush } from '../shared/telemetry';
import { InvalidTriggerEventError, attributeText, checkTriggerEvent, isFederated } from '../identity/trigger-event';
import { createSuccessHandler } from './sign-in-success';

/**
 * Sources that mean a sign-in, from AWS's table of trigger sources: `TokenGeneration_HostedAuth` for sign-ins on
 * the managed login pages, `TokenGeneration_Authentication` "after user authentication flows have completed" (so
 * after MFA), `TokenGeneration_NewPasswordChallenge` and `TokenGeneration_AuthenticateDevice`.
 * `TokenGeneration_RefreshTokens` is a token refresh and `TokenGeneration_ClientCredentials` (V3) a machine-to-machine
 * token, not sign-ins: they pass untouched, like any source this version does not know.
 */
const SIGN_INS = [
  'TokenGeneration_HostedAuth',
  'TokenGeneration_Authentication',
  'TokenGeneration_NewPasswordChallenge',
  'TokenGeneration_AuthenticateDevice',
];

/** What pre token generation reads of Lambda's context: the time left before the function's timeout. */
export interface InvocationContext {
  getRemainingTimeInMillis?: () => number;
}

/**
 * Pre token generation does two things at a sign-in. As a success signal (unless `successSignal` is
 * 'post-authentication') it clears failures like post-authentication. With device tokens on it adds one claim to
 * the ID token: a fresh device token for the user's `sub` (OWASP: a new device cookie at each success). When the
 * sign-in came with a valid token (challenge responses carry `clientMetadata`: SRP sign-ins from Amplify and
 * identity-js), the new token keeps its device id, so the device stays one bucket and its older tokens, once the
 * new one is used, no longer count apart (store.ts). It never fails a token issuance: a missing key or any error is
 * logged and counted, and the token is simply not issued. No other claim is changed.
 *
 * Its budget: the key's first wait and the success clear (contract.ts `SERIAL_STORE_BUDGETS`). Tidying the devices
 * item is optional: it runs only while the store is healthy and a whole store budget still fits before the
 * function's timeout, less the room kept for the function's own work.
 */
export function createPreTokenGenerationHandler(
  deps: TriggerDeps,
): (event: PreTokenGenerationTriggerEvent, context?: InvocationContext) => Promise<PreTokenGenerationTriggerEvent> {
  const signal =
    deps.config.settings.successSignal === 'post-authentication'
      ? undefined
      : createSuccessHandler<PreTokenGenerationTriggerEvent>(deps, {
          trigger: 'PreTokenGeneration',
          signIns: SIGN_INS,
          others: ['TokenGeneration_RefreshTokens', 'TokenGeneration_ClientCredentials'],
        });
  return async (event, context) => {
    const remaining = remainingTime(context);
    if (signal !== undefined) await signal(event);
    // A malformed event is reported once: by the success signal when there is one.
    if (deps.config.devices !== undefined) await issue(deps, event, signal === undefined, remaining);
    return event;
  };
}

/** The time left before the function's timeout: Lambda's own count, or the construct's timeout from the call's start. */
function remainingTime(context: InvocationContext | undefined): () => number {
  if (typeof context?.getRemainingTimeInMillis === 'function') return () => context.getRemainingTimeInMillis!();
  const deadline = Date.now() + TRIGGER_TIMEOUT_MS;
  return () => deadline - Date.now();
}

async function issue(deps: TriggerDeps, event: PreTokenGenerationTriggerEvent, reportInvalid: boolean, remaining: () => number): Promise<void> {
  const { logger, metrics } = deps.telemetry;
  const devices = deps.config.devices!;
  try {
    if (!SIGN_INS.includes((event as { triggerSource?: unknown } | null)?.triggerSource as string)) return;
    const checked = checkTriggerEvent(event, 'PreTokenGeneration', SIGN_INS);
    const sub = attributeText(checked, 'sub');
    // A federated user signs in at its provider, with no password here to guess.
    if (sub === undefined || isFederated(checked)) return;
    const keys = await deps.deviceKeys?.keys();
    const now = deps.now();
    const came = keys === undefined ? undefined : await deviceChoice(deps, userIdentity(sub), checked.request.clientMetadata, now);
    const token = keys === undefined ? undefined : issueDeviceToken(keys, sub, now, devices.lifetimeMs, came?.device.did);
    if (token === undefined) {
      count(metrics, 'DeviceKeyErrors');
      logger.error('device token not issued: no key to sign with');
      return;
    }
    addIdTokenClaim(event, devices.claim, token);
    count(metrics, 'DeviceTokensIssued');
    await tidy(deps, sub, remaining, came?.device.did);
  } catch (error) {
    if (reportInvalid || !(error instanceof InvalidTriggerEventError)) reportFailure(deps.telemetry, error);
  } finally {
    flush(metrics);
  }
}

/**
 * The owner's sign-in, never a stranger's attempt, makes room among the user's devices (store.ts `pruneDevices`):
 * only while the store is healthy and a whole budget fits in the time left, so it can never hold up the sign-in.
 */
async function tidy(deps: TriggerDeps, sub: string, remaining: () => number, spare: string | undefined): Promise<void> {
  const { logger, metrics } = deps.telemetry;
  const item = devicesIdentity(sub);
  if (!deps.guard.healthy() || remaining() - TRIGGER_WORK_ROOM_MS < deps.guard.budgetMs) {
    count(metrics, 'DeviceTidySkipped');
    logger.info('devices item not tidied: no time left, or the store is failing', { identity: item.logId });
    return;
  }
  try {
    // The device this sign-in came with is in use: never the one to go.
    const pruned = await deps.guard.pruneDevices(item.key, deps.now(), deps.config.devices!.policy, spare);
    if (pruned > 0) logger.info('devices no longer in use removed', { identity: item.logId, pruned });
  } catch (error) {
    reportStoreError(deps.telemetry, error, 'lockout store unavailable: devices item not tidied', { identity: item.logId });
  }
}

/**
 * Adds the claim without touching what is already there (a function composed into the consumer's own trigger may
 * have set other claims): V1 events in `claimsOverrideDetails`, V2 and V3 in `claimsAndScopeOverrideDetails.idTokenGeneration`.
 */
function addIdTokenClaim(event: PreTokenGenerationTriggerEvent, claim: string, value: string): void {
  const response = ((event as { response?: Record<string, unknown> }).response ??= {}) as Record<string, Record<string, unknown> | undefined>;
  const version = Number((event as { version?: unknown }).version);
  if (version >= 2) {
    const details = (response.claimsAndScopeOverrideDetails ??= {});
    const id = (details.idTokenGeneration ??= {}) as Record<string, Record<string, unknown> | undefined>;
    id.claimsToAddOrOverride = { ...id.claimsToAddOrOverride, [claim]: value };
  } else {
    const details = (response.claimsOverrideDetails ??= {});
    details.claimsToAddOrOverride = { ...(details.claimsToAddOrOverride as object | undefined), [claim]: value };
  }
}
