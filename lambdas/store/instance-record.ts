import { type LockoutState, type RateLimitPolicy, type Transition, decideAttempt, isLocked, windowCutoff } from '../policy/policy';

/**
 * What one function instance remembers about an identity it decided recently, so that it can keep deciding
 * when the store fails instead of admitting blindly.
 *
 * With the store up, the store decides and this record only mirrors what it answered. With the store failing,
 * the instance decides with the same pure policy (`decideAttempt`) from this record, counting:
 *   - the state the store last reported (other instances' attempts included, so the bound only tightens),
 *   - the attempts it admitted itself without the store (`unsynced`), which the store never counted, and
 *   - the attempts whose store requests are still in flight, as if each will be admitted.
 * Hence at most N admissions per identity per window in one instance while the store fails, however many
 * concurrent attempts a storm brings, and however often the store flaps: admissions the store never saw stay
 * counted until their window ends, and are added to what the store reports when it comes back.
 */
export interface InstanceEntry {
  /** The identity's state as the store last reported it, or the lock this instance started without it. */
  readonly state: LockoutState | undefined;
  /** Admissions this instance made without the store, in the window that began at `unsyncedSince`. */
  readonly unsynced: number;
  readonly unsyncedSince: number;
  /** When those admissions stop counting (the end of their window): until then the entry must not be evicted. */
  readonly unsyncedUntil: number;
  /** `state` holds a lock this instance started without the store; it is written to the store when it answers. */
  readonly unsyncedLock: boolean;
  /** When that lock began (epoch ms): a clear the store reports at or after it lifts it (`forgetCleared`). */
  readonly unsyncedLockAt: number;
  /** Store requests for this identity still under way in this instance. */
  readonly inFlight: number;
  /** The instance's sequence number of the request whose answer set `state`: answers arrive out of order. */
  readonly stateSeq: number;
}

export const EMPTY_ENTRY: InstanceEntry = {
  state: undefined,
  unsynced: 0,
  unsyncedSince: 0,
  unsyncedUntil: 0,
  unsyncedLock: false,
  unsyncedLockAt: 0,
  inFlight: 0,
  stateSeq: 0,
};

/** An entry that knows nothing: the record need not keep it. */
function isEmpty(entry: InstanceEntry): boolean {
  return entry.state === undefined && entry.unsynced === 0 && !entry.unsyncedLock && entry.inFlight === 0;
}

/**
 * How firmly the record keeps an entry at `now`:
 * - 'pinned': it holds what the store does not know and still counts (admissions in their window, or a lock this
 *   instance made alone that has not ended), or a request is in flight. Never evicted: forgetting it would lift
 *   the bound.
 * - 'locked': the store reported a lock that has not ended. Evicted only when nothing else can go: the store
 *   still holds that lock, and should the store fail, this instance has admitted nothing for the identity in
 *   the lock's window, so the bound (at most N admissions by this instance) holds even if it forgets.
 * - 'loose': anything else.
 * Expired admissions and locks loosen by themselves, so a spray of names leaves the record as its windows end.
 */
export function holdOf(entry: InstanceEntry, now: number): 'pinned' | 'locked' | 'loose' {
  if (entry.inFlight > 0 || (entry.unsynced > 0 && entry.unsyncedUntil > now) || (entry.unsyncedLock && isLocked(entry.state, now))) return 'pinned';
  return isLocked(entry.state, now) ? 'locked' : 'loose';
}

/**
 * What a clear the store reports (a password reset or an operator unlock, `clearedAt`) does to what this instance
 * holds alone: a lock it started at or before the clear is lifted, and admissions from before the clear are
 * forgotten, as the clear forgot the store's. Without this, the instance would write its old lock back at the
 * owner's next sign-in.
 */
export function forgetCleared(entry: InstanceEntry, stored: LockoutState | undefined): InstanceEntry {
  const clearedAt = stored?.clearedAt;
  if (clearedAt === undefined) return entry;
  let next = entry;
  if (next.unsyncedLock && next.unsyncedLockAt <= clearedAt) next = { ...next, state: stored, unsyncedLock: false, unsyncedLockAt: 0 };
  if (next.unsynced > 0 && next.unsyncedSince <= clearedAt) next = { ...next, unsynced: 0, unsyncedSince: 0 };
  return next;
}

/** Drops what has expired at `now`: unsynced admissions whose window ended, a local lock that ended. */
export function pruneEntry(entry: InstanceEntry, now: number, policy: RateLimitPolicy): InstanceEntry {
  let next = entry;
  if (next.unsynced > 0 && next.unsyncedSince <= windowCutoff(now, policy)) next = { ...next, unsynced: 0, unsyncedSince: 0 };
  if (next.unsyncedLock && !isLocked(next.state, now)) next = { ...next, unsyncedLock: false, unsyncedLockAt: 0 };
  return next;
}

export interface LocalDecision {
  readonly transition: Transition;
  /** True when the attempt is admitted. */
  readonly admitted: boolean;
  /** Refused only because attempts in flight may use up the limit; nothing recorded. */
  readonly contended: boolean;
  readonly entry: InstanceEntry;
}

/**
 * Decides one attempt without the store, from the instance's record. Attempts in flight are counted as
 * admitted, since any of them may still be admitted by the store and a storm must not slip between them; but
 * they only hold this attempt back ('contended'), they never start a lock: they may all be refused yet.
 */
export function decideWithoutStore(entry: InstanceEntry, now: number, policy: RateLimitPolicy): LocalDecision {
  const current = pruneEntry(entry, now, policy);
  const settled = decideAttempt(effectiveState({ ...current, inFlight: 0 }, now, policy), now, policy);
  let transition = current.inFlight > 0 && admits(settled) ? decideAttempt(effectiveState(current, now, policy), now, policy) : settled;
  if (transition !== settled && !admits(transition)) return { transition, admitted: false, contended: true, entry: current };
  switch (transition.kind) {
    case 'refuse-locked':
      return { transition, admitted: false, contended: false, entry: current };
    case 'start-lockout': {
      // Never a permanent lock without the store: a lock held only here lasts at most one maximum lockout, so the
      // clear that lifts it (a reset, an unlock) is remembered long enough, and whether it becomes permanent is the
      // store's to decide when it answers again.
      if (transition.permanent) transition = { ...transition, permanent: false, next: capped(transition.next, now, policy) };
      // The lock subsumes the window's admissions, as in the store.
      return {
        transition,
        admitted: false,
        contended: false,
        entry: { ...current, state: transition.next, unsynced: 0, unsyncedSince: 0, unsyncedLock: true, unsyncedLockAt: now },
      };
    }
    case 'count':
    case 'reset-window':
      return {
        transition,
        admitted: true,
        contended: false,
        entry: {
          ...current,
          unsynced: current.unsynced + 1,
          unsyncedSince: current.unsynced === 0 ? now : current.unsyncedSince,
          unsyncedUntil: (current.unsynced === 0 ? now : current.unsyncedSince) + policy.windowMs,
        },
      };
  }
}

function capped(next: LockoutState, now: number, policy: RateLimitPolicy): LockoutState {
  const lockedUntil = now + policy.maxLockoutMs;
  return { ...next, lockedUntil, windowStart: lockedUntil };
}

function admits(transition: Transition): boolean {
  return transition.kind === 'count' || transition.kind === 'reset-window';
}

/**
 * The state a decision without the store starts from: the store's last word (or the instance's own lock), with
 * the unsynced admissions and the attempts in flight counted into the current window.
 */
export function effectiveState(entry: InstanceEntry, now: number, policy: RateLimitPolicy): LockoutState | undefined {
  const { state } = entry;
  const pending = entry.unsynced + entry.inFlight;
  if (pending === 0 || isLocked(state, now)) return state;
  const base = state ?? { failures: 0, windowStart: now, lockedUntil: 0, lockouts: 0, rev: 0 };
  const open = state !== undefined && base.windowStart > windowCutoff(now, policy);
  // A window opened by the pending attempts alone is dated by the oldest unsynced one, so it expires with them.
  const windowStart = entry.unsynced > 0 ? entry.unsyncedSince : now;
  return open ? { ...base, failures: base.failures + pending } : { ...base, failures: pending, windowStart };
}

/**
 * What the instance must add to an admission the store granted: its own unsynced admissions, or a lock it
 * started while the store was failing. Returns the transition to write through the store (the store's state
 * `stored`, which already counts this attempt, is the compare-and-set base), or undefined when the store's
 * admission stands.
 */
export function overrideAdmission(entry: InstanceEntry, stored: LockoutState, now: number, policy: RateLimitPolicy): Transition | undefined {
  const current = pruneEntry(entry, now, policy);
  if (current.unsyncedLock && current.state !== undefined) {
    const lock = current.state;
    return {
      kind: 'start-lockout',
      next: {
        ...stored,
        failures: 0,
        windowStart: lock.lockedUntil,
        lockedUntil: lock.lockedUntil,
        lockouts: Math.max(lock.lockouts, stored.lockouts),
        rev: stored.rev + 1,
      },
      permanent: false,
    };
  }
  if (current.unsynced === 0) return undefined;
  // `stored` counts this attempt; before it the identity had stored.failures - 1 plus the unsynced admissions.
  const before: LockoutState = { ...stored, failures: stored.failures - 1 + current.unsynced };
  const transition = decideAttempt(before, now, policy);
  return transition.kind === 'start-lockout' ? transition : undefined;
}

/**
 * The record after the store reported `stored` to the request numbered `seq` (admitted, refused or contended).
 * Answers arrive out of order under concurrency, so a lock is never replaced by the unlocked state a request
 * sent before it saw: that request reached the store before the lock (after it, it would have been refused).
 */
export function afterStoreAnswer(
  entry: InstanceEntry,
  stored: LockoutState | undefined,
  now: number,
  policy: RateLimitPolicy,
  seq: number,
): InstanceEntry {
  const current = pruneEntry(entry, now, policy);
  if (stored !== undefined && isLocked(stored, now)) {
    // A stored lock subsumes the unsynced admissions, unless this instance holds a longer lock of its own.
    if (current.unsyncedLock && current.state !== undefined && current.state.lockedUntil > stored.lockedUntil) return current;
    return {
      ...current,
      state: stored,
      unsynced: 0,
      unsyncedSince: 0,
      unsyncedLock: false,
      unsyncedLockAt: 0,
      stateSeq: Math.max(seq, current.stateSeq),
    };
  }
  if (current.unsyncedLock) return current;
  if (isLocked(current.state, now) && seq < current.stateSeq) return current;
  return { ...current, state: stored, stateSeq: Math.max(seq, current.stateSeq) };
}

/**
 * The record after a successful sign-in in this instance (post-authentication sharing the process, as in the
 * sandbox): the same rule as the store's, it forgets failures unless locked.
 */
export function afterSuccess(entry: InstanceEntry, now: number): InstanceEntry {
  if (isLocked(entry.state, now)) return entry;
  return { ...EMPTY_ENTRY, inFlight: entry.inFlight };
}

export interface InstanceRecordLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** A measured upper bound of an entry's footprint besides its key: the object, its state, the Map slot. */
export const ENTRY_OVERHEAD_BYTES = 160;

/**
 * The longest key a function records: a device bucket's (device-bucket.ts `deviceRecordKey`), a sign-in key
 * ("signin#" and 64 hex digits), '#', and a 22-character device id. Sign-in keys are 71 characters, sign-up keys at
 * most 84 ("signup-email-domain#" and 64 hex digits). Checked against the key builders in test/store-guard.test.ts.
 */
export const LONGEST_RECORD_KEY_LENGTH = 'signin#'.length + 64 + 1 + 22;

/** Identities (keys) an instance's record holds, whatever kind of key. */
export const RECORD_CAPACITY = 10_000;

/**
 * 10,000 identities: enough for every identity a warm instance decides in a window of an attack at Cognito's default
 * 120 sign-ins per second for over a minute. The byte bound is derived from it, for the longest key the functions
 * record, so that it never binds first: the capacity is 10,000 identities of any kind (about 2.4 MiB at most, small
 * next to a 128 MB function). It stays as a guard should a longer key ever be recorded.
 */
export const DEFAULT_RECORD_LIMITS: InstanceRecordLimits = {
  maxEntries: RECORD_CAPACITY,
  maxBytes: RECORD_CAPACITY * (LONGEST_RECORD_KEY_LENGTH + ENTRY_OVERHEAD_BYTES),
};

/**
 * The instance's record of identities, least recently used out, bounded in entries and in bytes. Pinned entries
 * (`holdOf`) are never evicted: a spray of names during an outage must not push out a victim's unsynced
 * admissions or lock. When every entry is pinned, `hasRoom` says no and the caller decides the new identity
 * conservatively (store-guard.ts refuses it). Entries for requests in flight are the one exception to the bound:
 * they are added even when the record is full, and they are as many as the requests this instance has open.
 */
export class InstanceRecord {
  private readonly entries = new Map<string, InstanceEntry>();
  private bytes = 0;

  constructor(
    readonly limits: InstanceRecordLimits = DEFAULT_RECORD_LIMITS,
    private readonly clock: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get approximateBytes(): number {
    return this.bytes;
  }

  /** The entry for `key` (an empty one when unknown), now the most recently used. */
  get(key: string): InstanceEntry {
    const entry = this.entries.get(key);
    if (entry === undefined) return EMPTY_ENTRY;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, entry: InstanceEntry): void {
    const had = this.entries.delete(key);
    if (isEmpty(entry)) {
      // Nothing to remember; dropping it keeps a burst of one-off names from occupying the record.
      if (had) this.bytes -= footprint(key);
      return;
    }
    if (!had) this.bytes += footprint(key);
    this.entries.set(key, entry);
    this.evict();
  }

  update(key: string, change: (entry: InstanceEntry) => InstanceEntry): InstanceEntry {
    const next = change(this.get(key));
    this.set(key, next);
    return next;
  }

  /** Whether `key` is recorded, or can be: there is room, or an entry that is not pinned can make room. */
  hasRoom(key: string): boolean {
    if (this.entries.has(key)) return true;
    this.evict(footprint(key));
    return this.fits(footprint(key));
  }

  private fits(extraBytes: number): boolean {
    const extraEntries = extraBytes > 0 ? 1 : 0;
    return this.entries.size + extraEntries <= this.limits.maxEntries && this.bytes + extraBytes <= this.limits.maxBytes;
  }

  /**
   * Evicts least recently used entries until the record (plus `extraBytes` for one more) fits: loose ones first,
   * then store-reported locks, never pinned ones (`holdOf`).
   */
  private evict(extraBytes = 0): void {
    if (this.fits(extraBytes)) return;
    const now = this.clock();
    for (const evictable of [['loose'], ['loose', 'locked']]) {
      for (const [key, entry] of this.entries) {
        if (this.fits(extraBytes)) return;
        if (!evictable.includes(holdOf(entry, now))) continue;
        this.entries.delete(key);
        this.bytes -= footprint(key);
      }
    }
  }
}

function footprint(key: string): number {
  // Keys are ASCII ("signin#" and 64 hex digits); V8 stores them one byte per character.
  return key.length + ENTRY_OVERHEAD_BYTES;
}
