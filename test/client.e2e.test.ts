/**
 * The front-end helper against the errors the real clients raise: Amplify v6, amazon-cognito-identity-js and
 * the AWS SDK, each signing in against the local sandbox until the lockout refuses it.
 */
import { signIn, signOut } from '@aws-amplify/auth';
import {
  AdminUpdateUserAttributesCommand,
  ConfirmForgotPasswordCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';
import { recognizeLockout } from '../lib/client/lockout-error';
import { confirmedUser, identityJsSignIn as signInWithIdentityJs, useSandbox, configureAmplify } from './support/local-services';

const PASSWORD = 'Correct-Horse-42!';
const REFUSAL = 'Too many failed sign-in attempts. Try again later.';

const local = useSandbox({ maxFailedAttempts: '1', signUpMaxAttempts: '2', notifyUserFrom: 'security@example.com' });

const newUser = (email: string) => confirmedUser(local.sdk, local.sandbox.status, email, PASSWORD);

/** USER_PASSWORD_AUTH sign-ins for one name, through the AWS SDK. */
const passwordSignIn = (username: string) => (password: string) =>
  local.sdk.send(
    new InitiateAuthCommand({
      ClientId: local.sandbox.status.userPoolClientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );

/** Wrong passwords until something other than "Incorrect username or password" comes back. */
async function untilRefused(attempt: (password: string) => Promise<unknown>): Promise<{ first: unknown; refusal: unknown }> {
  let first: unknown;
  for (let i = 0; i < 5; i++) {
    const error = await attempt(`wrong-${i}`).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (i === 0) first = error;
    else return { first, refusal: error };
  }
  throw new Error('never refused');
}

it("recognizes the AWS SDK's refusal, and not its wrong-password error", async () => {
  await newUser('sdk-user@example.com');
  const { first, refusal } = await untilRefused((password) =>
    local.sdk.send(
      new InitiateAuthCommand({
        ClientId: local.sandbox.status.userPoolClientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'sdk-user@example.com', PASSWORD: password },
      }),
    ),
  );
  expect((refusal as Error).name).toBe('UserLambdaValidationException');
  expect(recognizeLockout(refusal)).toEqual({ locked: true, message: REFUSAL, trigger: 'PreAuthentication' });
  expect(recognizeLockout(first)).toEqual({ locked: false });
});

it("recognizes amazon-cognito-identity-js's refusal", async () => {
  await newUser('identity-js-user@example.com');
  const pool = new CognitoUserPool({
    UserPoolId: local.sandbox.status.userPoolId,
    ClientId: local.sandbox.status.userPoolClientId,
    endpoint: local.sandbox.status.endpoint,
  });
  const { first, refusal } = await untilRefused(
    (password) =>
      new Promise((resolve, reject) => {
        const user = new CognitoUser({ Username: 'identity-js-user@example.com', Pool: pool });
        user.setAuthenticationFlowType('USER_PASSWORD_AUTH');
        user.authenticateUser(new AuthenticationDetails({ Username: 'identity-js-user@example.com', Password: password }), {
          onSuccess: resolve,
          onFailure: reject,
        });
      }),
  );
  expect((refusal as { code: string }).code).toBe('UserLambdaValidationException');
  expect(recognizeLockout(refusal)).toEqual({ locked: true, message: REFUSAL, trigger: 'PreAuthentication' });
  expect(recognizeLockout(first)).toEqual({ locked: false });
});

it("recognizes Amplify v6 signIn's refusal", async () => {
  await newUser('amplify-user@example.com');
  configureAmplify(local.sandbox.status);
  const { first, refusal } = await untilRefused(async (password) => {
    await signOut().catch(() => undefined);
    return signIn({ username: 'amplify-user@example.com', password, options: { authFlowType: 'USER_PASSWORD_AUTH' } });
  });
  expect((refusal as Error).name).toBe('UserLambdaValidationException');
  expect(recognizeLockout(refusal)).toEqual({ locked: true, message: REFUSAL, trigger: 'PreAuthentication' });
  expect(recognizeLockout(first)).toEqual({ locked: false });
});

it('recognizes a sign-up refusal', async () => {
  const signUp = () =>
    local.sdk
      .send(new SignUpCommand({ ClientId: local.sandbox.status.userPoolClientId, Username: `wave+${Math.random()}@example.com`, Password: PASSWORD }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
  const results = [await signUp(), await signUp(), await signUp()];
  expect(results.slice(0, 2)).toEqual([undefined, undefined]);
  expect(recognizeLockout(results[2])).toEqual({ locked: true, message: 'Too many sign-up attempts. Try again later.', trigger: 'PreSignUp' });
});

describe('default SRP sign-in, with the clients unchanged', () => {
  // No setAuthenticationFlowType: USER_SRP_AUTH, the library's default.
  const identityJsSignIn = (email: string, password: string) => signInWithIdentityJs(local.sandbox.status, email, password);

  it("amazon-cognito-identity-js signs in, gets Cognito's wrong-password error, then the refusal", async () => {
    await newUser('srp-identity-js@example.com');
    const session = await identityJsSignIn('srp-identity-js@example.com', PASSWORD);
    expect(session.getIdToken().getJwtToken().split('.')).toHaveLength(3);
    const wrong = await identityJsSignIn('srp-identity-js@example.com', 'not-it').catch((e: { code: string; message: string }) => e);
    expect(wrong).toMatchObject({ code: 'NotAuthorizedException', message: 'Incorrect username or password.' });
    const refused = await identityJsSignIn('srp-identity-js@example.com', PASSWORD).catch((e: unknown) => e);
    expect((refused as { code: string }).code).toBe('UserLambdaValidationException');
    expect(recognizeLockout(refused)).toEqual({ locked: true, message: REFUSAL, trigger: 'PreAuthentication' });
  });

  it('an unknown name gets a challenge of the same shape and fails the same way, then is locked the same way', async () => {
    const unknown = await identityJsSignIn('nobody-here@example.com', 'guess-1').catch((e: { code: string; message: string }) => e);
    expect(unknown).toMatchObject({ code: 'NotAuthorizedException', message: 'Incorrect username or password.' });
    const start = (name: string) =>
      local.sdk.send(
        new InitiateAuthCommand({
          ClientId: local.sandbox.status.userPoolClientId,
          AuthFlow: 'USER_SRP_AUTH',
          AuthParameters: { USERNAME: name, SRP_A: 'ab'.repeat(384) },
        }),
      );
    await newUser('srp-shape@example.com');
    const [known, ghost] = [await start('srp-shape@example.com'), await start('ghost-shape@example.com')];
    expect(Object.keys(ghost.ChallengeParameters ?? {}).sort()).toEqual(Object.keys(known.ChallengeParameters ?? {}).sort());
    expect(ghost.ChallengeName).toBe('PASSWORD_VERIFIER');
    // N = 1 here: the second SRP start for a name is already refused (an abandoned start counts, as in Cognito).
    expect(recognizeLockout(await start('ghost-shape@example.com').catch((e: unknown) => e))).toMatchObject({ locked: true });
    const refused = await identityJsSignIn('nobody-here@example.com', 'guess-2').catch((e: unknown) => e);
    expect(recognizeLockout(refused)).toMatchObject({ locked: true });
  });

  it('Amplify v6 signIn with default options signs in, then is refused after N wrong passwords', async () => {
    await newUser('srp-amplify@example.com');
    configureAmplify(local.sandbox.status);
    await signOut().catch(() => undefined);
    await expect(signIn({ username: 'srp-amplify@example.com', password: PASSWORD })).resolves.toMatchObject({ isSignedIn: true });
    await signOut();
    const wrong = await signIn({ username: 'srp-amplify@example.com', password: 'nope' }).catch((e: Error) => e);
    expect(wrong).toMatchObject({ name: 'NotAuthorizedException', message: 'Incorrect username or password.' });
    const refused = await signIn({ username: 'srp-amplify@example.com', password: PASSWORD }).catch((e: Error) => e);
    expect((refused as Error).name).toBe('UserLambdaValidationException');
    expect(recognizeLockout(refused)).toEqual({ locked: true, message: REFUSAL, trigger: 'PreAuthentication' });
  });

  it('answers malformed SRP parameters and a forged proof as Cognito does, and keeps running', async () => {
    const bad = await local.sdk
      .send(
        new InitiateAuthCommand({
          ClientId: local.sandbox.status.userPoolClientId,
          AuthFlow: 'USER_SRP_AUTH',
          AuthParameters: { USERNAME: 'x@example.com', SRP_A: 'not-hex' },
        }),
      )
      .catch((e: Error) => e);
    expect(bad).toMatchObject({ name: 'InvalidParameterException' });
    const forged = await local.sdk
      .send(
        new RespondToAuthChallengeCommand({
          ClientId: local.sandbox.status.userPoolClientId,
          ChallengeName: 'PASSWORD_VERIFIER',
          ChallengeResponses: {
            USERNAME: 'x',
            PASSWORD_CLAIM_SECRET_BLOCK: 'made-up',
            PASSWORD_CLAIM_SIGNATURE: 'AAAA',
            TIMESTAMP: 'Mon Jan 1 00:00:00 UTC 2026',
          },
        }),
      )
      .catch((e: Error) => e);
    expect(forged).toMatchObject({ name: 'NotAuthorizedException' });
    expect((await fetch(`${local.sandbox.status.endpoint}/__sandbox`)).ok).toBe(true);
  });
});

describe('recovery without support staff', () => {
  it('a confirmed password reset lifts the lock, and the user signs in with the new password', async () => {
    await newUser('reset-user@example.com');
    const signIn = passwordSignIn('reset-user@example.com');
    const { refusal } = await untilRefused(signIn);
    expect(recognizeLockout(refusal)).toMatchObject({ locked: true });

    await local.sdk.send(new ForgotPasswordCommand({ ClientId: local.sandbox.status.userPoolClientId, Username: 'reset-user@example.com' }));
    const notice = local.logs
      .map((l) => l.localNotice as { type?: string; code?: string } | undefined)
      .find((n) => n?.type === 'password-reset-code');
    expect(notice?.code).toMatch(/^\d{6}$/);
    const newPassword = 'Brand-New-Horse-43!';
    await local.sdk.send(
      new ConfirmForgotPasswordCommand({
        ClientId: local.sandbox.status.userPoolClientId,
        Username: 'reset-user@example.com',
        ConfirmationCode: notice!.code!,
        Password: newPassword,
      }),
    );
    expect(local.logs.some((l) => l.trigger === 'PostConfirmation' && l.message === 'password reset: temporary lock lifted')).toBe(true);
    await expect(signIn(newPassword)).resolves.toMatchObject({ AuthenticationResult: { IdToken: expect.any(String) } });
  });
});

describe('lock notices', () => {
  it('emails the owner of a known account once when the lock starts; in the sandbox the email is in the decision log', async () => {
    await newUser('notified@example.com');
    // Only a verified address is written to (AdminConfirmSignUp verifies nothing, in Cognito as here).
    await local.sdk.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: local.sandbox.status.userPoolId,
        Username: 'notified@example.com',
        UserAttributes: [
          { Name: 'email', Value: 'notified@example.com' },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
    const before = local.logs.filter((l) => l.localEmail !== undefined).length;
    const signIn = passwordSignIn('notified@example.com');
    await untilRefused(signIn);
    await signIn('again').catch(() => undefined); // still locked: no second notice
    // The notice comes from the table's stream (the announcer, then the notifier), as in AWS: wait until what the
    // writes so far announce has happened.
    await local.sandbox.streamsSettled();
    const emails = local.logs.filter((l) => l.localEmail !== undefined).slice(before) as Array<{ localEmail: { subject: string; text: string } }>;
    expect(emails).toHaveLength(1);
    expect(emails[0].localEmail.subject).toBe('Your account was locked');
    expect(emails[0].localEmail.text).toContain('Resetting your password unlocks the account now.');
    expect(JSON.stringify(emails)).not.toContain('notified@example.com');
  });

  it('sends nothing for an unknown name', async () => {
    const before = local.logs.filter((l) => l.localEmail !== undefined).length;
    const signIn = passwordSignIn('nobody-notified@example.com');
    await untilRefused(signIn);
    await local.sandbox.streamsSettled();
    expect(local.logs.filter((l) => l.localEmail !== undefined).length).toBe(before);
  });
});
