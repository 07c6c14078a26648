/**
 * DynamoDB Local keeping its data on disk is stopped in the middle of an attack and started again, under the
 * shipped defaults (store-error policy local, 1.5 s budget; only N differs): the lockout state survives, the
 * attack never gets more than N through this instance, and the lock ends up in the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type DynamoDbLocal, createLockoutTable, startDynamoDbLocal } from '../../sandbox/dynamodb-local';
import { userIdentity } from '../../lambdas/identity/identity';
import { runtimeDeps } from '../../lambdas/runtime/deps';
import { settingsToEnv } from '../../lambdas/policy/settings';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../../lambdas/store/store';
import { createPreAuthenticationHandler } from '../../lambdas/handlers/pre-authentication';
import { preAuthEvent } from '../../sandbox/sample-events';

const N = 50;
const TABLE = 'restart-test';
const dataDir = mkdtempSync(path.join(tmpdir(), 'ddb-restart-'));
let engine: DynamoDbLocal | undefined;

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  await engine?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('never lets more than N through one instance across a store restart mid-attack, and the lock reaches the store', async () => {
  engine = await startDynamoDbLocal({ dataDir });
  const port = engine.port; // the restart reuses it, as a restarted service keeps its address
  await createLockoutTable(engine.client, TABLE, PARTITION_KEY, TTL_ATTRIBUTE);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = engine.endpoint;
  const handler = createPreAuthenticationHandler(
    runtimeDeps('PreAuthentication', {
      LOCKOUT_TABLE_NAME: TABLE,
      LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
      ...settingsToEnv({ maxFailedAttempts: N }),
    }),
  );
  const attempt = () =>
    handler(preAuthEvent('besieged')).then(
      () => true,
      () => false,
    );
  const counted = async () => {
    const documents = DynamoDBDocumentClient.from(engine!.client);
    const item = await documents.send(
      new GetCommand({ TableName: TABLE, Key: { [PARTITION_KEY]: userIdentity('besieged').key }, ConsistentRead: true }),
    );
    return item.Item as { failures: number; lockedUntil: number; op?: string; sub?: string } | undefined;
  };

  let admitted = 0;
  for (let i = 0; i < 8; i++) admitted += Number(await attempt());
  expect(admitted).toBe(8);

  // A burst spread over ~150 ms, with the engine stopped 40 ms in.
  const burst = Promise.all(Array.from({ length: 30 }, (_, i) => new Promise((r) => setTimeout(r, i * 5)).then(attempt)));
  await new Promise((r) => setTimeout(r, 40));
  await engine.stop();
  const burstResults = await burst;
  admitted += burstResults.filter(Boolean).length;

  engine = await startDynamoDbLocal({ port, dataDir });
  const afterRestart = await counted();
  // The state survived the restart; attempts decided without the store are in this instance's record instead.
  expect(afterRestart!.failures).toBeGreaterThanOrEqual(8);
  expect(afterRestart!.failures).toBeLessThanOrEqual(8 + 30);

  // The attack goes on after the restart: the total admitted never exceeds N, and the lock engages.
  let refusedInARow = 0;
  while (refusedInARow < 3) {
    const ok = await attempt();
    admitted += Number(ok);
    refusedInARow = ok ? 0 : refusedInARow + 1;
  }
  expect(admitted).toBeLessThanOrEqual(N);
  // Each attempt that met the outage can waste at most one of the N (a write that landed but whose answer was lost).
  expect(admitted).toBeGreaterThanOrEqual(N - 30);
  // A lock this instance started alone reaches the store with the first attempt the store answers (the circuit
  // probes within 5 s); meanwhile every attempt stays refused.
  const deadline = Date.now() + 15_000;
  while (((await counted())?.lockedUntil ?? 0) <= Date.now() && Date.now() < deadline) {
    expect(await attempt()).toBe(false);
    await new Promise((r) => setTimeout(r, 250));
  }
  expect((await counted())!.lockedUntil).toBeGreaterThan(Date.now());
  // And it is announced when it reaches the store: the write says it started a lock, for whom (outbox.ts).
  expect(await counted()).toMatchObject({ op: 'lock', sub: 'besieged' });
}, 90_000);
