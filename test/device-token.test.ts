import { rotatedKeys, ROTATION_LEAD_MS } from '../lib/admin/device-key';
import { DEVICE_KEY_REFRESH_MS, DEVICE_KEY_RETRY_MS, DeviceKeys, keyRetryDelayMs } from '../lambdas/devices/device-keys';
import { DEVICE_TOKEN_AUDIENCE, checkDeviceToken, issueDeviceToken, parseDeviceKeySet, signingKey } from '../lambdas/devices/device-token';
import { FakeClock } from './support/deps';
import { runtimeDeps } from '../lambdas/runtime/deps';
import { DEVICE_KEY_SECRET_ENV } from '../lambdas/shared/contract';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1, 12);
const SUB = 'a1b2c3d4-0000-4000-8000-0000000000aa';
const keys = (...list: Array<{ key: string; signFrom?: number }>) => parseDeviceKeySet(JSON.stringify({ keys: list }));
const A = 'A'.repeat(40);
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B = 'B'.repeat(40);

describe('device tokens', () => {
  const set = keys({ key: A });
  const token = issueDeviceToken(set, SUB, NOW, 90 * DAY)!;
  const payload = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));

  it('carries sub, a random 128-bit device id, issue time, expiry and its own audience, in a short token', () => {
    expect(payload).toEqual({
      aud: DEVICE_TOKEN_AUDIENCE,
      sub: SUB,
      did: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      iat: NOW / 1000,
      exp: NOW / 1000 + 90 * 86_400,
    });
    expect(issueDeviceToken(set, SUB, NOW, DAY)).not.toContain(payload.did);
    expect(token.length).toBeLessThan(300);
    expect(checkDeviceToken(set, token, SUB, NOW + DAY)).toEqual({
      valid: true,
      claims: { sub: SUB, did: payload.did, issuedAt: NOW, expiresAt: NOW + 90 * DAY },
    });
  });

  it.each([
    ['absent', undefined, 'absent'],
    ['empty', '', 'absent'],
    ['a number', 42, 'malformed'],
    ['an object', { token: 'x' }, 'malformed'],
    ['too long', `${token}${'A'.repeat(600)}`, 'malformed'],
    ['badly encoded', token.replace('.', '.%'), 'malformed'],
    [
      'tampered in the payload',
      Buffer.from(JSON.stringify({ ...payload, sub: 'someone-else' })).toString('base64url') + token.slice(token.indexOf('.')),
      'signature',
    ],
    ['tampered in the mac', token.slice(0, -10) + (token.at(-10) === 'A' ? 'B' : 'A') + token.slice(-9), 'signature'],
    // The last character carries 4 bits and 2 unused ones: another spelling of the same mac is refused too.
    ['spelled another way', token.slice(0, -1) + B64URL[B64URL.indexOf(token.at(-1)!) + 1], 'malformed'],
  ])('rejects a token that is %s', (_, raw, reason) => {
    expect(checkDeviceToken(set, raw, SUB, NOW + DAY)).toEqual({ valid: false, reason });
  });

  it('rejects an expired token, a token issued in the future, another user, an unknown name, and a token signed by a key not held', () => {
    expect(checkDeviceToken(set, token, SUB, NOW + 90 * DAY)).toEqual({ valid: false, reason: 'expired' });
    expect(checkDeviceToken(set, issueDeviceToken(set, SUB, NOW + DAY, DAY), SUB, NOW)).toEqual({ valid: false, reason: 'future' });
    expect(checkDeviceToken(set, token, 'b0000000-0000-4000-8000-000000000000', NOW)).toEqual({ valid: false, reason: 'other-user' });
    expect(checkDeviceToken(set, token, undefined, NOW)).toEqual({ valid: false, reason: 'other-user' });
    expect(checkDeviceToken(keys({ key: B }), token, SUB, NOW)).toEqual({ valid: false, reason: 'signature' });
    expect(checkDeviceToken(undefined, token, SUB, NOW)).toEqual({ valid: false, reason: 'no-key' });
  });

  it('verifies with every key held and signs with the newest whose signFrom has come', () => {
    const rotated = keys({ key: B, signFrom: NOW + 10 * 60_000 }, { key: A });
    expect(checkDeviceToken(rotated, token, SUB, NOW).valid).toBe(true);
    expect(signingKey(rotated, NOW)?.secret.toString()).toBe(A);
    expect(signingKey(rotated, NOW + 10 * 60_000)?.secret.toString()).toBe(B);
    const byB = issueDeviceToken(rotated, SUB, NOW + 11 * 60_000, DAY)!;
    expect(checkDeviceToken(keys({ key: B }), byB, SUB, NOW + 12 * 60_000).valid).toBe(true);
  });

  it('refuses key sets it cannot trust, without quoting them', () => {
    for (const text of [
      'nope',
      '{}',
      JSON.stringify({ key: 'short' }),
      JSON.stringify({ keys: [] }),
      JSON.stringify({ keys: [{ key: A, signFrom: 'soon' }] }),
    ]) {
      expect(() => parseDeviceKeySet(text)).toThrow(/^device token key: /);
    }
    expect(() => parseDeviceKeySet(JSON.stringify({ key: 'short-secret-text' }))).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('short-secret-text') }),
    );
  });
});

describe('the keys an instance holds', () => {
  it('waits for the cold start read once, then re-reads in the background after the refresh period, keeping the last good set', async () => {
    const clock = new FakeClock(NOW);
    const texts = [JSON.stringify({ key: A }), 'broken', JSON.stringify({ key: B })];
    const reads: number[] = [];
    const errors: unknown[] = [];
    const held = new DeviceKeys(
      async () => {
        reads.push(clock.now());
        return texts.shift()!;
      },
      { clock: clock.now, onError: (e) => errors.push(e) },
    );
    expect((await held.keys())?.keys[0].secret.toString()).toBe(A);
    await held.keys();
    expect(reads).toHaveLength(1);
    clock.advance(DEVICE_KEY_REFRESH_MS);
    expect((await held.keys())?.keys[0].secret.toString()).toBe(A); // the re-read runs behind this decision
    await new Promise((resolve) => setImmediate(resolve));
    expect(errors).toHaveLength(1); // 'broken': the set stays
    expect((await held.keys())?.keys[0].secret.toString()).toBe(A);
    clock.advance(DEVICE_KEY_REFRESH_MS);
    await held.keys();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await held.keys())?.keys[0].secret.toString()).toBe(B);
    expect(reads).toHaveLength(3);
  });

  /** Lets every settled promise run its handlers: a background read that has already answered lands. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  /** Whether `keys()` answered without waiting for anything that is still under way (a hung read). */
  const answersAtOnce = (held: DeviceKeys) =>
    Promise.race([held.keys().then(() => 'answered'), new Promise((resolve) => setImmediate(() => resolve('waited')))]);

  it('retries a failed cold start read after a short backoff, in the background, and uses its keys once it lands', async () => {
    const clock = new FakeClock(NOW);
    const reads: number[] = [];
    const outcomes: Array<() => Promise<string>> = [
      () => Promise.reject(Object.assign(new Error('throttled'), { name: 'ThrottlingException' })),
      () => Promise.resolve(JSON.stringify({ key: A })),
    ];
    const errors: unknown[] = [];
    const held = new DeviceKeys(
      () => {
        reads.push(clock.now() - NOW);
        return outcomes.shift()!();
      },
      { clock: clock.now, onError: (e) => errors.push(e) },
    );
    await expect(held.keys()).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    clock.advance(keyRetryDelayMs(1) - 1);
    await held.keys();
    expect(reads).toEqual([0]); // not yet
    clock.advance(1);
    await expect(held.keys()).resolves.toBeUndefined(); // this decision starts the retry and does not wait for it
    await settle();
    expect(reads).toEqual([0, DEVICE_KEY_RETRY_MS]);
    expect((await held.keys())?.keys[0].secret.toString()).toBe(A);
    // Back to the refresh period once a read succeeds.
    clock.advance(DEVICE_KEY_REFRESH_MS - 1);
    await held.keys();
    expect(reads).toHaveLength(2);
  });

  it('backs off a lasting failure (a missing permission) to one read per refresh period, whatever the decisions', async () => {
    const clock = new FakeClock(NOW);
    const reads: number[] = [];
    const held = new DeviceKeys(
      async () => {
        reads.push(clock.now() - NOW);
        throw Object.assign(new Error('not authorized to perform secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' });
      },
      { clock: clock.now, onError: () => undefined },
    );
    // A decision every 100 ms for 20 minutes.
    for (let t = 0; t < 20 * 60_000; t += 100) {
      await held.keys();
      await settle();
      clock.advance(100);
    }
    const s = 1000;
    expect(reads).toEqual([0, 2 * s, 6 * s, 14 * s, 30 * s, 62 * s, 126 * s, 254 * s, 510 * s, 810 * s, 1110 * s]);
    expect(reads.filter((t) => t < DEVICE_KEY_REFRESH_MS)).toHaveLength(8);
    expect([1, 2, 3, 8, 9, 20].map(keyRetryDelayMs)).toEqual([2 * s, 4 * s, 8 * s, 256 * s, DEVICE_KEY_REFRESH_MS, DEVICE_KEY_REFRESH_MS]);
  });

  it('keeps the last good set through failed refreshes, retrying them sooner than the refresh period', async () => {
    const clock = new FakeClock(NOW);
    const reads: number[] = [];
    const texts = [JSON.stringify({ key: A }), 'broken', JSON.stringify({ key: B })];
    const held = new DeviceKeys(
      async () => {
        reads.push(clock.now() - NOW);
        return texts.shift()!;
      },
      { clock: clock.now, onError: () => undefined },
    );
    expect((await held.keys())?.keys[0].secret.toString()).toBe(A);
    clock.advance(DEVICE_KEY_REFRESH_MS);
    await held.keys();
    await settle();
    expect((await held.keys())?.keys[0].secret.toString()).toBe(A); // 'broken' did not replace it
    clock.advance(DEVICE_KEY_RETRY_MS);
    await held.keys();
    await settle();
    expect((await held.keys())?.keys[0].secret.toString()).toBe(B);
    expect(reads).toEqual([0, DEVICE_KEY_REFRESH_MS, DEVICE_KEY_REFRESH_MS + DEVICE_KEY_RETRY_MS]);
  });

  it('never makes a decision wait on a retry, even one that hangs', async () => {
    const clock = new FakeClock(NOW);
    let reads = 0;
    const held = new DeviceKeys(() => (++reads === 1 ? Promise.reject(new Error('throttled')) : new Promise<string>(() => undefined)), {
      clock: clock.now,
      onError: () => undefined,
    });
    await held.keys();
    clock.advance(DEVICE_KEY_RETRY_MS);
    expect(await answersAtOnce(held)).toBe('answered'); // starts the retry, which hangs
    expect(reads).toBe(2);
    expect(await answersAtOnce(held)).toBe('answered');
    expect(reads).toBe(2); // one read at a time
  });

  it('answers without keys when the cold start read takes longer than its budget, and waits no more after it', async () => {
    const held = new DeviceKeys(() => new Promise(() => undefined), { clock: Date.now, onError: () => undefined });
    await expect(held.keys()).resolves.toBeUndefined();
    await expect(held.keys()).resolves.toBeUndefined();
  });
});

describe("each function's keys, as deployed (runtime/deps.ts)", () => {
  const env = {
    LOCKOUT_TABLE_NAME: 'lockout',
    LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
    [DEVICE_KEY_SECRET_ENV]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:key',
  };

  it('pre token generation reads at cold start; pre-authentication and post-authentication only when a decision needs the keys', async () => {
    for (const trigger of ['PreAuthentication', 'PostAuthentication', 'PreTokenGeneration'] as const) {
      const reads: string[] = [];
      const deps = runtimeDeps(trigger, env, async (id) => {
        reads.push(id);
        return JSON.stringify({ key: A });
      });
      expect({ trigger, atInit: reads.length }).toEqual({ trigger, atInit: trigger === 'PreTokenGeneration' ? 1 : 0 });
      expect((await deps.deviceKeys!.keys())?.keys[0].secret.toString()).toBe(A);
      expect(reads).toEqual([env[DEVICE_KEY_SECRET_ENV]]);
    }
  });

  it('counts DeviceKeyErrors (the alarm) and logs the reason, never the secret, when a read fails', async () => {
    const deps = runtimeDeps('PreAuthentication', env, () =>
      Promise.reject(Object.assign(new Error('not authorized to perform secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' })),
    );
    const metrics = jest.spyOn(deps.telemetry.metrics, 'addMetric').mockReturnValue(deps.telemetry.metrics);
    const errors = jest.spyOn(deps.telemetry.logger, 'error').mockImplementation(() => undefined);
    expect(await deps.deviceKeys!.keys()).toBeUndefined();
    expect(metrics.mock.calls.map(([name]) => name)).toEqual(['DeviceKeyErrors']);
    expect(errors.mock.calls).toEqual([
      [expect.stringContaining('device token key unavailable'), { error: { name: 'AccessDeniedException', message: expect.any(String) } }],
    ]);
  });
});

describe('rotate-device-key', () => {
  it('puts the new key first with a signFrom two refresh periods on, keeps the signing key, drops older ones', () => {
    const first = rotatedKeys(JSON.stringify({ key: A }), NOW, B);
    expect(first.signFrom).toBe(NOW + ROTATION_LEAD_MS);
    expect(JSON.parse(first.text)).toEqual({
      keys: [
        { key: B, signFrom: NOW + ROTATION_LEAD_MS },
        { key: A, signFrom: 0 },
      ],
    });
    const second = rotatedKeys(first.text, NOW + ROTATION_LEAD_MS, 'C'.repeat(40));
    expect(JSON.parse(second.text).keys.map((k: { key: string }) => k.key[0])).toEqual(['C', 'B']);
  });

  it('refuses while a rotation is under way, and a secret it cannot read', () => {
    const first = rotatedKeys(JSON.stringify({ key: A }), NOW, B);
    expect(() => rotatedKeys(first.text, NOW + 60_000)).toThrow(/a rotation is under way/);
    expect(() => rotatedKeys('not json', NOW)).toThrow(/cannot be read as keys/);
  });
});
