/**
 * The sandbox under IAM: every function's bundle runs in a host of its own, signs with its own key, and reaches every
 * service through the IAM gateway, which allows what the synthesized template gives its role (docs/development.md,
 * "IAM in the tests"). A sign-in story that takes every function down each path it has: nothing is refused, every
 * granted action is used, and what the role does not allow is refused as AWS refuses it.
 */
import {
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  ConfirmForgotPasswordCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { bucketAttribute, devicesIdentity } from '../lambdas/devices/device-bucket';
import { PRUNE_KEEPS_DEVICES } from '../lambdas/store/store';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { LOCAL_REGION } from '../sandbox/dynamodb-local';
import { platformRequests } from '../sandbox/iam-template';
import { accessKeyIdOf } from '../sandbox/local-iam';
import { LOCAL_TABLE_NAME } from '../sandbox/sandbox';
import { localNames, principalFor, synthesizedApp } from './support/iam';
import { confirmedUser, identityJsSignIn, useSandbox } from './support/local-services';

const PASSWORD = 'Correct-Horse-42!';
const NEW_PASSWORD = 'Brand-New-Horse-43!';
const OWNER = 'iam-owner@example.com';
const N = DEFAULT_SETTINGS.maxFailedAttempts;
const CLAIM = DEFAULT_SETTINGS.deviceTokenClaim;
const MINUTE = 60_000;

let documents: DynamoDBDocumentClient;

// The deployment with every function (the notifier is the one optional function off by default), shipped defaults.
const local = useSandbox({ notifyUserFrom: 'security@example.com' });
beforeAll(() => {
  // The test's own view of the table, as an operator's: not through the gateway.
  documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: local.sandbox.status.dynamodbEndpoint,
      region: LOCAL_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
});
afterAll(() => documents?.destroy());

const signIn = (password: string, clientMetadata?: Record<string, string>) =>
  local.sdk.send(
    new InitiateAuthCommand({
      ClientId: local.sandbox.status.userPoolClientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: OWNER, PASSWORD: password },
      ...(clientMetadata === undefined ? {} : { ClientMetadata: clientMetadata }),
    }),
  );
const claimsOf = (idToken: string) => JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
const devicesItem = async (sub: string) =>
  (await documents.send(new GetCommand({ TableName: LOCAL_TABLE_NAME, Key: { pk: devicesIdentity(sub).key }, ConsistentRead: true }))).Item;

it('runs every function down its paths under its own role: nothing refused, every granted action used', async () => {
  await confirmedUser(local.sdk, local.sandbox.status, OWNER, PASSWORD);
  await local.sdk.send(
    new AdminUpdateUserAttributesCommand({
      UserPoolId: local.sandbox.status.userPoolId,
      Username: OWNER,
      UserAttributes: [
        { Name: 'email', Value: OWNER },
        { Name: 'email_verified', Value: 'true' },
      ],
    }),
  );
  const sub = (await local.sdk.send(new AdminGetUserCommand({ UserPoolId: local.sandbox.status.userPoolId, Username: OWNER }))).UserAttributes!.find(
    (a) => a.Name === 'sub',
  )!.Value!;

  // More devices than a tidy-up keeps, each quiet for longer than a window, as abandoned sign-ins leave them.
  const quiet = Array.from({ length: PRUNE_KEEPS_DEVICES + 1 }, (_, i) => `quietDeviceBucket${String(i).padStart(5, '0')}`);
  const oldest = quiet.at(-1)!;
  for (const [i, did] of quiet.entries()) {
    const attribute = (part: 'f' | 'w' | 'l' | 'n' | 'r' | 'a') => bucketAttribute(did, part);
    await documents.send(
      new UpdateCommand({
        TableName: LOCAL_TABLE_NAME,
        Key: { pk: devicesIdentity(sub).key },
        UpdateExpression: 'SET #f = :one, #w = :then, #l = :zero, #n = :zero, #r = :one, #a = :then',
        ExpressionAttributeNames: {
          '#f': attribute('f'),
          '#w': attribute('w'),
          '#l': attribute('l'),
          '#n': attribute('n'),
          '#r': attribute('r'),
          '#a': attribute('a'),
        },
        ExpressionAttributeValues: { ':one': 1, ':zero': 0, ':then': Date.now() - (20 + i) * MINUTE },
      }),
    );
  }

  // A sign-in: pre token generation issues a device token and tidies the devices item (its read, then its write).
  const first = await signIn(PASSWORD);
  const token = claimsOf(first.AuthenticationResult!.IdToken!)[CLAIM] as string;
  expect(typeof token).toBe('string');
  expect(Object.keys((await devicesItem(sub)) ?? {})).not.toContain(bucketAttribute(oldest, 'r'));
  expect(local.logs.some((l) => l.trigger === 'PreTokenGeneration' && l.message === 'devices no longer in use removed')).toBe(true);

  // An SRP sign-in with the token (identity-js's default): post-authentication and pre token generation get it in the
  // answer's metadata, read the key (post-authentication only for such a sign-in) and clear the device's bucket.
  await expect(identityJsSignIn(local.sandbox.status, OWNER, PASSWORD, { [CLAIM]: token })).resolves.toBeDefined();

  // The device's own bucket, then the anonymous bucket up to its lock (announced, and the owner notified).
  await expect(signIn('wrong-device', { [CLAIM]: token })).rejects.toThrow();
  for (let i = 0; i <= N; i++) await signIn(`wrong-${i}`).catch(() => undefined);
  await expect(signIn(PASSWORD)).rejects.toThrow(DEFAULT_SETTINGS.refusalMessage);
  await local.sandbox.streamsSettled();
  expect(local.logs.filter((l) => l.localEmail !== undefined)).toHaveLength(1);

  // A confirmed password reset lifts it; the next success zeroes what remembers the reset.
  await local.sdk.send(new ForgotPasswordCommand({ ClientId: local.sandbox.status.userPoolClientId, Username: OWNER }));
  const code = local.logs
    .map((l) => l.localNotice as { type?: string; code?: string } | undefined)
    .find((n) => n?.type === 'password-reset-code')!.code!;
  await local.sdk.send(
    new ConfirmForgotPasswordCommand({
      ClientId: local.sandbox.status.userPoolClientId,
      Username: OWNER,
      ConfirmationCode: code,
      Password: NEW_PASSWORD,
    }),
  );
  await expect(signIn(NEW_PASSWORD)).resolves.toMatchObject({ AuthenticationResult: { IdToken: expect.any(String) } });

  // Sign-ups up to the limit's lock.
  const signUps: string[] = [];
  for (let i = 0; i <= DEFAULT_SETTINGS.signUpMaxAttempts; i++) {
    signUps.push(
      await local.sdk
        .send(new SignUpCommand({ ClientId: local.sandbox.status.userPoolClientId, Username: `wave+${i}@example.com`, Password: PASSWORD }))
        .then(
          () => 'admitted',
          () => 'refused',
        ),
    );
  }
  expect(signUps.at(-1)).toBe('refused');
  await local.sandbox.streamsSettled();

  expect(local.sandbox.iam.refused).toEqual([]);
  const blueprint = synthesizedApp('notices');
  const targets = {
    tableName: LOCAL_TABLE_NAME,
    userPoolId: local.sandbox.status.userPoolId,
    deviceKeySecretArn: local.sandbox.status.deviceKeySecret!.arn,
    // Only the platform's stream reads name it, and the sandbox checked those when it started: actions are compared here.
    streamArn: 'arn:aws:dynamodb:ddblocal:000000000000:table/lockout/stream/local',
  };
  const used = local.sandbox.iam.usedActions();
  for (const role of blueprint.functionRoles) {
    const names = localNames(blueprint, targets);
    const platform = new Set(platformRequests(role, blueprint.resources, names).map((request) => request.action));
    const principal = principalFor(role.name, targets, 'notices');
    const forCode = [...new Set(principal.statements.flatMap((s) => s.actions))].filter((action) => !platform.has(action)).sort();
    expect([role.name, forCode]).toEqual([role.name, used[role.name]]);
  }
});

describe('what a role does not allow', () => {
  const as = (functionName: string) => ({
    endpoint: local.sandbox.iamEndpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: accessKeyIdOf(functionName), secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const errorOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('allowed');
      },
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => error,
    );

  it('is refused as AWS refuses it: another action, another scope, another source, another sender, an unknown key', async () => {
    const before = local.sandbox.iam.refused.length;
    const preAuth = DynamoDBDocumentClient.from(new DynamoDBClient(as('PreAuthentication')));
    const read = await errorOf(preAuth.send(new GetCommand({ TableName: LOCAL_TABLE_NAME, Key: { pk: 'signin#someone' } })));
    expect([read.name, read.$metadata?.httpStatusCode]).toEqual(['AccessDeniedException', 400]);
    expect(read.message).toMatch(
      /^User: arn:aws:sts::000000000000:assumed-role\/\w+\/PreAuthentication is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table\/lockout because no identity-based policy allows the dynamodb:GetItem action$/,
    );
    const announcer = DynamoDBDocumentClient.from(new DynamoDBClient(as('Announcer')));
    const write = await errorOf(
      announcer.send(
        new UpdateCommand({
          TableName: LOCAL_TABLE_NAME,
          Key: { pk: 'signin#someone' },
          UpdateExpression: 'SET n = :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
    );
    expect(write.name).toBe('AccessDeniedException');
    expect(await devicesOrItem('signin#someone')).toBeUndefined();

    // EventBridge answers a refused entry in the result, and sends the allowed ones.
    const events = new EventBridgeClient(as('Announcer'));
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'cognito-lockout', DetailType: 'AccountLocked', Detail: '{}', EventBusName: 'default' },
          { Source: 'someone-else', DetailType: 'AccountLocked', Detail: '{}', EventBusName: 'default' },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(1);
    expect(put.Entries![0].EventId).toEqual(expect.any(String));
    expect(put.Entries![1]).toMatchObject({ ErrorCode: 'NotAuthorizedForSourceException' });

    const ses = new SESv2Client(as('NotifyUser'));
    const send = await errorOf(
      ses.send(
        new SendEmailCommand({
          FromEmailAddress: 'someone-else@example.com',
          Destination: { ToAddresses: ['x@example.com'] },
          Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } },
        }),
      ),
    );
    expect(send.name).toBe('AccessDeniedException');

    const stranger = DynamoDBDocumentClient.from(new DynamoDBClient(as('Stranger')));
    expect((await errorOf(stranger.send(new GetCommand({ TableName: LOCAL_TABLE_NAME, Key: { pk: 'signin#x' } })))).name).toBe(
      'UnrecognizedClientException',
    );
    expect(local.sandbox.iam.refused.slice(before).map((r) => [r.functionName, r.request.action])).toEqual([
      ['PreAuthentication', 'dynamodb:GetItem'],
      ['Announcer', 'dynamodb:UpdateItem'],
      ['Announcer', 'events:PutEvents'],
      ['NotifyUser', 'ses:SendEmail'],
    ]);
    for (const client of [preAuth, announcer, events, ses, stranger]) client.destroy();
  });
});

async function devicesOrItem(pk: string) {
  return (await documents.send(new GetCommand({ TableName: LOCAL_TABLE_NAME, Key: { pk }, ConsistentRead: true }))).Item;
}
