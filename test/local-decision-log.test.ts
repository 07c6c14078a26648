/**
 * The sandbox's decision log for what the table's stream leads to: events the announcer publishes, notices the
 * notifier sends or decides not to send, and batches the event source mapping gives up on.
 */
import { formatDecision } from '../sandbox/decision-log';
import type { OnFailureRecord } from '../sandbox/stream-poller';

const TIME = /^\d\d:\d\d:\d\d {2}/;

describe('formatDecision', () => {
  it('shows the events the announcer publishes, by hashed identity', () => {
    const event = (type: string, detail: Record<string, unknown>) =>
      formatDecision({ localEvent: { type, detail: { identity: '0123456789abcdef', userPoolId: 'pool', ...detail } } }, 3);
    expect(event('AccountLocked', { lockedUntil: '2026-01-01T00:15:00.000Z', reason: 'failed-attempts', mode: 'enforce' })).toMatch(
      /^\d\d:\d\d:\d\d {2}event {15}0123456789abcdef {2}AccountLocked \(until 2026-01-01T00:15:00\.000Z\) sent to EventBridge$/,
    );
    expect(event('AccountLocked', { lockedUntil: 'permanent', reason: 'operator' })).toContain('AccountLocked (permanent) sent to EventBridge');
    expect(event('AccountLocked', { lockedUntil: '2026-01-01T00:15:00.000Z', mode: 'monitor' })).toContain('[monitor mode] sent to EventBridge');
    expect(event('AccountUnlocked', { lockedUntil: null, reason: 'password-reset' })).toContain(
      'AccountUnlocked (password-reset) sent to EventBridge',
    );
  });

  it('shows a notice sent, and one the notifier decided not to send with its reason', () => {
    expect(formatDecision({ localEmail: { subject: 'Your account was locked', text: 'It stays locked.' } }, 3)).toMatch(
      /email {15}\(to the owner\) {4}lock notice "Your account was locked": It stays locked\.$/,
    );
    const skipped = formatDecision(
      {
        level: 'INFO',
        trigger: 'NotifyUser',
        message: 'notice not sent: no verified address',
        identity: '0123456789abcdef',
        outcome: 'skipped',
        reason: 'address not verified',
      },
      3,
    );
    expect(skipped).toMatch(TIME);
    expect(skipped).toMatch(/notice {14}0123456789abcdef {2}notice not sent: no verified address \(address not verified\)$/);
    // The sent notice is the email line; the notifier's own line for it adds nothing.
    expect(formatDecision({ level: 'INFO', trigger: 'NotifyUser', message: 'lock notice sent', identity: 'x', outcome: 'sent' }, 3)).toBeUndefined();
    expect(formatDecision({ level: 'INFO', trigger: 'Announcer', message: 'AccountLocked announced', identity: 'x' }, 3)).toBeUndefined();
  });

  it('shows a batch given up on as sent to the failure destination', () => {
    const record: OnFailureRecord = {
      requestContext: { requestId: 'r', functionArn: 'Announcer', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 51 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-01-01T00:00:00.000Z',
      DDBStreamBatchInfo: {
        shardId: 'shard',
        startSequenceNumber: '000000000000000000007',
        endSequenceNumber: '000000000000000000007',
        approximateArrivalOfFirstRecord: '2026-01-01T00:00:00Z',
        approximateArrivalOfLastRecord: '2026-01-01T00:00:00Z',
        batchSize: 1,
        streamArn: 'arn',
      },
    };
    expect(formatDecision({ localFailure: { functionName: 'Announcer', record } }, 3)).toMatch(
      /stream {14}Announcer {9}record 000000000000000000007 sent to the failure destination \(RetryAttemptsExhausted, 51 invocations\)$/,
    );
  });
});
