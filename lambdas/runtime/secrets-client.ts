// The Secrets Manager client, required at the first secret read (secret-reader.ts). In the Lambda bundles it is a
// file of its own beside index.js (scripts/build-assets.mjs): a cold start that reads no secret never loads it.
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
