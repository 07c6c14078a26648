/**
 * The table is the outbox. A decision makes its one write and returns; what the write means beyond the decision
 * (a lock started, a lock lifted) is read afterwards from the table's DynamoDB stream, by functions no stranger
 * can make wait. This module is the contract of that flow, pure and shared by the writers (the triggers, the
 * admin CLI), the stream consumers (the announcer, the notifier), the construct (its event filters) and the
 * sandbox (which polls DynamoDB Local's stream the way Lambda's event source mapping does).
 *
 * Every write of a lockout item says what it did in `op`, so a stream filter can pick the few that matter
 * without comparing images (filters cannot compare two attributes):
 *   count            an attempt counted, a window (re)started: ordinary, never delivered to a consumer
 *   lock             a sign-in lock started (pre-authentication, or an instance writing back its own lock)
 *   reset            a confirmed password reset cleared the identity (post-confirmation)
 *   operator-lock    an operator locked it (admin CLI)
 *   operator-unlock  an operator unlocked it (admin CLI)
 *   success          a sign-in succeeded on an item that remembers a recent clear (zeroed, not deleted)
 *   operator-revoke  an operator revoked a user's device tokens (admin CLI; not news: no lock starts or ends)
 * A successful sign-in otherwise deletes the item: a REMOVE whose old image has a lockout streak ends that streak.
 * TTL deletions (the stream marks them with the DynamoDB service as the user identity) are clean-up, not news.
 *
 * A known user's item carries its `sub` (written with a lock or a clear), so the notifier can find the address in
 * the pool; nothing else about the user, no typed name, no address.
 */
import { createHash } from 'node:crypto';
import { PARTITION_KEY } from '../shared/contract';
import { PERMANENT_LOCK_UNTIL } from '../policy/policy';

export const OP_ATTRIBUTE = 'op';
export const SUB_ATTRIBUTE = 'sub';

export type ItemOp = 'count' | 'lock' | 'reset' | 'operator-lock' | 'operator-unlock' | 'success' | 'operator-revoke' | 'uncounted';

/** The ops a stream consumer is invoked for (besides REMOVEs that end a streak). */
export const NEWS_OPS: readonly ItemOp[] = ['lock', 'reset', 'operator-lock', 'operator-unlock', 'uncounted'];

/** The prefix of notice requests: the announcer writes one per lock, the notifier's stream filter picks them. */
export const NOTICE_PREFIX = 'notice#';
/** Per-recipient limit records (`notice-recipient#<hash of sub>`) and the global hourly counters (`notice-hour#<hour>`). */
export const NOTICE_RECIPIENT_PREFIX = 'notice-recipient#';
export const NOTICE_HOUR_PREFIX = 'notice-hour#';

/** An item image as the stream carries it, unmarshalled. */
export type Image = Record<string, unknown>;

/** One stream record, reduced to what the consumers read. */
export interface StreamChange {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly key: string;
  readonly oldImage?: Image;
  readonly newImage?: Image;
  /** True for a deletion by the table's TTL. */
  readonly byTtl: boolean;
}

export type Bucket = 'anonymous' | 'device';

/** What a change means for the world outside the table; undefined when it means nothing there. */
export type Announcement =
  | {
      readonly type: 'AccountLocked';
      /** Stable for one lock, whichever record, retry or duplicate delivery carries it: consumers de-duplicate on it. */
      readonly id: string;
      readonly key: string;
      /** Which kind of bucket: the user's anonymous one, or a device token's (device-bucket.ts). */
      readonly bucket: Bucket;
      readonly reason: 'failed-attempts' | 'operator';
      readonly lockedUntil: number;
      readonly permanent: boolean;
      readonly lockouts: number;
      readonly sub?: string;
      /** The operator, as the admin CLI recorded it for events (redacted). */
      readonly operator?: string;
    }
  | {
      /** A successful sign-in that pre-authentication did not count (accounting.ts). */
      readonly type: 'SignInUncounted';
      readonly id: string;
      readonly key: string;
      readonly bucket: 'anonymous';
      readonly reason: 'no-counted-attempt';
      readonly sub?: string;
      readonly clientId?: string;
      readonly operator?: undefined;
    }
  | {
      readonly type: 'AccountUnlocked';
      readonly id: string;
      readonly key: string;
      readonly bucket: Bucket;
      readonly reason: 'password-reset' | 'operator' | 'sign-in';
      readonly sub?: string;
      readonly operator?: string;
    };

const num = (image: Image | undefined, name: string): number => {
  const value = image?.[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
};
const text = (image: Image | undefined, name: string): string | undefined => {
  const value = image?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** A short, stable id from the parts that make one happening one. */
export function announcementId(...parts: Array<string | number>): string {
  return createHash('sha256').update(parts.join('|'), 'utf8').digest('hex').slice(0, 32);
}

/** Lockout state items only: sign-in keys. Sign-up counters, audit items and notices are not announced. */
export function isSignInKey(key: string): boolean {
  return key.startsWith('signin#');
}

/**
 * What a stream change announces. Pure: the same record always gives the same answer, so a retried or duplicated
 * delivery gives the same event id.
 */
export function announcementOf(change: StreamChange): Announcement | undefined {
  if (!isSignInKey(change.key) || change.byTtl) return undefined;
  const { oldImage: before, newImage: after } = change;
  // A successful sign-in deleted the item: a lockout streak, if there was one, is over.
  if (change.eventName === 'REMOVE') return streakEnded(change.key, before, text(before, SUB_ATTRIBUTE));
  const op = text(after, OP_ATTRIBUTE) as ItemOp | undefined;
  const sub = text(after, SUB_ATTRIBUTE) ?? text(before, SUB_ATTRIBUTE);
  const lockedUntil = num(after, 'lockedUntil');
  // Only a user's devices item says so (device-bucket.ts); every other sign-in item is an anonymous bucket.
  const bucket: Bucket = text(after, 'bucket') === 'device' ? 'device' : 'anonymous';
  switch (op) {
    case 'lock':
    case 'operator-lock': {
      // Only a lock that is new or longer than the one before: a rewrite of the same lock is the same news.
      if (lockedUntil <= num(before, 'lockedUntil')) return undefined;
      return {
        type: 'AccountLocked',
        id: announcementId(change.key, 'locked', lockedUntil),
        key: change.key,
        bucket,
        reason: op === 'lock' ? 'failed-attempts' : 'operator',
        lockedUntil,
        permanent: lockedUntil >= PERMANENT_LOCK_UNTIL,
        lockouts: num(after, 'lockouts'),
        sub,
        operator: op === 'operator-lock' ? text(after, 'operator') : undefined,
      };
    }
    case 'reset':
    case 'operator-unlock': {
      // An unlock is news when there was a lock to lift at the time of the clear.
      const clearedAt = num(after, 'clearedAt');
      if (num(before, 'lockedUntil') <= clearedAt) return undefined;
      return {
        type: 'AccountUnlocked',
        id: announcementId(change.key, 'unlocked', clearedAt),
        key: change.key,
        bucket,
        reason: op === 'reset' ? 'password-reset' : 'operator',
        sub,
        operator: op === 'operator-unlock' ? text(after, 'operator') : undefined,
      };
    }
    case 'success':
      // A successful sign-in zeroed the item: news when it ended a lockout streak.
      return streakEnded(change.key, before, sub);
    case 'uncounted':
      return {
        type: 'SignInUncounted',
        id: announcementId(change.key, 'uncounted', num(after, 'uncountedAt')),
        key: change.key,
        bucket: 'anonymous',
        reason: 'no-counted-attempt',
        sub,
        clientId: text(after, 'clientId'),
      };
    default:
      return undefined;
  }
}

/** A successful sign-in cleared the item `before` described: news only when it ended a lockout streak. */
function streakEnded(key: string, before: Image | undefined, sub: string | undefined): Announcement | undefined {
  if (num(before, 'lockouts') === 0) return undefined;
  return { type: 'AccountUnlocked', id: announcementId(key, 'sign-in', num(before, 'rev')), key, bucket: 'anonymous', reason: 'sign-in', sub };
}

/** The hashed identity the logs and events use for a key (the first 16 hex digits of its hash). */
export function logIdOf(key: string): string {
  return key.slice(key.indexOf('#') + 1, key.indexOf('#') + 17);
}

/**
 * A request for a lock notice: written by the announcer (conditionally: one per lock, however often the stream
 * delivers the lock) and read from the stream by the notifier. Holds no address: the notifier asks the pool.
 */
export interface NoticeRequest {
  readonly [PARTITION_KEY]: string;
  readonly sub: string;
  /** Epoch ms; PERMANENT_LOCK_UNTIL for a permanent lock. */
  readonly lockedUntil: number;
  readonly permanent: boolean;
  /** Whether a password reset would lift this lock (unlockOnPasswordReset): the notice mentions it only then. */
  readonly resetUnlocks: boolean;
  /** The hashed identity, for the notifier's logs. */
  readonly identity: string;
  readonly requestedAt: number;
  readonly expiresAt: number;
}

/** How long a notice request (and its outcome) is kept: the idempotency record must outlive stream retention (24 h). */
export const NOTICE_RECORD_SECONDS = 7 * 24 * 3600;

export function noticeKey(lockId: string): string {
  return `${NOTICE_PREFIX}${lockId}`;
}

/**
 * The event source mappings' filters, as Lambda's filter criteria patterns (the construct serializes them; the
 * sandbox applies them with the same subset of the pattern language). Ordinary attempts (`op` = count) match none,
 * so they never invoke a consumer.
 */
export const ANNOUNCER_FILTERS: readonly object[] = [
  { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { [OP_ATTRIBUTE]: { S: [...NEWS_OPS] } } } },
  // A successful sign-in zeroes its item: news only when it ends a lockout streak, so ordinary sign-ins invoke nothing.
  {
    eventName: ['MODIFY'],
    dynamodb: { NewImage: { [OP_ATTRIBUTE]: { S: ['success'] } }, OldImage: { lockouts: { N: [{ 'anything-but': ['0'] }] } } },
  },
  // A deletion that ends a lockout streak, by a sign-in rather than by TTL (which names the DynamoDB service).
  { eventName: ['REMOVE'], userIdentity: { type: [{ exists: false }] }, dynamodb: { OldImage: { lockouts: { N: [{ 'anything-but': ['0'] }] } } } },
];

export const NOTIFIER_FILTERS: readonly object[] = [
  { eventName: ['INSERT'], dynamodb: { Keys: { [PARTITION_KEY]: { S: [{ prefix: NOTICE_PREFIX }] } } } },
];
