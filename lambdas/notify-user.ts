// Lambda entry point of the notifier: sends the lock notice email through Amazon SES (v2). Its settings come from
// the environment the construct sets (NOTIFY_FROM, NOTIFY_SUBJECT, NOTIFY_TEXT).
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { NOTIFY_FROM_ENV, NOTIFY_SUBJECT_ENV, NOTIFY_TEXT_ENV } from './engine/contract';
import { createTelemetry } from './engine/telemetry';
import { DEFAULT_NOTICE_SUBJECT, DEFAULT_NOTICE_TEXT, createNotifyUserHandler } from './handlers/notify-user';

const ses = new SESv2Client({ maxAttempts: 3 });

export const handler = createNotifyUserHandler(
  {
    from: process.env[NOTIFY_FROM_ENV] ?? '',
    subject: process.env[NOTIFY_SUBJECT_ENV] || DEFAULT_NOTICE_SUBJECT,
    text: process.env[NOTIFY_TEXT_ENV] || DEFAULT_NOTICE_TEXT,
  },
  {
    async send({ from, to, subject, text }) {
      await ses.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [to] },
          Content: { Simple: { Subject: { Data: subject }, Body: { Text: { Data: text } } } },
        }),
      );
    },
  },
  createTelemetry('NotifyUser'),
);
