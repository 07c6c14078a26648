// Lambda entry point of the notifier: invoked by its event source mapping on the lockout table's stream (notice
// requests only), it emails the owner of a locked account through Amazon SES (v2). Configuration comes from the
// environment the construct sets: LOCKOUT_TABLE_NAME, LOCKOUT_USER_POOL_ID, NOTIFY_FROM, and optionally
// NOTIFY_SUBJECT, NOTIFY_TEXT, NOTIFY_RECIPIENT_PERIOD_SECONDS, NOTIFY_MAX_PER_HOUR.
import { notifierDepsFromEnv } from './engine/notice-deps';
import { createNotifierHandler, notifierEntry } from './handlers/notify-user';

// Built once per cold start. A configuration error does not fail the init: every invocation logs it and reports
// its records for retry, which the mapping bounds (see notifierEntry).
export const handler = notifierEntry(() => createNotifierHandler(notifierDepsFromEnv(process.env)));
