/** Lockout events (EventBridge) sent from a trigger: awaited, because a frozen Lambda would lose them, but bounded. */
import { withDeadline } from './deadline';
import type { TriggerDeps } from './deps';
import { type LockoutEventDetail, type LockoutEventType, lockoutEventEntry } from './lockout-events';
import { count, errorFields } from './telemetry';

/** Time allowed for an event; what it reports is already stored, so this never delays a decision much. */
const EVENT_BUDGET_MS = 1000;
/** Left unspent before the function's own timeout, so the answer still reaches Cognito. */
const TIMEOUT_MARGIN_MS = 250;

/**
 * The event's budget: at most EVENT_BUDGET_MS, and never past the function's timeout. The store may already
 * have used most of the invocation (its budget can be 2.5 s of a 3 s function).
 */
export function eventBudget(remainingMs: number | undefined): number {
  return remainingMs === undefined ? EVENT_BUDGET_MS : Math.min(EVENT_BUDGET_MS, remainingMs - TIMEOUT_MARGIN_MS);
}

/** Sends one event when events are on; a failure is logged and counted (`EventErrors`), never thrown. */
export async function announce(
  deps: TriggerDeps,
  type: LockoutEventType,
  identity: string,
  budgetMs: number,
  detail: Omit<LockoutEventDetail, 'identity'>,
): Promise<void> {
  const { events, telemetry } = deps;
  if (events === undefined) return;
  if (budgetMs <= 0) {
    count(telemetry.metrics, 'EventErrors');
    telemetry.logger.error(`${type} event not sent: no time left before the function timeout`, { identity });
    return;
  }
  const entry = lockoutEventEntry(type, { identity, ...detail }, events.busName);
  try {
    await withDeadline(budgetMs, (abortSignal) => events.publish(entry, abortSignal));
  } catch (error) {
    count(telemetry.metrics, 'EventErrors');
    telemetry.logger.error(`${type} event not sent`, { identity, ...errorFields(error) });
  }
}
