/**
 * Random and malformed events for every handler: each either returns the event or throws the configured refusal
 * or the one generic message, never anything internal, and never writes an oversized key. Half the runs meet a
 * store that reports every identity locked, so the refusal path is taken, and asserted to be.
 */
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { marshall } from '@aws-sdk/util-dynamodb';
import { GENERIC_FAILURE_MESSAGE } from '../../lambdas/shared/messages';
import { DEFAULT_SETTINGS } from '../../lambdas/policy/settings';
import { createPostAuthenticationHandler } from '../../lambdas/handlers/post-authentication';
import { createPreAuthenticationHandler } from '../../lambdas/handlers/pre-authentication';
import { createPreSignUpHandler } from '../../lambdas/handlers/pre-signup';
import { testDeps } from '../support/deps';
import { postAuthEvent, preAuthEvent, preSignUpEvent } from '../../sandbox/sample-events';

const ddb = mockClient(DynamoDBDocumentClient);
const MAX_KEY_BYTES = 2048;
const KEY = /^(signin|signup-username|signup-email|signup-phone|signup-email-domain|signup-phone-prefix)#[0-9a-f]{64}$/;
const REFUSALS = [DEFAULT_SETTINGS.refusalMessage, DEFAULT_SETTINGS.signUpRefusalMessage];

const confusable = fc.constantFrom('аdmin', 'ＡＤＭＩＮ', 'admin\u200b', 'ﬁnance', 'A\u0301', '\u202eadmin', 'admin\u0000', '\r\n\t', ' ', '');
const hugeText = fc.string({ unit: 'binary', minLength: 2000, maxLength: 12000 });
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), confusable, hugeText);
const wrongType = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
);
const attributes = fc.oneof(
  wrongType,
  fc.dictionary(fc.oneof(fc.constantFrom('email', 'phone_number', 'sub', 'cognito:user_status'), fc.string()), fc.oneof(anyText, wrongType), {
    maxKeys: 6,
  }),
);

/** A structurally plausible event with any field possibly replaced by something hostile. */
function eventArb(base: Record<string, unknown>, sources: string[]) {
  return fc.record(
    {
      version: fc.oneof(fc.constant(base.version), wrongType),
      triggerSource: fc.oneof(fc.constantFrom(...sources), anyText, wrongType),
      region: fc.oneof(fc.constant(base.region), anyText),
      userPoolId: fc.oneof(fc.constant(base.userPoolId), anyText, wrongType),
      userName: fc.oneof(anyText, wrongType),
      callerContext: fc.oneof(fc.constant(base.callerContext), wrongType),
      request: fc.oneof(
        wrongType,
        fc.record(
          {
            userAttributes: attributes,
            userNotFound: fc.oneof(fc.boolean(), wrongType),
            validationData: fc.oneof(wrongType, fc.object({ maxDepth: 1 })),
          },
          { requiredKeys: [] },
        ),
      ),
      response: fc.oneof(fc.constant(base.response), wrongType),
      extra: fc.anything({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  );
}

const anyEvent = (base: Record<string, unknown>, sources: string[]) =>
  fc.oneof({ weight: 1, arbitrary: fc.anything({ maxDepth: 3 }) }, { weight: 6, arbitrary: eventArb(base, sources) });

function writtenKeys(): unknown[] {
  return [
    ...ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key?.pk),
    ...ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item?.pk),
    ...ddb.commandCalls(DeleteCommand).map((c) => c.args[0].input.Key?.pk),
  ];
}

async function outcome(handler: (event: never) => Promise<unknown>, event: unknown): Promise<{ returned?: unknown; message?: string }> {
  try {
    return { returned: await handler(event as never) };
  } catch (error) {
    return { message: (error as Error).message };
  }
}

const handlers = {
  PreAuthentication: {
    create: createPreAuthenticationHandler,
    base: preAuthEvent() as unknown as Record<string, unknown>,
    sources: ['PreAuthentication_Authentication'],
  },
  PostAuthentication: {
    create: createPostAuthenticationHandler,
    base: postAuthEvent() as unknown as Record<string, unknown>,
    sources: ['PostAuthentication_Authentication'],
  },
  PreSignUp: {
    create: createPreSignUpHandler,
    base: preSignUpEvent() as unknown as Record<string, unknown>,
    sources: ['PreSignUp_SignUp', 'PreSignUp_AdminCreateUser', 'PreSignUp_ExternalProvider'],
  },
};

describe.each(Object.entries(handlers))('%s handler under fuzzed events', (name, { create, base, sources }) => {
  it('returns the event, or throws the refusal or the generic message, with bounded keys', async () => {
    const seen = { refusals: 0, generic: 0, returned: 0 };
    await fc.assert(
      fc.asyncProperty(anyEvent(base, sources), fc.boolean(), async (event, storeLocked) => {
        ddb.reset();
        const now = Date.now();
        // Either an open store, or one that reports every identity locked (exercises the refusal path).
        if (storeLocked) {
          // As DynamoDB reports it: the condition failed, and the item it saw (ALL_OLD) is locked for an hour.
          const Item = marshall({ pk: 'x', failures: 0, windowStart: now, lockedUntil: now + 3_600_000, lockouts: 1, rev: 9 });
          const error = Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException', Item });
          ddb.on(UpdateCommand).rejects(error);
          ddb.on(DeleteCommand).rejects(error);
        } else {
          ddb.on(UpdateCommand).resolves({ Attributes: { failures: 1, windowStart: now, lockedUntil: 0, lockouts: 0, rev: 1 } });
          ddb.on(DeleteCommand).resolves({});
        }
        ddb.on(PutCommand).resolves({});
        const result = await outcome(create(testDeps()) as never, event);

        if (result.message === undefined) {
          if (result.returned !== event) return false;
          seen.returned += 1;
        } else {
          if (name === 'PostAuthentication') return false; // post-authentication never fails a sign-in
          if (REFUSALS.includes(result.message)) seen.refusals += 1;
          else if (result.message === GENERIC_FAILURE_MESSAGE) seen.generic += 1;
          else return false;
          // A refusal only ever comes from a locked store.
          if (REFUSALS.includes(result.message) && !storeLocked) return false;
        }
        return writtenKeys().every((key) => typeof key === 'string' && KEY.test(key) && Buffer.byteLength(key) <= MAX_KEY_BYTES);
      }),
      // The well-formed event, against both stores, always among the runs: the refusal path is certainly taken.
      {
        numRuns: 250,
        examples: [
          [base, true],
          [base, false],
        ],
      },
    );
    // The fuzzing reached every kind of answer its handler can give.
    expect(seen.returned).toBeGreaterThan(0);
    if (name === 'PostAuthentication') return;
    expect(seen.refusals).toBeGreaterThan(0);
    expect(seen.generic).toBeGreaterThan(0);
  });
});
