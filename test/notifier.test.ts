/**
 * The notifier's pure parts and its handling of bad input, without DynamoDB: the words of a notice, its
 * configuration, what a stream record must hold, how a failed send is read, and what reaches the log.
 * Its guarantees on a real engine (one notice per lock, the caps, retries) are in notifier.dynamodb-local.test.ts.
 */
import { createServer } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CognitoIdentityProviderClient, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import {
  AccountSuspendedException,
  BadRequestException,
  LimitExceededException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  SESv2Client,
  SendEmailCommand,
  SendingPausedException,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadNotifierConfig } from '../lambdas/outbox/notice-config';
import { notifierDepsFromEnv } from '../lambdas/runtime/notice-deps';
import { NoticeLedger, hourKey, recipientKey } from '../lambdas/outbox/notice-ledger';
import { classifySendFailure, sesSender } from '../lambdas/outbox/notice-mail';
import { cognitoDirectory, subFilter } from '../lambdas/outbox/notice-recipient';
import { noticeRecordOf } from '../lambdas/outbox/notice-request';
import { DEFAULT_NOTICE_SUBJECT, noticeSubjectProblem, noticeText, noticeTextProblem } from '../lambdas/outbox/notice-text';
import { type NoticeRequest, noticeKey } from '../lambdas/outbox/outbox';
import { PERMANENT_LOCK_UNTIL } from '../lambdas/policy/policy';
import { type NotifierDeps, type NotifierHandler, createNotifierHandler, notifierEntry } from '../lambdas/handlers/notify-user';
import { capturingOutput } from './support/output';

const SUB = 'a1b2c3d4-0000-4000-8000-00000000000a';
const IDENTITY = '0123456789abcdef';
const UNTIL = Date.UTC(2026, 10, 22, 18, 0, 0);
const NOW = Date.UTC(2026, 10, 22, 17, 45, 0);
const ENV = { LOCKOUT_TABLE_NAME: 'lockout', LOCKOUT_USER_POOL_ID: 'eu-west-1_AbC123', NOTIFY_FROM: 'security@example.com' };

function noticeRequest(overrides: Partial<NoticeRequest> = {}): NoticeRequest {
  return {
    pk: noticeKey('5f2b0e6c1d9a4b3c8e7f6a5b4c3d2e1f'),
    sub: SUB,
    lockedUntil: UNTIL,
    permanent: false,
    resetUnlocks: true,
    identity: IDENTITY,
    requestedAt: NOW,
    expiresAt: Math.ceil(NOW / 1000) + 7 * 86_400,
    ...overrides,
  };
}

let sequence = 0;
/** A stream record as Lambda delivers it: the INSERT of `image`, its key from `pk` unless given. */
function insertRecord(image: Record<string, unknown>, options: { key?: string; eventName?: DynamoDBRecord['eventName'] } = {}): DynamoDBRecord {
  const key = options.key ?? String(image.pk);
  return {
    eventID: `event-${++sequence}`,
    eventName: options.eventName ?? 'INSERT',
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { pk: { S: key } },
      NewImage: marshall(image, { removeUndefinedValues: true }) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'],
      SequenceNumber: String(1000 + sequence),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** Telemetry that records metric names; logs at `logLevel` (DEBUG where a test reads them). */
function capturedTelemetry(logLevel: 'DEBUG' | 'SILENT') {
  const metricNames: string[] = [];
  const metrics = new Metrics({ namespace: 'Test' });
  jest.spyOn(metrics, 'addMetric').mockImplementation((name) => {
    metricNames.push(name);
    return metrics;
  });
  return { telemetry: { logger: new Logger({ logLevel }), metrics }, metricNames };
}

/** The Lambda handler as its generated entry builds it, loaded afresh with `env` as its environment (as at a cold start). */
function loadEntry(env: Record<string, string>): { handler: NotifierHandler } {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith('LOCKOUT_') || name.startsWith('NOTIFY_')) delete process.env[name];
  Object.assign(process.env, env);
  try {
    let loaded: { handler: NotifierHandler } | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { notifyUserHandler } = require('../lambdas/factories/notify-user') as { notifyUserHandler: () => NotifierHandler };
      loaded = { handler: notifyUserHandler() };
    });
    return loaded!;
  } finally {
    process.env = saved;
  }
}

const ddb = mockClient(DynamoDBDocumentClient);
beforeEach(() => ddb.reset());

function handlerWith(overrides: Partial<NotifierDeps> = {}, logLevel: 'DEBUG' | 'SILENT' = 'SILENT') {
  const { telemetry, metricNames } = capturedTelemetry(logLevel);
  const sent: Array<{ to: string; subject: string; text: string }> = [];
  const deps: NotifierDeps = {
    config: { from: 'security@example.com', words: { subject: DEFAULT_NOTICE_SUBJECT }, recipientPeriodSeconds: 86_400, maxPerHour: 500 },
    ledger: new NoticeLedger(DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 1 })), 'lockout'),
    directory: { find: async () => ({ email: 'jane.doe@example.com', verified: true }) },
    sender: { send: async (email) => void sent.push(email) },
    telemetry,
    now: () => NOW,
    newToken: () => 'token-1',
    ...overrides,
  };
  return { handler: createNotifierHandler(deps), metricNames, sent };
}

describe('the notice text', () => {
  const words = { subject: DEFAULT_NOTICE_SUBJECT };

  it('tells a temporary lock, until when in UTC, that someone may be guessing, and that a reset unlocks it', () => {
    expect(noticeText(words, { lockedUntil: UNTIL, permanent: false, resetUnlocks: true })).toBe(
      'Your account was locked after too many failed sign-in attempts. It stays locked until Sun, 22 Nov 2026 18:00:00 GMT. ' +
        'If this was not you, someone may be guessing your password. Resetting your password unlocks the account now.',
    );
  });

  it('leaves the password reset out when a reset would not unlock', () => {
    const text = noticeText(words, { lockedUntil: UNTIL, permanent: false, resetUnlocks: false });
    expect(text).toBe(
      'Your account was locked after too many failed sign-in attempts. It stays locked until Sun, 22 Nov 2026 18:00:00 GMT. ' +
        'If this was not you, someone may be guessing your password.',
    );
    expect(text).not.toMatch(/reset/i);
  });

  it('tells a permanent lock to contact support, with no end time', () => {
    const text = noticeText(words, { lockedUntil: PERMANENT_LOCK_UNTIL, permanent: true, resetUnlocks: false });
    expect(text).toBe(
      'Your account was locked after too many failed sign-in attempts. Contact support to unlock it. ' +
        'If this was not you, someone may be guessing your password.',
    );
    expect(text).not.toMatch(/GMT|\d{4}|reset/i);
  });

  it('mentions the reset for a permanent lock only when a reset lifts permanent locks too', () => {
    expect(noticeText(words, { lockedUntil: PERMANENT_LOCK_UNTIL, permanent: true, resetUnlocks: true })).toMatch(
      /Contact support to unlock it\. .* Resetting your password unlocks the account now\.$/,
    );
  });

  it('fills a custom text: {until} is the end or "support unlocks it", {reset} the sentence or nothing', () => {
    const custom = { subject: 'Locked', text: 'Locked until {until}.\n{reset}\nThe security team' };
    expect(noticeText(custom, { lockedUntil: UNTIL, permanent: false, resetUnlocks: true })).toBe(
      'Locked until Sun, 22 Nov 2026 18:00:00 GMT.\nResetting your password unlocks the account now.\nThe security team',
    );
    expect(noticeText(custom, { lockedUntil: PERMANENT_LOCK_UNTIL, permanent: true, resetUnlocks: false })).toBe(
      'Locked until support unlocks it.\n\nThe security team',
    );
  });

  it('checks a configured text and subject, naming the setting', () => {
    expect(noticeTextProblem('Locked until {until}. {reset}', 'NOTIFY_TEXT')).toBeUndefined();
    expect(noticeTextProblem('Hello {name}', 'NOTIFY_TEXT')).toBe('NOTIFY_TEXT contains {name}, but the only placeholders are {until} and {reset}');
    expect(noticeTextProblem('  ', 'NOTIFY_TEXT')).toBe('NOTIFY_TEXT must be non-empty text of at most 2000 characters');
    expect(noticeTextProblem('x'.repeat(2001), 'NOTIFY_TEXT')).toBe('NOTIFY_TEXT must be non-empty text of at most 2000 characters');
    expect(noticeSubjectProblem('Locked\r\nBcc: everyone@example.com', 'NOTIFY_SUBJECT')).toMatch(/^NOTIFY_SUBJECT must be one line of at most 200/);
    expect(noticeSubjectProblem('Your account was locked', 'NOTIFY_SUBJECT')).toBeUndefined();
  });
});

describe('the notifier configuration', () => {
  it('has the documented defaults', () => {
    expect(loadNotifierConfig(ENV)).toEqual({
      tableName: 'lockout',
      userPoolId: 'eu-west-1_AbC123',
      from: 'security@example.com',
      words: { subject: 'Your account was locked', text: undefined },
      recipientPeriodSeconds: 86_400,
      maxPerHour: 500,
    });
  });

  it('reads the subject, text, period and cap', () => {
    const config = loadNotifierConfig({
      ...ENV,
      NOTIFY_SUBJECT: 'Locked',
      NOTIFY_TEXT: 'Until {until}. {reset}',
      NOTIFY_RECIPIENT_PERIOD_SECONDS: '3600',
      NOTIFY_MAX_PER_HOUR: '10',
    });
    expect(config).toMatchObject({ words: { subject: 'Locked', text: 'Until {until}. {reset}' }, recipientPeriodSeconds: 3600, maxPerHour: 10 });
  });

  it.each([
    [{ LOCKOUT_TABLE_NAME: '' }, 'LOCKOUT_TABLE_NAME must name the lockout DynamoDB table, but it is not set'],
    [{ LOCKOUT_USER_POOL_ID: 'pool' }, 'LOCKOUT_USER_POOL_ID must be a user pool id (region_id), got "pool"'],
    [{ NOTIFY_FROM: 'security' }, 'NOTIFY_FROM must be an email address verified in Amazon SES, got "security"'],
    [{ NOTIFY_TEXT: 'Hi {name}' }, 'NOTIFY_TEXT contains {name}, but the only placeholders are {until} and {reset}'],
    [{ NOTIFY_SUBJECT: 'a\nb' }, 'NOTIFY_SUBJECT must be one line of at most 200 characters, got "a\\nb"'],
    [{ NOTIFY_RECIPIENT_PERIOD_SECONDS: '59' }, 'NOTIFY_RECIPIENT_PERIOD_SECONDS must be a whole number from 60 to 31536000, got "59"'],
    [{ NOTIFY_RECIPIENT_PERIOD_SECONDS: '31536001' }, 'NOTIFY_RECIPIENT_PERIOD_SECONDS must be a whole number from 60 to 31536000, got "31536001"'],
    [{ NOTIFY_RECIPIENT_PERIOD_SECONDS: '1e5' }, 'NOTIFY_RECIPIENT_PERIOD_SECONDS must be a whole number from 60 to 31536000, got "1e5"'],
    [{ NOTIFY_MAX_PER_HOUR: '0' }, 'NOTIFY_MAX_PER_HOUR must be a whole number from 1 to 1000000, got "0"'],
    [{ NOTIFY_MAX_PER_HOUR: '1000001' }, 'NOTIFY_MAX_PER_HOUR must be a whole number from 1 to 1000000, got "1000001"'],
    [{ NOTIFY_MAX_PER_HOUR: '-5' }, 'NOTIFY_MAX_PER_HOUR must be a whole number from 1 to 1000000, got "-5"'],
  ])('refuses %j', (override, message) => {
    expect(() => loadNotifierConfig({ ...ENV, ...override })).toThrow(message);
  });
});

describe('notice records from the stream', () => {
  it('reads a notice request from the new image of an INSERT', () => {
    const request = noticeRequest();
    expect(noticeRecordOf(insertRecord({ ...request }))).toEqual({ kind: 'notice', request });
  });

  it.each<[string, { key?: string; eventName?: DynamoDBRecord['eventName'] }]>([
    ['a MODIFY', { eventName: 'MODIFY' }],
    ['a REMOVE', { eventName: 'REMOVE' }],
    ['a lockout item', { key: 'signin#0123456789abcdef' }],
    ['a recipient limit record', { key: 'notice-recipient#abc' }],
  ])('calls %s unexpected', (_, options) => {
    expect(noticeRecordOf(insertRecord({ ...noticeRequest(), pk: options.key ?? noticeRequest().pk }, options)).kind).toBe('unexpected');
  });

  it.each([
    ['no sub', { sub: undefined }],
    ['a sub that is not a UUID', { sub: 'x" or sub ^= "' }],
    ['no identity', { identity: undefined }],
    ['a lockedUntil that is text', { lockedUntil: 'soon' }],
    ['a permanent flag that contradicts the end', { permanent: true }],
    ['a missing resetUnlocks', { resetUnlocks: undefined }],
    ['a key that differs from the record', { pk: noticeKey('ffffffffffffffffffffffffffffffff') }],
  ])('calls a request with %s invalid', (_, override) => {
    const record = insertRecord({ ...noticeRequest(), ...override }, { key: noticeRequest().pk });
    expect(noticeRecordOf(record)).toMatchObject({ kind: 'invalid' });
  });

  it('calls a record without a new image invalid', () => {
    const record = insertRecord(noticeRequest() as unknown as Record<string, unknown>);
    delete record.dynamodb!.NewImage;
    expect(noticeRecordOf(record)).toMatchObject({ kind: 'invalid' });
  });

  it('calls an unreadable image invalid instead of throwing', () => {
    const record = insertRecord(noticeRequest() as unknown as Record<string, unknown>);
    record.dynamodb!.NewImage = { ...record.dynamodb!.NewImage, lockedUntil: { X: '1' } as never };
    expect(noticeRecordOf(record)).toEqual({ kind: 'invalid', reason: 'the new image cannot be read' });
  });

  it('calls a number beyond what a time can be invalid', () => {
    for (const n of ['99999999999999999999', '1e400', '-1', '1.5']) {
      const record = insertRecord(noticeRequest() as unknown as Record<string, unknown>);
      record.dynamodb!.NewImage = { ...record.dynamodb!.NewImage, lockedUntil: { N: n } };
      expect(noticeRecordOf(record)).toMatchObject({ kind: 'invalid', reason: 'lockedUntil must be an epoch time in ms', identity: IDENTITY });
    }
  });
});

describe('the notifier handler and bad input', () => {
  it('counts malformed and unexpected records, logs the hashed identity only, and never reports them for retry', async () => {
    const { handler, metricNames, sent } = handlerWith({}, 'DEBUG');
    const records = [
      insertRecord({ ...noticeRequest(), sub: 'jane.doe@example.com' }),
      insertRecord({ ...noticeRequest(), lockedUntil: 'soon' }),
      insertRecord({ pk: 'signin#0123456789abcdef', op: 'lock' }),
      insertRecord({ ...noticeRequest() }, { eventName: 'MODIFY' }),
    ];
    const { result, log } = await capturingOutput(() => handler({ Records: records }));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(metricNames).toEqual(['StreamRecordsInvalid', 'StreamRecordsInvalid', 'StreamRecordsInvalid', 'StreamRecordsInvalid']);
    expect(sent).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
    expect(log).toContain('notice request ignored: malformed');
    expect(log).toContain(IDENTITY);
    expect(log).not.toMatch(/jane\.doe|example\.com|soon/);
  });

  it('handles the good records around a malformed one', async () => {
    ddb.on(UpdateCommand).resolves({});
    const { handler, metricNames, sent } = handlerWith();
    const good = (lockId: string) => insertRecord({ ...noticeRequest({ pk: noticeKey(lockId) }) });
    const result = await handler({
      Records: [good('aaaaaaaaaaaaaaaa'), insertRecord({ ...noticeRequest(), identity: { nested: true } }), good('bbbbbbbbbbbbbbbb')],
    });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sent).toHaveLength(2);
    expect(metricNames).toEqual(['NoticesSent', 'StreamRecordsInvalid', 'NoticesSent']);
  });

  it('answers an empty batch with no failures', async () => {
    await expect(handlerWith().handler({ Records: [] })).resolves.toEqual({ batchItemFailures: [] });
  });

  it('makes the ledger writes in order, each conditional, and sends once', async () => {
    ddb.on(UpdateCommand).resolves({});
    const { handler, sent } = handlerWith();
    await handler({ Records: [insertRecord({ ...noticeRequest() })] });
    const writes = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(writes.map((w) => [w.Key?.pk, w.ConditionExpression])).toEqual([
      [noticeRequest().pk, 'attribute_exists(#pk) AND (attribute_not_exists(#state) OR #state = :retry OR claimToken = :token)'],
      [recipientKey(SUB), 'attribute_not_exists(lastSentAt) OR lastSentAt <= :cutoff OR holder = :token'],
      [hourKey(NOW), 'attribute_not_exists(sent) OR sent < :cap'],
      [noticeRequest().pk, '#state = :claimed AND claimToken = :token'],
    ]);
    expect(hourKey(NOW)).toBe('notice-hour#2026-11-22T17');
    expect(writes[1].ExpressionAttributeValues).toMatchObject({ ':now': NOW, ':cutoff': NOW - 86_400_000, ':ttl': Math.ceil(NOW / 1000) + 86_400 });
    expect(writes[2].ExpressionAttributeValues).toMatchObject({ ':cap': 500, ':ttl': Math.ceil(NOW / 1000) + 2 * 86_400 });
    expect(writes[3].ExpressionAttributeValues).toMatchObject({ ':outcome': 'sent' });
    expect(sent).toEqual([
      {
        from: 'security@example.com',
        to: 'jane.doe@example.com',
        subject: 'Your account was locked',
        text: expect.stringContaining('It stays locked until Sun, 22 Nov 2026 18:00:00 GMT.'),
      },
    ]);
  });

  it('logs no address and no sub when SES rejects a recipient in its own words', async () => {
    ddb.on(UpdateCommand).resolves({});
    const rejection = new MessageRejected({
      message: 'Email address is not verified. The following identities failed the check in region EU-WEST-1: jane.doe@example.com',
      $metadata: { httpStatusCode: 400 },
    });
    const { handler, metricNames } = handlerWith({ sender: { send: () => Promise.reject(rejection) } }, 'DEBUG');
    const { result, log } = await capturingOutput(() => handler({ Records: [insertRecord({ ...noticeRequest() })] }));
    // A rejection is permanent: not delivered again.
    expect(result.batchItemFailures).toHaveLength(0);
    expect(metricNames).toEqual(['NoticeErrors']);
    expect(log).toContain('refused it for good');
    expect(log).toContain('MessageRejected');
    expect(log).toContain(IDENTITY);
    expect(log).not.toMatch(/jane\.doe|example\.com|identities failed/);
    expect(log).not.toContain(SUB);
  });

  it('marks a notice SES refused for good as failed, gives its reservations back, and does not ask for it again', async () => {
    ddb.on(UpdateCommand).resolves({});
    const denied = Object.assign(new Error('User is not authorized to perform ses:SendEmail'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
    const { handler, metricNames } = handlerWith({ sender: { send: () => Promise.reject(denied) } });
    await expect(handler({ Records: [insertRecord({ ...noticeRequest() })] })).resolves.toEqual({ batchItemFailures: [] });
    const writes = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(writes.map((w) => [w.Key?.pk, w.UpdateExpression])).toEqual([
      [noticeRequest().pk, 'SET #state = :claimed, claimToken = :token, claimedAt = :now ADD claims :one'],
      [recipientKey(SUB), 'SET lastSentAt = :now, holder = :token, #ttl = :ttl'],
      [hourKey(NOW), 'ADD sent :one SET #ttl = if_not_exists(#ttl, :ttl)'],
      // Nothing was sent: the recipient's slot and the hour's unit go back.
      [recipientKey(SUB), 'REMOVE lastSentAt, holder'],
      [hourKey(NOW), 'ADD sent :minusOne'],
      [noticeRequest().pk, 'SET #state = :outcome, settledAt = :now'],
    ]);
    expect(writes[5].ExpressionAttributeValues).toMatchObject({ ':outcome': 'failed' });
    expect(metricNames).toEqual(['NoticeErrors']);
  });

  it('logs no sub when the user pool fails', async () => {
    ddb.on(UpdateCommand).resolves({});
    const failure = Object.assign(new Error(`Invalid filter sub = "${SUB}"`), { name: 'InvalidParameterException' });
    const { handler } = handlerWith({ directory: { find: () => Promise.reject(failure) } }, 'DEBUG');
    const { result, log } = await capturingOutput(() => handler({ Records: [insertRecord({ ...noticeRequest() })] }));
    expect(result.batchItemFailures).toHaveLength(1);
    expect(log).toContain('InvalidParameterException');
    expect(log).not.toContain(SUB);
  });

  it('loads while misconfigured, logs the reason, and reports every record for retry (the mapping bounds it)', async () => {
    const records = [insertRecord({ ...noticeRequest() }), insertRecord({ ...noticeRequest() })];
    const { result, log } = await capturingOutput(async () => {
      const { handler } = loadEntry({ ...ENV, NOTIFY_MAX_PER_HOUR: 'lots', POWERTOOLS_LOG_LEVEL: 'INFO' });
      return handler({ Records: records });
    });
    expect(result.batchItemFailures).toEqual(records.map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber })));
    expect(log).toContain('notifier misconfigured: every record is reported for retry');
    expect(log).toContain('NOTIFY_MAX_PER_HOUR must be a whole number from 1 to 1000000, got \\"lots\\"');
  });

  it('builds the handler from the environment and exports it', () => {
    expect(typeof loadEntry({ ...ENV }).handler).toBe('function');
    expect(() => notifierEntry(() => createNotifierHandler(notifierDepsFromEnv({ ...ENV })))).not.toThrow();
  });
});

describe('reading a failed send', () => {
  const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
  it.each([
    ['TooManyRequests (throttled)', new TooManyRequestsException({ message: 'slow down', ...meta(429) })],
    ['LimitExceeded (sending quota)', new LimitExceededException({ message: 'quota', ...meta(400) })],
    ['a Throttling 400', Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException', ...meta(400) })],
    ['a 429 of any name', Object.assign(new Error('slow down'), { name: 'Unknown', ...meta(429) })],
    ['ServiceUnavailable (503)', Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable', ...meta(503) })],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', $metadata: {} })],
    ['an endpoint not found', Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND', $metadata: {} })],
  ])('calls %s transient: retried', (_, error) => {
    expect(classifySendFailure(error)).toBe('transient');
  });

  it.each([
    ['MessageRejected', new MessageRejected({ message: 'rejected', ...meta(400) })],
    ['SendingPaused', new SendingPausedException({ message: 'paused', ...meta(400) })],
    ['AccountSuspended', new AccountSuspendedException({ message: 'suspended', ...meta(400) })],
    ['MailFromDomainNotVerified', new MailFromDomainNotVerifiedException({ message: 'mail from', ...meta(400) })],
    ['BadRequest (an invalid address)', new BadRequestException({ message: 'bad', ...meta(400) })],
    ['NotFound (the sender identity)', new NotFoundException({ message: 'no identity', ...meta(404) })],
    ['AccessDenied (the role)', Object.assign(new Error('not authorized'), { name: 'AccessDeniedException', ...meta(403) })],
  ])('calls %s permanent: marked failed, never retried', (_, error) => {
    expect(classifySendFailure(error)).toBe('permanent');
  });

  it.each([
    ['a request timeout', Object.assign(new Error('Request timed out'), { name: 'TimeoutError', $metadata: {} })],
    ['a reset connection', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} })],
    ['an InternalFailure (500)', Object.assign(new Error('internal'), { name: 'InternalFailure', ...meta(500) })],
    ['a 502 from a gateway', Object.assign(new Error('bad gateway'), { name: 'Unknown', ...meta(502) })],
    ['a 200 the SDK could not read', Object.assign(new Error('Deserialization error'), { name: 'SyntaxError', ...meta(200) })],
    ['something without metadata', new Error('what happened?')],
    ['not an error at all', undefined],
  ])('calls %s ambiguous: never retried', (_, error) => {
    expect(classifySendFailure(error)).toBe('ambiguous');
  });
});

describe('the notifier clients', () => {
  it('asks the pool for one sub with an exact filter and reads email and email_verified only', async () => {
    const client = new CognitoIdentityProviderClient({});
    const cognito = mockClient(client);
    cognito.on(ListUsersCommand).resolves({
      Users: [
        {
          Username: 'jane',
          Attributes: [
            { Name: 'email', Value: 'jane@example.com' },
            { Name: 'email_verified', Value: 'true' },
          ],
        },
      ],
    });
    await expect(cognitoDirectory(client, 'eu-west-1_AbC123').find(SUB)).resolves.toEqual({ email: 'jane@example.com', verified: true });
    expect(cognito.commandCalls(ListUsersCommand)[0].args[0].input).toEqual({
      UserPoolId: 'eu-west-1_AbC123',
      Filter: `sub = "${SUB}"`,
      Limit: 1,
      AttributesToGet: ['email', 'email_verified'],
    });
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    await expect(cognitoDirectory(client, 'eu-west-1_AbC123').find(SUB)).resolves.toBeUndefined();
    cognito.on(ListUsersCommand).resolves({ Users: [{ Attributes: [{ Name: 'email', Value: 'jane@example.com' }] }] });
    await expect(cognitoDirectory(client, 'eu-west-1_AbC123').find(SUB)).resolves.toEqual({ email: 'jane@example.com', verified: false });
  });

  it('never builds a filter from anything but a UUID', () => {
    expect(subFilter(SUB)).toBe(`sub = "${SUB}"`);
    for (const sub of ['"', 'a" or email ^= "', '\\', '', 'jane@example.com']) expect(() => subFilter(sub)).toThrow('a sub must be a UUID');
  });

  it('sends one plain-text email from the configured sender', async () => {
    const client = new SESv2Client({});
    const ses = mockClient(client);
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
    await sesSender(client).send({ from: 'security@example.com', to: 'jane@example.com', subject: 'Locked', text: 'Body' });
    expect(ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input)).toEqual([
      {
        FromEmailAddress: 'security@example.com',
        Destination: { ToAddresses: ['jane@example.com'] },
        Content: { Simple: { Subject: { Data: 'Locked', Charset: 'UTF-8' }, Body: { Text: { Data: 'Body', Charset: 'UTF-8' } } } },
      },
    ]);
  });

  it('builds an SES client that makes one request however SES answers (no SDK retry)', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceUnavailable' });
      res.end(JSON.stringify({ message: 'Service Unavailable' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const deps = notifierDepsFromEnv({ ...ENV });
      // The SDK resolves the endpoint at the first request, from the standard variable.
      process.env.AWS_ENDPOINT_URL_SESV2 = endpoint;
      const error = await deps.sender
        .send({ from: 'security@example.com', to: 'jane@example.com', subject: 'x', text: 'y' })
        .catch((e: unknown) => e);
      expect(requests).toBe(1);
      expect(classifySendFailure(error)).toBe('transient');
    } finally {
      delete process.env.AWS_ENDPOINT_URL_SESV2;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
