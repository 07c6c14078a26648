import { readFileSync } from 'node:fs';
import path from 'node:path';

import { DEFAULT_DEVICE_TOKEN_CLAIM, type DeviceTokenStorage, deviceTokens } from '../lib/client';

const TOKEN = 'v1.AbC-12_x.' + 'z'.repeat(380);
const OTHER = 'v1.second-token_9.abc';

/** A JWT as Cognito sends it: base64url header and payload, and a signature this module never checks. */
function jwt(payload: unknown, indent?: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value, null, indent)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'test' })}.${part(payload)}.${Buffer.from('not a real signature').toString('base64url')}`;
}

function idPayload(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: '1c2e1f5a-0000-4000-8000-000000000000', 'cognito:username': 'alice', token_use: 'id', ...extra };
}

/** A JSON payload carrying the claim, with a byte that is not UTF-8 in another string. */
function malformedUtf8(): Buffer {
  return Buffer.concat([Buffer.from(`{"lockout_device":"${OTHER}","name":"`), Buffer.from([0xff]), Buffer.from('"}')]);
}

/** An AsyncStorage look-alike: every method answers on a later tick. */
function asyncStorage() {
  const items = new Map<string, string>();
  const later = () => new Promise((resolve) => setTimeout(resolve, 1));
  const storage: DeviceTokenStorage = {
    getItem: async (key) => (await later(), items.has(key) ? items.get(key)! : null),
    setItem: async (key, value) => void (await later(), items.set(key, value)),
    removeItem: async (key) => void (await later(), items.delete(key)),
  };
  return { storage, items };
}

function throwingStorage(): DeviceTokenStorage {
  return {
    getItem: () => {
      throw new Error('SecurityError');
    },
    setItem: () => {
      throw new Error('QuotaExceededError');
    },
    removeItem: () => Promise.reject(new Error('gone')),
  };
}

describe('deviceTokens', () => {
  it('imports nothing, so the client bundle stays free of dependencies', () => {
    const source = readFileSync(path.join(__dirname, '..', 'lib', 'client', 'device-token.ts'), 'utf8');
    expect(source).not.toMatch(/^\s*import\s|\brequire\(|\bimport\(/m);
    expect(source).not.toMatch(/\bBuffer\.|\batob\(/);
  });

  it('uses the lockout_device claim by default and is read-only', () => {
    const devices = deviceTokens();
    expect(DEFAULT_DEVICE_TOKEN_CLAIM).toBe('lockout_device');
    expect(devices.claim).toBe('lockout_device');
    expect(Object.isFrozen(devices)).toBe(true);
  });

  describe('remember', () => {
    it('reads the claim from a JWT string and sends it back under the claim name', async () => {
      const devices = deviceTokens();
      expect(await devices.remember('alice', jwt(idPayload({ lockout_device: TOKEN })))).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
    });

    it('decodes a payload holding non-ASCII UTF-8 (names, emoji)', async () => {
      const devices = deviceTokens();
      const token = jwt(idPayload({ name: 'Zoë 😀 Ωmega', lockout_device: TOKEN }));
      expect(await devices.remember('alice', token)).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
    });

    it("reads an Amplify-like or identity-js-like token object's payload", async () => {
      const devices = deviceTokens();
      const amplify = { payload: idPayload({ lockout_device: TOKEN }), toString: () => 'jwt' };
      expect(await devices.remember('alice', amplify)).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });

      const identityJs = { jwtToken: 'ignored', payload: idPayload({ lockout_device: OTHER }) };
      expect(await devices.remember('alice', identityJs)).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: OTHER });
    });

    it('reads a bare payload object', async () => {
      const devices = deviceTokens();
      expect(await devices.remember('alice', idPayload({ lockout_device: TOKEN }))).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
    });

    it('accepts a token of exactly 2048 characters', async () => {
      const devices = deviceTokens();
      const longest = 'a'.repeat(2048);
      expect(await devices.remember('alice', idPayload({ lockout_device: longest }))).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: longest });
    });

    const withoutToken: Array<[string, unknown]> = [
      ['a string that is not a JWT', 'not-a-jwt'],
      [
        'a JWT with two segments',
        jwt(idPayload({ lockout_device: OTHER }))
          .split('.')
          .slice(0, 2)
          .join('.'),
      ],
      ['a JWT whose payload is not base64url', `a.${'!!!'}.c`],
      ['a JWT whose payload is not JSON', `a.${Buffer.from('{nope').toString('base64url')}.c`],
      ['a JWT whose payload is a JSON array', `a.${Buffer.from(JSON.stringify([OTHER])).toString('base64url')}.c`],
      // Valid JSON around the bad byte: only a strict decoder refuses it.
      ['a JWT whose payload is malformed UTF-8', `a.${malformedUtf8().toString('base64url')}.c`],
      ['an empty string', ''],
      ['a payload without the claim (a pool without the feature, a refresh)', idPayload()],
      ['a JWT without the claim', jwt(idPayload())],
      ['a number claim', idPayload({ lockout_device: 12345 })],
      ['an object claim', { payload: idPayload({ lockout_device: { token: OTHER } }) }],
      ['an empty claim', idPayload({ lockout_device: '' })],
      ['an oversize claim (2049 characters)', idPayload({ lockout_device: 'a'.repeat(2049) })],
      ['a claim with a space', idPayload({ lockout_device: 'abc def' })],
      ['a claim with base64 "+" and "/"', idPayload({ lockout_device: 'abc+def/ghi=' })],
      ['a claim with a newline', jwt(idPayload({ lockout_device: `${OTHER}\n` }))],
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
    ];

    it.each(withoutToken)('returns false for %s and keeps the stored token', async (_, idToken) => {
      const devices = deviceTokens();
      await devices.remember('alice', idPayload({ lockout_device: TOKEN }));
      await expect(devices.remember('alice', idToken as string)).resolves.toBe(false);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
    });

    it('decodes payloads of every base64url length (no padding, one or two characters short)', async () => {
      const devices = deviceTokens();
      const tokens = [0, 1, 2].map((n) => jwt(idPayload({ name: 'x'.repeat(n), lockout_device: `${TOKEN}${n}` })));
      expect(new Set(tokens.map((token) => token.split('.')[1].length % 4))).toEqual(new Set([0, 2, 3]));
      for (const [n, token] of tokens.entries()) {
        expect(await devices.remember('alice', token)).toBe(true);
        expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: `${TOKEN}${n}` });
      }
    });

    it('decodes without Buffer, atob or TextDecoder (React Native, older engines)', async () => {
      const devices = deviceTokens();
      // Tabs and newlines are bytes below 16, which the fallback must escape with two hex digits too.
      const good = jwt(idPayload({ name: 'Zoë 😀', lockout_device: TOKEN }), '\t');
      const malformed = `a.${malformedUtf8().toString('base64url')}.c`;
      const names = ['Buffer', 'atob', 'TextDecoder'] as const;
      const saved = names.map((name) => Object.getOwnPropertyDescriptor(globalThis, name)!);
      let results: [Promise<boolean>, Promise<boolean>];
      try {
        for (const name of names) Object.defineProperty(globalThis, name, { value: undefined, configurable: true, writable: true });
        // The payload is decoded before remember's first await, so restoring right after the calls is enough.
        results = [devices.remember('alice', good), devices.remember('bob', malformed)];
      } finally {
        names.forEach((name, i) => Object.defineProperty(globalThis, name, saved[i]));
      }
      expect(await Promise.all(results)).toEqual([true, false]);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
    });

    it('returns false, without throwing, when reading the token object throws', async () => {
      const devices = deviceTokens();
      const hostile = {
        get payload(): Record<string, unknown> {
          throw new Error('boom');
        },
      };
      await expect(devices.remember('alice', hostile)).resolves.toBe(false);
    });

    it('returns false for an empty or non-string user name', async () => {
      const devices = deviceTokens();
      const withToken = idPayload({ lockout_device: TOKEN });
      expect(await devices.remember('  ', withToken)).toBe(false);
      expect(await devices.remember(undefined as unknown as string, withToken)).toBe(false);
      expect(await devices.clientMetadata('  ')).toEqual({});
    });
  });

  describe('clientMetadata', () => {
    it('merges extra, keeps it unmodified, and returns a copy when no token is stored', async () => {
      const devices = deviceTokens();
      const extra = { locale: 'fr', app: 'web' };
      const none = await devices.clientMetadata('alice', extra);
      expect(none).toEqual({ locale: 'fr', app: 'web' });
      expect(none).not.toBe(extra);

      await devices.remember('alice', idPayload({ lockout_device: TOKEN }));
      expect(await devices.clientMetadata('alice', extra)).toEqual({ locale: 'fr', app: 'web', lockout_device: TOKEN });
      expect(extra).toEqual({ locale: 'fr', app: 'web' });
    });

    it('does not send a stored value that is not a device token (storage shared with other code)', async () => {
      const { storage, items } = asyncStorage();
      items.set('cognito-lockout.device.alice', 'has spaces, not a token');
      expect(await deviceTokens({ storage }).clientMetadata('alice', { a: 'b' })).toEqual({ a: 'b' });
    });
  });

  describe('user names', () => {
    it('keeps one token per user', async () => {
      const devices = deviceTokens();
      await devices.remember('alice', idPayload({ lockout_device: TOKEN }));
      await devices.remember('bob', idPayload({ lockout_device: OTHER }));
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
      expect(await devices.clientMetadata('bob')).toEqual({ lockout_device: OTHER });
      expect(await devices.clientMetadata('carol')).toEqual({});
    });

    it('folds case and surrounding spaces into one key', async () => {
      const { storage, items } = asyncStorage();
      const devices = deviceTokens({ storage });
      await devices.remember('Alice ', idPayload({ lockout_device: TOKEN }));
      expect([...items.keys()]).toEqual(['cognito-lockout.device.alice']);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
      expect(await devices.clientMetadata(' ALICE')).toEqual({ lockout_device: TOKEN });
    });
  });

  describe('options', () => {
    it('uses a custom claim as both the claim read and the metadata key', async () => {
      const devices = deviceTokens({ claim: 'custom:device' });
      expect(devices.claim).toBe('custom:device');
      expect(await devices.remember('alice', idPayload({ lockout_device: OTHER }))).toBe(false);
      expect(await devices.remember('alice', jwt(idPayload({ 'custom:device': TOKEN, lockout_device: OTHER })))).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ 'custom:device': TOKEN });
    });

    it('works with an asynchronous, AsyncStorage-like storage and a custom key prefix', async () => {
      const { storage, items } = asyncStorage();
      const devices = deviceTokens({ storage, keyPrefix: 'app/' });
      expect(await devices.remember('alice', idPayload({ lockout_device: TOKEN }))).toBe(true);
      expect(items.get('app/alice')).toBe(TOKEN);
      expect(await devices.clientMetadata('alice', { x: 'y' })).toEqual({ x: 'y', lockout_device: TOKEN });
      // Another instance over the same storage sees the token, as a reloaded app would.
      expect(await deviceTokens({ storage, keyPrefix: 'app/' }).clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
    });

    it.each([
      ['empty', ''],
      ['too long', 'a'.repeat(129)],
      ['spaced', 'lockout device'],
      ['slashed', 'lockout/device'],
      ['__proto__', '__proto__'],
      ['not a string', 42],
    ])('rejects a claim that is %s, naming the option', (_, claim) => {
      expect(() => deviceTokens({ claim: claim as string })).toThrow(TypeError);
      expect(() => deviceTokens({ claim: claim as string })).toThrow('deviceTokens({ claim })');
    });

    it('accepts a claim of 128 characters', () => {
      expect(deviceTokens({ claim: 'a'.repeat(128) }).claim).toBe('a'.repeat(128));
    });

    it('rejects a storage without the three methods and a non-string key prefix', () => {
      expect(() => deviceTokens({ storage: { getItem: () => null } as unknown as DeviceTokenStorage })).toThrow('deviceTokens({ storage })');
      expect(() => deviceTokens({ keyPrefix: 1 as unknown as string })).toThrow('deviceTokens({ keyPrefix })');
    });
  });

  describe('a failing storage', () => {
    it('makes clientMetadata return just the extra and remember return false, without throwing', async () => {
      const devices = deviceTokens({ storage: throwingStorage() });
      await expect(devices.clientMetadata('alice', { a: 'b' })).resolves.toEqual({ a: 'b' });
      await expect(devices.remember('alice', idPayload({ lockout_device: TOKEN }))).resolves.toBe(false);
    });

    it('also when the storage rejects instead of throwing', async () => {
      const storage: DeviceTokenStorage = {
        getItem: () => Promise.reject(new Error('no')),
        setItem: () => Promise.reject(new Error('no')),
        removeItem: () => undefined,
      };
      const devices = deviceTokens({ storage });
      await expect(devices.clientMetadata('alice')).resolves.toEqual({});
      await expect(devices.remember('alice', idPayload({ lockout_device: TOKEN }))).resolves.toBe(false);
    });

    it('makes forget reject, since the caller asked to drop the token and it is still there', async () => {
      await expect(deviceTokens({ storage: throwingStorage() }).forget('alice')).rejects.toThrow('gone');
    });
  });

  describe('forget', () => {
    it("removes that user's token only", async () => {
      const { storage, items } = asyncStorage();
      const devices = deviceTokens({ storage });
      await devices.remember('alice', idPayload({ lockout_device: TOKEN }));
      await devices.remember('bob', idPayload({ lockout_device: OTHER }));
      await devices.forget('ALICE');
      expect(items.has('cognito-lockout.device.alice')).toBe(false);
      expect(await devices.clientMetadata('alice')).toEqual({});
      expect(await devices.clientMetadata('bob')).toEqual({ lockout_device: OTHER });
    });
  });

  describe('the default storage', () => {
    const original = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
    afterEach(() => {
      if (original) Object.defineProperty(globalThis, 'localStorage', original);
      else delete (globalThis as { localStorage?: unknown }).localStorage;
    });

    function fakeLocalStorage() {
      const items = new Map<string, string>();
      const local = {
        getItem: jest.fn((key: string) => items.get(key) ?? null),
        setItem: jest.fn((key: string, value: string) => void items.set(key, String(value))),
        removeItem: jest.fn((key: string) => void items.delete(key)),
      };
      return { local, items };
    }

    it('is memory, one store per instance, when there is no localStorage (Node)', async () => {
      delete (globalThis as { localStorage?: unknown }).localStorage;
      const devices = deviceTokens();
      expect(await devices.remember('alice', idPayload({ lockout_device: TOKEN }))).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
      expect(await deviceTokens().clientMetadata('alice')).toEqual({});
      await devices.forget('alice');
      expect(await devices.clientMetadata('alice')).toEqual({});
    });

    it('is globalThis.localStorage when one works, leaving no probe behind', async () => {
      const { local, items } = fakeLocalStorage();
      Object.defineProperty(globalThis, 'localStorage', { value: local, configurable: true, writable: true });
      const devices = deviceTokens();
      expect(await devices.remember('Alice', jwt(idPayload({ lockout_device: TOKEN })))).toBe(true);
      expect([...items.entries()]).toEqual([['cognito-lockout.device.alice', TOKEN]]);
      // A new instance (a reloaded page) finds it.
      expect(await deviceTokens().clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
      expect(local.getItem).toHaveBeenCalledWith('cognito-lockout.device.alice');
    });

    it('is memory when localStorage throws on access (storage disabled)', async () => {
      Object.defineProperty(globalThis, 'localStorage', {
        configurable: true,
        get() {
          throw new Error('SecurityError: access denied');
        },
      });
      const devices = deviceTokens();
      expect(await devices.remember('alice', idPayload({ lockout_device: TOKEN }))).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
    });

    it('is memory when localStorage throws on write (Safari private mode)', async () => {
      const { local, items } = fakeLocalStorage();
      local.setItem.mockImplementation(() => {
        throw new Error('QuotaExceededError');
      });
      Object.defineProperty(globalThis, 'localStorage', { value: local, configurable: true, writable: true });
      const devices = deviceTokens();
      expect(await devices.remember('alice', idPayload({ lockout_device: TOKEN }))).toBe(true);
      expect(await devices.clientMetadata('alice')).toEqual({ lockout_device: TOKEN });
      expect(items.size).toBe(0);
      expect(local.getItem).not.toHaveBeenCalled();
    });
  });
});
