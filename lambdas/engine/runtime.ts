import type { CircuitChange } from './circuit-breaker';
import { type TriggerConfig, loadConfig } from './config';
import type { IdentityRef, KeyScope } from './identity';
import type { AttemptResult } from './limiter';
import { type LockoutEventEntry, lockedUntilText } from './lockout-events';
import type { RateLimitPolicy } from './policy';
import { type AttemptStore, LockoutStore, createDocumentClient } from './store';
import { StoreGuard } from './store-guard';
import { InvalidTriggerEventError } from './events';
import { GENERIC_FAILURE_MESSAGE } from './messages';
import { type Telemetry, type TriggerName, count, createTelemetry, errorFields, flush } from './telemetry';
import { type DecisionInput, type Verdict, combineInputs, verdictFor } from './verdict';

/** Sends lockout events (EventBridge in Lambda); absent when events are off. */
export interface EventPublisher {
  readonly busName: string;
  publish(entry: LockoutEventEntry, abortSignal: AbortSignal): Promise<void>;
}

/** Everything a handler depends on; tests pass their own, Lambda builds the default once per cold start. */
export interface TriggerDeps {
  readonly config: TriggerConfig;
  /** The store behind its circuit breaker, with this instance's record for decisions without it. */
  readonly guard: StoreGuard;
  readonly telemetry: Telemetry;
  readonly now: () => number;
  readonly events?: EventPublisher;
}

/** Parses configuration from the environment; throws naming the variable when it is missing or malformed. */
export function runtimeDeps(trigger: TriggerName, env: NodeJS.ProcessEnv = process.env): TriggerDeps {
  const config = loadConfig(env);
  const telemetry = createTelemetry(trigger);
  const store = new LockoutStore(createDocumentClient(config.settings.storeTimeoutMs), config.tableName);
  return { config, guard: guardFor(store, config, telemetry, Date.now), telemetry, now: Date.now };
}

/** One guard per instance: the circuit and the record live as long as the warm instance. */
export function guardFor(store: AttemptStore, config: TriggerConfig, telemetry: Telemetry, clock: () => number): StoreGuard {
  return new StoreGuard(store, {
    decideLocally: config.settings.storeErrorPolicy === 'local',
    budgetMs: config.settings.storeTimeoutMs,
    clock,
    onCircuitChange: (change) => reportCircuitChange(telemetry, change),
  });
}

function reportCircuitChange({ logger, metrics }: Telemetry, change: CircuitChange): void {
  const fields = { circuit: change.to, previous: change.from, consecutiveFailures: change.consecutiveFailures, retryAt: change.openUntil === undefined ? undefined : new Date(change.openUntil).toISOString() };
  if (change.to === 'open') {
    count(metrics, 'StoreCircuitOpened');
    logger.error('lockout store circuit opened: deciding without the store until a probe succeeds', fields);
  } else {
    count(metrics, 'StoreCircuitClosed');
    logger.info('lockout store circuit closed: the store answers again', fields);
  }
}

export interface KeyCheck {
  readonly scope: KeyScope;
  readonly identity: IdentityRef;
  readonly policy: RateLimitPolicy;
}

export interface Decision {
  readonly verdict: Verdict;
  /** Each key's result, in the order of the checks; undefined where the store failed and nobody decided. */
  readonly results: ReadonlyArray<AttemptResult | undefined>;
}

/**
 * Counts one attempt against every key (in parallel, within one time budget) and applies the mode and the
 * store-error policy. Logs one line per key with hashed identities only, and records the metrics.
 */
export async function decideKeys(deps: TriggerDeps, checks: readonly KeyCheck[], context: Record<string, unknown> = {}): Promise<Decision> {
  const { config, guard, telemetry } = deps;
  const { logger, metrics } = telemetry;
  const now = deps.now();
  const attempts = await Promise.all(checks.map((check) => guard.attempt(check.identity.key, now, check.policy)));

  const inputs: DecisionInput[] = attempts.map((attempt, index) => {
    const check = checks[index];
    const base = { ...context, scope: check.scope, identity: check.identity.logId };
    if (attempt.bypassed) count(metrics, 'StoreBypassed');
    else if (attempt.storeError !== undefined) {
      count(metrics, 'StoreErrors');
      logger.error('lockout store unavailable', { ...base, ...errorFields(attempt.storeError), storeErrorPolicy: config.settings.storeErrorPolicy });
    }
    if (attempt.kind === 'store-error') return 'store-error';
    logAttempt(telemetry, base, attempt.result);
    return attempt.result.outcome;
  });

  const verdict = verdictFor(combineInputs(inputs), config.settings.lockoutMode, config.settings.storeErrorPolicy);
  if (!verdict.allow) count(metrics, 'AttemptsRefused');
  if (verdict.allow && verdict.wouldRefuse) {
    count(metrics, 'WouldRefuse');
    logger.warn('monitor mode: attempt would have been refused', { ...context, scopes: checks.map((c) => c.scope) });
  }
  return { verdict, results: attempts.map((a) => (a.kind === 'decided' ? a.result : undefined)) };
}

function logAttempt({ logger, metrics }: Telemetry, base: Record<string, unknown>, result: AttemptResult): void {
  const fields = {
    ...base,
    outcome: result.outcome,
    failures: result.failures,
    lockouts: result.lockouts,
    // Only a refusal has a lock to report; an admitted attempt may carry the end of a lock long past.
    lockedUntil: result.outcome === 'lockout-started' || result.outcome === 'locked' ? lockedUntilText(result.lockedUntil, result.permanent) : undefined,
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

/** The message a refused user sees. It is the whole error: nothing else reaches Cognito's caller. */
export class RefusalError extends Error {
  override readonly name = 'RefusalError';
}

/** What every failure but a refusal becomes on its way to Cognito: one fixed message, the reason stays in the log. */
export class TriggerFailureError extends Error {
  override readonly name = 'TriggerFailureError';
  constructor() {
    super(GENERIC_FAILURE_MESSAGE);
  }
}

/**
 * Counts and logs a failure that is not a refusal: a malformed event (`InvalidEvents`, its message names the
 * field) or anything else, a bug or a configuration error (`InternalErrors`, with its stack).
 */
export function reportFailure({ logger, metrics }: Telemetry, error: unknown): void {
  if (error instanceof InvalidTriggerEventError) {
    count(metrics, 'InvalidEvents');
    logger.error(error.message);
    return;
  }
  count(metrics, 'InternalErrors');
  logger.error('internal error: the caller got the generic message', { ...errorFields(error), stack: (error as Error | undefined)?.stack });
}

/**
 * The frame of a trigger that refuses by throwing (pre-authentication, pre-signup): a refusal reaches Cognito
 * as it is; anything else is logged and counted and reaches Cognito as the generic message; the invocation's
 * metrics are flushed.
 */
export async function refusingTrigger<T>(telemetry: Telemetry, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof RefusalError) throw error;
    reportFailure(telemetry, error);
    throw new TriggerFailureError();
  } finally {
    flush(telemetry.metrics);
  }
}
