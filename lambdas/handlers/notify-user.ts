/**
 * The notifier: emails the owner of a locked account, at most once per lock, at most once per recipient per period,
 * and at most so many per hour over everyone. Invoked only by its event source mapping on the lockout table's
 * stream, filtered to the INSERTs of notice requests (outbox.ts NOTIFIER_FILTERS), which the announcer writes, one
 * per lock of a known user in enforce mode. Nothing a sign-in does waits for it.
 *
 * Per notice, each step one conditional write on the table (notice-ledger.ts), in this order:
 *   a. claim the request (a duplicate delivery finds it claimed or settled, and stops);
 *   b. find the address in the pool by `sub` (no user, no address, or an unverified one: skipped, nothing sent);
 *   c. reserve the recipient's one notice per period (taken: suppressed);
 *   d. reserve one of the hour's notices (cap reached: capped, and c is given back);
 *   e. send one email, once (notice-mail.ts); the outcome is recorded on the request.
 *
 * The batch answer is Lambda's ReportBatchItemFailures: the records to deliver again, in order (Lambda resumes from
 * the first). Only a notice that was provably not sent is delivered again; a malformed record never is.
 *
 * Logs carry the request's hashed identity only: never the address, the `sub`, or a provider's words about them.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBBatchItemFailure, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { NoticeOutcome, HourHold, RecipientHold } from '../outbox/notice-ledger';
import { classifySendFailure } from '../outbox/notice-mail';
import { noticeRecordOf } from '../outbox/notice-request';
import { noticeText } from '../outbox/notice-text';
import type { NoticeRequest } from '../outbox/outbox';
import type { NotifierDeps } from '../runtime/notice-deps';
import { type MetricName, type Telemetry, count, createTelemetry, errorFields, flush } from '../shared/telemetry';

export { DEFAULT_NOTICE_SUBJECT } from '../outbox/notice-text';
export type { EmailSender } from '../outbox/notice-mail';
export type { NotifierDeps } from '../runtime/notice-deps';

export type NotifierHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

/** What became of one record: done (whatever the outcome), or to be delivered again. */
type RecordResult = 'done' | 'retry';

export function createNotifierHandler(deps: NotifierDeps): NotifierHandler {
  return async (event) => {
    const batchItemFailures: DynamoDBBatchItemFailure[] = [];
    try {
      // One notice at a time: SES limits a sending rate per second, and the records stay in the stream's order.
      for (const record of event?.Records ?? []) {
        if ((await handleRecord(deps, record)) === 'retry') batchItemFailures.push({ itemIdentifier: record.dynamodb!.SequenceNumber! });
      }
    } finally {
      flush(deps.telemetry.metrics);
    }
    return { batchItemFailures };
  };
}

/**
 * The handler when the notifier cannot be built (a missing or malformed variable). Every invocation logs and counts
 * the reason and reports every record for retry: Lambda delivers them again until the mapping's bounded retry
 * (its retry attempts and maximum record age, within the stream's 24 h) ends and hands them to its failure
 * destination. A configuration error thus neither drops notices at once (a fixed configuration sends them) nor
 * blocks the shard for longer than the mapping allows.
 */
export function notifierEntry(build: () => NotifierHandler): NotifierHandler {
  try {
    return build();
  } catch (error) {
    const telemetry = createTelemetry('NotifyUser');
    const report = () => {
      count(telemetry.metrics, 'InternalErrors');
      telemetry.logger.error('notifier misconfigured: every record is reported for retry', errorFields(error));
    };
    report();
    return async (event) => {
      report();
      flush(telemetry.metrics);
      return {
        batchItemFailures: (event?.Records ?? []).flatMap((record) => {
          const sequenceNumber = record.dynamodb?.SequenceNumber;
          return sequenceNumber ? [{ itemIdentifier: sequenceNumber }] : [];
        }),
      };
    };
  }
}

async function handleRecord(deps: NotifierDeps, record: DynamoDBRecord): Promise<RecordResult> {
  const { logger, metrics } = deps.telemetry;
  const parsed = noticeRecordOf(record);
  if (parsed.kind !== 'notice' || !record.dynamodb?.SequenceNumber) {
    // Never retried: the same record would fail the same way, and would hold up every record behind it.
    count(metrics, 'StreamRecordsInvalid');
    if (parsed.kind === 'unexpected') logger.warn('stream record ignored: not a notice request', { reason: parsed.reason });
    else if (parsed.kind === 'invalid') logger.error('notice request ignored: malformed', { reason: parsed.reason, identity: parsed.identity });
    else logger.error('notice request ignored: the record has no sequence number', { identity: parsed.request.identity });
    return 'done';
  }
  try {
    return await deliver(deps, parsed.request);
  } catch (error) {
    // A bug, not a fault of a service (deliver handles those): count it, and let the mapping's bounded retry decide.
    count(metrics, 'InternalErrors');
    logger.error('notice not handled: internal error', { identity: parsed.request.identity, ...errorFields(error) });
    return 'retry';
  }
}

async function deliver(deps: NotifierDeps, request: NoticeRequest): Promise<RecordResult> {
  const { config, ledger, directory, sender, telemetry, now } = deps;
  const { logger, metrics } = telemetry;
  const { identity, sub } = request;
  const key = request.pk;
  const token = (deps.newToken ?? randomUUID)();

  // a. The claim: whoever takes it handles the notice; everyone else stops here.
  try {
    if (!(await ledger.claim(key, token, now()))) {
      logger.debug('notice already handled: a duplicate delivery', { identity });
      return 'done';
    }
  } catch (error) {
    // The claim may have landed unseen: hand it back so the retry can take it (a no-op if it did not land).
    await ledger.settle(key, token, 'retry', now()).catch(() => false);
    return failed(telemetry, 'notice not claimed: the store failed, delivered again later', identity, errorFields(error), 'retry');
  }

  const settle = async (outcome: NoticeOutcome, metric: MetricName | undefined, message: string, fields: object = {}) => {
    if (metric !== undefined) count(metrics, metric);
    logger[outcome === 'failed' ? 'error' : outcome === 'capped' ? 'warn' : 'info'](message, { identity, outcome, ...fields });
    if (!(await ledger.settle(key, token, outcome, now()).catch(() => false))) {
      logger.error('notice outcome not recorded', { identity, outcome });
    }
  };
  let recipientHold: RecipientHold | undefined;
  let hourHold: HourHold | undefined;
  const release = async () => {
    // Best effort: a reservation that cannot be given back only delays the recipient's next notice, or lowers the
    // hour's cap by one.
    const given = await Promise.all([
      recipientHold === undefined ? true : ledger.releaseRecipient(recipientHold).catch(() => false),
      hourHold === undefined ? true : ledger.releaseHour(hourHold).catch(() => false),
    ]);
    if (given.includes(false)) logger.warn('notice reservation not given back', { identity });
  };
  const handBack = async (message: string, fields: object): Promise<RecordResult> => {
    await release();
    // Handed back, the next delivery of the record claims it again. If even that fails, the claim stays: the notice
    // is not sent (at most one per lock wins), and retrying the record could not change that.
    const handedBack = await ledger.settle(key, token, 'retry', now()).catch(() => false);
    return failed(telemetry, message, identity, fields, handedBack ? 'retry' : 'done');
  };

  // b-d. Nothing is sent yet: any failure hands the notice back for a later delivery.
  let to: string;
  try {
    const recipient = await directory.find(sub);
    if (recipient === undefined || recipient.email === undefined || !recipient.verified) {
      const reason = recipient === undefined ? 'no such user' : recipient.email === undefined ? 'no address' : 'address not verified';
      await settle('skipped', 'NoticesSkipped', 'notice not sent: no verified address', { reason });
      return 'done';
    }
    to = recipient.email;
  } catch (error) {
    return handBack('notice not sent: the user pool failed, delivered again later', { error: { name: nameOf(error) } });
  }
  try {
    const at = now();
    recipientHold = await ledger.holdRecipient(sub, token, at, config.recipientPeriodSeconds);
    if (recipientHold === undefined) {
      await settle('suppressed', 'NoticesSuppressed', 'notice not sent: the recipient had one within the period');
      return 'done';
    }
    hourHold = await ledger.holdHour(at, config.maxPerHour);
    if (hourHold === undefined) {
      await release();
      await settle('capped', 'NoticesCapped', 'notice not sent: the hourly cap is reached', { maxPerHour: config.maxPerHour });
      return 'done';
    }
  } catch (error) {
    return handBack('notice not sent: the store failed, delivered again later', errorFields(error));
  }

  // e. The one send.
  try {
    await sender.send({ from: config.from, to, subject: config.words.subject, text: noticeText(config.words, request) });
  } catch (error) {
    // SES's own words can quote the recipient: its error's name and status only.
    const fields = { error: { name: nameOf(error) }, status: (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode };
    // Retry only what SES provably did not accept and may accept later (classifySendFailure): a retry can then not
    // send twice. A permanent refusal would meet the same refusal at each of the mapping's retries: it is final, and
    // the reservations go back (nothing was sent). An ambiguous failure (a timeout, a reset after sending) is final
    // too: the notice may have gone, and one too few notices is better than two for one lock.
    const failure = classifySendFailure(error);
    if (failure === 'transient') return handBack('notice not sent: SES refused it for now, delivered again later', fields);
    if (failure === 'permanent') {
      await release();
      await settle('failed', 'NoticeErrors', 'notice not sent: SES refused it for good (sender, account, role or address), not retried', {
        ...fields,
        permanent: true,
      });
      return 'done';
    }
    await settle('failed', 'NoticeErrors', 'notice may not have been sent: SES did not answer, not retried', fields);
    return 'done';
  }
  await settle('sent', 'NoticesSent', 'lock notice sent');
  return 'done';
}

function failed(telemetry: Telemetry, message: string, identity: string, fields: object, result: RecordResult): RecordResult {
  count(telemetry.metrics, 'NoticeErrors');
  telemetry.logger.error(message, { identity, ...fields, retried: result === 'retry' });
  return result;
}

function nameOf(error: unknown): string | undefined {
  const name = (error as Error | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}
