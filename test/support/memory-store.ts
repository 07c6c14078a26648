import type { LockoutState, RateLimitPolicy } from '../../lambdas/policy/policy';
import { PERMANENT_LOCK_UNTIL, windowCutoff } from '../../lambdas/policy/policy';
import type { AttemptStore, ClearResult, RequestOptions, WriteResult } from '../../lambdas/store/store';

/**
 * How one request fares: answered, failed before the store applied it (throttled, refused connection), or
 * applied by the store with the answer lost (a timeout after the write landed).
 */
export type RequestFate = 'answer' | 'fail' | 'lose-answer';

/**
 * A model of `LockoutStore` in memory, with the same conditions as its DynamoDB expressions (those are proven on
 * DynamoDB Local in store.dynamodb-local.test.ts), for property tests that need thousands of schedules. Every
 * request is atomic; `fate` decides how each one ends, `delay` when its answer arrives.
 */
export class MemoryStore implements AttemptStore {
  requestCount = 0;
  readonly items = new Map<string, LockoutState>();

  constructor(
    private readonly fate: () => RequestFate = () => 'answer',
    private readonly delay: () => Promise<void> = () => Promise.resolve(),
  ) {}

  countAttempt(key: string, now: number, policy: RateLimitPolicy, options?: RequestOptions): Promise<WriteResult> {
    return this.request(options, () => {
      const item = this.items.get(key);
      if (item === undefined || (item.lockedUntil <= now && item.windowStart > windowCutoff(now, policy) && item.failures < policy.maxAttempts)) {
        const next =
          item === undefined
            ? { failures: 1, windowStart: now, lockedUntil: 0, lockouts: 0, rev: 1 }
            : { ...item, failures: item.failures + 1, rev: item.rev + 1 };
        this.items.set(key, next);
        return { ok: true, value: next };
      }
      return { ok: false, observed: item };
    });
  }

  compareAndSet(
    key: string,
    observed: LockoutState | undefined,
    next: LockoutState,
    _policy: RateLimitPolicy,
    options?: RequestOptions,
  ): Promise<WriteResult> {
    return this.request(options, () => {
      const item = this.items.get(key);
      const matches = observed === undefined ? item === undefined : item !== undefined && item.rev === observed.rev;
      if (!matches) return { ok: false, observed: item };
      this.items.set(key, next);
      return { ok: true, value: next };
    });
  }

  /** Device buckets are not modelled here: their expressions are proven on DynamoDB Local (devices.dynamodb-local.test.ts). */
  clearDevice(): Promise<never> {
    return Promise.reject(new Error('MemoryStore does not model device buckets'));
  }

  clearDevices(): Promise<never> {
    return Promise.reject(new Error('MemoryStore does not model device buckets'));
  }

  pruneDevices(): Promise<never> {
    return Promise.reject(new Error('MemoryStore does not model device buckets'));
  }

  clearUnlessLocked(key: string, now: number, _policy: RateLimitPolicy, options?: RequestOptions): Promise<ClearResult> {
    return this.request(options, (): ClearResult => {
      const item = this.items.get(key);
      if (item === undefined) return { outcome: 'absent' };
      if (item.lockedUntil > now) return { outcome: 'locked' };
      // Zeroed, not deleted, as in store.ts (the accounting's stamp is not modelled here).
      this.items.set(key, { ...item, failures: 0, lockouts: 0, windowStart: now, rev: item.rev + 1 });
      return { outcome: 'cleared' };
    });
  }

  markUncounted(): Promise<void> {
    return Promise.resolve();
  }

  clearAfterPasswordReset(
    key: string,
    permanentToo: boolean,
    now: number,
    _policy: RateLimitPolicy,
    options?: RequestOptions,
  ): ReturnType<AttemptStore['clearAfterPasswordReset']> {
    return this.request(options, () => {
      const item = this.items.get(key);
      if (item !== undefined && !permanentToo && item.lockedUntil >= PERMANENT_LOCK_UNTIL) return { outcome: 'permanent' as const };
      this.items.set(key, { failures: 0, windowStart: now, lockedUntil: 0, lockouts: 0, rev: (item?.rev ?? 0) + 1, clearedAt: now });
      return item === undefined ? { outcome: 'absent' as const } : { outcome: 'cleared' as const, removed: item };
    });
  }

  private async request<T>(options: RequestOptions | undefined, apply: () => T): Promise<T> {
    this.requestCount += 1;
    const fate = this.fate();
    await this.delay();
    if (options?.abortSignal?.aborted) throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    if (fate === 'fail') throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException' });
    const answer = apply();
    if (fate === 'lose-answer') throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    return answer;
  }
}
