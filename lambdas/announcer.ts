// Lambda entry point of the announcer: reads lock starts and lifts from the lockout table's stream (an event source
// mapping of the construct's, filtered) and publishes AccountLocked / AccountUnlocked and lock notice requests.
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDBClient, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { NOTICES_ENV, PARTITION_KEY, TABLE_NAME_ENV, USER_POOL_ID_ENV } from './engine/contract';
import { reportFailure } from './engine/failure';
import { eventPublisherFromEnv } from './engine/lockout-event-publisher';
import { SettingError, settingsFromEnv } from './engine/settings';
import { createTelemetry, flush } from './engine/telemetry';
import { type BatchResponse, type NoticeRequests, createAnnouncerHandler } from './handlers/announcer';

const telemetry = createTelemetry('Announcer');

function build(env: NodeJS.ProcessEnv): (event: DynamoDBStreamEvent) => Promise<BatchResponse> {
  const settings = settingsFromEnv(env);
  const tableName = env[TABLE_NAME_ENV]?.trim();
  if (!tableName) throw new SettingError(`${TABLE_NAME_ENV} must name the lockout DynamoDB table, but it is not set`);
  const noticesOn = env[NOTICES_ENV]?.trim() === 'on';
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 }));
  const notices: NoticeRequests | undefined = noticesOn
    ? {
        async request(notice) {
          try {
            // One request per lock, however often the stream delivers the lock: the notifier reads this INSERT.
            await documents.send(
              new PutCommand({
                TableName: tableName,
                Item: notice,
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': PARTITION_KEY },
              }),
            );
            return 'requested';
          } catch (error) {
            if (error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException') return 'duplicate';
            throw error;
          }
        },
      }
    : undefined;
  return createAnnouncerHandler({
    telemetry,
    events: eventPublisherFromEnv(env),
    notices,
    mode: settings.lockoutMode,
    unlockOnPasswordReset: settings.unlockOnPasswordReset,
    userPoolId: env[USER_POOL_ID_ENV]?.trim() || null,
    now: Date.now,
  });
}

/**
 * Built once per cold start. A configuration error must neither lose announcements nor block the shard forever:
 * every record is reported failed, so the event source mapping retries within its bound (attempts, record age)
 * and then hands the records to its failure destination, where an operator can replay them.
 */
function entry(): (event: DynamoDBStreamEvent) => Promise<BatchResponse> {
  try {
    return build(process.env);
  } catch (error) {
    reportFailure(telemetry, error);
    return async (event) => {
      reportFailure(telemetry, error);
      flush(telemetry.metrics);
      const first = event.Records?.[0]?.dynamodb?.SequenceNumber;
      return { batchItemFailures: first === undefined ? [] : [{ itemIdentifier: first }] };
    };
  }
}

export const handler = entry();
