/** The error frame: what reaches Cognito's caller (a refusal, or one generic message) and what goes to the log. */
import { GENERIC_FAILURE_MESSAGE } from '../shared/messages';
import { type Telemetry, type TriggerName, count, errorFields, flush, redacted } from '../shared/telemetry';
import { InvalidTriggerEventError } from '../identity/trigger-event';

/** The message a refused user sees. It is the whole error: nothing else reaches Cognito's caller. */
export class RefusalError extends Error {
  override readonly name = 'RefusalError';
}

/** What every failure but a refusal becomes on its way to Cognito: one fixed message, the reason stays in the log. */
export class TriggerFailureError extends Error {
  override readonly name: string = 'TriggerFailureError';
  constructor() {
    super(GENERIC_FAILURE_MESSAGE);
  }
}

/**
 * The trigger could not do what it must and says so with the generic message, on purpose and already logged and
 * counted: an instance record full during a store outage (decide.ts), a password reset whose revocation of device
 * tokens did not land (post-confirmation.ts). Not a bug, so not counted as `InternalErrors`.
 */
export class DecisionUnavailableError extends TriggerFailureError {
  override readonly name = 'DecisionUnavailableError';
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
  logger.error('internal error: the caller got the generic message', { ...errorFields(error), stack: stackOf(error) });
}

/**
 * An event a trigger that never fails its caller does not know how to read (a trigger source added later, a user
 * without `sub`): passed untouched, counted (`EventsPassed`), and logged without its content.
 */
export function passUnrecognized({ logger, metrics }: Telemetry, trigger: TriggerName): void {
  count(metrics, 'EventsPassed');
  logger.warn(`${trigger}: unrecognized event passed untouched (a trigger source or shape this version does not read)`);
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
    if (error instanceof RefusalError || error instanceof DecisionUnavailableError) throw error;
    reportFailure(telemetry, error);
    throw new TriggerFailureError();
  } finally {
    flush(telemetry.metrics);
  }
}

function stackOf(error: unknown): string | undefined {
  const stack = (error as Error | undefined)?.stack;
  return typeof stack === 'string' ? redacted(stack) : undefined;
}
