import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretReader } from './deps';

/**
 * The Secrets Manager reader of the functions that check or sign device tokens (device-keys.ts). Its own module so
 * that only their bundles carry the client. The client is made at the first read, within the cold start.
 */
export function secretsManagerReader(): SecretReader {
  let client: SecretsManagerClient | undefined;
  return async (secretId) => {
    // Bounded like the store's client: a black-holed endpoint (a VPC without a Secrets Manager endpoint) fails fast.
    client ??= new SecretsManagerClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 2000, throwOnRequestTimeout: true },
    });
    const output = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (output.SecretString === undefined) throw new Error('the device token key secret has no text value');
    return output.SecretString;
  };
}
