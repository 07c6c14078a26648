import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_BUS_ENV } from '../shared/contract';
import type { LockoutEventEntry } from './lockout-events';

/** Sends lockout events (EventBridge in Lambda); absent when events are off. */
export interface EventPublisher {
  readonly busName: string;
  publish(entry: LockoutEventEntry): Promise<void>;
}

/**
 * An EventBridge publisher when LOCKOUT_EVENT_BUS names a bus. Only the announcer (a stream consumer, never in a
 * sign-in's path) carries EventBridge code: a failure is retried by the stream, not raced against Cognito's clock.
 */
export function eventPublisherFromEnv(env: NodeJS.ProcessEnv): EventPublisher | undefined {
  const busName = env[EVENT_BUS_ENV]?.trim();
  if (!busName) return undefined;
  const client = new EventBridgeClient({ maxAttempts: 3 });
  return {
    busName,
    async publish(entry) {
      const output = await client.send(new PutEventsCommand({ Entries: [entry] }));
      // PutEvents answers 200 even when it drops an entry: the count says so.
      if (output.FailedEntryCount) throw new Error(`EventBridge rejected the event: ${output.Entries?.[0]?.ErrorCode ?? 'unknown error'}`);
    },
  };
}
