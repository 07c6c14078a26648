import { type IdentityRef, identityRef } from '../identity/identity';
import type { LockoutState } from '../policy/policy';

/**
 * Device buckets: every device token of one user counts in its own bucket, and all of a user's device buckets
 * live in one item, keyed by the user's `sub` (`devicesIdentity`), apart from the user's anonymous item. One item,
 * because that is what lets one write check what applies to all of them: an operator's revocation
 * (`revokedBefore`: tokens issued before it are not counted apart) and a reset or unlock (`clearedAt`: device
 * counts and locks written before it are void), each a condition of the decision's single UpdateItem.
 *
 * Each bucket is a set of top-level attributes named after its device id, created with `if_not_exists` by the
 * first attempt (a nested map could not be created and counted in one expression):
 *   <did>.f  failures   <did>.w  windowStart   <did>.l  lockedUntil   <did>.n  lockouts
 *   <did>.r  revision   <did>.a  time of the bucket's last write
 *   <did>.i  the issue time of the newest token of this device counted so far: an older one no longer counts apart
 * A device id is 22 base64url characters, so these names never meet the item's own attributes. A successful
 * sign-in with the token removes its bucket's counts (f, w, l, n, r), keeping `a` and `i`.
 *
 * Two sets on the item bound what tokens buy, however many of them an attacker holds (ID tokens travel: to APIs,
 * into logs), each checked by the condition of every device write:
 *   devices  the device ids with a bucket: at most MAX_DEVICES_PER_USER, so the item stays small (about 6 KB)
 *            whatever users do. A new device beyond it counts in the anonymous bucket until a sign-in tidies.
 *   open     `<window>:<did>` for each device counting in the current failure window (fixed windows of the
 *            policy's length): at most `maxOpen` devices (the setting deviceBucketsPerWindow), so per window the
 *            device buckets admit at most maxOpen × N in all, and every bucket beyond counts anonymously. A successful
 *            sign-in takes its device out again, so the owner's own sign-ins never hold a place.
 *
 * A lock of a device bucket also writes the item's top-level `lockedUntil`, `lockouts` and `bucket = device`, so the
 * announcer (outbox.ts) reads a device lock as it reads any other.
 */

export const REVOKED_BEFORE = 'revokedBefore';
/**
 * An operator's lock of the account (admin CLI `lock`) reaches every device bucket too: it is written here as well
 * as on the anonymous item, read as a lock of each bucket, and checked by the condition of each device write.
 */
export const OPERATOR_LOCKED_UNTIL = 'operatorLockedUntil';
export const BUCKET_ATTRIBUTE = 'bucket';

/** What a device attempt writes against, beside the devices item's key. */
export interface DeviceBucket {
  /** The device id from the token. */
  readonly did: string;
  /** When the token was issued (epoch ms): tokens issued before a revocation are not counted apart. */
  readonly issuedAt: number;
  /** When the decision was made (epoch ms): the bucket's write time, which a later clear compares with. */
  readonly decidedAt: number;
  /** Devices that may count per fixed window (the `open` set's bound; setting deviceBucketsPerWindow). */
  readonly maxOpen: number;
  /** The `open` set as a refused fast-path write saw it: what the slow path replaces, if unchanged. */
  readonly observedOpen?: readonly string[];
}

export type BucketAttribute = 'f' | 'w' | 'l' | 'n' | 'r' | 'a' | 'i';

/** The set of device ids with a bucket (see above). */
export const DEVICES_ATTRIBUTE = 'devices';
/** The set of devices counting in the current fixed window (see above). */
export const OPEN_ATTRIBUTE = 'open';
/**
 * Devices one user's item keeps apart. Each costs about 250 bytes (seven attributes named after it), so the item stays
 * far below DynamoDB's 400 KB limit, and the operator's `unlock` and `lock` transactions keep working, whatever users
 * or attackers do. A device keeps its id across sign-ins (pre token generation reissues it), so this is devices,
 * not sign-ins.
 */
export const MAX_DEVICES_PER_USER = 20;

/** The fixed failure window `now` falls in, which the `open` set counts devices per. */
export function windowIndex(now: number, windowMs: number): number {
  return Math.floor(now / windowMs);
}

/** An element of the `open` set. */
export function openEntry(window: number, did: string): string {
  return `${window}:${did}`;
}

/** The window an `open` element belongs to, or NaN for anything else. */
export function openEntryWindow(entry: string): number {
  return Number(entry.slice(0, entry.indexOf(':')));
}

export function bucketAttribute(did: string, part: BucketAttribute): string {
  return `${did}.${part}`;
}

/** The item holding every device bucket of the user with this `sub`. */
export function devicesIdentity(sub: string): IdentityRef {
  return { ...identityRef('signin', `devices\u0000${sub}`), sub };
}

/** The key the instance's own record keeps one device bucket under (the store keeps them all in one item). */
export function deviceRecordKey(itemKey: string, did: string): string {
  return `${itemKey}#${did}`;
}

/**
 * How long a devices item is kept after its last write: longer than any token lives (400 days, the longest
 * lifetime the settings allow) plus the skew allowed at issue, so a revocation outlives every token it revokes.
 * Every write sets it from its own time, so a write only ever moves it later.
 */
export const DEVICE_ITEM_KEEP_MS = (400 + 1) * 24 * 3600 * 1000;

/**
 * The devices item's TTL (epoch seconds) for a write at `now`: DEVICE_ITEM_KEEP_MS from then, and never before `until`
 * (an operator's lock of the user's devices). The triggers and the admin CLI set it alike.
 */
export function deviceItemTtl(now: number, until = 0): number {
  return Math.ceil(Math.max(now + DEVICE_ITEM_KEEP_MS, until) / 1000);
}

const num = (item: Record<string, unknown>, name: string): number | undefined => {
  const value = item[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
};

/** Whether the item's revocation covers a token issued at `issuedAt`. */
export function isRevoked(item: Record<string, unknown>, issuedAt: number): boolean {
  const revokedBefore = num(item, REVOKED_BEFORE);
  return revokedBefore !== undefined && revokedBefore >= issuedAt;
}

/**
 * One bucket's state as the policy reads it (an operator's lock included), or undefined when the bucket does not
 * exist. A bucket written before
 * the item's last clear reads as empty (no failures, no lock, no streak) but keeps its revision: the write that
 * replaces it is still conditioned on nobody having written it since.
 */
export function deviceState(item: Record<string, unknown>, did: string): LockoutState | undefined {
  const rev = num(item, bucketAttribute(did, 'r'));
  const operatorLock = num(item, OPERATOR_LOCKED_UNTIL) ?? 0;
  // Revision 0: a bucket not written yet, under an operator's lock.
  if (rev === undefined) return operatorLock > 0 ? { failures: 0, windowStart: 0, lockedUntil: operatorLock, lockouts: 0, rev: 0 } : undefined;
  const clearedAt = num(item, 'clearedAt');
  const cleared = clearedAt === undefined ? {} : { clearedAt };
  const writtenAt = num(item, bucketAttribute(did, 'a')) ?? 0;
  if (clearedAt !== undefined && writtenAt <= clearedAt)
    return { failures: 0, windowStart: 0, lockedUntil: operatorLock, lockouts: 0, rev, ...cleared };
  return {
    failures: num(item, bucketAttribute(did, 'f')) ?? 0,
    windowStart: num(item, bucketAttribute(did, 'w')) ?? 0,
    lockedUntil: Math.max(num(item, bucketAttribute(did, 'l')) ?? 0, operatorLock),
    lockouts: num(item, bucketAttribute(did, 'n')) ?? 0,
    rev,
    ...cleared,
  };
}

/** How many of the item's device buckets are locked at `now` (for the admin CLI's status). */
export function lockedDeviceCount(item: Record<string, unknown>, now: number): number {
  let locked = 0;
  for (const name of Object.keys(item)) {
    if (!name.endsWith('.r')) continue;
    if ((deviceState(item, name.slice(0, -2))?.lockedUntil ?? 0) > now) locked += 1;
  }
  return locked;
}
