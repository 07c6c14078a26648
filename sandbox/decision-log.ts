import type { OnFailureRecord } from './stream-poller';

/**
 * Turns the functions' JSON log lines into one readable line per decision for the sandbox console, with what the
 * table's stream led to: events (announcer), lock notices (notifier) and batches given up on (failure destination).
 */
export function formatDecision(line: Record<string, unknown>, maxAttempts: number): string | undefined {
  const time = typeof line.timestamp === 'string' ? line.timestamp.slice(11, 19) : new Date().toISOString().slice(11, 19);
  const scope = String(line.scope ?? 'signin');
  const who = `${scope.padEnd(19)} ${String(line.identity ?? '').padEnd(16)}`;
  const now = new Date().toISOString().slice(11, 19);
  if (typeof line.localEvent === 'object' && line.localEvent !== null) {
    // Published by the announcer, which read the lock or its lift from the table's stream.
    const { type, detail } = line.localEvent as {
      type: string;
      detail: { identity?: string; lockedUntil?: string | null; reason?: string; mode?: string };
    };
    const what =
      type === 'AccountLocked' ? (detail.lockedUntil === 'permanent' ? 'permanent' : `until ${detail.lockedUntil ?? '-'}`) : (detail.reason ?? '-');
    const monitor = detail.mode === 'monitor' ? ' [monitor mode]' : '';
    return `${now}  ${'event'.padEnd(19)} ${String(detail.identity ?? '').padEnd(16)}  ${type} (${what})${monitor} sent to EventBridge`;
  }
  if (typeof line.localFailure === 'object' && line.localFailure !== null) {
    // The sandbox's event source mapping gave up on a batch (stream-poller.ts): Lambda would send this to the queue.
    const { functionName, record } = line.localFailure as { functionName: string; record: OnFailureRecord };
    const batch = record.DDBStreamBatchInfo;
    const range =
      batch.batchSize === 1
        ? `record ${batch.startSequenceNumber}`
        : `${batch.batchSize} records ${batch.startSequenceNumber}..${batch.endSequenceNumber}`;
    return `${now}  ${'stream'.padEnd(19)} ${functionName.padEnd(16)}  ${range} sent to the failure destination (${record.requestContext.condition}, ${record.requestContext.approximateInvokeCount} invocations)`;
  }
  if (line.trigger === 'NotifyUser' && typeof line.outcome === 'string' && line.outcome !== 'sent' && line.level !== 'ERROR') {
    // A lock notice the notifier decided not to send (no verified address, the recipient's period, the hourly cap).
    const reason = typeof line.reason === 'string' ? ` (${line.reason})` : '';
    return `${now}  ${'notice'.padEnd(19)} ${String(line.identity ?? '').padEnd(16)}  ${String(line.message)}${reason}`;
  }
  if (typeof line.localEmail === 'object' && line.localEmail !== null) {
    const { subject, text } = line.localEmail as { subject?: string; text?: string };
    return `${now}  ${'email'.padEnd(19)} ${'(to the owner)'.padEnd(16)}  lock notice "${subject}": ${text}`;
  }
  if (typeof line.localNotice === 'object' && line.localNotice !== null) {
    const { identity, code } = line.localNotice as { identity?: string; code?: string };
    return `${now}  ${'email'.padEnd(19)} ${String(identity ?? '').padEnd(16)}  password reset code ${code} (a real pool emails it)`;
  }
  if (line.trigger === 'PostConfirmation' && line.identity !== undefined) return `${time}  ${who}  ${String(line.message)}`;
  if (line.level === 'ERROR') return `${time}  ${String(line.trigger ?? '')} ERROR: ${String(line.message)}`;
  if (line.trigger === 'PostAuthentication' && line.identity !== undefined) {
    return `${time}  ${who}  signed in ${line.outcome === 'locked' ? '(while locked: the lock stays)' : line.outcome === 'cleared' ? '(failures cleared)' : ''}`;
  }
  const until =
    typeof line.lockedUntil === 'string' ? (line.lockedUntil === 'permanent' ? 'permanently' : `until ${line.lockedUntil.slice(11, 19)}`) : '';
  const unknown = line.userNotFound === true ? '  (unknown user)' : '';
  switch (line.outcome) {
    case 'admitted':
      return `${time}  ${who}  allowed   attempt ${line.failures}${scope === 'signin' ? ` of ${maxAttempts}` : ''}${unknown}`;
    case 'lockout-started':
      return `${time}  ${who}  REFUSED   lockout #${line.lockouts} starts: locked ${until}${unknown}`;
    case 'locked':
    case 'contended':
      return `${time}  ${who}  REFUSED   locked ${until}${unknown}`;
    default:
      return line.message === 'monitor mode: attempt would have been refused'
        ? `${time}  (monitor mode: the attempt above would have been refused)`
        : undefined;
  }
}
