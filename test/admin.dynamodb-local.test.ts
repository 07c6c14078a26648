/**
 * The admin CLI (`npx cognito-lockout`) as operators run it, against DynamoDB Local, on locks the real
 * pre-authentication handler made; the user pool and STS are loopback stand-ins (support/fake-aws.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { AdminStore, type AuditEntry } from '../lib/admin/admin-store';
import { resolveOperator } from '../lib/admin/operator';
import { ServerClock, watchServerDate } from '../lib/admin/server-clock';
import { type DynamoDbLocal, LOCAL_CREDENTIALS, LOCAL_REGION, createLockoutTable, localAwsEnv, startDynamoDbLocal } from '../sandbox/dynamodb-local';
import { SIGN_IN_CASE_SENSITIVE_ENV } from '../lambdas/shared/contract';
import { unknownNameIdentity, userIdentity } from '../lambdas/identity/identity';
import { runtimeDeps } from '../lambdas/runtime/deps';
import { settingsToEnv } from '../lambdas/policy/settings';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../lambdas/store/store';
import { announcementOf } from '../lambdas/outbox/outbox';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { preAuthEvent, unknownUserPreAuthEvent } from '../sandbox/sample-events';
import { type FakeService, type FakeUser, startFakeCognito, startFakeSts } from './support/fake-aws';
import { DeviceKeys } from '../lambdas/devices/device-keys';
import { issueDeviceToken, parseDeviceKeySet } from '../lambdas/devices/device-token';
import { devicesIdentity } from '../lambdas/devices/device-bucket';
import { startSecretsManager } from '../sandbox/secrets-manager';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', 'bin', 'cli.js');
const TABLE = 'admin-test';
const POOL = 'us-east-1_AdminTest';
const OPERATOR_ARN = 'arn:aws:sts::123456789012:assumed-role/Support/agent-7';
const DAY_S = 86_400;

/** Users of the (case-insensitive) pool, each with its own `sub`; jane signs in with her email too. */
const user = (username: string, n: number, email?: string): FakeUser => ({
  username,
  sub: `${n}`.padStart(8, '0') + '-0000-4000-8000-000000000001',
  email,
});
const USERS = {
  henry: user('henry', 8),
  iris: user('iris', 9),
  jack: user('jack', 10),
  kate: user('kate', 11),
  jane: user('jane', 1, 'jane@example.com'),
  bob: user('bob', 2),
  carol: user('carol', 3),
  dave: user('dave', 4),
  erin: user('erin', 5),
  frank: user('frank', 6),
  gina: user('gina', 7),
};
const keyOf = (u: FakeUser) => userIdentity(u.sub);
/** How the triggers key a name the pool does not know in this case-insensitive pool. */
const unknownKey = (typed: string) => unknownNameIdentity(typed, { caseSensitive: false });

let engine: DynamoDbLocal;
let documents: DynamoDBDocumentClient;
let cognito: FakeService;
let sts: FakeService;
let preAuth: ReturnType<typeof createPreAuthenticationHandler>;
let env: NodeJS.ProcessEnv;

/** A sign-in attempt by a user of the pool, as Cognito sends it: the user name typed, the user's attributes. */
const signIn = (u: FakeUser) =>
  preAuth(
    preAuthEvent(u.username, { userAttributes: { sub: u.sub, email: u.email ?? `${u.username}@example.com`, 'cognito:user_status': 'CONFIRMED' } }),
  );

beforeAll(async () => {
  engine = await startDynamoDbLocal();
  await createLockoutTable(engine.client, TABLE, PARTITION_KEY, TTL_ATTRIBUTE);
  documents = DynamoDBDocumentClient.from(engine.client);
  cognito = await startFakeCognito({ id: POOL, caseSensitive: false, users: Object.values(USERS) });
  sts = await startFakeSts(OPERATOR_ARN);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = engine.endpoint;
  preAuth = createPreAuthenticationHandler(
    runtimeDeps('PreAuthentication', {
      LOCKOUT_TABLE_NAME: TABLE,
      [SIGN_IN_CASE_SENSITIVE_ENV]: 'false',
      ...settingsToEnv({ maxFailedAttempts: 2 }),
    }),
  );
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...localAwsEnv(engine.endpoint),
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint,
    AWS_ENDPOINT_URL_STS: sts.endpoint,
  };
  for (let i = 0; i < 3; i++) await signIn(USERS.jane).catch(() => undefined);
  await signIn(USERS.bob);
}, 60_000);
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  await Promise.all([cognito?.close(), sts?.close()]);
  await engine?.stop();
});

async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
const json = async (args: string[]) => {
  const result = await cli([...args, '--table', TABLE, '--user-pool-id', POOL, '--json']);
  expect(result).toMatchObject({ code: 0 });
  return JSON.parse(result.stdout);
};
const item = async (key: string) =>
  (await documents.send(new GetCommand({ TableName: TABLE, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }))).Item;
const trail = () => new AdminStore(documents, TABLE).auditTrail();
const trailFor = async (key: string) => (await trail()).filter((entry) => entry.identity === key);

describe('cognito-lockout admin CLI', () => {
  it('shows a lock the trigger made, for the user name, an alias or any case of them', async () => {
    for (const typed of ['JANE', 'jane@example.com', 'Jane@Example.com']) {
      const status = await json(['status', typed]);
      expect(status).toMatchObject({
        name: typed,
        identity: keyOf(USERS.jane).logId,
        resolvedAs: 'pool-user',
        locked: true,
        permanent: false,
        lockouts: 1,
      });
      expect(Date.parse(status.lockedUntil)).toBeGreaterThan(Date.now() + 14 * 60_000);
    }
    const human = await cli(['status', 'jane', '--table', TABLE, '--user-pool-id', POOL]);
    expect(human.stdout).toContain('a user of the pool, counted by its sub');
    expect(human.stdout).toMatch(/LOCKED until \d{4}-\d\d-\d\dT[\d:]+Z \(15 min from now\)/);
    expect(human.stdout).toContain('1 lockout(s) since the last successful sign-in');
  });

  it('shows counts for an identity that is not locked', async () => {
    expect(await json(['status', 'bob'])).toMatchObject({ locked: false, failures: 1, identity: keyOf(USERS.bob).logId });
    expect(await json(['status', 'nobody-ever'])).toMatchObject({
      resolvedAs: 'unknown-to-pool',
      identity: unknownKey('nobody-ever').logId,
      locked: false,
      failures: 0,
      lockouts: 0,
      clearedAt: null,
    });
  });

  it('finds a name the pool does not know where the trigger counts it: as typed, compared as the pool compares names', async () => {
    for (let i = 0; i < 3; i++) await preAuth(unknownUserPreAuthEvent('Mallory')).catch(() => undefined);
    expect(await json(['status', 'MALLORY'])).toMatchObject({ resolvedAs: 'unknown-to-pool', identity: unknownKey('mallory').logId, locked: true });
    const human = await cli(['status', 'mallory', '--table', TABLE, '--user-pool-id', POOL]);
    expect(human.stdout).toContain('not a user of the pool: counted as typed, in any case');
  });

  it('refuses a name without the user pool, saying what to pass; list needs only the table', async () => {
    const refused = await cli(['status', 'jane', '--table', TABLE]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('cannot tell which user "jane" is without the user pool');
    expect(refused.stderr).toContain('pass --user-pool-id ID, or --stack NAME');
    const listed = await cli(['list', '--locked', '--table', TABLE, '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).total).toBe(2);
  });

  it('locks for a time or permanently, and lists locks soonest expiry first', async () => {
    expect((await json(['lock', 'carol', '--for', '2h'])).lockedUntil).toMatch(/^\d{4}-/);
    expect((await json(['lock', 'dave', '--permanent'])).lockedUntil).toBe('permanent');
    const list = await json(['list', '--locked']);
    expect(list.total).toBe(4);
    expect(list.locked.map((l: { key: string }) => l.key)).toEqual([
      keyOf(USERS.jane).key,
      unknownKey('mallory').key,
      keyOf(USERS.carol).key,
      keyOf(USERS.dave).key,
    ]);
    expect((await json(['list', '--locked', '--limit', '1'])).locked).toHaveLength(1);
    expect(await json(['status', 'dave'])).toMatchObject({ locked: true, permanent: true, lockedUntil: 'permanent' });
  });

  it('refuses to shorten a longer lock, and records nothing', async () => {
    const before = await item(keyOf(USERS.dave).key);
    const result = await cli(['lock', 'dave', '--for', '1m', '--table', TABLE, '--user-pool-id', POOL]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('dave is already locked until permanent, longer than asked; unlock first to shorten a lock');
    expect(await item(keyOf(USERS.dave).key)).toEqual(before);
    expect(await trailFor(keyOf(USERS.dave).key)).toHaveLength(1);
  });

  it('unlocks by leaving a cleared marker, after which the trigger admits the user again', async () => {
    await expect(signIn(USERS.jane)).rejects.toThrow('Too many failed sign-in attempts');
    const locked = await item(keyOf(USERS.jane).key);
    const result = await cli(['unlock', 'jane@example.com', '--table', TABLE, '--user-pool-id', POOL, '--operator', 'SUP-42: user called']);
    expect(result).toMatchObject({ code: 0, stdout: 'jane@example.com: unlocked, counts cleared\n' });
    expect(JSON.parse(result.stderr)).toMatchObject({
      message: 'operator action',
      action: 'unlock',
      operator: OPERATOR_ARN,
      note: 'SUP-42: user called',
      identity: keyOf(USERS.jane).logId,
      wasLocked: true,
    });
    const marker = await item(keyOf(USERS.jane).key);
    expect(marker).toMatchObject({ failures: 0, lockedUntil: 0, lockouts: 0, rev: locked!.rev + 1 });
    expect(marker!.clearedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(marker!.windowStart).toBe(marker!.clearedAt);
    expect(marker![TTL_ATTRIBUTE]).toBe(Math.floor(marker!.clearedAt / 1000) + 401 * DAY_S);
    expect(await json(['status', 'jane'])).toMatchObject({
      locked: false,
      failures: 0,
      lockouts: 0,
      clearedAt: new Date(marker!.clearedAt).toISOString(),
    });
    await expect(signIn(USERS.jane)).resolves.toBeDefined();
  });

  it('leaves the marker even where there was no item, so no lock an instance held alone can come back', async () => {
    expect(await item(keyOf(USERS.gina).key)).toBeUndefined();
    const result = await cli(['unlock', 'gina', '--table', TABLE, '--user-pool-id', POOL]);
    expect(result).toMatchObject({ code: 0, stdout: 'gina: was not locked; counts cleared\n' });
    expect(await item(keyOf(USERS.gina).key)).toMatchObject({ failures: 0, lockedUntil: 0, lockouts: 0, rev: 1, clearedAt: expect.any(Number) });
  });

  it("records every operator action in the table: the caller's AWS identity, when, what", async () => {
    const entries = await trail();
    expect(entries.map((a) => [a.action, a.operator, a.note, a.identity])).toEqual([
      ['lock', OPERATOR_ARN, undefined, keyOf(USERS.carol).key],
      ['lock', OPERATOR_ARN, undefined, keyOf(USERS.dave).key],
      ['unlock', OPERATOR_ARN, 'SUP-42: user called', keyOf(USERS.jane).key],
      ['unlock', OPERATOR_ARN, undefined, keyOf(USERS.gina).key],
    ]);
    for (const entry of entries) expect(entry.at).toBeGreaterThan(Date.now() - 120_000);
    expect(entries[2].details).toEqual({ wasLockedUntil: expect.any(Number) });
  });

  it('asks STS only for commands that change something', async () => {
    const before = sts.calls.length;
    await json(['status', 'jane']);
    await json(['list', '--locked']);
    expect(sts.calls.length).toBe(before);
    expect(sts.calls.every((call) => call === 'GetCallerIdentity')).toBe(true);
  });

  it('resets everything only when the count found is confirmed, keeping the audit trail', async () => {
    await documents.send(
      new PutCommand({
        TableName: TABLE,
        Item: { [PARTITION_KEY]: 'signup-email#0123456789abcdef', failures: 1, windowStart: Date.now(), lockedUntil: 0, lockouts: 0, rev: 1 },
      }),
    );
    const plan = await new AdminStore(documents, TABLE).planReset();
    expect(plan).toMatchObject({ total: plan.signIn.length + 1, locked: 3 });
    const found = `reset-all will clear ${plan.total} identities (3 locked now)`;

    expect(await cli(['reset-all', '--table', TABLE])).toMatchObject({ code: 2, stderr: expect.stringContaining('confirm with --yes') });
    const unconfirmed = await cli(['reset-all', '--yes', '--table', TABLE]);
    expect(unconfirmed).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`${found}; not on a terminal, so confirm with --yes --count ${plan.total}`),
    });
    const miscounted = await cli(['reset-all', '--yes', '--count', String(plan.total + 1), '--table', TABLE]);
    expect(miscounted).toMatchObject({ code: 2, stderr: expect.stringContaining(`--count ${plan.total + 1} does not match: ${found}`) });
    expect((await json(['list', '--locked'])).total).toBe(3);

    const reset = await cli(['reset-all', '--yes', '--count', String(plan.total), '--table', TABLE, '--json']);
    expect(reset.code).toBe(0);
    expect(reset.stderr).toContain(`${found}: ${plan.signIn.length} sign-in, 1 sign-up`);
    expect(JSON.parse(reset.stdout)).toEqual({ cleared: plan.signIn.length, deleted: 1, locked: 3 });
    expect((await json(['list', '--locked'])).total).toBe(0);
    for (const key of plan.signIn) expect(await item(key)).toMatchObject({ failures: 0, lockedUntil: 0, lockouts: 0, clearedAt: expect.any(Number) });
    expect(await item('signup-email#0123456789abcdef')).toBeUndefined();
    expect(await json(['status', 'dave'])).toMatchObject({ locked: false, lockouts: 0 });
    expect((await trail()).at(-1)).toMatchObject({
      action: 'reset-all',
      operator: OPERATOR_ARN,
      identity: '*',
      details: { signIn: plan.signIn.length, signUp: 1, lockedWhenCounted: 3 },
    });
  });

  it.each<[string[], string]>([
    [[], 'Usage: cognito-lockout'],
    [['frobnicate', '--table', TABLE], 'unknown command "frobnicate"'],
    [['status', '--table', TABLE], 'status takes exactly one user name'],
    [['status', 'x'], 'say which table: --stack NAME or --table NAME'],
    [['lock', 'x', '--table', TABLE], 'lock needs exactly one of --for DURATION or --permanent'],
    [['lock', 'x', '--for', '10 minutes', '--table', TABLE], '--for takes a duration like 90s, 30m, 2h or 7d, got "10 minutes"'],
    [['status', 'x', '--table', TABLE, '--colour'], "Unknown option '--colour'"],
    [['reset-all', '--yes', '--count', 'all', '--table', TABLE], '--count takes a whole number, got "all"'],
    [['unlock', 'x', '--count', '3', '--table', TABLE], '--count confirms reset-all only'],
    [['unlock', 'x', '--operator', 'two\nlines', '--table', TABLE], '--operator takes a note of 1-200 characters on one line'],
  ])('rejects %j with exit code 2 and a clear message', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr + result.stdout).toContain(message);
  });

  it("records operator actions on the item for the stream's announcer: what was done, by whom, for which user", async () => {
    const before = await item(keyOf(USERS.erin).key);
    expect((await cli(['lock', 'erin', '--for', '1h', '--table', TABLE, '--user-pool-id', POOL])).code).toBe(0);
    const locked = await item(keyOf(USERS.erin).key);
    expect(locked).toMatchObject({ op: 'operator-lock', operator: OPERATOR_ARN, sub: USERS.erin.sub });
    const lockNews = announcementOf({
      eventName: before ? 'MODIFY' : 'INSERT',
      key: keyOf(USERS.erin).key,
      oldImage: before,
      newImage: locked,
      byTtl: false,
    });
    expect(lockNews).toMatchObject({ type: 'AccountLocked', reason: 'operator', operator: OPERATOR_ARN, sub: USERS.erin.sub });
    expect(lockNews!.type === 'AccountLocked' && lockNews!.lockedUntil).toBeGreaterThan(Date.now() + 59 * 60_000);

    expect((await cli(['unlock', 'erin', '--table', TABLE, '--user-pool-id', POOL])).code).toBe(0);
    const unlocked = await item(keyOf(USERS.erin).key);
    expect(unlocked).toMatchObject({ op: 'operator-unlock', operator: OPERATOR_ARN, lockedUntil: 0 });
    expect(announcementOf({ eventName: 'MODIFY', key: keyOf(USERS.erin).key, oldImage: locked, newImage: unlocked, byTtl: false })).toMatchObject({
      type: 'AccountUnlocked',
      reason: 'operator',
    });
  });

  it('says so when the table or the user pool does not exist', async () => {
    const noTable = await cli(['status', 'x', '--table', 'no-such-table', '--user-pool-id', POOL]);
    expect(noTable.code).toBe(1);
    expect(noTable.stderr).toContain('cognito-lockout: the lockout table was not found');
    const noPool = await cli(['status', 'x', '--table', TABLE, '--user-pool-id', 'us-east-1_Nope']);
    expect(noPool.code).toBe(1);
    expect(noPool.stderr).toContain('cognito-lockout: user pool us-east-1_Nope not found in us-east-1');
  });

  it('says so when there are no AWS credentials', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'no-aws-'));
    const result = await cli(['list', '--locked', '--table', TABLE], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      HOME: home,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cognito-lockout: no AWS credentials found');
  });
});

describe('operator changes on DynamoDB Local', () => {
  const operator = { arn: OPERATOR_ARN };
  const KEY = userIdentity('store-test-0000-4000-8000-000000000001').key;

  it('writes a lock and its audit item together; a refused lock writes neither', async () => {
    const store = new AdminStore(documents, TABLE);
    const longer = await store.lock(KEY, 3_600_000, operator);
    expect(longer.applied).toBe(true);
    const after = await item(KEY);
    expect(after).toMatchObject({ lockedUntil: longer.lockedUntil });
    expect(await trailFor(KEY)).toEqual([expect.objectContaining({ action: 'lock', details: { lockedUntil: longer.lockedUntil } })]);

    await expect(store.lock(KEY, 60_000, operator)).resolves.toEqual({ applied: false, lockedUntil: longer.lockedUntil });
    expect(await item(KEY)).toEqual(after);
    expect(await trailFor(KEY)).toHaveLength(1);
  });

  it('records the ARN that STS reports for the credentials', async () => {
    const stubbed = mockClient(STSClient);
    try {
      stubbed.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:iam::123456789012:user/oncall-lee' });
      const who = await resolveOperator(LOCAL_REGION, 'INC-7');
      await new AdminStore(documents, TABLE).unlock(KEY, who);
    } finally {
      stubbed.restore();
    }
    expect((await trailFor(KEY)).at(-1)).toMatchObject({ action: 'unlock', operator: 'arn:aws:iam::123456789012:user/oncall-lee', note: 'INC-7' });
  });

  it('unlocks as a compare-and-set: an attempt that races it is reported, and the lost try records nothing', async () => {
    const key = userIdentity('race-test-0000-4000-8000-000000000001').key;
    await documents.send(
      new PutCommand({ TableName: TABLE, Item: { [PARTITION_KEY]: key, failures: 1, windowStart: Date.now(), lockedUntil: 0, lockouts: 0, rev: 1 } }),
    );
    let raced = false;
    // The first transaction is preceded by a sign-in attempt counted in between (as the trigger's fast path does).
    const racing = {
      send: async (command: unknown) => {
        if (command instanceof TransactWriteCommand && !raced) {
          raced = true;
          await documents.send(
            new UpdateCommand({
              TableName: TABLE,
              Key: { [PARTITION_KEY]: key },
              UpdateExpression: 'SET failures = failures + :one, rev = rev + :one',
              ExpressionAttributeValues: { ':one': 1 },
            }),
          );
        }
        return documents.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const result = await new AdminStore(racing, TABLE).unlock(key, operator);
    expect(raced).toBe(true);
    expect(result.previous).toMatchObject({ failures: 2, rev: 2 });
    expect(await item(key)).toMatchObject({ failures: 0, rev: 3, clearedAt: expect.any(Number) });
    expect((await trailFor(key)).map((entry: AuditEntry) => entry.action)).toEqual(['unlock']);
  });

  it("decides on DynamoDB's time, read from its Date header, not on a machine clock an hour ahead", async () => {
    const warnings: string[] = [];
    const clock = new ServerClock({ localNow: () => Date.now() + 3_600_000, warn: (text) => warnings.push(text) });
    const client = new DynamoDBClient({ endpoint: engine.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    watchServerDate(client, clock);
    const store = new AdminStore(DynamoDBDocumentClient.from(client), TABLE, () => clock.now());
    const key = userIdentity('clock-test-0000-4000-8000-000000000001').key;
    try {
      const { lockedUntil } = await store.lock(key, 30 * 60_000, operator);
      // DynamoDB Local sends a Date header: the skew seen is the hour, within the header's one-second resolution.
      expect(Math.abs(clock.skewMs()! - 3_600_000)).toBeLessThan(3_000);
      expect(Math.abs(lockedUntil - (Date.now() + 30 * 60_000))).toBeLessThan(3_000);
      expect(warnings).toEqual([expect.stringMatching(/^this machine's clock is 360\d s ahead of DynamoDB's/)]);
      expect(await store.status(key)).toMatchObject({ locked: true, lockedUntil });
    } finally {
      client.destroy();
    }
  });
});

describe('the operator in logs and events', () => {
  it('redacts an address in the caller identity and the note from the log line, and keeps both whole in the audit item', async () => {
    const ssoArn = 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Support_0123/jane.operator@corp.example';
    const ssoSts = await startFakeSts(ssoArn);
    try {
      const result = await cli(['unlock', 'frank', '--table', TABLE, '--user-pool-id', POOL, '--operator', 'asked by frank@example.com'], {
        AWS_ENDPOINT_URL_STS: ssoSts.endpoint,
      });
      expect(result.code).toBe(0);
      expect(result.stderr).not.toMatch(/jane\.operator|corp\.example|frank@example\.com/);
      expect(JSON.parse(result.stderr)).toMatchObject({
        operator: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Support_0123/[address]',
        note: 'asked by [address]',
      });
      const [audit] = (await trailFor(keyOf(USERS.frank).key)).filter((a) => a.action === 'unlock');
      expect(audit).toMatchObject({ operator: ssoArn, note: 'asked by frank@example.com' });
    } finally {
      await ssoSts.close();
    }
  });
});

describe('device tokens', () => {
  const KEY = JSON.stringify({ key: 'k'.repeat(48) });
  /** Pre-authentication as deployed with device tokens on, holding the deployment's key. */
  const devicePreAuth = () => {
    const deps = runtimeDeps('PreAuthentication', {
      LOCKOUT_TABLE_NAME: TABLE,
      [SIGN_IN_CASE_SENSITIVE_ENV]: 'false',
      ...settingsToEnv({ maxFailedAttempts: 2 }),
    });
    const deviceKeys = new DeviceKeys(async () => KEY, { clock: Date.now, onError: () => undefined });
    return createPreAuthenticationHandler({ ...deps, deviceKeys });
  };
  const attempt = (handler: ReturnType<typeof devicePreAuth>, u: FakeUser, token?: string) =>
    handler(
      preAuthEvent(u.username, {
        userAttributes: { sub: u.sub, 'cognito:user_status': 'CONFIRMED' },
        validationData: token === undefined ? {} : { lockout_device: token },
      }),
    ).then(
      () => 'admitted',
      () => 'refused',
    );
  const tokenOf = (u: FakeUser) => issueDeviceToken(parseDeviceKeySet(KEY), u.sub, Date.now(), 86_400_000)!;

  it('status counts the locked device buckets; unlock lifts them with the anonymous lock, in one transaction with its audit', async () => {
    const handler = devicePreAuth();
    const stolen = tokenOf(USERS.henry);
    for (let i = 0; i < 3; i++) await attempt(handler, USERS.henry, stolen);
    for (let i = 0; i < 3; i++) await attempt(handler, USERS.henry);
    expect(await json(['status', 'henry'])).toMatchObject({ locked: true, devices: { locked: 1, revokedBefore: null } });
    expect((await cli(['status', 'henry', '--table', TABLE, '--user-pool-id', POOL])).stdout).toContain('1 device token bucket(s) locked');
    await json(['unlock', 'henry']);
    expect(await json(['status', 'henry'])).toMatchObject({ locked: false, devices: { locked: 0 } });
    expect(await attempt(handler, USERS.henry, stolen)).toBe('admitted');
    expect(await attempt(handler, USERS.henry)).toBe('admitted');
    expect(await item(devicesIdentity(USERS.henry.sub).key)).toMatchObject({ op: expect.any(String), operator: OPERATOR_ARN, bucket: 'device' });
  });

  it("an operator's lock refuses the user's device tokens too, new devices and old; unlock lifts it", async () => {
    const handler = devicePreAuth();
    const known = tokenOf(USERS.jack);
    expect(await attempt(handler, USERS.jack, known)).toBe('admitted');
    await json(['lock', 'jack', '--for', '2h']);
    expect(await attempt(handler, USERS.jack, known)).toBe('refused');
    expect(await attempt(handler, USERS.jack, tokenOf(USERS.jack))).toBe('refused');
    expect(await attempt(handler, USERS.jack)).toBe('refused');
    await json(['unlock', 'jack']);
    expect(await attempt(handler, USERS.jack, known)).toBe('admitted');
    expect(await attempt(handler, USERS.jack, tokenOf(USERS.jack))).toBe('admitted');
  });

  it("an operator's lock reaches the device tokens even when a longer lock from failed attempts refuses it", async () => {
    const handler = devicePreAuth();
    const token = tokenOf(USERS.kate);
    expect(await attempt(handler, USERS.kate, token)).toBe('admitted');
    for (let i = 0; i < 3; i++) await attempt(handler, USERS.kate); // N = 2: the anonymous bucket locks for 15 min
    const result = await cli(['lock', 'kate', '--for', '5m', '--table', TABLE, '--user-pool-id', POOL]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/kate is already locked until .*, longer than asked; .* \(its device tokens are locked until \d{4}-/);
    expect(await attempt(handler, USERS.kate, token)).toBe('refused');
    expect((await trailFor(devicesIdentity(USERS.kate.sub).key)).map((a) => [a.action, a.details.devicesOnly])).toEqual([['lock', true]]);
  });

  it('revoke-devices makes every token issued so far count as anonymous, and audits it', async () => {
    const handler = devicePreAuth();
    const stolen = tokenOf(USERS.iris);
    expect(await attempt(handler, USERS.iris, stolen)).toBe('admitted');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const revoked = await json(['revoke-devices', 'iris']);
    expect(Date.parse(revoked.revokedBefore)).toBeGreaterThan(Date.now() - 10_000);
    // The stolen token now counts in the anonymous bucket: N = 2 admitted, then refused.
    expect([
      await attempt(handler, USERS.iris, stolen),
      await attempt(handler, USERS.iris, stolen),
      await attempt(handler, USERS.iris, stolen),
    ]).toEqual(['admitted', 'admitted', 'refused']);
    expect(await attempt(handler, USERS.iris)).toBe('refused');
    const status = await json(['status', 'iris']);
    // The status shows milliseconds; the revocation's answer, whole seconds.
    expect(Math.abs(Date.parse(status.devices.revokedBefore) - Date.parse(revoked.revokedBefore))).toBeLessThan(1000);
    expect((await trailFor(devicesIdentity(USERS.iris.sub).key)).map((a) => a.action)).toEqual(['revoke-devices']);
    expect((await cli(['revoke-devices', 'nobody-at-all', '--table', TABLE, '--user-pool-id', POOL])).stderr).toContain('not a user of the pool');
  });

  it('rotate-device-key writes the new key first with a later signFrom, keeps the signing one, and refuses a second rotation under way', async () => {
    const secrets = await startSecretsManager();
    try {
      const before = parseDeviceKeySet(secrets.value());
      const extra = { AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint };
      const result = await cli(['rotate-device-key', '--secret', secrets.arn, '--table', TABLE, '--json'], extra);
      expect(result.code).toBe(0);
      const signFrom = Date.parse(JSON.parse(result.stdout).signFrom);
      expect(signFrom).toBeGreaterThan(Date.now() + 9 * 60_000);
      const after = parseDeviceKeySet(secrets.value());
      expect(after.keys).toHaveLength(2);
      expect(Math.floor(after.keys[0].signFrom / 1000) * 1000).toBe(signFrom); // printed in whole seconds
      expect(after.keys[1].secret.equals(before.keys[0].secret)).toBe(true);
      expect(`${result.stdout}${result.stderr}`).not.toContain(after.keys[0].secret.toString('utf8'));
      const again = await cli(['rotate-device-key', '--secret', secrets.arn, '--table', TABLE], extra);
      expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining('a rotation is under way') });
      // The intent before the change, its completion after; the refused second rotation recorded nothing.
      const rotations = (await trail()).filter((a) => a.action === 'rotate-device-key');
      expect(rotations.map((a) => a.details.stage)).toEqual(['intended', 'completed']);
      expect(rotations[0].at).toBeLessThanOrEqual(rotations[1].at);
      expect(rotations.map((a) => a.details.signFrom)).toEqual([after.keys[0].signFrom, after.keys[0].signFrom]);
      expect(rotations[0].details.versionId).toBe(rotations[1].details.versionId);
      expect(rotations[0].operator).toBe(OPERATOR_ARN);
      expect(JSON.stringify(rotations)).not.toContain(after.keys[0].secret.toString('utf8'));
    } finally {
      await secrets.stop();
    }
  });
});
