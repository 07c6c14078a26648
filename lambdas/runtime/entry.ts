import { TriggerFailureError, reportFailure } from './failure';
import { type TriggerName, createTelemetry, flush } from '../shared/telemetry';

type Handler<E, C> = (event: E, context?: C) => Promise<E>;

/**
 * Builds a trigger's handler once, at cold start. When that fails (a missing or malformed variable), the init
 * must not fail with it: Lambda would hand Cognito its own error text, which reaches end users. The handler then
 * logs and counts the reason (`InternalErrors`) on every invocation and answers as the trigger answers any
 * failure: pre-authentication and pre-signup throw the generic message, post-authentication lets the sign-in
 * complete (it never fails one).
 */
export function triggerEntry<E, C>(trigger: TriggerName, build: () => Handler<E, C>, whenBroken: 'fail' | 'pass'): Handler<E, C> {
  try {
    return build();
  } catch (error) {
    const telemetry = createTelemetry(trigger);
    reportFailure(telemetry, error);
    return async (event) => {
      reportFailure(telemetry, error);
      flush(telemetry.metrics);
      if (whenBroken === 'fail') throw new TriggerFailureError();
      return event;
    };
  }
}
