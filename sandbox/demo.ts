/**
 * The scripted lockout story behind `npm run demo`: real Cognito API calls (the AWS SDK) against a sandbox,
 * each step checked against what the policy promises. Returns the timeline; the caller prints it.
 */
import { randomUUID } from 'node:crypto';
import {
  AdminConfirmSignUpCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  ConfirmForgotPasswordCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { userIdentity } from '../lambdas/identity/identity';
import { type DeviceTokenStorage, deviceTokens } from '../lib/client/device-token';
import { LOCAL_CREDENTIALS } from './dynamodb-local';
import type { SandboxStatus } from './sandbox';

export interface DemoStep {
  readonly step: string;
  readonly expected: string;
  readonly observed: string;
  readonly ok: boolean;
  /** Milliseconds since the demo started. */
  readonly at: number;
}

/** How one sign-in ended, in the terms a front end sees. */
export type SignInResult = 'signed-in' | 'wrong-password' | 'refused' | `error: ${string}`;

export interface DemoOptions {
  /** Concurrent clients in each storm. */
  readonly stormSize?: number;
  /** Called as each step completes, for live output. */
  readonly onStep?: (step: DemoStep) => void;
}

const PASSWORD = 'Correct-Horse-42!';

export async function runDemo(status: SandboxStatus, options: DemoOptions = {}): Promise<DemoStep[]> {
  const n = status.settings.maxFailedAttempts;
  const stormSize = options.stormSize ?? Math.max(20, n * 4);
  const lockSeconds = status.settings.lockoutDurationSeconds;
  const cognitoAt = (endpoint: string) =>
    new CognitoIdentityProviderClient({ endpoint, region: status.region, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const cognito = cognitoAt(status.endpoint);
  const table = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: status.dynamodbEndpoint, region: status.region, credentials: LOCAL_CREDENTIALS }),
  );
  const started = Date.now();
  const steps: DemoStep[] = [];
  const check = (step: string, expected: string, observed: string, ok = observed === expected) => {
    const entry = { step, expected, observed, ok, at: Date.now() - started };
    steps.push(entry);
    options.onStep?.(entry);
  };

  // The owner's laptop keeps its device token as a browser would (cognito-lockout/client); other clients keep none.
  const memory = new Map<string, string>();
  const storage: DeviceTokenStorage = {
    getItem: (k) => memory.get(k),
    setItem: (k, v) => void memory.set(k, v),
    removeItem: (k) => void memory.delete(k),
  };
  const laptop = deviceTokens({ storage, claim: status.settings.deviceTokenClaim });
  const signIn = async (username: string, password: string, device?: typeof laptop): Promise<SignInResult> => {
    try {
      const out = await cognito.send(
        new InitiateAuthCommand({
          ClientId: status.userPoolClientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: username, PASSWORD: password },
          ClientMetadata: device === undefined ? undefined : await device.clientMetadata(username),
        }),
      );
      const idToken = out.AuthenticationResult?.IdToken;
      if (device !== undefined && idToken !== undefined) await device.remember(username, idToken);
      return out.AuthenticationResult?.AccessToken ? 'signed-in' : 'error: no tokens';
    } catch (error) {
      const e = error as Error;
      if (e.name === 'NotAuthorizedException' && e.message === 'Incorrect username or password.') return 'wrong-password';
      if (e.name === 'UserLambdaValidationException' && e.message === `PreAuthentication failed with error ${status.settings.refusalMessage}.`)
        return 'refused';
      return `error: ${e.name}: ${e.message}`;
    }
  };
  const storm = async (username: string) => {
    const results = await Promise.all(Array.from({ length: stormSize }, (_, i) => signIn(username, `wrong-password-${i}`)));
    const count = (r: SignInResult) => results.filter((x) => x === r).length;
    return `${count('wrong-password')} reached the password check, ${count('refused')} refused${results.length === count('wrong-password') + count('refused') ? '' : `, others: ${results.filter((r) => r.startsWith('error')).join('; ')}`}`;
  };
  const lockItem = async (sub: string) =>
    (await table.send(new GetCommand({ TableName: status.tableName, Key: { [status.partitionKey]: userIdentity(sub).key }, ConsistentRead: true })))
      .Item;

  // A new user, signed up and confirmed; its sub, by which the lockout keys it whatever name or alias is typed.
  const newUser = async (email: string): Promise<string> => {
    await cognito.send(
      new SignUpCommand({
        ClientId: status.userPoolClientId,
        Username: email,
        Password: PASSWORD,
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );
    await cognito.send(new AdminConfirmSignUpCommand({ UserPoolId: status.userPoolId, Username: email }));
    const user = await cognito.send(new AdminGetUserCommand({ UserPoolId: status.userPoolId, Username: email }));
    return user.UserAttributes!.find((a) => a.Name === 'sub')!.Value!;
  };

  try {
    const email = `demo-${randomUUID().slice(0, 8)}@example.com`;
    let sub: string;
    try {
      sub = await newUser(email);
      check('sign up and confirm a user', 'confirmed', 'confirmed');
    } catch (error) {
      check('sign up and confirm a user', 'confirmed', `error: ${(error as Error).name}: ${(error as Error).message}`);
      return steps;
    }

    check("sign in with the right password, on the owner's laptop", 'signed-in', await signIn(email, PASSWORD, laptop));
    const devicesOn = status.settings.deviceTokens === 'on';
    if (devicesOn) {
      const kept = Object.keys(await laptop.clientMetadata(email)).length === 1;
      check('the ID token carried a device token; the laptop keeps it', 'kept', kept ? 'kept' : 'no device token in the ID token');
    }
    check(`${stormSize} concurrent wrong-password attempts`, `${n} reached the password check, ${stormSize - n} refused`, await storm(email));
    check('the right password while locked', 'refused', await signIn(email, PASSWORD));
    const locked = await lockItem(sub);
    check(
      'the table holds an active lock',
      'locked',
      locked && (locked.lockedUntil as number) > Date.now() ? 'locked' : `no active lock: ${JSON.stringify(locked)}`,
    );

    const waitMs = Math.max(0, ((locked?.lockedUntil as number | undefined) ?? Date.now()) - Date.now()) + 250;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    check(`after the ${lockSeconds} s lock expires, the right password`, 'signed-in', await signIn(email, PASSWORD));
    const cleared = await lockItem(sub);
    check(
      'the successful sign-in cleared the counter',
      'cleared',
      cleared === undefined || (cleared.failures === 0 && (cleared.lockedUntil as number) <= Date.now())
        ? 'cleared'
        : `still stored: ${JSON.stringify(cleared)}`,
    );
    check('sign in with different case: the pool is case-insensitive', 'signed-in', await signIn(email.toUpperCase(), PASSWORD));

    const stranger = `nobody-${randomUUID().slice(0, 8)}@example.com`;
    check(
      `${stormSize} concurrent attempts on an unknown user name`,
      `${n} reached the password check, ${stormSize - n} refused`,
      await storm(stranger),
    );
    check('the unknown name is refused with the same answer as a real user', 'refused', await signIn(stranger, PASSWORD));

    // Recovery without support staff: an attacker locks the account again; its owner resets the password.
    check(
      `an attacker locks the account again (${stormSize} attempts)`,
      `${n} reached the password check, ${stormSize - n} refused`,
      await storm(email),
    );
    if (devicesOn) {
      // Familiar devices: the attacker's lock holds every new device out, not the owner's laptop.
      check("the owner's laptop, which signed in before, signs in during the attack", 'signed-in', await signIn(email, PASSWORD, laptop));
      check('a new device with the right password is refused', 'refused', await signIn(email, PASSWORD));
      check("the owner's sign-in did not lift the attacker's lock: a new device is still refused", 'refused', await signIn(email, PASSWORD));
    }
    await cognito.send(new ForgotPasswordCommand({ ClientId: status.userPoolClientId, Username: email }));
    const mail = (await (await fetch(new URL('/__sandbox/mail', status.endpoint))).json()) as Array<{ identity: string; code: string }>;
    const code = mail.filter((m) => m.identity === userIdentity(sub).logId).at(-1)?.code;
    check('the owner asks for a password reset: a code is "emailed" (the sandbox mailbox)', 'code sent', code ? 'code sent' : 'no code');
    const newPassword = 'Reset-Horse-43!';
    await cognito.send(
      new ConfirmForgotPasswordCommand({ ClientId: status.userPoolClientId, Username: email, ConfirmationCode: code ?? '', Password: newPassword }),
    );
    const afterReset = await lockItem(sub);
    check(
      'the confirmed reset lifted the lock',
      'no lock',
      ((afterReset?.lockedUntil as number | undefined) ?? 0) > Date.now() ? 'still locked' : 'no lock',
    );
    check('the owner signs in at once with the new password', 'signed-in', await signIn(email, newPassword));

    // Every sign-in accounted for: a flow that skips pre-authentication (the sandbox's stand-in: cognito-local itself),
    // for a user with no attempt in the last 15 minutes (a counted attempt that recent would cover the sign-in).
    const other = `demo-${randomUUID().slice(0, 8)}@example.com`;
    const otherSub = await newUser(other);
    const uncounted = cognitoAt(status.withoutPreAuthentication);
    try {
      await uncounted.send(
        new InitiateAuthCommand({
          ClientId: status.userPoolClientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: other, PASSWORD },
        }),
      );
      const mark = await lockItem(otherSub);
      check(
        'a sign-in through a flow without pre-authentication is reported as uncounted (UncountedSignIns, SignInUncounted)',
        'uncounted',
        // The mark (its stream record is the announcer's); pre token generation's clear may have written since.
        typeof mark?.uncountedAt === 'number' ? 'uncounted' : `not reported: ${JSON.stringify(mark)}`,
      );
    } finally {
      uncounted.destroy();
    }
    return steps;
  } finally {
    cognito.destroy();
    table.destroy();
  }
}

export function formatTimeline(steps: readonly DemoStep[]): string {
  const width = Math.max(...steps.map((s) => s.step.length), 4);
  const rows = steps.map(
    (s, i) =>
      `${String(i + 1).padStart(2)}  ${(s.at / 1000).toFixed(1).padStart(6)} s  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.step.padEnd(width)}  ${s.observed}${s.ok ? '' : `   (expected: ${s.expected})`}`,
  );
  return [` #  ${'time'.padStart(8)}  ${'    '}  ${'step'.padEnd(width)}  observed`, ...rows].join('\n');
}

export function summary(steps: readonly DemoStep[]): string {
  const passed = steps.filter((s) => s.ok).length;
  return `demo: ${passed} of ${steps.length} expectations met${passed === steps.length ? '' : ' — FAILED'}`;
}
