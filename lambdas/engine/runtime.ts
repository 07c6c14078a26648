import { type TriggerConfig, loadConfig } from './config';
import { withDeadline } from './deadline';
import type { IdentityRef, KeyScope } from './identity';
import { type AttemptResult, registerAttempt } from './limiter';
import { type LockoutEventEntry, lockedUntilText } from './lockout-events';
import type { RateLimitPolicy } from './policy';
import { LockoutStore, createDocumentClient } from './store';
import { InvalidTriggerEventError } from './events';
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
  readonly store: LockoutStore;
  readonly telemetry: Telemetry;
  readonly now: () => number;
  readonly events?: EventPublisher;
}

/** Parses configuration from the environment; throws naming the variable when it is missing or malformed. */
export function runtimeDeps(trigger: TriggerName, env: NodeJS.ProcessEnv = process.env): TriggerDeps {
  const config = loadConfig(env);
  return {
    config,
    store: new LockoutStore(createDocumentClient(config.settings.storeTimeoutMs), config.tableName),
    telemetry: createTelemetry(trigger),
    now: Date.now,
  };
}

/** The message a refused user sees. It is the whole error: nothing else reaches Cognito's caller. */
export class RefusalError extends Error {
  override readonly name = 'RefusalError';
}

export interface KeyCheck {
  readonly scope: KeyScope;
  readonly identity: IdentityRef;
  readonly policy: RateLimitPolicy;
}

export interface Decision {
  readonly verdict: Verdict;
  /** Each key's result, in the order of the checks; undefined where the store failed. */
  readonly results: ReadonlyArray<AttemptResult | undefined>;
}

/**
 * Counts one attempt against every key (in parallel, within one time budget) and applies the mode and the
 * store-error policy. Logs one line per key with hashed identities only, and records the metrics.
 */
export async function decideKeys(deps: TriggerDeps, checks: readonly KeyCheck[], context: Record<string, unknown> = {}): Promise<Decision> {
  const { config, store, telemetry } = deps;
  const { logger, metrics } = telemetry;
  const now = deps.now();
  const settled = await Promise.allSettled(
    checks.map((check) =>
      withDeadline(config.settings.storeTimeoutMs, (abortSignal) => registerAttempt(store, check.identity.key, now, check.policy, { abortSignal })),
    ),
  );

  const inputs: DecisionInput[] = settled.map((outcome, index) => {
    const check = checks[index];
    const base = { ...context, scope: check.scope, identity: check.identity.logId };
    if (outcome.status === 'rejected') {
      count(metrics, 'StoreErrors');
      logger.error('lockout store unavailable', { ...base, ...errorFields(outcome.reason), storeErrorPolicy: config.settings.storeErrorPolicy });
      return 'store-error';
    }
    logAttempt(telemetry, base, outcome.value);
    return outcome.value.outcome;
  });

  const verdict = verdictFor(combineInputs(inputs), config.settings.lockoutMode, config.settings.storeErrorPolicy);
  if (!verdict.allow) count(metrics, 'AttemptsRefused');
  if (verdict.allow && verdict.wouldRefuse) {
    count(metrics, 'WouldRefuse');
    logger.warn('monitor mode: attempt would have been refused', { ...context, scopes: checks.map((c) => c.scope) });
  }
  return { verdict, results: settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined)) };
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

/** Counts and logs a malformed event; true when `error` was one. */
export function reportInvalidEvent({ logger, metrics }: Telemetry, error: unknown): boolean {
  if (!(error instanceof InvalidTriggerEventError)) return false;
  count(metrics, 'InvalidEvents');
  logger.error(error.message);
  return true;
}

/**
 * The frame of a trigger that refuses by throwing (pre-authentication, pre-signup): every error reaches
 * Cognito, a malformed event is also counted and logged, and the invocation's metrics are flushed.
 */
export async function refusingTrigger<T>(telemetry: Telemetry, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    reportInvalidEvent(telemetry, error);
    throw error;
  } finally {
    flush(telemetry.metrics);
  }
}
