import type { Context, PreAuthenticationTriggerEvent } from 'aws-lambda';
import { checkTriggerEvent, isFederated } from '../engine/trigger-event';
import { withDeadline } from '../engine/deadline';
import { signInIdentity } from '../engine/identity';
import type { AttemptResult } from '../engine/limiter';
import { lockedUntilText, lockoutEventEntry } from '../engine/lockout-events';
import { decideKeys } from '../engine/decide';
import type { TriggerDeps } from '../engine/deps';
import { RefusalError, refusingTrigger } from '../engine/failure';
import { count, errorFields } from '../engine/telemetry';

/**
 * Runs before Cognito checks the password: refuse while locked, otherwise count the attempt as presumed
 * failed (post-authentication clears it on success). Unknown users (`userNotFound`, sent when the app client
 * prevents user-existence errors) take exactly the same path, so lockout behaviour never reveals existence.
 */
export function createPreAuthenticationHandler(deps: TriggerDeps) {
  return (event: PreAuthenticationTriggerEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<PreAuthenticationTriggerEvent> =>
    refusingTrigger(deps.telemetry, async () => {
      const checked = checkTriggerEvent(event, 'PreAuthentication', ['PreAuthentication_Authentication']);
      if (isFederated(checked)) {
        deps.telemetry.logger.debug('federated user: not counted');
        return event;
      }
      const identity = signInIdentity(checked.userName);
      const { verdict, results } = await decideKeys(deps, [{ scope: 'signin', identity, policy: deps.config.signIn }], {
        userNotFound: checked.request.userNotFound === true,
      });
      if (results[0]?.outcome === 'lockout-started') {
        await announceLockout(deps, identity.logId, checked.userPoolId, results[0], eventBudget(context?.getRemainingTimeInMillis?.()));
      }
      if (!verdict.allow) throw new RefusalError(deps.config.settings.refusalMessage);
      return event;
    });
}

/** Time allowed for the AccountLocked event; the lock itself is already stored, so this never delays a decision much. */
const EVENT_BUDGET_MS = 1000;
/** Left unspent before the function's own timeout, so the refusal still reaches Cognito. */
const TIMEOUT_MARGIN_MS = 250;

/**
 * The event's budget: at most EVENT_BUDGET_MS, and never past the function's timeout. The store may already
 * have used most of the invocation (its budget can be 2.5 s of a 3 s function).
 */
export function eventBudget(remainingMs: number | undefined): number {
  return remainingMs === undefined ? EVENT_BUDGET_MS : Math.min(EVENT_BUDGET_MS, remainingMs - TIMEOUT_MARGIN_MS);
}

/**
 * Sends AccountLocked when this attempt started a lockout. Awaited (a frozen Lambda would lose it) but
 * bounded, and a failure is logged and counted: the decision never depends on it.
 */
async function announceLockout(
  deps: TriggerDeps,
  identity: string,
  userPoolId: string | undefined,
  result: AttemptResult,
  budgetMs: number,
): Promise<void> {
  const { events, telemetry } = deps;
  if (events === undefined) return;
  if (budgetMs <= 0) {
    count(telemetry.metrics, 'EventErrors');
    telemetry.logger.error('AccountLocked event not sent: no time left before the function timeout', { identity });
    return;
  }
  const entry = lockoutEventEntry(
    'AccountLocked',
    {
      identity,
      userPoolId: userPoolId ?? null,
      lockedUntil: lockedUntilText(result.lockedUntil, result.permanent),
      reason: 'failed-attempts',
      lockouts: result.lockouts,
      mode: deps.config.settings.lockoutMode,
    },
    events.busName,
  );
  try {
    await withDeadline(budgetMs, (abortSignal) => events.publish(entry, abortSignal));
  } catch (error) {
    count(telemetry.metrics, 'EventErrors');
    telemetry.logger.error('AccountLocked event not sent', { identity, ...errorFields(error) });
  }
}
