import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretReader } from './deps';

/**
 * The Secrets Manager reader of the functions that check or sign device tokens (device-keys.ts). In their Lambda
 * bundles the client is a file of its own beside index.js (secrets-client.js, scripts/build-assets.mjs), required
 * here at the first read: pre-authentication and post-authentication read the key only for an event that carries a
 * token, so a cold start without one neither parses nor initializes the client (pre token generation, which signs at
 * every sign-in, reads at init).
 */
export function secretsManagerReader(): SecretReader {
  let client: SecretsManagerClient | undefined;
  return async (secretId) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require('./secrets-client') as typeof import('./secrets-client');
    // Bounded like the store's client: a black-holed endpoint (a VPC without a Secrets Manager endpoint) fails fast.
    client ??= new sdk.SecretsManagerClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
    });
    const output = await client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }));
    if (output.SecretString === undefined) throw new Error('the device token key secret has no text value');
    return output.SecretString;
  };
}
