/**
 * EventBridge events about locks, sent to a bus (the default bus unless configured) so teams can e-mail the
 * user or open a ticket. The announcer sends them, reading the table's stream (outbox.ts): a lock started by
 * failed attempts or by an operator, lifted by a password reset or an operator, or a lockout streak ended by a
 * successful sign-in; and a successful sign-in that pre-authentication did not count (`SignInUncounted`,
 * accounting.ts: a flow that bypasses the lockout). Delivery is at least once: `id` is the same for every delivery of
 * one happening.
 */
import { EVENT_SOURCE } from '../shared/contract';

export type LockoutEventType = 'AccountLocked' | 'AccountUnlocked' | 'SignInUncounted';

export interface LockoutEventDetail {
  /** Stable per lock (or per lift): de-duplicate on it. */
  readonly id: string;
  /** The hashed identity, as in the logs (first 16 hex digits of the key's SHA-256). */
  readonly identity: string;
  readonly userPoolId: string | null;
  /** ISO time, 'permanent', or null for an unlock. */
  readonly lockedUntil: string | null;
  readonly reason: 'failed-attempts' | 'operator' | 'password-reset' | 'sign-in' | 'no-counted-attempt';
  /**
   * Which kind of bucket locked or was lifted: `anonymous` (attempts without a valid device token: the one that
   * locks an account for every new device) or `device` (one device token's own bucket: a stolen or hammered token).
   */
  readonly bucket: 'anonymous' | 'device';
  /** Consecutive lockouts, for lockouts the trigger started. */
  readonly lockouts?: number;
  /** The app client of an uncounted sign-in (`SignInUncounted`). */
  readonly clientId?: string;
  /** Who acted, for operator actions (addresses redacted). */
  readonly operator?: string;
  /** The lockout's mode: in `monitor` mode the lock is recorded but not enforced, and nobody is told. */
  readonly mode: 'enforce' | 'monitor';
}

/** One PutEvents entry. */
export interface LockoutEventEntry {
  readonly Source: string;
  readonly DetailType: LockoutEventType;
  readonly Detail: string;
  readonly EventBusName: string;
}

export function lockoutEventEntry(type: LockoutEventType, detail: LockoutEventDetail, eventBusName: string): LockoutEventEntry {
  return { Source: EVENT_SOURCE, DetailType: type, Detail: JSON.stringify(detail), EventBusName: eventBusName };
}

export function lockedUntilText(lockedUntil: number, permanent: boolean): string {
  return permanent ? 'permanent' : new Date(lockedUntil).toISOString();
}
