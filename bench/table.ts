import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';

/**
 * A lockout table for the benchmark: the key and TTL of the deployed table, but no stream. Nothing in the benchmark
 * reads the stream (the announcer's row hands it a batch of its own), and on DynamoDB Local a stream makes every write
 * slower the later its table was created: with stream records accumulating (deleting tables does not help), an
 * `UpdateItem` on the tenth streamed table took 15-25 ms where the first table's took 1-2 ms; without streams, 1 ms on
 * every table. That drift, which real DynamoDB does not have, set each row's figures by its place in the run: the
 * latency rows' floors went from 2 to 14 ms, the throughput rows made 30-80 decisions per second, and late rows
 * overran the store budget (the 64-caller throughput row, the four-process "store up" fault rows).
 */
export async function createBenchTable(client: DynamoDBClient, tableName: string, partitionKey: string, ttlAttribute: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }));
}
