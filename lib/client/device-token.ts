/**
 * Keeps the lockout's device token between sign-ins, so a user's familiar device is counted apart from anonymous
 * attackers: someone guessing passwords can lock the account for everyone else, not for the device the owner
 * signed in from before.
 *
 * At every sign-in the lockout's PreTokenGeneration trigger puts a signed device token in the ID token, under the
 * claim `lockout_device` by default (configurable per deployment). The front end stores that opaque string per user
 * name and sends it back at the next sign-in as Cognito client metadata under the same key. The server verifies the
 * token and binds it to the user's `sub`, so this module only carries it: it never verifies the ID token (it came
 * from Cognito over TLS, and a forged token would buy nothing but being counted as anonymous).
 *
 * No runtime dependency: bundled for browsers, React Native and Node, it uses neither `Buffer` nor `atob`.
 *
 * Amplify v6:
 * ```ts
 * import { fetchAuthSession, signIn } from 'aws-amplify/auth';
 * import { deviceTokens } from 'cognito-lockout/client';
 *
 * const devices = deviceTokens(); // localStorage in a browser; pass AsyncStorage in React Native
 * const { isSignedIn } = await signIn({ username, password, options: { clientMetadata: await devices.clientMetadata(username) } });
 * // After an MFA or other challenge, do this once confirmSignIn reports isSignedIn instead.
 * if (isSignedIn) {
 *   const { tokens } = await fetchAuthSession();
 *   if (tokens?.idToken) await devices.remember(username, tokens.idToken);
 * }
 * ```
 *
 * amazon-cognito-identity-js (do not set `ValidationData`: when it is non-empty, identity-js sends it in place of
 * `ClientMetadata`, and the device token never reaches the trigger):
 * ```ts
 * const devices = deviceTokens();
 * const details = new AuthenticationDetails({ Username: username, Password: password, ClientMetadata: await devices.clientMetadata(username) });
 * new CognitoUser({ Username: username, Pool: pool }).authenticateUser(details, {
 *   onSuccess: (session) => void devices.remember(username, session.getIdToken()),
 *   onFailure: (error) => showError(error),
 * });
 * ```
 *
 * A backend that signs users in with AdminInitiateAuth has no storage of its own for the token: the browser keeps
 * it. The browser sends `await devices.clientMetadata(username)` with the credentials; the backend forwards only
 * that one key as `ClientMetadata: { [devices.claim]: token }` (never arbitrary client-chosen keys) and returns the
 * session's tokens to the browser, which calls `devices.remember(username, idToken)` with the new ID token.
 */

/** The ID-token claim, and client-metadata key, the lockout uses unless the deployment names another. */
export const DEFAULT_DEVICE_TOKEN_CLAIM = 'lockout_device';

/**
 * Where tokens are kept. The shape of `window.localStorage` and of React Native's AsyncStorage, so either plugs in
 * as is; every method may be synchronous or return a promise.
 */
export interface DeviceTokenStorage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

export interface DeviceTokensOptions {
  /**
   * Default: `globalThis.localStorage` when it exists and accepts a write (Safari's private mode and browsers with
   * storage disabled throw instead), otherwise an in-memory store that lasts as long as the returned object, which
   * suits servers and tests but forgets every token when the page or process ends. React Native has no
   * localStorage: pass AsyncStorage.
   */
  storage?: DeviceTokenStorage;
  /** The claim name the deployment's PreTokenGeneration trigger uses; also the client-metadata key. Default `lockout_device`. */
  claim?: string;
  /** Prepended to the user-name key in storage. Default `cognito-lockout.device.`. */
  keyPrefix?: string;
}

/** What an ID token may be given as: the JWT, an object with `payload` (Amplify's JWT, identity-js's CognitoIdToken), or the payload itself. */
export type IdTokenInput = string | { payload: Record<string, unknown> } | Record<string, unknown>;

export interface DeviceTokens {
  /**
   * Stores the device token found in the ID token for `username`. `false`, leaving any stored token alone, when the
   * ID token carries none that looks valid: a pool without the feature, a refresh that did not reissue the claim,
   * a malformed token, or a storage that failed. Never throws.
   */
  remember(username: string, idToken: IdTokenInput): Promise<boolean>;
  /**
   * The client metadata for the next sign-in of `username`: a copy of `extra` plus `{ [claim]: token }` when a token
   * is stored. A storage that fails counts as no token, so a sign-in is never blocked by it.
   */
  clientMetadata(username: string, extra?: Record<string, string>): Promise<Record<string, string>>;
  /** Drops the token of `username` ("this is not my device", sign-out everywhere). Rejects only if the storage does. */
  forget(username: string): Promise<void>;
  /** The claim name and client-metadata key in use. */
  readonly claim: string;
}

const DEFAULT_KEY_PREFIX = 'cognito-lockout.device.';
const CLAIM_NAME = /^[A-Za-z0-9_:.-]+$/;
const MAX_CLAIM_LENGTH = 128;
// The trigger issues tokens of about 400 characters; the bound leaves room for a longer format without letting a
// bloated value into storage or into the metadata Cognito passes to every trigger.
const DEVICE_TOKEN = /^[A-Za-z0-9._-]{1,2048}$/;

/**
 * Create one per app and share it: instances over the same storage and key prefix see the same tokens, but the
 * in-memory default belongs to its one instance. Throws a TypeError for an invalid option at once, so a misnamed
 * claim fails at start-up rather than silently never matching.
 */
export function deviceTokens(options: DeviceTokensOptions = {}): DeviceTokens {
  const claim = options?.claim ?? DEFAULT_DEVICE_TOKEN_CLAIM;
  // `__proto__` passes the pattern but would set the metadata object's prototype instead of a key.
  if (typeof claim !== 'string' || claim.length > MAX_CLAIM_LENGTH || !CLAIM_NAME.test(claim) || claim === '__proto__') {
    throw new TypeError(`deviceTokens({ claim }): expected 1 to ${MAX_CLAIM_LENGTH} characters of A-Z a-z 0-9 _ : . -, got ${shown(claim)}`);
  }
  const keyPrefix = options?.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== 'string') throw new TypeError(`deviceTokens({ keyPrefix }): expected a string, got ${shown(keyPrefix)}`);
  if (options?.storage !== undefined && !isStorage(options.storage)) {
    throw new TypeError('deviceTokens({ storage }): expected an object with getItem, setItem and removeItem methods');
  }
  const storage = options?.storage ?? defaultStorage(keyPrefix);
  const keyOf = (username: unknown): string | undefined => {
    const name = userKey(username);
    return name === undefined ? undefined : keyPrefix + name;
  };

  return Object.freeze({
    claim,

    async remember(username: string, idToken: IdTokenInput): Promise<boolean> {
      try {
        const key = keyOf(username);
        if (key === undefined) return false;
        const token = payloadOf(idToken)?.[claim];
        if (!isDeviceToken(token)) return false;
        await storage.setItem(key, token);
        return true;
      } catch {
        return false;
      }
    },

    async clientMetadata(username: string, extra?: Record<string, string>): Promise<Record<string, string>> {
      const metadata: Record<string, string> = isObject(extra) ? { ...extra } : {};
      try {
        const key = keyOf(username);
        if (key === undefined) return metadata;
        const token = await storage.getItem(key);
        // Re-checked on the way out: storage shared with other code may hold anything under our key.
        if (isDeviceToken(token)) metadata[claim] = token;
      } catch {
        // No token: the sign-in goes ahead, counted as from an unfamiliar device.
      }
      return metadata;
    },

    async forget(username: string): Promise<void> {
      const key = keyOf(username);
      if (key !== undefined) await storage.removeItem(key);
    },
  });
}

/**
 * The storage key of a user name, trimmed and lower-cased. A case-insensitive pool (the default) resolves both
 * spellings to one user, so they must share one token. In a case-sensitive pool, a token stored under another
 * spelling may belong to another user, but the server binds each token to its user's `sub` and counts a token of
 * someone else as anonymous, so folding can cost nothing but a missed token.
 */
function userKey(username: unknown): string | undefined {
  if (typeof username !== 'string') return undefined;
  const key = username.trim().toLowerCase();
  return key === '' ? undefined : key;
}

function isDeviceToken(value: unknown): value is string {
  return typeof value === 'string' && DEVICE_TOKEN.test(value);
}

function payloadOf(idToken: unknown): Record<string, unknown> | undefined {
  if (typeof idToken === 'string') return jwtPayload(idToken);
  if (!isObject(idToken)) return undefined;
  return isObject(idToken.payload) ? idToken.payload : idToken;
}

/** The payload of a compact JWS, decoded without verification (see the module comment for why that is enough). */
function jwtPayload(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.trim().split('.');
  if (parts.length !== 3 || parts[1] === '') return undefined;
  const bytes = base64UrlBytes(parts[1]);
  if (bytes === undefined) return undefined;
  const payload: unknown = JSON.parse(utf8(bytes));
  return isObject(payload) && !Array.isArray(payload) ? payload : undefined;
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Decoded by hand: `atob` is missing from older React Native engines and `Buffer` from browsers. */
function base64UrlBytes(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length % 4 === 1) return undefined;
  const bytes = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let buffer = 0;
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    buffer = ((buffer << 6) | BASE64URL.indexOf(text[i])) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[length++] = (buffer >> bits) & 0xff;
    }
  }
  return bytes;
}

type TextDecoderClass = new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };

/** Strict UTF-8: malformed bytes throw (and `remember` returns false) rather than turn into replacement characters. */
function utf8(bytes: Uint8Array): string {
  const Decoder = (globalThis as { TextDecoder?: TextDecoderClass }).TextDecoder;
  if (typeof Decoder === 'function') return new Decoder('utf-8', { fatal: true }).decode(bytes);
  // Engines without TextDecoder: decodeURIComponent decodes UTF-8 and throws a URIError on malformed input.
  let escaped = '';
  for (let i = 0; i < bytes.length; i++) escaped += (bytes[i] < 16 ? '%0' : '%') + bytes[i].toString(16);
  return decodeURIComponent(escaped);
}

function defaultStorage(keyPrefix: string): DeviceTokenStorage {
  try {
    // Reading the property itself throws where storage is disabled (a SecurityError), hence inside the try.
    const local = (globalThis as { localStorage?: unknown }).localStorage;
    if (isStorage(local)) {
      // Safari's private mode lets reads through and throws on the first write, so only a write proves it usable.
      // The probe key holds an upper-case letter, so no lower-cased user-name key can be it.
      const probe = `${keyPrefix}Probe`;
      local.setItem(probe, '1');
      local.removeItem(probe);
      return local;
    }
  } catch {
    // Unusable: fall through to memory.
  }
  return memoryStorage();
}

function memoryStorage(): DeviceTokenStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key),
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

function isStorage(value: unknown): value is DeviceTokenStorage {
  return isObject(value) && typeof value.getItem === 'function' && typeof value.setItem === 'function' && typeof value.removeItem === 'function';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value) : typeof value;
}
