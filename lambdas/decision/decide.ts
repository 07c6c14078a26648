/** Orchestration: one attempt counted against every key of an event, the verdict, and one log line per key. */
import type { DeviceBucket } from '../devices/device-bucket';
import type { TriggerDeps } from '../runtime/deps';
import type { IdentityRef, KeyScope } from '../identity/identity';
import type { AttemptResult } from '../store/limiter';
import { lockedUntilText } from '../outbox/lockout-events';
import type { RateLimitPolicy } from '../policy/policy';
import { type Telemetry, count, errorFields } from '../shared/telemetry';
import { type DecisionInput, type Verdict, combineInputs, verdictFor } from './verdict';

export interface KeyCheck {
  readonly scope: KeyScope;
  readonly identity: IdentityRef;
  readonly policy: RateLimitPolicy;
  /** A device token's bucket of the identity's item (device-bucket.ts); absent for the anonymous bucket. */
  readonly device?: Omit<DeviceBucket, 'decidedAt'>;
}

export interface Decision {
  readonly verdict: Verdict;
  /** Each key's result, in the order of the checks; undefined where the store failed and nobody decided. */
  readonly results: ReadonlyArray<AttemptResult | undefined>;
  /** The time the decision was made at (epoch ms), for anything derived from it (the refusal's time left). */
  readonly now: number;
  /**
   * Refused only because this instance could not decide: its record is full of identities it must keep during a
   * store outage (store-guard.ts `withoutStore`). Nothing is known against the user, so the trigger answers with the
   * generic message ("try again later"), not the refusal ("too many failed attempts").
   */
  readonly unavailable: boolean;
}

/**
 * Counts one attempt against every key (in parallel, within one time budget, which ends at `deadlineAt` when a
 * decision's earlier write spent part of it) and applies the mode and the store-error policy. Logs one line per key with hashed identities only, and records the metrics.
 */
export async function decideKeys(
  deps: TriggerDeps,
  checks: readonly KeyCheck[],
  context: Record<string, unknown> = {},
  deadlineAt?: number,
): Promise<Decision> {
  const { config, guard, telemetry } = deps;
  const { logger, metrics } = telemetry;
  const now = deps.now();
  const attempts = await Promise.all(
    checks.map((check) =>
      guard.attempt(
        check.identity.key,
        now,
        check.policy,
        { sub: check.identity.sub, device: check.device === undefined ? undefined : { ...check.device, decidedAt: now } },
        deadlineAt,
      ),
    ),
  );

  const inputs: DecisionInput[] = attempts.map((attempt, index) => {
    const check = checks[index];
    const base = { ...context, scope: check.scope, identity: check.identity.logId, ...(check.device === undefined ? {} : { bucket: 'device' }) };
    if (attempt.bypassed) count(metrics, 'StoreBypassed');
    else if (attempt.storeError !== undefined) {
      count(metrics, 'StoreErrors');
      logger.error('lockout store unavailable', { ...base, ...errorFields(attempt.storeError), storeErrorPolicy: config.settings.storeErrorPolicy });
    }
    if (attempt.kind === 'store-error') return 'store-error';
    if (attempt.recordFull) {
      count(metrics, 'InstanceRecordFull');
      logger.warn('instance record full of identities it must keep: new identity turned away with the generic message while the store fails', base);
    }
    logAttempt(telemetry, base, attempt.result);
    if (attempt.result.outcome === 'lockout-started' && check.device !== undefined) count(metrics, 'DeviceLockoutsStarted');
    return attempt.result.outcome;
  });

  const verdict = verdictFor(combineInputs(inputs), config.settings.lockoutMode, config.settings.storeErrorPolicy);
  if (!verdict.allow) count(metrics, 'AttemptsRefused');
  if (verdict.allow && verdict.wouldRefuse) {
    count(metrics, 'WouldRefuse');
    logger.warn('monitor mode: attempt would have been refused', { ...context, scopes: checks.map((c) => c.scope) });
  }
  // Any refusal on what the store or the record knows about an identity wins over a full record's.
  const refusedFor = attempts.filter((a) => a.kind === 'decided' && a.result.outcome !== 'admitted');
  const unavailable = !verdict.allow && refusedFor.length > 0 && refusedFor.every((a) => a.kind === 'decided' && a.recordFull === true);
  return { verdict, now, unavailable, results: attempts.map((a) => (a.kind === 'decided' ? a.result : undefined)) };
}

function logAttempt({ logger, metrics }: Telemetry, base: Record<string, unknown>, result: AttemptResult): void {
  const fields = {
    ...base,
    outcome: result.outcome,
    failures: result.failures,
    lockouts: result.lockouts,
    // Only a refusal has a lock to report; an admitted attempt may carry the end of a lock long past.
    lockedUntil:
      result.outcome === 'lockout-started' || result.outcome === 'locked' ? lockedUntilText(result.lockedUntil, result.permanent) : undefined,
    requests: result.requests,
    // 'instance': the store failed and this instance decided from its own record.
    decidedBy: result.source,
  };
  switch (result.outcome) {
    case 'admitted':
      count(metrics, 'AttemptsCounted');
      logger.info('attempt counted', fields);
      break;
    case 'lockout-started':
      count(metrics, 'LockoutsStarted');
      logger.warn(result.permanent ? 'permanent lockout started' : 'lockout started', fields);
      break;
    case 'locked':
    case 'contended':
      logger.info('attempt refused', fields);
      break;
  }
}
