import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SIDE_CALL_CLIENT } from './announce';
import { EVENT_BUS_ENV } from './contract';
import type { EventPublisher } from './deps';

/**
 * An EventBridge publisher when LOCKOUT_EVENT_BUS names a bus. Imported only by the pre-authentication entry
 * point, so the other bundles carry no EventBridge code.
 */
export function eventPublisherFromEnv(env: NodeJS.ProcessEnv): EventPublisher | undefined {
  const busName = env[EVENT_BUS_ENV]?.trim();
  if (!busName) return undefined;
  const client = new EventBridgeClient(SIDE_CALL_CLIENT);
  return {
    busName,
    async publish(entry, abortSignal) {
      const output = await client.send(new PutEventsCommand({ Entries: [entry] }), { abortSignal });
      if (output.FailedEntryCount) throw new Error(`EventBridge rejected the event: ${output.Entries?.[0]?.ErrorCode ?? 'unknown error'}`);
    },
  };
}
