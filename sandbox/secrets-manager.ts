import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';

/**
 * Secrets Manager for the sandbox, as much as the lockout uses: GetSecretValue (the triggers read the device token
 * key at cold start and every few minutes) and PutSecretValue (the admin CLI's `rotate-device-key`), on the AWS JSON
 * protocol, so the real SDK clients in the bundles and the CLI talk to it through `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
 * The one secret holds what CloudFormation would generate, `{"key": <64 random characters>}`; with `file` it is kept
 * there, so tokens issued before a restart of a persisted sandbox stay valid.
 */
export const LOCAL_DEVICE_KEY_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:sandbox-device-token-key-AbCdEf';

export interface LocalSecretsManager {
  readonly endpoint: string;
  readonly arn: string;
  /** The secret's current text (for tests). */
  value(): string;
  stop(): Promise<void>;
}

export async function startSecretsManager(file?: string): Promise<LocalSecretsManager> {
  let value =
    file !== undefined && existsSync(file) ? readFileSync(file, 'utf8') : JSON.stringify({ key: randomBytes(48).toString('base64url').slice(0, 64) });
  let version = 1;
  const save = () => {
    if (file !== undefined) writeFileSync(file, value, { mode: 0o600 });
  };
  save();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop();
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string; SecretString?: string };
      const reply = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (input.SecretId !== LOCAL_DEVICE_KEY_SECRET_ARN) {
        return reply(400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      }
      if (operation === 'GetSecretValue') {
        return reply(200, { ARN: LOCAL_DEVICE_KEY_SECRET_ARN, Name: 'sandbox-device-token-key', SecretString: value, VersionId: `v${version}` });
      }
      if (operation === 'PutSecretValue' && typeof input.SecretString === 'string') {
        value = input.SecretString;
        version += 1;
        save();
        return reply(200, { ARN: LOCAL_DEVICE_KEY_SECRET_ARN, Name: 'sandbox-device-token-key', VersionId: `v${version}` });
      }
      return reply(400, { __type: 'InvalidRequestException', message: `the sandbox's Secrets Manager does not answer ${operation}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    arn: LOCAL_DEVICE_KEY_SECRET_ARN,
    value: () => value,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
