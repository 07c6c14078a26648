/**
 * Each trigger's IAM as the synthesized app deploys it, enforced on DynamoDB Local: a request its role does not allow
 * is refused as AWS refuses it, every path of every trigger runs under its own role without a refusal, and every
 * action a role grants is one its code uses (docs/development.md, "IAM in the tests").
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PreAuthenticationTriggerEvent } from 'aws-lambda';
import { devicesIdentity, bucketAttribute } from '../lambdas/devices/device-bucket';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { PARTITION_KEY, PRUNE_KEEPS_DEVICES, TTL_ATTRIBUTE } from '../lambdas/store/store';
import type { TriggerName } from '../lambdas/shared/telemetry';
import { createPostAuthenticationHandler } from '../lambdas/handlers/post-authentication';
import { createPostConfirmationHandler } from '../lambdas/handlers/post-confirmation';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { createPreSignUpHandler } from '../lambdas/handlers/pre-signup';
import { createPreTokenGenerationHandler } from '../lambdas/handlers/pre-token-generation';
import { createLockoutTable } from '../sandbox/dynamodb-local';
import { authorize } from '../sandbox/iam-policy';
import { platformRequests } from '../sandbox/iam-template';
import { postAuthEvent, postConfirmationEvent, preAuthEvent, preSignUpEvent, preTokenGenerationEvent } from '../sandbox/sample-events';
import { type LocalSecretsManager, startSecretsManager } from '../sandbox/secrets-manager';
import { FakeClock } from './support/deps';
import { IamLedger, LOCAL_ACCOUNT, enforcedDocumentClient, enforcedTriggerDeps, localNames, principalFor, synthesizedApp } from './support/iam';
import { useDynamoDbLocal } from './support/local-services';

const MINUTE = 60_000;
const N = DEFAULT_SETTINGS.maxFailedAttempts;
const CLAIM = DEFAULT_SETTINGS.deviceTokenClaim;
const USER = 'a1b2c3d4-0000-4000-8000-0000000000e1';
const OWNER = 'a1b2c3d4-0000-4000-8000-0000000000e2';
const TRIGGERS: TriggerName[] = ['PreAuthentication', 'PostAuthentication', 'PreTokenGeneration', 'PreSignUp', 'PostConfirmation'];

const local = useDynamoDbLocal();
let secrets: LocalSecretsManager;
let tableCount = 0;
beforeAll(async () => {
  secrets = await startSecretsManager();
});
afterAll(async () => {
  await secrets?.stop();
});

async function table(): Promise<string> {
  const name = `iam-${++tableCount}`;
  await createLockoutTable(local.engine().client, name, PARTITION_KEY, TTL_ATTRIBUTE);
  return name;
}

/** The error a request ends in; a request that succeeds fails the test. */
async function refusal(send: () => Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await send();
  } catch (error) {
    return error as Error;
  }
  throw new Error('the request was allowed');
}

describe('IAM enforced on DynamoDB Local', () => {
  it('refuses an action, a key of another scope and another table as AWS does, and lets the role through', async () => {
    const tableName = await table();
    const other = await table();
    const ledger = new IamLedger();
    const client = enforcedDocumentClient('PreAuthentication', { endpoint: local.engine().endpoint, tableName, ledger });
    const role = synthesizedApp().functionRoles.find((r) => r.name === 'PreAuthentication')!.roleLogicalId;
    const update = (name: string, key: string) =>
      client.send(
        new UpdateCommand({
          TableName: name,
          Key: { [PARTITION_KEY]: key },
          UpdateExpression: 'SET n = :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      );

    await update(tableName, 'signin#allowed');

    const read = await refusal(() => client.send(new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: 'signin#allowed' } })));
    expect(read.name).toBe('AccessDeniedException');
    expect(read.$metadata?.httpStatusCode).toBe(400);
    expect(read.message).toBe(
      `User: arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${role}/PreAuthentication is not authorized to perform: dynamodb:GetItem on resource: ` +
        `arn:aws:dynamodb:us-east-1:${LOCAL_ACCOUNT}:table/${tableName} because no identity-based policy allows the dynamodb:GetItem action`,
    );
    expect(await refusal(() => update(tableName, 'signup-email#not-mine'))).toMatchObject({ name: 'AccessDeniedException' });
    expect(await refusal(() => update(other, 'signin#allowed'))).toMatchObject({ name: 'AccessDeniedException' });
    expect(await refusal(() => client.send(new PutCommand({ TableName: tableName, Item: { [PARTITION_KEY]: 'notice#not-mine' } })))).toMatchObject({
      name: 'AccessDeniedException',
    });

    // Refused requests never reached the engine.
    const item = async (name: string, key: string) =>
      (await local.documents().send(new GetCommand({ TableName: name, Key: { [PARTITION_KEY]: key } }))).Item;
    expect(await item(tableName, 'signin#allowed')).toEqual({ [PARTITION_KEY]: 'signin#allowed', n: 1 });
    expect(await item(tableName, 'signup-email#not-mine')).toBeUndefined();
    expect(await item(tableName, 'notice#not-mine')).toBeUndefined();
    expect(await item(other, 'signin#allowed')).toBeUndefined();
    expect(ledger.refused.map((r) => r.request.action)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'dynamodb:PutItem',
    ]);
    expect(ledger.usedActions()).toEqual({ PreAuthentication: ['dynamodb:UpdateItem'] });
  });

  it('runs every path of every trigger under its own role without a refusal, and each role grants exactly what its paths use', async () => {
    const tableName = await table();
    const ledger = new IamLedger();
    const clock = FakeClock.onTheHour();
    const deps = (trigger: TriggerName) =>
      enforcedTriggerDeps(trigger, {
        endpoint: local.engine().endpoint,
        tableName,
        ledger,
        now: clock.now,
        secrets: { endpoint: secrets.endpoint, arn: secrets.arn },
      });
    const preAuth = createPreAuthenticationHandler(deps('PreAuthentication'));
    const postAuth = createPostAuthenticationHandler(deps('PostAuthentication'));
    const preToken = createPreTokenGenerationHandler(deps('PreTokenGeneration'));
    const preSignUp = createPreSignUpHandler(deps('PreSignUp'));
    const postConfirmation = createPostConfirmationHandler(deps('PostConfirmation'));
    const outcome = (call: () => Promise<unknown>) =>
      call().then(
        () => 'admitted',
        () => 'refused',
      );
    const withToken = (user: string, token: string): PreAuthenticationTriggerEvent => preAuthEvent(user, { validationData: { [CLAIM]: token } });
    const issue = async (user: string) => {
      const event = preTokenGenerationEvent(user);
      await preToken(event);
      return event.response.claimsOverrideDetails!.claimsToAddOrOverride![CLAIM] as string;
    };

    // Pre-authentication: counted attempts, then the lock that starts on the next one.
    const attempts = [];
    for (let i = 0; i <= N; i++) attempts.push(await outcome(() => preAuth(preAuthEvent(USER))));
    expect(attempts).toEqual([...Array(N).fill('admitted'), 'refused']);
    // Pre token generation issues a device token (the key read from its secret); the device's attempts count apart.
    const token = await issue(OWNER);
    expect(typeof token).toBe('string');
    await preAuth(withToken(OWNER, token));
    // Post-authentication clears that device's bucket, and the anonymous one's failures.
    await preAuth(preAuthEvent(OWNER));
    const success = postAuthEvent(OWNER);
    success.request.clientMetadata = { [CLAIM]: token };
    await postAuth(success);
    await postAuth(postAuthEvent(OWNER));
    // A password reset lifts the lock (post-confirmation); the next success zeroes what remembers the reset.
    await postConfirmation(postConfirmationEvent(USER));
    await preAuth(preAuthEvent(USER));
    await postAuth(postAuthEvent(USER));
    // The tidy-up: beyond PRUNE_KEEPS_DEVICES devices, the oldest quiet ones go at a sign-in's token generation.
    const abandoned = await issue(OWNER);
    await preAuth(withToken(OWNER, abandoned));
    for (let i = 0; i < PRUNE_KEEPS_DEVICES; i++) {
      clock.advance(16 * MINUTE);
      await preAuth(withToken(OWNER, await issue(OWNER)));
    }
    clock.advance(16 * MINUTE);
    await issue(OWNER);
    const devices = (await local.documents().send(new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: devicesIdentity(OWNER).key } })))
      .Item;
    expect(Object.keys(devices ?? {})).not.toContain(bucketAttribute(didOf(abandoned), 'r'));
    // Pre sign-up: counted sign-ups, then the limit's lock.
    const signUps = [];
    for (let i = 0; i <= DEFAULT_SETTINGS.signUpMaxAttempts; i++)
      signUps.push(await outcome(() => preSignUp(preSignUpEvent({ email: 'many@example.com' }))));
    expect(signUps.at(-1)).toBe('refused');

    expect(ledger.refused).toEqual([]);
    const blueprint = synthesizedApp();
    const names = localNames(blueprint, { tableName, deviceKeySecretArn: secrets.arn });
    for (const trigger of TRIGGERS) {
      const role = blueprint.functionRoles.find((r) => r.name === trigger)!;
      const principal = principalFor(trigger, { tableName, deviceKeySecretArn: secrets.arn });
      // What Lambda itself does with the role (logs) is allowed, and is the only use besides the code's.
      const platform = platformRequests(role, blueprint.resources, names);
      for (const request of platform)
        expect([trigger, request.action, authorize(principal, request).allowed]).toEqual([trigger, request.action, true]);
      const granted = [...new Set(principal.statements.filter((s) => s.effect === 'Allow').flatMap((s) => s.actions))];
      const forCode = granted.filter((action) => !platform.some((request) => request.action === action)).sort();
      expect([trigger, forCode]).toEqual([trigger, ledger.usedActions()[trigger]]);
    }
  });
});

function didOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8')) as { did: string }).did;
}
