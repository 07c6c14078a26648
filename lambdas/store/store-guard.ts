import { type CircuitChange, CircuitBreaker } from './circuit-breaker';
import { DeadlineExceededError, withDeadline } from '../shared/deadline';
import { retryWithinDeadline } from './retry-within';
import {
  DEFAULT_RECORD_LIMITS,
  EMPTY_ENTRY,
  InstanceRecord,
  afterStoreAnswer,
  afterSuccess,
  decideWithoutStore,
  forgetCleared,
  overrideAdmission,
} from './instance-record';
import { type AttemptResult, NO_STATE, SlowPathGate, registerAttempt, result } from './limiter';
import { type RateLimitPolicy, isLocked } from '../policy/policy';
import { deviceRecordKey, windowIndex } from '../devices/device-bucket';
import { LocalDevicePlaces } from '../devices/local-device-places';
import { type AttemptStore, type ClearResult, DeviceBucketRefusedError, type ItemFacts } from './store';
import { type Telemetry, count, errorFields } from '../shared/telemetry';

/**
 * The store as a decision meets it: the atomic store first, within the time budget; when it fails or the
 * circuit is open, this instance's own record (`instance-record.ts`).
 */
export type GuardedAttempt =
  | {
      readonly kind: 'decided';
      readonly result: AttemptResult;
      readonly storeError?: unknown;
      readonly bypassed: boolean;
      /** Refused because the instance's record is full of identities it must not forget (see `withoutStore`). */
      readonly recordFull?: boolean;
    }
  /** The store failed and the instance does not decide alone (store-error policy `allow` or `deny`). */
  | { readonly kind: 'store-error'; readonly storeError: unknown; readonly bypassed: boolean };

export type { ClearResult } from './store';

/** Raised instead of asking the store while the circuit is open. */
export class StoreBypassedError extends Error {
  override readonly name = 'StoreBypassedError';
  constructor() {
    super('store not asked: the circuit is open after repeated store failures');
  }
}

/**
 * A store write that did not land outside a decision (a success's clear, a password reset's, a mark, a tidy-up):
 * counted (`StoreBypassed` when the open circuit kept it from the store, else `StoreErrors`) and logged with the error.
 */
export function reportStoreError(telemetry: Telemetry, error: unknown, message: string, fields: Record<string, unknown>): void {
  count(telemetry.metrics, error instanceof StoreBypassedError ? 'StoreBypassed' : 'StoreErrors');
  telemetry.logger.error(message, { ...fields, ...errorFields(error) });
}

export interface StoreGuardOptions {
  /** Decide from the instance's record when the store fails (store-error policy `local`). */
  readonly decideLocally: boolean;
  readonly budgetMs: number;
  /** The clock for the circuit: it must move while a request waits, so it is read again after each one. */
  readonly clock: () => number;
  readonly breaker?: CircuitBreaker;
  readonly record?: InstanceRecord;
  /** Told of every circuit state change, for the log and metrics. */
  readonly onCircuitChange?: (change: CircuitChange) => void;
}

export class StoreGuard {
  readonly breaker: CircuitBreaker;
  readonly record: InstanceRecord;
  private readonly gate = new SlowPathGate();
  private readonly places = new LocalDevicePlaces();
  /** Numbers store requests in the order they are sent, to order their answers in the record. */
  private sent = 0;

  constructor(
    readonly store: AttemptStore,
    private readonly options: StoreGuardOptions,
  ) {
    this.breaker = options.breaker ?? new CircuitBreaker();
    this.record = options.record ?? new InstanceRecord(DEFAULT_RECORD_LIMITS, options.clock);
  }

  /**
   * Counts one attempt for `key` (in the device bucket `facts.device` of it, if given): by the store when it answers
   * in time, else by this instance, which keeps every device bucket apart in its record too. Throws
   * DeviceBucketRefusedError when the store says the token does not count apart (not a store failure).
   */
  async attempt(itemKey: string, now: number, policy: RateLimitPolicy, facts: ItemFacts = {}, deadlineAt?: number): Promise<GuardedAttempt> {
    const key = facts.device === undefined ? itemKey : deviceRecordKey(itemKey, facts.device.did);
    // A decision that already spent part of its budget (a device write that sent the attempt to the anonymous
    // bucket) has only the rest: its serial writes share one budget, which the construct counts against the timeout.
    const budgetMs = this.budgetLeft(deadlineAt);
    const alone = (error: unknown, bypassed: boolean) => {
      // Without the store, this instance keeps the store's bound on devices counting apart per window.
      const device = facts.device;
      if (
        device !== undefined &&
        this.options.decideLocally &&
        !this.places.take(itemKey, device.did, windowIndex(now, policy.windowMs), device.maxOpen)
      ) {
        throw new DeviceBucketRefusedError('window-full');
      }
      return this.withoutStore(key, now, policy, error, bypassed);
    };
    if (budgetMs <= 0) return alone(new DeadlineExceededError('no time left in the decision budget'), false);
    const permit = this.breaker.permit(this.options.clock());
    if (permit === 'bypass') return alone(new StoreBypassedError(), true);
    this.record.update(key, (entry) => ({ ...entry, inFlight: entry.inFlight + 1 }));
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      this.record.update(key, (entry) => ({ ...entry, inFlight: entry.inFlight - 1 }));
    };
    try {
      const answer = await withDeadline(budgetMs, (abortSignal) => this.countInStore(itemKey, key, now, policy, abortSignal, settle, facts));
      this.circuit(this.breaker.succeeded(permit));
      return { kind: 'decided', result: answer, bypassed: false };
    } catch (error) {
      settle();
      if (error instanceof DeviceBucketRefusedError) {
        this.circuit(this.breaker.succeeded(permit));
        throw error;
      }
      this.circuit(this.breaker.failed(permit, this.options.clock()));
      return alone(error, false);
    }
  }

  /** When a decision starting now must have its store answers by: one budget, shared by its serial writes. */
  decisionDeadline(): number {
    return this.options.clock() + this.options.budgetMs;
  }

  /** The circuit is closed and the store answered the last request: optional work may ask it. */
  healthy(): boolean {
    return this.breaker.healthy;
  }

  /** The store budget, for callers that decide whether one more wait still fits. */
  get budgetMs(): number {
    return this.options.budgetMs;
  }

  /** A successful sign-in: forgets failures unless locked, in the store and in this instance's record. */
  async clear(key: string, now: number, policy: RateLimitPolicy, deadlineAt?: number): Promise<ClearResult> {
    this.record.update(key, (entry) => afterSuccess(entry, now));
    return this.write((abortSignal) => this.store.clearUnlessLocked(key, now, policy, { abortSignal }), deadlineAt);
  }

  /** A successful sign-in with a device token: removes its bucket unless locked, in the store and in this instance's record. */
  async clearDevice(itemKey: string, did: string, now: number, policy: RateLimitPolicy): Promise<ClearResult> {
    this.record.update(deviceRecordKey(itemKey, did), (entry) => afterSuccess(entry, now));
    this.places.release(itemKey, did);
    return this.write((abortSignal) => this.store.clearDevice(itemKey, did, now, policy.windowMs, { abortSignal }));
  }

  /** An uncounted sign-in (accounting.ts): marked for the stream's announcer, in what is left of the success's budget. */
  async markUncounted(key: string, now: number, facts: { readonly sub?: string; readonly clientId?: string }, deadlineAt: number): Promise<void> {
    return this.write((abortSignal) => this.store.markUncounted(key, now, facts, { abortSignal }), deadlineAt);
  }

  /** At a sign-in: removes the user's device buckets that no longer matter (store.ts), behind the circuit and the budget. */
  async pruneDevices(itemKey: string, now: number, policy: RateLimitPolicy, spare?: string): Promise<number> {
    return this.write((abortSignal) => this.store.pruneDevices(itemKey, now, policy, { abortSignal }, spare));
  }

  /**
   * A confirmed password reset: voids every device bucket of the user in the store (instance records forget on their
   * next answer) and revokes the tokens issued before it. That revocation must not be lost, so the write is tried
   * again after short pauses for as long as the one store budget lasts (retry-within.ts), and it is sent even while
   * the circuit is open: resets are rare, and a lost revocation costs more than one budget's wait. The circuit is
   * neither asked nor told. Throws the last error when the budget runs out before the write lands; the caller then
   * fails the reset (post-confirmation.ts).
   */
  async clearDevices(itemKey: string, permanentToo: boolean, now: number, facts: ItemFacts = {}): Promise<'cleared' | 'permanent'> {
    return retryWithinDeadline(this.options.budgetMs, (abortSignal) =>
      this.store.clearDevices(itemKey, now, 'reset', permanentToo, { abortSignal }, facts),
    );
  }

  /** A confirmed password reset: forgets counts, streak and a temporary lock (or any lock), in the store and here. */
  async clearAfterPasswordReset(
    key: string,
    permanentToo: boolean,
    now: number,
    policy: RateLimitPolicy,
    facts: ItemFacts = {},
  ): Promise<Awaited<ReturnType<AttemptStore['clearAfterPasswordReset']>>> {
    const result = await this.write((abortSignal) => this.store.clearAfterPasswordReset(key, permanentToo, now, policy, { abortSignal }, facts));
    if (result.outcome !== 'permanent') this.record.set(key, EMPTY_ENTRY);
    return result;
  }

  /** One request's budget: the whole store budget, or what is left of a decision's when it started earlier. */
  private budgetLeft(deadlineAt: number | undefined): number {
    return Math.min(this.options.budgetMs, (deadlineAt ?? Number.POSITIVE_INFINITY) - this.options.clock());
  }

  /**
   * One store write behind the circuit and within the budget; throws the store's error (or StoreBypassedError).
   * `deadlineAt`: a write that follows another of the same budget gets only what is left of it.
   */
  private async write<T>(send: (abortSignal: AbortSignal) => Promise<T>, deadlineAt?: number): Promise<T> {
    const budgetMs = this.budgetLeft(deadlineAt);
    if (budgetMs <= 0) throw new DeadlineExceededError('no time left in the budget');
    const permit = this.breaker.permit(this.options.clock());
    if (permit === 'bypass') throw new StoreBypassedError();
    try {
      const outcome = await withDeadline(budgetMs, send);
      this.circuit(this.breaker.succeeded(permit));
      return outcome;
    } catch (error) {
      this.circuit(this.breaker.failed(permit, this.options.clock()));
      throw error;
    }
  }

  private async countInStore(
    itemKey: string,
    key: string,
    now: number,
    policy: RateLimitPolicy,
    abortSignal: AbortSignal,
    settle: () => void,
    facts: ItemFacts,
  ): Promise<AttemptResult> {
    const seq = ++this.sent;
    const answer = await registerAttempt(this.store, itemKey, now, policy, { abortSignal, gate: this.gate }, facts);
    settle();
    // A reset or an unlock since this instance's own lock or admissions: those are void (instance-record.ts).
    if (answer.state.clearedAt !== undefined) this.record.update(key, (entry) => forgetCleared(entry, answer.state));
    const override =
      answer.outcome === 'admitted' && this.options.decideLocally ? overrideAdmission(this.record.get(key), answer.state, now, policy) : undefined;
    if (override === undefined || override.kind !== 'start-lockout') {
      this.record.update(key, (entry) => afterStoreAnswer(entry, answer.state, now, policy, seq));
      return answer;
    }
    // The store admitted, but with what this instance admitted alone while the store was failing the identity is
    // over its limit (or this instance locked it then). Refuse, and write the lock through the store so the
    // other instances and the admin CLI see it. A decision never makes more than two requests: after two, the
    // lock stays in this instance's record and is written at the next attempt.
    const entry = this.record.get(key);
    const wasLocked = entry.unsyncedLock && isLocked(entry.state, now);
    const outcome = wasLocked ? 'locked' : 'lockout-started';
    const lockAt = wasLocked ? entry.unsyncedLockAt : now;
    if (answer.requests >= 2) {
      this.record.set(key, { ...entry, state: override.next, unsynced: 0, unsyncedSince: 0, unsyncedLock: true, unsyncedLockAt: lockAt });
      return result(outcome, override.next, answer.requests);
    }
    const written = await this.store.compareAndSet(itemKey, answer.state, override.next, policy, { abortSignal }, facts);
    const seen = written.ok ? written.value : (written.observed ?? NO_STATE);
    this.record.update(key, (current) =>
      written.ok || isLocked(seen, now)
        ? afterStoreAnswer(current, seen, now, policy, seq)
        : { ...current, state: override.next, unsyncedLock: true, unsyncedLockAt: lockAt, unsynced: 0, unsyncedSince: 0 },
    );
    return result(written.ok ? outcome : isLocked(seen, now) ? 'locked' : 'contended', written.ok ? override.next : seen, 2);
  }

  private withoutStore(key: string, now: number, policy: RateLimitPolicy, storeError: unknown, bypassed: boolean): GuardedAttempt {
    if (!this.options.decideLocally) return { kind: 'store-error', storeError, bypassed };
    if (!this.record.hasRoom(key)) {
      // Every identity the record holds is one it must not forget. Forgetting one would lift the bound for it;
      // admitting a new one without recording it would leave that one unbounded. So the new identity is refused
      // (not counted, as a contended attempt is) until entries expire: only during an outage, and only after
      // someone sprayed more identities at this instance than the record holds.
      return { kind: 'decided', result: result('contended', NO_STATE, 0, 'instance'), storeError, bypassed, recordFull: true };
    }
    const decision = decideWithoutStore(this.record.get(key), now, policy);
    this.record.set(key, decision.entry);
    const { transition } = decision;
    const state = transition.kind === 'refuse-locked' ? transition.state : transition.next;
    const outcome = decision.contended
      ? 'contended'
      : transition.kind === 'refuse-locked'
        ? 'locked'
        : transition.kind === 'start-lockout'
          ? 'lockout-started'
          : 'admitted';
    return { kind: 'decided', result: result(outcome, state, 0, 'instance'), storeError, bypassed };
  }

  private circuit(change: CircuitChange | undefined): void {
    if (change !== undefined) this.options.onCircuitChange?.(change);
  }
}
