/**
 * The contract between the CDK construct and the trigger code: names both sides must agree on. It imports
 * nothing, so the construct (and anything else at synth time) can use it without loading the AWS SDK or
 * Powertools, which only the Lambda bundles carry.
 */

/** The environment variable that names the lockout table. Required by every trigger. */
export const TABLE_NAME_ENV = 'LOCKOUT_TABLE_NAME';
/**
 * Whether the pool compares sign-in names case-sensitively (`true` or `false`): Cognito's
 * `UsernameConfiguration.CaseSensitive`, which the construct reads from the pool at synth. Unknown names are keyed
 * exactly as the pool compares them (identity.ts). Required by the sign-in triggers.
 */
export const SIGN_IN_CASE_SENSITIVE_ENV = 'LOCKOUT_SIGN_IN_CASE_SENSITIVE';
/**
 * The Secrets Manager secret (its ARN) holding the device token keys (device-keys.ts). Required by the functions
 * that sign or check device tokens (pre-authentication, post-authentication, pre token generation) when device
 * tokens are on.
 */
export const DEVICE_KEY_SECRET_ENV = 'LOCKOUT_DEVICE_KEY_SECRET';
/** The variable naming the bus for AccountLocked events; unset or empty turns events off. */
export const EVENT_BUS_ENV = 'LOCKOUT_EVENT_BUS';

/** The stream consumers: the user pool (event details; the notifier finds a `sub`'s address there). */
export const USER_POOL_ID_ENV = 'LOCKOUT_USER_POOL_ID';
/** The announcer: `on` when lock notices are requested (the notifier exists), else `off`. */
export const NOTICES_ENV = 'LOCKOUT_NOTICES';
/** The notifier: sender address, and the optional subject and text. */
export const NOTIFY_FROM_ENV = 'NOTIFY_FROM';
export const NOTIFY_SUBJECT_ENV = 'NOTIFY_SUBJECT';
export const NOTIFY_TEXT_ENV = 'NOTIFY_TEXT';
/** The notifier: at most one notice per recipient per this many seconds (default 86400). */
export const NOTIFY_RECIPIENT_PERIOD_ENV = 'NOTIFY_RECIPIENT_PERIOD_SECONDS';
/** The notifier: at most this many notices per clock hour over all recipients (default 500). */
export const NOTIFY_MAX_PER_HOUR_ENV = 'NOTIFY_MAX_PER_HOUR';

/** The table's partition key and TTL attribute (see store.ts for the item layout). */
export const PARTITION_KEY = 'pk';
export const TTL_ATTRIBUTE = 'expiresAt';

/** Powertools service name and the metrics namespace of every trigger. */
export const SERVICE_NAME = 'cognito-lockout';
export const METRICS_NAMESPACE = 'CognitoLockout';
/**
 * The description of the stack output in which the construct records where the admin CLI acts: a JSON object
 * `{ table, userPoolId, eventBus }` (eventBus null when events are off). The CLI's `--stack` finds it in any stack
 * that contains the construct, whatever its logical id.
 */
export const TARGETS_OUTPUT_DESCRIPTION = 'cognito-lockout admin targets (table, user pool, event bus)';

/** The `source` of the lockout's EventBridge events. */
export const EVENT_SOURCE = 'cognito-lockout';

export type TriggerName =
  'PreAuthentication' | 'PostAuthentication' | 'PreSignUp' | 'PostConfirmation' | 'PreTokenGeneration' | 'NotifyUser' | 'Announcer';

/** Metric names, all Count, in namespace `CognitoLockout` (override with POWERTOOLS_METRICS_NAMESPACE). */
export type MetricName =
  | 'AttemptsCounted'
  | 'AttemptsRefused'
  | 'LockoutsStarted'
  | 'WouldRefuse'
  | 'StoreErrors'
  | 'FailuresCleared'
  | 'InvalidEvents'
  | 'EventsPassed'
  | 'InternalErrors'
  | 'StoreBypassed'
  | 'InstanceRecordFull'
  | 'StoreCircuitOpened'
  | 'StoreCircuitClosed'
  | 'UnlockedByPasswordReset'
  | 'NoticesRequested'
  | 'NoticeErrors'
  | 'NoticesSent'
  | 'NoticesSuppressed'
  | 'NoticesCapped'
  | 'NoticesSkipped'
  | 'EventsPublished'
  | 'StreamRecordsInvalid'
  /** Device tokens (device-token.ts): a lock of a device bucket (also counted in LockoutsStarted). */
  | 'DeviceLockoutsStarted'
  /** A token was sent but does not count apart (malformed, tampered, expired, another user's...): anonymous bucket. */
  | 'DeviceTokensRejected'
  /** A valid token an operator revoked: anonymous bucket. */
  | 'DeviceTokensRevoked'
  /** A valid token older than one of the same device already counted: anonymous bucket. */
  | 'DeviceTokensSuperseded'
  /** A valid token whose device found no place (the user's devices, or those counting this window): anonymous bucket. */
  | 'DeviceBucketsFull'
  /** Pre token generation left the devices item untidied: too little time left, or the store not healthy. */
  | 'DeviceTidySkipped'
  | 'DeviceTokensIssued'
  /** The key could not be read (tokens count as absent, none are issued). */
  | 'DeviceKeyErrors'
  /** A password reset's revocation of device tokens did not land within its budget: the reset was failed, to be repeated. */
  | 'DeviceRevocationsFailed'
  /**
   * A successful sign-in that pre-authentication counted no attempt for (accounting.ts): its flow bypasses the
   * lockout. Also emitted with `triggerSource` and `clientId` dimensions (at most CLIENT_DIMENSIONS app clients).
   */
  | 'UncountedSignIns';

/** The prefix of every table key: what the key counts. */
export type KeyScope =
  | 'signin'
  | 'signup-username'
  | 'signup-email'
  | 'signup-phone'
  | 'signup-email-domain'
  | 'signup-phone-prefix'
  /** Lock notice requests, per-recipient limits and hourly counters (outbox.ts). */
  | 'notice'
  | 'notice-recipient'
  | 'notice-hour';

/** The key scopes each function writes: its IAM condition confines it to them. */
export const TRIGGER_KEY_SCOPES = {
  PreAuthentication: ['signin'],
  PostAuthentication: ['signin'],
  PostConfirmation: ['signin'],
  PreTokenGeneration: ['signin'],
  PreSignUp: ['signup-username', 'signup-email', 'signup-phone', 'signup-email-domain', 'signup-phone-prefix'],
  Announcer: ['notice'],
  NotifyUser: ['notice', 'notice-recipient', 'notice-hour'],
} as const satisfies Record<TriggerName, readonly KeyScope[]>;

/**
 * The time budget of every trigger function the construct creates. Cognito waits 5 s for a trigger, cold start
 * included (Lambda's init is not in the function's timeout, but it is in Cognito's wait): 3 s leaves 2 s for it.
 */
export const TRIGGER_TIMEOUT_MS = 3000;

/** The most the device key read holds up an instance's first decisions (device-keys.ts), once per instance. */
export const DEVICE_KEY_FIRST_WAIT_MS = 500;

/** Room each trigger keeps in its timeout for its own work beside the waits below: parsing, HMACs, logs, metrics. */
export const TRIGGER_WORK_ROOM_MS = 500;

/** The functions that read the device key, and so may wait for it once. */
export const DEVICE_KEY_READERS: readonly TriggerName[] = ['PreAuthentication', 'PostAuthentication', 'PreTokenGeneration'];

/**
 * How many store budgets (`storeTimeoutMs` each, retries included) each trigger waits for one after the other at
 * most, whatever the store does. Writes sent together share one budget (pre sign-up's keys, a password reset's
 * two items); a pre-authentication that falls back from a device bucket to the anonymous one spends what is left of
 * its one budget; work that is optional (pre token generation's tidy-up) runs only in time left over and is not
 * counted. The construct checks at synth that these fit each function's timeout (`serialWaitMs`), and the handlers
 * are tested against them with the store hanging (test/budgets.test.ts).
 */
export const SERIAL_STORE_BUDGETS = {
  PreAuthentication: 1,
  PostAuthentication: 1,
  PreTokenGeneration: 1,
  PreSignUp: 1,
  PostConfirmation: 1,
} as const satisfies Partial<Record<TriggerName, number>>;

/** The longest a trigger can wait, in ms, before it answers: the key's first wait (if it reads it) and its serial store budgets. */
export function serialWaitMs(trigger: keyof typeof SERIAL_STORE_BUDGETS, storeTimeoutMs: number, deviceTokens: boolean): number {
  const keyWait = deviceTokens && DEVICE_KEY_READERS.includes(trigger) ? DEVICE_KEY_FIRST_WAIT_MS : 0;
  return keyWait + SERIAL_STORE_BUDGETS[trigger] * storeTimeoutMs;
}

/**
 * The Node.js major of the Lambda runtime every function the construct deploys runs on (`nodejs24.x`), and the
 * target its bundles are built for. The one place it is set: scripts/build-assets.mjs and scripts/node-majors.mjs
 * (which CI's majors come from) read it here, and test/node-majors.test.ts fails until package.json's engines, and so
 * CI, include it.
 */
export const LAMBDA_NODE_MAJOR = 24;
