/**
 * Familiar devices against the local sandbox, as deployed (the committed cdk.json, the shipped defaults): the pre
 * token generation bundle puts the device token in the ID token, real clients send it back with the front-end
 * helper, and the owner keeps signing in while an attacker holds the account locked.
 */
import { fetchAuthSession, signIn, signOut } from '@aws-amplify/auth';
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { type DeviceTokenStorage, deviceTokens } from '../lib/client';
import { recognizeLockout } from '../lib/client/lockout-error';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { confirmedUser, identityJsSignIn, useSandbox, configureAmplify } from './support/local-services';

const PASSWORD = 'Correct-Horse-42!';
const N = DEFAULT_SETTINGS.maxFailedAttempts;

const local = useSandbox();

const newUser = (email: string) => confirmedUser(local.sdk, local.sandbox.status, email, PASSWORD);

/** One browser's storage: each client below is a different device. */
function memoryStorage(): DeviceTokenStorage {
  const items = new Map<string, string>();
  return { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v), removeItem: (k) => void items.delete(k) };
}

/** The device id a token carries (its first part is base64url JSON). */
const deviceIdOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as { did: string }).did;

/** An attacker from anywhere: wrong passwords over USER_PASSWORD_AUTH, no token, until the lockout refuses. */
async function lockFromAnonymousClients(email: string): Promise<void> {
  for (let i = 0; i <= N; i++) {
    const error = await local.sdk
      .send(
        new InitiateAuthCommand({
          ClientId: local.sandbox.status.userPoolClientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: email, PASSWORD: `wrong-${i}` },
        }),
      )
      .catch((e: unknown) => e);
    expect(recognizeLockout(error).locked).toBe(i === N);
  }
}

it('issues the device token in the ID token of a default Amplify v6 SRP sign-in; the owner signs in during an attack; a new device is refused', async () => {
  const email = 'owner-amplify@example.com';
  await newUser(email);
  configureAmplify(local.sandbox.status);
  await signOut().catch(() => undefined);

  const browser = deviceTokens({ storage: memoryStorage() });
  const amplifySignIn = async () => {
    const result = await signIn({ username: email, password: PASSWORD, options: { clientMetadata: await browser.clientMetadata(email) } });
    const idToken = (await fetchAuthSession()).tokens?.idToken;
    await browser.remember(email, idToken!);
    await signOut();
    return { result, idToken };
  };
  const first = await amplifySignIn();
  expect(first.result).toMatchObject({ isSignedIn: true });
  const issued = first.idToken!.payload[DEFAULT_SETTINGS.deviceTokenClaim];
  expect(issued).toEqual(expect.stringMatching(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/));
  expect(await browser.clientMetadata(email)).toEqual({ [DEFAULT_SETTINGS.deviceTokenClaim]: issued });

  await lockFromAnonymousClients(email);

  // The owner's browser signs in, and gets a token for the same device: pre token generation got the token in the
  // SRP answer's metadata (a token issued within the same second as the last is the same text).
  const during = await amplifySignIn();
  expect(during.result).toMatchObject({ isSignedIn: true });
  const renewed = during.idToken!.payload[DEFAULT_SETTINGS.deviceTokenClaim] as string;
  expect(deviceIdOf(renewed)).toBe(deviceIdOf(issued as string));
  // A new device, with the right password, is refused until the lock ends or a reset.
  const newDevice = await signIn({ username: email, password: PASSWORD }).catch((e: unknown) => e);
  expect(recognizeLockout(newDevice)).toMatchObject({ locked: true, message: DEFAULT_SETTINGS.refusalMessage });
  // The owner's sign-in did not lift the attacker's lock.
  await expect(
    local.sdk.send(
      new InitiateAuthCommand({
        ClientId: local.sandbox.status.userPoolClientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD },
      }),
    ),
  ).rejects.toMatchObject({ name: 'UserLambdaValidationException' });
  await expect(amplifySignIn()).resolves.toMatchObject({ result: { isSignedIn: true } });
});

it('amazon-cognito-identity-js with the helper: the owner signs in during an attack, a tampered token is refused like a new device', async () => {
  const email = 'owner-identity-js@example.com';
  await newUser(email);
  const device = deviceTokens({ storage: memoryStorage() });
  const session = await identityJsSignIn(local.sandbox.status, email, PASSWORD, await device.clientMetadata(email));
  expect(await device.remember(email, session.getIdToken().getJwtToken())).toBe(true);

  await lockFromAnonymousClients(email);

  const metadata = await device.clientMetadata(email, { app: 'kept' });
  await expect(identityJsSignIn(local.sandbox.status, email, PASSWORD, metadata)).resolves.toBeDefined();
  const token = metadata[DEFAULT_SETTINGS.deviceTokenClaim];
  const tampered = { [DEFAULT_SETTINGS.deviceTokenClaim]: token.slice(0, -10) + (token.at(-10) === 'A' ? 'B' : 'A') + token.slice(-9) };
  const refused = await identityJsSignIn(local.sandbox.status, email, PASSWORD, tampered).catch((e: unknown) => e);
  expect(recognizeLockout(refused)).toMatchObject({ locked: true });
});
