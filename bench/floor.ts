import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { createDocumentClient } from '../lambdas/store/store';

/**
 * The floor every decision is compared with: one bare `UpdateItem` round trip, through the same client settings the
 * triggers use (the shipped store budget), on keys spread like identities'. The endpoint comes from
 * AWS_ENDPOINT_URL_DYNAMODB, as the triggers' does.
 */
export function bareUpdateItem(table: string): { call: () => Promise<unknown>; destroy: () => void } {
  const client = createDocumentClient(DEFAULT_SETTINGS.storeTimeoutMs);
  return {
    call: () =>
      client.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: `floor#${randomUUID().slice(0, 4)}` },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
    destroy: () => client.destroy(),
  };
}
