/**
 * A trigger whose configuration is broken must not fail its Lambda init (Cognito would pass Lambda's own error
 * text to the user): the entry points answer with the generic message, or let the sign-in complete. Loaded from
 * the bundles the construct deploys (built by jest's global setup), whose entries the build generates.
 */
import type { PostAuthenticationTriggerEvent, PreAuthenticationTriggerEvent, PreSignUpTriggerEvent } from 'aws-lambda';
import { GENERIC_FAILURE_MESSAGE } from '../lambdas/shared/messages';
import { postAuthEvent, preAuthEvent, preSignUpEvent } from '../sandbox/sample-events';

type Entry<E> = { handler: (event: E) => Promise<E> };

function loadWith<E>(entry: string, env: Record<string, string | undefined>): Entry<E> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete process.env[name];
  try {
    let loaded: Entry<E> | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require(entry) as Entry<E>;
    });
    return loaded!;
  } finally {
    process.env = saved;
  }
}

describe.each([
  ['a missing table name', { LOCKOUT_TABLE_NAME: undefined }],
  ['a malformed setting', { LOCKOUT_TABLE_NAME: 'lockout', LOCKOUT_MAX_FAILED_ATTEMPTS: 'five' }],
])('entry points with %s', (_, env) => {
  it('pre-authentication loads, and answers every sign-in with the generic message', async () => {
    const { handler } = loadWith<PreAuthenticationTriggerEvent>('../dist/assets/pre-authentication/index.js', env);
    await expect(handler(preAuthEvent('jane'))).rejects.toThrow(new Error(GENERIC_FAILURE_MESSAGE));
  });

  it('pre-signup loads, and answers every sign-up with the generic message', async () => {
    const { handler } = loadWith<PreSignUpTriggerEvent>('../dist/assets/pre-signup/index.js', env);
    await expect(handler(preSignUpEvent())).rejects.toThrow(new Error(GENERIC_FAILURE_MESSAGE));
  });

  it('post-authentication loads, and lets the sign-in complete', async () => {
    const { handler } = loadWith<PostAuthenticationTriggerEvent>('../dist/assets/post-authentication/index.js', env);
    const event = postAuthEvent('jane');
    await expect(handler(event)).resolves.toBe(event);
  });
});
