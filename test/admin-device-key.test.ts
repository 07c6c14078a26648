import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ROTATION_LEAD_MS, type RotationStage, rotateDeviceKey } from '../lib/admin/device-key';

const secrets = mockClient(SecretsManagerClient);
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:device-key-AbCdEf';
const NOW = Date.UTC(2026, 10, 22, 12);
const CURRENT = JSON.stringify({ key: 'A'.repeat(64) });
const VERSION = '11111111-2222-4333-8444-555555555555';

/** The audit trail as the rotation writes it, with the calls to Secrets Manager interleaved in order. */
function recorder(failOn?: RotationStage) {
  const events: string[] = [];
  const records: Array<{ stage: RotationStage; details: Record<string, unknown> }> = [];
  secrets.on(GetSecretValueCommand).callsFake(async () => {
    events.push('get');
    return { SecretString: CURRENT };
  });
  const audit = async (stage: RotationStage, details: Readonly<Record<string, unknown>>) => {
    events.push(`audit:${stage}`);
    if (stage === failOn) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
    records.push({ stage, details: { ...details } });
  };
  return { events, records, audit };
}

beforeEach(() => secrets.reset());

describe('rotate-device-key and its audit trail', () => {
  it('records the intended rotation before the secret changes, then its completion', async () => {
    const { events, records, audit } = recorder();
    secrets.on(PutSecretValueCommand).callsFake(async () => {
      events.push('put');
      return {};
    });
    await expect(rotateDeviceKey(new SecretsManagerClient({}), SECRET, NOW, audit, VERSION)).resolves.toBe(NOW + ROTATION_LEAD_MS);
    expect(events).toEqual(['get', 'audit:intended', 'put', 'audit:completed']);
    expect(records).toEqual([
      { stage: 'intended', details: { signFrom: NOW + ROTATION_LEAD_MS, versionId: VERSION } },
      { stage: 'completed', details: { signFrom: NOW + ROTATION_LEAD_MS, versionId: VERSION } },
    ]);
    // The version written is the one the intent names, so a lost answer can be checked against the secret's versions.
    expect(secrets.commandCalls(PutSecretValueCommand)[0].args[0].input).toMatchObject({ SecretId: SECRET, ClientRequestToken: VERSION });
  });

  it('leaves the secret alone when the intent cannot be recorded', async () => {
    const { events, audit } = recorder('intended');
    secrets.on(PutSecretValueCommand).resolves({});
    await expect(rotateDeviceKey(new SecretsManagerClient({}), SECRET, NOW, audit, VERSION)).rejects.toThrow('throttled');
    expect(events).toEqual(['get', 'audit:intended']);
    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('follows an intent whose change failed with a failure record naming the error, and reports the failure', async () => {
    const { events, records, audit } = recorder();
    secrets
      .on(PutSecretValueCommand)
      .rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    await expect(rotateDeviceKey(new SecretsManagerClient({}), SECRET, NOW, audit, VERSION)).rejects.toThrow('not allowed');
    expect(events).toEqual(['get', 'audit:intended', 'audit:failed']);
    expect(records[1]).toEqual({
      stage: 'failed',
      details: { signFrom: NOW + ROTATION_LEAD_MS, versionId: VERSION, error: 'AccessDeniedException', httpStatus: 400 },
    });
  });

  it('says the key was rotated when only the completion record is missing', async () => {
    const { events, audit } = recorder('completed');
    secrets.on(PutSecretValueCommand).resolves({});
    await expect(rotateDeviceKey(new SecretsManagerClient({}), SECRET, NOW, audit, VERSION)).rejects.toThrow(
      /the device key was rotated .*completion record could not be written.*version 11111111/,
    );
    expect(events).toEqual(['get', 'audit:intended', 'audit:completed']);
  });

  it('records nothing when the rotation is refused before any change', async () => {
    const { events, audit } = recorder();
    const underWay = JSON.stringify({
      keys: [
        { key: 'B'.repeat(64), signFrom: NOW + 60_000 },
        { key: 'A'.repeat(64), signFrom: 0 },
      ],
    });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: underWay });
    await expect(rotateDeviceKey(new SecretsManagerClient({}), SECRET, NOW, audit, VERSION)).rejects.toThrow('a rotation is under way');
    expect(events).toEqual([]);
    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });
});
