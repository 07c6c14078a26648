/**
 * Every trigger answers within its function's timeout whatever the store does, and what it waits for is exactly what
 * the construct counts at synth (contract.ts `serialWaitMs`). Time here is jest's fake clock: the store never answers
 * (or answers only after most of a budget), and the test reads the fake time at which each handler answered, so the
 * figures are exact, not measurements of this machine. Shipped defaults throughout (the app as deployed has no
 * context of its own: cdk.json).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { configFromSettings } from '../lambdas/runtime/config';
import { DEVICE_KEY_FIRST_WAIT_MS, SERIAL_STORE_BUDGETS, TRIGGER_TIMEOUT_MS, TRIGGER_WORK_ROOM_MS, serialWaitMs } from '../lambdas/shared/contract';
import { type TriggerDeps, guardFor } from '../lambdas/runtime/deps';
import { DeviceKeys } from '../lambdas/devices/device-keys';
import { issueDeviceToken, parseDeviceKeySet } from '../lambdas/devices/device-token';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { LockoutStore } from '../lambdas/store/store';
import { createPostAuthenticationHandler } from '../lambdas/handlers/post-authentication';
import { createPostConfirmationHandler } from '../lambdas/handlers/post-confirmation';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { createPreSignUpHandler } from '../lambdas/handlers/pre-signup';
import { createPreTokenGenerationHandler } from '../lambdas/handlers/pre-token-generation';
import { postAuthEvent, postConfirmationEvent, preAuthEvent, preSignUpEvent, preTokenGenerationEvent } from '../sandbox/sample-events';

const USER = 'a1b2c3d4-0000-4000-8000-0000000000b1';
const KEY = JSON.stringify({ key: 'k'.repeat(40) });
const CLAIM = DEFAULT_SETTINGS.deviceTokenClaim;
const BUDGET = DEFAULT_SETTINGS.storeTimeoutMs;

/** How each store request fares: 'hang' never answers; a number answers after that many ms with `answer`. */
type Fate = { readonly kind: 'hang' } | { readonly kind: 'after'; readonly ms: number; readonly answer: () => unknown };

/** A document client whose requests fare as `fates` says, in order (the last fate repeats), and honour the abort signal as the SDK does. */
function storeClient(fates: Fate[], sent: string[]): DynamoDBDocumentClient {
  let index = 0;
  return {
    send: (command: { constructor: { name: string } }, options?: { abortSignal?: AbortSignal }) => {
      sent.push(command.constructor.name);
      const fate = fates[Math.min(index++, fates.length - 1)];
      return new Promise((resolve, reject) => {
        options?.abortSignal?.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })));
        if (fate.kind === 'after')
          setTimeout(() => {
            try {
              resolve(fate.answer());
            } catch (error) {
              reject(error);
            }
          }, fate.ms);
      });
    },
  } as unknown as DynamoDBDocumentClient;
}

const HANG: Fate = { kind: 'hang' };
/** A device write refused by an operator's revocation, just before the budget runs out: the attempt goes anonymous. */
const REVOKED_LATE: Fate = {
  kind: 'after',
  ms: BUDGET - 100,
  answer: () => {
    throw new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
      Item: marshall({ pk: 'x', revokedBefore: Number.MAX_SAFE_INTEGER }),
    });
  },
};
/** A device clear that finds no count in the device's bucket, just before the budget runs out: the anonymous clear follows. */
const ABSENT_LATE: Fate = {
  kind: 'after',
  ms: BUDGET - 100,
  answer: () => {
    throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall({ pk: 'x' }) });
  },
};
/** A healthy but slow store: every write lands just before the budget runs out. */
const SLOW_OK: Fate = { kind: 'after', ms: BUDGET - 100, answer: () => ({}) };

/** The deps a trigger builds at cold start, on the shipped defaults, with the key read answering after `keyMs` (or never). */
function deps(client: DynamoDBDocumentClient, keyMs: number | 'hang'): TriggerDeps {
  const config = configFromSettings('lockout', DEFAULT_SETTINGS, { caseSensitive: false }, 'key-secret');
  const telemetry = { logger: new Logger({ logLevel: 'SILENT' }), metrics: new Metrics({ namespace: 'Test' }) };
  const read = () =>
    keyMs === 'hang' ? new Promise<string>(() => undefined) : new Promise<string>((resolve) => setTimeout(() => resolve(KEY), keyMs));
  return {
    config,
    guard: guardFor(new LockoutStore(client, 'lockout'), config, telemetry, Date.now),
    telemetry,
    now: Date.now,
    deviceKeys: new DeviceKeys(read, { clock: Date.now, onError: () => undefined }),
  };
}

/** The fake time at which `run` settled, from its start: answered or thrown, it must settle. */
async function answeredAfter(run: () => Promise<unknown>): Promise<number> {
  const start = Date.now();
  let at: number | undefined;
  void run().then(
    () => (at = Date.now()),
    () => (at = Date.now()),
  );
  while (at === undefined && Date.now() - start < 60_000) await jest.advanceTimersByTimeAsync(5);
  return at! - start;
}

/** A success event whose challenge response carried the device token. */
function withMetadata<E extends { request: object }>(event: E): E {
  (event.request as { clientMetadata?: Record<string, string> }).clientMetadata = { [CLAIM]: token() };
  return event;
}
const token = () => issueDeviceToken(parseDeviceKeySet(KEY), USER, Date.now() - 60_000, 30 * 86_400_000)!;
/** Lambda's context as the handler reads it: the time left before the function's 3 s timeout. */
const lambdaContext = () => {
  const deadline = Date.now() + TRIGGER_TIMEOUT_MS;
  return { getRemainingTimeInMillis: () => deadline - Date.now() };
};

beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 11, 3, 12) }));
afterEach(() => jest.useRealTimers());

describe("each trigger's waits fit its timeout, on the shipped defaults", () => {
  it('counts waits that fit: the key, one store budget each, and room for the work, within 3 s', () => {
    for (const trigger of Object.keys(SERIAL_STORE_BUDGETS) as Array<keyof typeof SERIAL_STORE_BUDGETS>) {
      expect(serialWaitMs(trigger, BUDGET, true) + TRIGGER_WORK_ROOM_MS).toBeLessThanOrEqual(TRIGGER_TIMEOUT_MS);
    }
    expect(serialWaitMs('PreAuthentication', BUDGET, true)).toBe(DEVICE_KEY_FIRST_WAIT_MS + BUDGET);
  });

  const cases: Array<[string, keyof typeof SERIAL_STORE_BUDGETS, Fate[], number | 'hang', (d: TriggerDeps) => Promise<unknown>]> = [
    ['pre-authentication, key and store hanging', 'PreAuthentication', [HANG], 'hang', (d) => createPreAuthenticationHandler(d)(preAuthEvent(USER))],
    [
      'pre-authentication, a device write refused late, then the store hanging',
      'PreAuthentication',
      [REVOKED_LATE, HANG],
      DEVICE_KEY_FIRST_WAIT_MS - 1,
      (d) => createPreAuthenticationHandler(d)(preAuthEvent(USER, { validationData: { [CLAIM]: token() } })),
    ],
    [
      'post-authentication with a device token, store hanging',
      'PostAuthentication',
      [HANG],
      DEVICE_KEY_FIRST_WAIT_MS - 1,
      (d) => createPostAuthenticationHandler(d)(withMetadata(postAuthEvent(USER))),
    ],
    [
      'post-authentication, a device clear that finds no count late, then the store hanging',
      'PostAuthentication',
      [ABSENT_LATE, HANG],
      DEVICE_KEY_FIRST_WAIT_MS - 1,
      (d) => createPostAuthenticationHandler(d)(withMetadata(postAuthEvent(USER))),
    ],
    [
      'pre token generation, store hanging',
      'PreTokenGeneration',
      [HANG],
      DEVICE_KEY_FIRST_WAIT_MS - 1,
      (d) => createPreTokenGenerationHandler(d)(preTokenGenerationEvent(USER), lambdaContext()),
    ],
    [
      'pre token generation, a slow store that answers every write',
      'PreTokenGeneration',
      [SLOW_OK],
      DEVICE_KEY_FIRST_WAIT_MS - 1,
      (d) => createPreTokenGenerationHandler(d)(preTokenGenerationEvent(USER), lambdaContext()),
    ],
    ['pre sign-up, store hanging', 'PreSignUp', [HANG], 'hang', (d) => createPreSignUpHandler(d)(preSignUpEvent())],
    ['post-confirmation, store hanging', 'PostConfirmation', [HANG], 'hang', (d) => createPostConfirmationHandler(d)(postConfirmationEvent(USER))],
  ];

  it.each(cases)('%s: answers within the counted waits', async (_, trigger, fates, keyMs, run) => {
    const sent: string[] = [];
    const d = deps(storeClient(fates, sent), keyMs);
    const after = await answeredAfter(() => run(d));
    expect(sent.length).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(serialWaitMs(trigger, BUDGET, true));
    expect(after).toBeLessThanOrEqual(TRIGGER_TIMEOUT_MS - TRIGGER_WORK_ROOM_MS);
  });

  it('pre token generation tidies only while the store is healthy and a whole budget fits in the time left', async () => {
    const fast: Fate = { kind: 'after', ms: 5, answer: () => ({}) };
    // Healthy and quick: the clear, then the tidy-up's read.
    let sent: string[] = [];
    await answeredAfter(() => createPreTokenGenerationHandler(deps(storeClient([fast], sent), 0))(preTokenGenerationEvent(USER), lambdaContext()));
    expect(sent).toEqual(['UpdateCommand', 'GetCommand']);
    // Answering, but so slowly that a second budget would not fit: no tidy-up.
    sent = [];
    await answeredAfter(() => createPreTokenGenerationHandler(deps(storeClient([SLOW_OK], sent), 0))(preTokenGenerationEvent(USER), lambdaContext()));
    expect(sent).toEqual(['UpdateCommand']);
    // Hanging: no tidy-up either.
    sent = [];
    await answeredAfter(() => createPreTokenGenerationHandler(deps(storeClient([HANG], sent), 0))(preTokenGenerationEvent(USER), lambdaContext()));
    expect(sent).toEqual(['UpdateCommand']);
    // Failing at once, with nearly all the time left: not healthy, so no tidy-up.
    sent = [];
    const refused: Fate = {
      kind: 'after',
      ms: 5,
      answer: () => {
        throw Object.assign(new Error('Throughput exceeds the current capacity of your table'), { name: 'ProvisionedThroughputExceededException' });
      },
    };
    await answeredAfter(() => createPreTokenGenerationHandler(deps(storeClient([refused], sent), 0))(preTokenGenerationEvent(USER), lambdaContext()));
    expect(sent).toEqual(['UpdateCommand']);
  });
});
