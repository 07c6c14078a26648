import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Device tokens (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): at each sign-in pre token
 * generation adds one to the ID token; the client sends it back in `clientMetadata` under the claim's name, and
 * pre-authentication counts a valid one in that device's own bucket, apart from everything anonymous.
 *
 * Format: `<payload>.<mac>`, both base64url: the payload is JSON `{ aud, sub, did, iat, exp }` (seconds), the mac
 * an HMAC-SHA256 over a domain prefix and the payload text with a per-deployment key. Not a JWT on purpose: no
 * header means no algorithm for an attacker to choose, and nothing else in the pool can be mistaken for one (the
 * audience is this scheme's own). A token is verified against every key the instance holds (at most three), so a
 * bad token costs the same work as a good one and no key id is needed.
 */

export const DEVICE_TOKEN_AUDIENCE = 'cognito-lockout:device';
const MAC_PREFIX = 'cognito-lockout device token v1.';
/** Longer than any token this code issues (about 250 characters): anything longer is refused unread. */
export const MAX_DEVICE_TOKEN_LENGTH = 600;
/** A token issued this far in the future still counts: clocks of Lambda instances differ by less. */
const ISSUE_SKEW_MS = 5 * 60_000;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,500}\.[A-Za-z0-9_-]{43}$/;
const DEVICE_ID = /^[A-Za-z0-9_-]{22}$/;

/** One signing key. Keys are listed newest first; `signFrom` lets a new key be learnt by every instance before anyone signs with it. */
export interface DeviceKey {
  readonly secret: Buffer;
  /** Epoch ms from which this key signs new tokens (0 for the first key). Every listed key verifies. */
  readonly signFrom: number;
}

export interface DeviceKeySet {
  readonly keys: readonly DeviceKey[];
}

export class DeviceKeyError extends Error {
  override readonly name = 'DeviceKeyError';
}

/** The smallest key accepted: 32 characters of the generated alphabet carry more than 190 bits. */
const MIN_SECRET_LENGTH = 32;

/**
 * Parses the secret's text: `{"key": "..."}` as the construct generates it, or `{"keys": [{"key", "signFrom"}]}`
 * as a rotation writes it (newest first). Throws a DeviceKeyError that never quotes the text.
 */
export function parseDeviceKeySet(text: string): DeviceKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DeviceKeyError('device token key: the secret is not JSON');
  }
  const entries: unknown[] = Array.isArray((parsed as { keys?: unknown })?.keys)
    ? (parsed as { keys: unknown[] }).keys
    : [{ key: (parsed as { key?: unknown })?.key, signFrom: 0 }];
  if (entries.length === 0 || entries.length > 3) throw new DeviceKeyError('device token key: the secret must list 1 to 3 keys');
  const keys = entries.map((entry, index) => {
    const { key, signFrom = 0 } = (entry ?? {}) as { key?: unknown; signFrom?: unknown };
    if (typeof key !== 'string' || key.length < MIN_SECRET_LENGTH) {
      throw new DeviceKeyError(`device token key: key ${index} must be text of at least ${MIN_SECRET_LENGTH} characters`);
    }
    if (typeof signFrom !== 'number' || !Number.isFinite(signFrom) || signFrom < 0) {
      throw new DeviceKeyError(`device token key: key ${index} has a signFrom that is not a time`);
    }
    return { secret: Buffer.from(key, 'utf8'), signFrom };
  });
  return { keys };
}

/** The key new tokens are signed with: the newest whose `signFrom` has come. */
export function signingKey(set: DeviceKeySet, now: number): DeviceKey | undefined {
  return set.keys.find((key) => key.signFrom <= now);
}

export interface DeviceTokenClaims {
  readonly sub: string;
  /** The random device id: the bucket this token counts in. */
  readonly did: string;
  /** Issue time and expiry, epoch ms. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/**
 * Issues a token for `sub`, or undefined when no key signs yet. `did` keeps the device id of the token the sign-in
 * came with, so a device stays one device (one bucket) across sign-ins and its older tokens can be superseded;
 * without one, a new random device id.
 */
export function issueDeviceToken(set: DeviceKeySet, sub: string, now: number, lifetimeMs: number, did?: string): string | undefined {
  const key = signingKey(set, now);
  if (key === undefined) return undefined;
  if (did !== undefined && !DEVICE_ID.test(did)) throw new RangeError('device token: a device id is 22 base64url characters');
  const payload = {
    aud: DEVICE_TOKEN_AUDIENCE,
    sub,
    did: did ?? randomBytes(16).toString('base64url'),
    iat: Math.floor(now / 1000),
    exp: Math.floor((now + lifetimeMs) / 1000),
  };
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${mac(key.secret, body).toString('base64url')}`;
}

/** Why a token does not count apart; each of these counts in the anonymous bucket. */
export type TokenRejection = 'absent' | 'malformed' | 'signature' | 'audience' | 'future' | 'expired' | 'other-user' | 'no-key';

export type TokenCheck = { readonly valid: true; readonly claims: DeviceTokenClaims } | { readonly valid: false; readonly reason: TokenRejection };

/**
 * Checks what the client sent against `sub` (the user Cognito resolved; undefined for an unknown name, which a
 * token never turns into anyone). Never throws: whatever the input, the answer is a reason.
 */
export function checkDeviceToken(set: DeviceKeySet | undefined, raw: unknown, sub: string | undefined, now: number): TokenCheck {
  if (raw === undefined || raw === null || raw === '') return rejected('absent');
  if (typeof raw !== 'string' || raw.length > MAX_DEVICE_TOKEN_LENGTH || !TOKEN_SHAPE.test(raw)) return rejected('malformed');
  if (set === undefined || set.keys.length === 0) return rejected('no-key');
  const dot = raw.indexOf('.');
  const body = raw.slice(0, dot);
  const macText = raw.slice(dot + 1);
  const given = Buffer.from(macText, 'base64url');
  // One spelling per token: the last character's unused bits would otherwise give every token four spellings.
  if (given.toString('base64url') !== macText) return rejected('malformed');
  // Every key is tried, whichever matches: the work does not depend on the token.
  let matched = false;
  for (const key of set.keys) matched = timingSafeEqual(mac(key.secret, body), given) || matched;
  if (!matched) return rejected('signature');
  const claims = readPayload(body);
  if (claims === undefined) return rejected('malformed');
  if (claims.aud !== DEVICE_TOKEN_AUDIENCE) return rejected('audience');
  if (claims.iat * 1000 > now + ISSUE_SKEW_MS) return rejected('future');
  if (claims.exp * 1000 <= now) return rejected('expired');
  if (sub === undefined || claims.sub !== sub) return rejected('other-user');
  return { valid: true, claims: { sub: claims.sub, did: claims.did, issuedAt: claims.iat * 1000, expiresAt: claims.exp * 1000 } };
}

function rejected(reason: TokenRejection): TokenCheck {
  return { valid: false, reason };
}

function mac(secret: Buffer, body: string): Buffer {
  return createHmac('sha256', secret).update(MAC_PREFIX).update(body).digest();
}

function readPayload(body: string): { aud: unknown; sub: string; did: string; iat: number; exp: number } | undefined {
  try {
    const value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { aud, sub, did, iat, exp } = value;
    if (typeof sub !== 'string' || sub === '' || typeof did !== 'string' || !DEVICE_ID.test(did)) return undefined;
    if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return undefined;
    return { aud, sub, did, iat: iat as number, exp: exp as number };
  } catch {
    return undefined;
  }
}
