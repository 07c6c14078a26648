import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SIDE_CALL_CLIENT } from './announce';
import { NOTIFY_FUNCTION_ENV } from './contract';
import type { NoticeRequester } from './deps';

/**
 * Asks the notifier function to send a lock notice with an asynchronous invoke (`Event`): Lambda queues it and
 * answers at once, so a refusal never waits for email delivery. Imported only by the pre-authentication entry.
 */
export function noticeRequesterFromEnv(env: NodeJS.ProcessEnv): NoticeRequester | undefined {
  const functionName = env[NOTIFY_FUNCTION_ENV]?.trim();
  if (!functionName) return undefined;
  const client = new LambdaClient(SIDE_CALL_CLIENT);
  return {
    async request(notice, abortSignal) {
      const output = await client.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(notice)) }),
        { abortSignal },
      );
      if (output.StatusCode !== 202) throw new Error(`the notifier was not queued (status ${output.StatusCode})`);
    },
  };
}
