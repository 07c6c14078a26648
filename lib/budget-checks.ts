import { Duration, Token } from 'aws-cdk-lib';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SERIAL_STORE_BUDGETS, TRIGGER_TIMEOUT_MS, TRIGGER_WORK_ROOM_MS, serialWaitMs } from '../lambdas/shared/contract';
import type { LockoutSettings } from '../lambdas/policy/settings';

export type BudgetedTrigger = keyof typeof SERIAL_STORE_BUDGETS;

/** Lambda's timeout when a function sets none. */
const LAMBDA_DEFAULT_TIMEOUT = Duration.seconds(3);

/**
 * Every trigger answers within its function's timeout whatever the store does, only if its serial waits (the device
 * key's first wait, its store budgets one after the other: contract.ts) and the room for its own work fit that
 * timeout. Checked at synth for each trigger the lockout runs in, ours or a function the caller owns, so a
 * `storeTimeout` that cannot fit fails here, naming the prop, instead of as a timed-out sign-in in production.
 * Unresolved values (tokens) are checked by nobody here; the trigger validates the setting at cold start.
 */
export function checkTriggerBudgets(
  owner: string,
  settings: LockoutSettings,
  functions: ReadonlyArray<readonly [BudgetedTrigger, LambdaFunction | undefined, 'ours' | 'theirs']>,
): void {
  if (Token.isUnresolved(settings.storeTimeoutMs) || Token.isUnresolved(settings.deviceTokens)) return;
  for (const [trigger, fn, whose] of functions) {
    if (fn === undefined) continue;
    const timeout = whose === 'ours' ? Duration.millis(TRIGGER_TIMEOUT_MS) : (fn.timeout ?? LAMBDA_DEFAULT_TIMEOUT);
    if (Token.isUnresolved(timeout.toMilliseconds())) continue;
    const waits = serialWaitMs(trigger, settings.storeTimeoutMs, settings.deviceTokens === 'on');
    const needed = waits + TRIGGER_WORK_ROOM_MS;
    if (needed <= timeout.toMilliseconds()) continue;
    const keyWait = waits - SERIAL_STORE_BUDGETS[trigger] * settings.storeTimeoutMs;
    const parts = [
      ...(keyWait > 0 ? [`the device key's first wait (${keyWait} ms)`] : []),
      `${SERIAL_STORE_BUDGETS[trigger]} × storeTimeout (${settings.storeTimeoutMs} ms)`,
      `${TRIGGER_WORK_ROOM_MS} ms for the function's own work`,
    ];
    const fits = timeout.toMilliseconds() - TRIGGER_WORK_ROOM_MS - keyWait;
    throw new Error(
      `${owner}: storeTimeout (${settings.storeTimeoutMs} ms) does not fit the ${trigger} function's ${timeout.toMilliseconds()} ms timeout: ` +
        `${parts.join(', ')} come to ${needed} ms. Set storeTimeout to at most ${Math.floor(fits / SERIAL_STORE_BUDGETS[trigger])} ms` +
        (whose === 'theirs' ? ', or give your function a longer timeout (Cognito waits 5 s in all).' : '.'),
    );
  }
}
