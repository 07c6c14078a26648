/**
 * Rotating the device token key (device-keys.ts): a new secret version that lists the new key first, with a
 * `signFrom` later than every instance's next re-read of the secret, and the key that signs now after it. Every
 * instance then verifies with the new key before any token is signed with it, and tokens signed with the previous
 * key stay valid until the next rotation drops it. Rotate no more often than the token lifetime (30 days by default)
 * to keep every issued token valid; a token dropped earlier only counts as anonymous until its device signs in again.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DEVICE_KEY_REFRESH_MS } from '../../lambdas/devices/device-keys';
import { DeviceKeyError, parseDeviceKeySet, signingKey } from '../../lambdas/devices/device-token';
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

/**
 * Where a rotation stands in the audit trail: `intended` is written before the secret changes, then `completed` once
 * Secrets Manager took the new version, or `failed` when it refused or did not answer.
 */
export type RotationStage = 'intended' | 'completed' | 'failed';

/** Writes one audit record of the rotation; a failure to write it throws. */
export type RotationAudit = (stage: RotationStage, details: Readonly<Record<string, unknown>>) => Promise<void>;

/**
 * Reads the secret, records the intended rotation, writes the rotated version, records how that ended; returns when
 * the new key signs. The keys are never printed or recorded.
 *
 * The intent is recorded first so that the trail never misses a change: if that record cannot be written, the secret
 * is not touched. The new version's id (`versionId`, Secrets Manager's idempotency token) is chosen here and recorded
 * with the intent, so a put whose answer was lost (`failed` without an HTTP status) can be checked afterwards: the
 * secret has that version or it does not (`aws secretsmanager describe-secret`).
 */
export async function rotateDeviceKey(
  client: SecretsManagerClient,
  secretId: string,
  now: number,
  audit: RotationAudit,
  versionId: string = randomUUID(),
): Promise<number> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (SecretString === undefined) throw new AdminError('the device key secret has no text value');
  const plan = rotatedKeys(SecretString, now);
  const facts = { signFrom: plan.signFrom, versionId };
  await audit('intended', facts);
  try {
    await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: plan.text, ClientRequestToken: versionId }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
    await audit('failed', {
      ...facts,
      error: (error as Error | undefined)?.name ?? 'Error',
      httpStatus: typeof status === 'number' ? status : null,
    }).catch(() => undefined);
    throw error;
  }
  try {
    await audit('completed', facts);
  } catch (error) {
    throw new AdminError(
      `the device key was rotated (the new key signs from ${new Date(plan.signFrom).toISOString()}), but its completion record could not be ` +
        `written (${(error as Error | undefined)?.name ?? 'Error'}): the audit trail shows the intended rotation, version ${versionId}`,
    );
  }
  return plan.signFrom;
}
