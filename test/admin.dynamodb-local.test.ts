/**
 * The admin CLI (`npx cognito-lockout`) as operators run it, against DynamoDB Local, on locks the real
 * pre-authentication handler made.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AdminStore } from '../lib/admin/admin-store';
import { type DynamoDbLocal, createLockoutTable, localAwsEnv, startDynamoDbLocal } from '../lib/local/dynamodb-local';
import { signInIdentity } from '../lambdas/engine/identity';
import { runtimeDeps } from '../lambdas/engine/deps';
import { settingsToEnv } from '../lambdas/engine/settings';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../lambdas/engine/store';
import { createPreAuthenticationHandler } from '../lambdas/handlers/pre-authentication';
import { preAuthEvent } from '../lib/local/sample-events';

const run = promisify(execFile);
const CLI = path.join(__dirname, '..', 'bin', 'cli.js');
const TABLE = 'admin-test';
let engine: DynamoDbLocal;
let preAuth: ReturnType<typeof createPreAuthenticationHandler>;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  engine = await startDynamoDbLocal();
  await createLockoutTable(engine.client, TABLE, PARTITION_KEY, TTL_ATTRIBUTE);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = engine.endpoint;
  preAuth = createPreAuthenticationHandler(
    runtimeDeps('PreAuthentication', { LOCKOUT_TABLE_NAME: TABLE, ...settingsToEnv({ maxFailedAttempts: 2 }) }),
  );
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...localAwsEnv(engine.endpoint),
    COGNITO_LOCKOUT_OPERATOR: 'support-agent-7',
  };
  for (let i = 0; i < 3; i++) await preAuth(preAuthEvent('jane')).catch(() => undefined);
  await preAuth(preAuthEvent('bob'));
}, 60_000);
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
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
  const result = await cli([...args, '--table', TABLE, '--json']);
  expect(result).toMatchObject({ code: 0 });
  return JSON.parse(result.stdout);
};

describe('cognito-lockout admin CLI', () => {
  it('shows a lock the trigger made, for any case of the name', async () => {
    const status = await json(['status', 'JANE']);
    expect(status).toMatchObject({
      name: 'JANE',
      identity: signInIdentity('jane').logId,
      locked: true,
      permanent: false,
      lockouts: 1,
      resolvedAs: 'as-typed',
    });
    expect(Date.parse(status.lockedUntil)).toBeGreaterThan(Date.now() + 14 * 60_000);
    const human = await cli(['status', 'jane', '--table', TABLE]);
    expect(human.stdout).toMatch(/LOCKED until \d{4}-\d\d-\d\dT[\d:]+Z \(15 min from now\)/);
    expect(human.stdout).toContain('1 lockout(s) since the last successful sign-in');
  });

  it('shows counts for an identity that is not locked', async () => {
    expect(await json(['status', 'bob'])).toMatchObject({ locked: false, failures: 1 });
    expect(await json(['status', 'nobody-ever'])).toMatchObject({ locked: false, failures: 0, lockouts: 0 });
  });

  it('locks for a time or permanently, and lists locks soonest expiry first', async () => {
    expect((await json(['lock', 'carol', '--for', '2h'])).lockedUntil).toMatch(/^\d{4}-/);
    expect((await json(['lock', 'dave', '--permanent'])).lockedUntil).toBe('permanent');
    const list = await json(['list', '--locked']);
    expect(list.total).toBe(3);
    expect(list.locked.map((l: { key: string }) => l.key)).toEqual([
      signInIdentity('jane').key,
      signInIdentity('carol').key,
      signInIdentity('dave').key,
    ]);
    expect((await json(['list', '--locked', '--limit', '1'])).locked).toHaveLength(1);
    expect(await json(['status', 'dave'])).toMatchObject({ locked: true, permanent: true, lockedUntil: 'permanent' });
  });

  it('refuses to shorten a longer lock', async () => {
    const result = await cli(['lock', 'dave', '--for', '1m', '--table', TABLE]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('dave is already locked until permanent, longer than asked; unlock first to shorten a lock');
  });

  it('unlocks, after which the trigger admits the user again', async () => {
    await expect(preAuth(preAuthEvent('jane'))).rejects.toThrow('Too many failed sign-in attempts');
    const result = await cli(['unlock', 'jane', '--table', TABLE]);
    expect(result).toMatchObject({ code: 0, stdout: 'jane: unlocked, counts cleared\n' });
    expect(JSON.parse(result.stderr)).toMatchObject({
      message: 'operator action',
      action: 'unlock',
      operator: 'support-agent-7',
      identity: signInIdentity('jane').logId,
      wasLocked: true,
    });
    await expect(preAuth(preAuthEvent('jane'))).resolves.toBeDefined();
  });

  it('records every operator action in the table: who, when, what', async () => {
    const trail = await new AdminStore(DynamoDBDocumentClient.from(engine.client), TABLE).auditTrail();
    expect(trail.map((a) => [a.action, a.operator, a.identity])).toEqual([
      ['lock', 'support-agent-7', signInIdentity('carol').key],
      ['lock', 'support-agent-7', signInIdentity('dave').key],
      ['unlock', 'support-agent-7', signInIdentity('jane').key],
    ]);
    for (const entry of trail) expect(entry.at).toBeGreaterThan(Date.now() - 120_000);
  });

  it('resets everything only when confirmed, keeping the audit trail', async () => {
    expect(await cli(['reset-all', '--table', TABLE])).toMatchObject({ code: 2, stderr: expect.stringContaining('confirm with --yes') });
    expect((await json(['reset-all', '--yes'])).deleted).toBeGreaterThanOrEqual(3);
    expect((await json(['list', '--locked'])).total).toBe(0);
    const trail = await new AdminStore(DynamoDBDocumentClient.from(engine.client), TABLE).auditTrail();
    expect(trail.at(-1)).toMatchObject({ action: 'reset-all', identity: '*' });
  });

  it.each<[string[], string]>([
    [[], 'Usage: cognito-lockout'],
    [['frobnicate', '--table', TABLE], 'unknown command "frobnicate"'],
    [['status', '--table', TABLE], 'status takes exactly one user name'],
    [['status', 'x'], 'say which table: --stack NAME or --table NAME'],
    [['lock', 'x', '--table', TABLE], 'lock needs exactly one of --for DURATION or --permanent'],
    [['lock', 'x', '--for', '10 minutes', '--table', TABLE], '--for takes a duration like 90s, 30m, 2h or 7d, got "10 minutes"'],
    [['status', 'x', '--table', TABLE, '--colour'], "Unknown option '--colour'"],
  ])('rejects %j with exit code 2 and a clear message', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr + result.stdout).toContain(message);
  });

  it('sends AccountLocked and AccountUnlocked events for operator actions when a bus is named', async () => {
    const received: Array<{
      target: string;
      body: { Entries: Array<{ Source: string; DetailType: string; Detail: string; EventBusName: string }> };
    }> = [];
    const bus = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(body) });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] }));
      });
    });
    await new Promise<void>((resolve) => bus.listen(0, '127.0.0.1', resolve));
    const events = { AWS_ENDPOINT_URL_EVENTBRIDGE: `http://127.0.0.1:${(bus.address() as { port: number }).port}` };
    try {
      expect((await cli(['lock', 'erin', '--for', '1h', '--table', TABLE, '--event-bus', 'security'], events)).code).toBe(0);
      expect((await cli(['unlock', 'erin', '--table', TABLE, '--event-bus', 'security'], events)).code).toBe(0);
    } finally {
      bus.close();
    }
    expect(received.map((r) => r.target)).toEqual(['AWSEvents.PutEvents', 'AWSEvents.PutEvents']);
    const [locked, unlocked] = received.map((r) => r.body.Entries[0]);
    expect(locked).toMatchObject({ Source: 'cognito-lockout', DetailType: 'AccountLocked', EventBusName: 'security' });
    expect(JSON.parse(locked.Detail)).toMatchObject({
      identity: signInIdentity('erin').logId,
      reason: 'operator',
      operator: 'support-agent-7',
      userPoolId: null,
    });
    expect(Date.parse(JSON.parse(locked.Detail).lockedUntil)).toBeGreaterThan(Date.now() + 59 * 60_000);
    expect(unlocked).toMatchObject({ DetailType: 'AccountUnlocked' });
    expect(JSON.parse(unlocked.Detail)).toMatchObject({ identity: signInIdentity('erin').logId, lockedUntil: null, reason: 'operator' });
  });

  it('says so, exit code 1, when EventBridge drops the event (FailedEntryCount), and keeps the lock', async () => {
    const bus = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'no' }] }));
      });
    });
    await new Promise<void>((resolve) => bus.listen(0, '127.0.0.1', resolve));
    try {
      const result = await cli(['lock', 'frank', '--for', '1h', '--table', TABLE, '--event-bus', 'security'], {
        AWS_ENDPOINT_URL_EVENTBRIDGE: `http://127.0.0.1:${(bus.address() as { port: number }).port}`,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('the AccountLocked event was not sent to security: NotAuthorizedForSourceException (the lock itself is done)');
    } finally {
      bus.close();
    }
    expect((await cli(['status', 'frank', '--table', TABLE, '--json'])).stdout).toContain('"locked": true');
  });

  it('says so when the table does not exist', async () => {
    const result = await cli(['status', 'x', '--table', 'no-such-table']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cognito-lockout: the lockout table was not found');
  });

  it('says so when there are no AWS credentials', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'no-aws-'));
    const result = await cli(['status', 'x', '--table', TABLE], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      HOME: home,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cognito-lockout: no AWS credentials found');
  });
});
