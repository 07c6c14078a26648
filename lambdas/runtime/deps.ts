/** Wiring: what a handler depends on, built once per cold start from the environment. */
import type { CircuitChange } from '../store/circuit-breaker';
import { type TriggerConfig, loadConfig } from './config';
import { DEVICE_KEY_SECRET_ENV } from '../shared/contract';
import { DeviceKeys } from '../devices/device-keys';
import { type AttemptStore, LockoutStore, createDocumentClient } from '../store/store';
import { StoreGuard } from '../store/store-guard';
import { type Telemetry, type TriggerName, count, createTelemetry, errorFields } from '../shared/telemetry';

/** Everything a handler depends on; tests pass their own, Lambda builds the default once per cold start. */
export interface TriggerDeps {
  readonly config: TriggerConfig;
  /** The store behind its circuit breaker, with this instance's record for decisions without it. */
  readonly guard: StoreGuard;
  readonly telemetry: Telemetry;
  readonly now: () => number;
  /** The device token keys, when device tokens are on (`config.devices`). */
  readonly deviceKeys?: DeviceKeys;
}

/** Parses configuration from the environment; throws naming the variable when it is missing or malformed. */
/** Reads a secret's text; given only by the functions that check or sign device tokens, so no other bundle carries the client. */
export type SecretReader = (secretId: string) => Promise<string>;

export function runtimeDeps(trigger: TriggerName, env: NodeJS.ProcessEnv = process.env, readSecret?: SecretReader): TriggerDeps {
  const config = loadConfig(env);
  const telemetry = createTelemetry(trigger);
  const store = new LockoutStore(createDocumentClient(config.settings.storeTimeoutMs), config.tableName);
  return {
    config,
    guard: guardFor(store, config, telemetry, Date.now),
    telemetry,
    now: Date.now,
    deviceKeys:
      config.devices === undefined || readSecret === undefined
        ? undefined
        : deviceKeysFor(readSecret, config.devices.keySecret, telemetry, trigger === 'PreTokenGeneration'),
  };
}

/**
 * The keys from their secret (device-keys.ts): pre token generation, which signs at every sign-in, reads them now
 * (cold start); the functions that only check tokens at the first event that carries one. Refreshed in the
 * background; the first decision that needs them waits at most DEVICE_KEY_FIRST_WAIT_MS. Without a secret every
 * token counts as absent.
 */
function deviceKeysFor(readSecret: SecretReader, secretId: string | undefined, telemetry: Telemetry, readAtInit: boolean): DeviceKeys {
  return new DeviceKeys(
    async () => {
      if (secretId === undefined) throw new Error(`${DEVICE_KEY_SECRET_ENV} is not set: device tokens count as absent and none are issued`);
      return readSecret(secretId);
    },
    {
      clock: Date.now,
      readAtInit,
      onError: (error) => {
        count(telemetry.metrics, 'DeviceKeyErrors');
        telemetry.logger.error('device token key unavailable: tokens count as absent and none are issued', errorFields(error));
      },
    },
  );
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
