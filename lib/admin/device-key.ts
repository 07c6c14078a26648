/**
 * Rotating the device token key (device-keys.ts): a new secret version that lists the new key first, with a
 * `signFrom` later than every instance's next re-read of the secret, and the key that signs now after it. Every
 * instance then verifies with the new key before any token is signed with it, and tokens signed with the previous
 * key stay valid until the next rotation drops it. Rotate no more often than the token lifetime (30 days by default)
 * to keep every issued token valid; a token dropped earlier only counts as anonymous until its device signs in again.
 */
import { randomBytes } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DEVICE_KEY_REFRESH_MS } from '../../lambdas/engine/device-keys';
import { DeviceKeyError, parseDeviceKeySet, signingKey } from '../../lambdas/engine/device-token';
import { AdminError } from './errors';

/** How long after a rotation the new key starts signing: two refresh periods, so a re-read that fails once is retried in time. */
export const ROTATION_LEAD_MS = 2 * DEVICE_KEY_REFRESH_MS;

export interface RotationPlan {
  /** The new secret text. */
  readonly text: string;
  /** When the new key starts signing (epoch ms). */
  readonly signFrom: number;
}

/**
 * The secret text after a rotation at `now`, from the text before it. Refused while a previous rotation's key has
 * not started signing: rotating again then would drop the key every token is signed with.
 */
export function rotatedKeys(current: string, now: number, newKey: string = randomBytes(48).toString('base64url')): RotationPlan {
  let set;
  try {
    set = parseDeviceKeySet(current);
  } catch (error) {
    throw new AdminError(`the device key secret cannot be read as keys (${(error as DeviceKeyError).message}): fix it before rotating`);
  }
  const signing = signingKey(set, now);
  if (signing === undefined || set.keys[0] !== signing) {
    throw new AdminError(`a rotation is under way: its key signs from ${new Date(set.keys[0].signFrom).toISOString()}; rotate after that`);
  }
  const signFrom = now + ROTATION_LEAD_MS;
  const text = JSON.stringify({
    keys: [
      { key: newKey, signFrom },
      { key: signing.secret.toString('utf8'), signFrom: signing.signFrom },
    ],
  });
  return { text, signFrom };
}

/** Reads the secret, writes the rotated version; returns when the new key signs. The keys are never printed. */
export async function rotateDeviceKey(client: SecretsManagerClient, secretId: string, now: number): Promise<number> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (SecretString === undefined) throw new AdminError('the device key secret has no text value');
  const plan = rotatedKeys(SecretString, now);
  await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: plan.text }));
  return plan.signFrom;
}
