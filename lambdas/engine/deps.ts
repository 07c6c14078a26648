/** Wiring: what a handler depends on, built once per cold start from the environment. */
import type { CircuitChange } from './circuit-breaker';
import { type TriggerConfig, loadConfig } from './config';
import { type AttemptStore, LockoutStore, createDocumentClient } from './store';
import { StoreGuard } from './store-guard';
import { type Telemetry, type TriggerName, count, createTelemetry } from './telemetry';

/** Everything a handler depends on; tests pass their own, Lambda builds the default once per cold start. */
export interface TriggerDeps {
  readonly config: TriggerConfig;
  /** The store behind its circuit breaker, with this instance's record for decisions without it. */
  readonly guard: StoreGuard;
  readonly telemetry: Telemetry;
  readonly now: () => number;
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
  const fields = {
    circuit: change.to,
    previous: change.from,
    consecutiveFailures: change.consecutiveFailures,
    retryAt: change.openUntil === undefined ? undefined : new Date(change.openUntil).toISOString(),
  };
  if (change.to === 'open') {
    count(metrics, 'StoreCircuitOpened');
    logger.error('lockout store circuit opened: deciding without the store until a probe succeeds', fields);
  } else {
    count(metrics, 'StoreCircuitClosed');
    logger.info('lockout store circuit closed: the store answers again', fields);
  }
}
