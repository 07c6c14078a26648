/** Lockout events (EventBridge) sent from a trigger: awaited, because a frozen Lambda would lose them, but bounded. */
import { withDeadline } from './deadline';
import type { TriggerDeps } from './deps';
import { type LockoutEventDetail, type LockoutEventType, lockoutEventEntry } from './lockout-events';
import { type MetricName, count, errorFields } from './telemetry';

/** Time allowed for an event; what it reports is already stored, so this never delays a decision much. */
const EVENT_BUDGET_MS = 1000;
/**
 * The SDK settings of the clients that make side calls (EventBridge, the notifier's invoke): a retry and socket
 * timeouts that fit EVENT_BUDGET_MS; the call's own abort signal bounds it as a whole.
 */
export const SIDE_CALL_CLIENT = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 500, requestTimeout: 800, throwOnRequestTimeout: true },
} as const;

/** Left unspent before the function's own timeout, so the answer still reaches Cognito. */
const TIMEOUT_MARGIN_MS = 250;

/**
 * The event's budget: at most EVENT_BUDGET_MS, and never past the function's timeout. The store may already
 * have used most of the invocation (its budget can be 2.5 s of a 3 s function).
 */
export function eventBudget(remainingMs: number | undefined): number {
  return remainingMs === undefined ? EVENT_BUDGET_MS : Math.min(EVENT_BUDGET_MS, remainingMs - TIMEOUT_MARGIN_MS);
}

/**
 * A call beside the decision (an event, a notice request): within `budgetMs`, and never thrown. A failure, or no
 * time left before the function's timeout, is logged with the hashed identity only and counted as `errorMetric`.
 * Returns whether the call succeeded.
 */
export async function sideCall(
  { telemetry }: TriggerDeps,
  what: { readonly name: string; readonly identity: string; readonly budgetMs: number; readonly errorMetric: MetricName },
  call: (abortSignal: AbortSignal) => Promise<void>,
): Promise<boolean> {
  if (what.budgetMs <= 0) {
    count(telemetry.metrics, what.errorMetric);
    telemetry.logger.error(`${what.name} not sent: no time left before the function timeout`, { identity: what.identity });
    return false;
  }
  try {
    await withDeadline(what.budgetMs, call);
    return true;
  } catch (error) {
    count(telemetry.metrics, what.errorMetric);
    telemetry.logger.error(`${what.name} not sent`, { identity: what.identity, ...errorFields(error) });
    return false;
  }
}

/** Sends one event when events are on; a failure is logged and counted (`EventErrors`), never thrown. */
export async function announce(
  deps: TriggerDeps,
  type: LockoutEventType,
  identity: string,
  budgetMs: number,
  detail: Omit<LockoutEventDetail, 'identity'>,
): Promise<void> {
  const { events } = deps;
  if (events === undefined) return;
  const entry = lockoutEventEntry(type, { identity, ...detail }, events.busName);
  await sideCall(deps, { name: `${type} event`, identity, budgetMs, errorMetric: 'EventErrors' }, (abortSignal) =>
    events.publish(entry, abortSignal),
  );
}
