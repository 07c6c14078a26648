import { type DeviceBucket, devicesIdentity } from './device-bucket';
import type { DeviceKeys } from './device-keys';
import { checkDeviceToken } from './device-token';
import type { IdentityRef } from '../identity/identity';
import { type Telemetry, count } from '../shared/telemetry';

/** The bucket a sign-in counts in when its device token is valid: the user's devices item, and the token's bucket there. */
export interface DeviceChoice {
  readonly identity: IdentityRef;
  readonly device: Omit<DeviceBucket, 'decidedAt'>;
}

/** What the choice reads of a trigger's dependencies (runtime/deps.ts `TriggerDeps` holds it all). */
export interface DeviceChoiceDeps {
  readonly config: { readonly devices?: { readonly claim: string; readonly bucketsPerWindow: number } };
  readonly deviceKeys?: DeviceKeys;
  readonly telemetry: Telemetry;
}

/**
 * Reads the device token a client sent (`metadata[claim]`: pre-authentication's `validationData`, the success
 * signals' `clientMetadata`) and says which bucket it counts in: its own when valid for `identity` (the user Cognito
 * resolved), else undefined, the anonymous bucket. Every sign-in takes this path, known user or unknown name, token
 * or none: without a token nothing more, with one an HMAC per key and no network call (the keys are in memory once
 * an instance's first token has had them read, device-keys.ts). A token sent but not valid is logged with its
 * reason and the hashed identity, and counted.
 */
export async function deviceChoice(deps: DeviceChoiceDeps, identity: IdentityRef, metadata: unknown, now: number): Promise<DeviceChoice | undefined> {
  const devices = deps.config.devices;
  if (devices === undefined || deps.deviceKeys === undefined) return undefined;
  const raw = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>)[devices.claim] : undefined;
  // No token sent: nothing to check, and no reason to wait for the keys (or to read them at all).
  if (raw === undefined) return undefined;
  const check = checkDeviceToken(await deps.deviceKeys.keys(), raw, identity.sub, now);
  if (check.valid) {
    return {
      identity: devicesIdentity(check.claims.sub),
      device: { did: check.claims.did, issuedAt: check.claims.issuedAt, maxOpen: devices.bucketsPerWindow },
    };
  }
  if (check.reason !== 'absent') {
    count(deps.telemetry.metrics, 'DeviceTokensRejected');
    deps.telemetry.logger.warn('device token not valid: counted as anonymous', { identity: identity.logId, reason: check.reason });
  }
  return undefined;
}
