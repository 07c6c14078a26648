/**
 * Choice-based sign-in (USER_AUTH) with a password, against the local sandbox with the real Amplify v6 client:
 * PASSWORD and PASSWORD_SRP, preferred up front or chosen after SELECT_CHALLENGE, each run pre-authentication once
 * per password attempt, are locked after N wrong passwords with the configured message, the same way for an unknown
 * name, and a familiar device's token keeps its owner signing in while the anonymous bucket is locked.
 */
import { type SignInOutput, confirmSignIn, fetchAuthSession, signIn, signOut } from '@aws-amplify/auth';
import { DescribeUserPoolClientCommand, InitiateAuthCommand, RespondToAuthChallengeCommand } from '@aws-sdk/client-cognito-identity-provider';
import { type DeviceTokenStorage, deviceTokens } from '../lib/client';
import { recognizeLockout } from '../lib/client/lockout-error';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { confirmedUser, useSandbox, configureAmplify } from './support/local-services';

const PASSWORD = 'Correct-Horse-42!';
const N = 2;
const REFUSAL = DEFAULT_SETTINGS.refusalMessage;
const WRONG = { name: 'NotAuthorizedException', message: 'Incorrect username or password.' };

const local = useSandbox({ maxFailedAttempts: String(N) });
beforeAll(() => {
  configureAmplify(local.sandbox.status);
});

type Way = 'PASSWORD' | 'PASSWORD_SRP' | 'SELECT_CHALLENGE then PASSWORD' | 'SELECT_CHALLENGE then PASSWORD_SRP';
const WAYS: Way[] = ['PASSWORD', 'PASSWORD_SRP', 'SELECT_CHALLENGE then PASSWORD', 'SELECT_CHALLENGE then PASSWORD_SRP'];

/** Amplify v6 USER_AUTH: the challenge preferred in signIn, or chosen with confirmSignIn after SELECT_CHALLENGE. */
async function userAuthSignIn(username: string, password: string, way: Way, clientMetadata?: Record<string, string>): Promise<SignInOutput> {
  await signOut().catch(() => undefined);
  if (way === 'PASSWORD' || way === 'PASSWORD_SRP') {
    return signIn({ username, password, options: { authFlowType: 'USER_AUTH', preferredChallenge: way, clientMetadata } });
  }
  const first = await signIn({ username, options: { authFlowType: 'USER_AUTH', clientMetadata } });
  expect(first.nextStep).toEqual({ signInStep: 'CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION', availableChallenges: ['PASSWORD', 'PASSWORD_SRP'] });
  const chosen = await confirmSignIn({ challengeResponse: way.split(' ').pop()!, options: { clientMetadata } });
  expect(chosen.nextStep.signInStep).toBe('CONFIRM_SIGN_IN_WITH_PASSWORD');
  return confirmSignIn({ challengeResponse: password, options: { clientMetadata } });
}

/** Pre-authentication decisions logged so far (one per run of the bundle that reached the store). */
const preAuthDecisions = () => local.logs.filter((l) => l.trigger === 'PreAuthentication' && typeof l.outcome === 'string');
const preAuthRuns = () => preAuthDecisions().length;

/** The decisions' log lines arrive on the hosts' pipes, apart from the HTTP answer: waits for `expected`, then a little more. */
async function preAuthRunsSettled(expected: number): Promise<number> {
  for (const deadline = Date.now() + 3000; preAuthRuns() < expected && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 25));
  await new Promise((r) => setTimeout(r, 200));
  return preAuthRuns();
}

/** What the client sees of an attempt: signed in, or the error's name and message. */
const outcome = (attempt: Promise<SignInOutput>) =>
  attempt.then(
    (result) => ({ signedIn: result.isSignedIn }),
    (error: Error) => ({ name: error.name, message: error.message }),
  );

it("allows USER_AUTH on the sandbox's client, and answers the first step without a preference alike for every name, counting nothing", async () => {
  const { UserPoolClient } = await local.sdk.send(
    new DescribeUserPoolClientCommand({ UserPoolId: local.sandbox.status.userPoolId, ClientId: local.sandbox.status.userPoolClientId }),
  );
  expect(UserPoolClient?.ExplicitAuthFlows).toEqual(expect.arrayContaining(['ALLOW_USER_SRP_AUTH', 'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_AUTH']));

  await confirmedUser(local.sdk, local.sandbox.status, 'choice-shape@example.com', PASSWORD);
  const before = await preAuthRunsSettled(0);
  const start = (name: string) =>
    local.sdk.send(
      new InitiateAuthCommand({ ClientId: local.sandbox.status.userPoolClientId, AuthFlow: 'USER_AUTH', AuthParameters: { USERNAME: name } }),
    );
  const [known, unknown] = [await start('choice-shape@example.com'), await start('nobody-choice@example.com')];
  for (const answer of [known, unknown]) {
    expect(answer).toMatchObject({ ChallengeName: 'SELECT_CHALLENGE', AvailableChallenges: ['PASSWORD', 'PASSWORD_SRP'], ChallengeParameters: {} });
    expect(answer.Session).toEqual(expect.any(String));
  }
  expect(known.AuthenticationResult).toBeUndefined();
  expect(await preAuthRunsSettled(before)).toBe(before);

  // The answer signs in once per session; a replayed or made-up session is Cognito's expired session.
  const answer = (session: string | undefined) =>
    local.sdk.send(
      new RespondToAuthChallengeCommand({
        ClientId: local.sandbox.status.userPoolClientId,
        ChallengeName: 'SELECT_CHALLENGE',
        Session: session,
        ChallengeResponses: { USERNAME: 'choice-shape@example.com', ANSWER: 'PASSWORD', PASSWORD },
      }),
    );
  await expect(answer(known.Session)).resolves.toMatchObject({ AuthenticationResult: { IdToken: expect.any(String) } });
  for (const session of [known.Session, 'made-up'])
    await expect(answer(session)).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Invalid session for the user, session is expired.',
    });
  expect(await preAuthRunsSettled(before + 1)).toBe(before + 1);
});

describe.each(WAYS)('Amplify v6 USER_AUTH, %s', (way) => {
  const slug = way.toLowerCase().replace(/[^a-z]+/g, '-');

  it('signs in, running pre-authentication once; N wrong passwords, then the right one is refused; an unknown name alike', async () => {
    const email = `user-auth-${slug}@example.com`;
    await confirmedUser(local.sdk, local.sandbox.status, email, PASSWORD);
    let runs = await preAuthRunsSettled(0);

    expect(await outcome(userAuthSignIn(email, PASSWORD, way))).toEqual({ signedIn: true });
    expect((await fetchAuthSession()).tokens?.idToken?.payload.email).toBe(email);
    expect(await preAuthRunsSettled(runs + 1)).toBe(runs + 1);
    runs += 1;

    const story = async (name: string, last: string) => {
      const seen = [];
      for (let i = 0; i < N; i++) seen.push(await outcome(userAuthSignIn(name, `wrong-${i}`, way)));
      seen.push(await outcome(userAuthSignIn(name, last, way)));
      return seen;
    };
    const known = await story(email, PASSWORD);
    expect(known).toEqual([...Array<typeof WRONG>(N).fill(WRONG), { name: 'UserLambdaValidationException', message: expect.any(String) }]);
    expect(await preAuthRunsSettled(runs + N + 1)).toBe(runs + N + 1);
    const refused = await userAuthSignIn(email, PASSWORD, way).catch((e: unknown) => e);
    expect(recognizeLockout(refused)).toEqual({ locked: true, message: REFUSAL, trigger: 'PreAuthentication' });

    // An unknown name: the same answers, step for step, and the same lock.
    expect(await story(`nobody-${slug}@example.com`, PASSWORD)).toEqual(known);
  });
});

it('keeps a familiar device signing in with USER_AUTH while the anonymous bucket is locked; a new device is refused', async () => {
  const email = 'user-auth-owner@example.com';
  await confirmedUser(local.sdk, local.sandbox.status, email, PASSWORD);
  const items = new Map<string, string>();
  const storage: DeviceTokenStorage = {
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
  const browser = deviceTokens({ storage });
  /** The owner's browser: its token in clientMetadata, and the fresh token of each sign-in kept. */
  const ownerSignIn = async (way: Way) => {
    const result = await userAuthSignIn(email, PASSWORD, way, await browser.clientMetadata(email));
    const idToken = (await fetchAuthSession()).tokens?.idToken;
    expect(await browser.remember(email, idToken!)).toBe(true);
    return result;
  };
  await expect(ownerSignIn('PASSWORD_SRP')).resolves.toMatchObject({ isSignedIn: true });
  expect(await browser.clientMetadata(email)).toEqual({ [DEFAULT_SETTINGS.deviceTokenClaim]: expect.any(String) });

  // An attacker without a token, over USER_AUTH PASSWORD, until the lockout refuses.
  for (let i = 0; i <= N; i++) {
    const error = await local.sdk
      .send(
        new InitiateAuthCommand({
          ClientId: local.sandbox.status.userPoolClientId,
          AuthFlow: 'USER_AUTH',
          AuthParameters: { USERNAME: email, PREFERRED_CHALLENGE: 'PASSWORD', PASSWORD: `wrong-${i}` },
        }),
      )
      .catch((e: unknown) => e);
    expect(recognizeLockout(error).locked).toBe(i === N);
  }

  // The token rides in the request that carries the password: InitiateAuth here, the SELECT_CHALLENGE answer there.
  // Two sign-ins, each with the token the one before issued: even if neither success gave its device's place back,
  // two devices fit in the window's deviceBucketsPerWindow (2) places.
  for (const way of ['PASSWORD', 'SELECT_CHALLENGE then PASSWORD_SRP'] as const) {
    const runs = await preAuthRunsSettled(0);
    await expect(ownerSignIn(way)).resolves.toMatchObject({ isSignedIn: true });
    expect(await preAuthRunsSettled(runs + 1)).toBe(runs + 1);
    expect(preAuthDecisions().at(-1)).toMatchObject({ bucket: 'device', outcome: 'admitted' });
  }
  await signOut();
  const newDevice = await userAuthSignIn(email, PASSWORD, 'PASSWORD').catch((e: unknown) => e);
  expect(recognizeLockout(newDevice)).toEqual({ locked: true, message: REFUSAL, trigger: 'PreAuthentication' });
});
