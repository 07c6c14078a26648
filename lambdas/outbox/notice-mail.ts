/**
 * The one email of a notice: Amazon SES (v2) `SendEmail`, made once. The client must not retry (maxAttempts 1): a
 * retry after a try whose answer was lost sends the message twice.
 */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';

export interface Email {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Sends one email; SES in Lambda, a stand-in in tests and the sandbox. */
export interface EmailSender {
  send(email: Email): Promise<void>;
}

export function sesSender(client: SESv2Client): EmailSender {
  return {
    async send({ from, to, subject, text }) {
      await client.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [to] },
          Content: { Simple: { Subject: { Data: subject, Charset: 'UTF-8' }, Body: { Text: { Data: text, Charset: 'UTF-8' } } } },
        }),
      );
    },
  };
}

/**
 * What a failed send means for the message:
 *   `transient`  SES provably did not take it, and may take it later (throttling, sending limits, a 503, a connection
 *                never made): retrying cannot send it twice;
 *   `permanent`  SES provably did not take it, and answers the same way until someone changes the account, the
 *                sender's identity, the role or the address (MessageRejected, MailFromDomainNotVerified,
 *                AccountSuspended, SendingPaused, BadRequest for an invalid address, NotFound, AccessDenied): a retry
 *                would only repeat the refusal, so the notice is marked failed instead;
 *   `ambiguous`  it may have been sent: retrying could send it twice.
 *
 * The rule: SES answered, and its answer was a refusal. An error that carries the HTTP status of SES's response
 * (`$metadata.httpStatusCode`) with a 4xx or a 503 (ServiceUnavailable: the request was turned away) was refused
 * before SES accepted anything; among those, 429 and the throttling and quota names are transient, every other 4xx
 * permanent. A connection that was never made (refused, the endpoint's name not found) never carried the request.
 * Anything else is ambiguous: a timeout or a reset connection after the request left (SES may have accepted it and the
 * answer was lost), a 500 or other 5xx (the failure may come after acceptance), and a 2xx the SDK could not read (the
 * message was accepted). An ambiguous failure is never retried: at most one notice per lock wins over a notice
 * delayed by a retry.
 */
export type SendFailure = 'transient' | 'permanent' | 'ambiguous';

export function classifySendFailure(error: unknown): SendFailure {
  const e = error as { $metadata?: { httpStatusCode?: unknown }; code?: unknown; name?: unknown } | null | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    if (status === 503 || status === 429) return 'transient';
    if (status < 400 || status >= 500) return 'ambiguous';
    return typeof e?.name === 'string' && LATER.has(e.name) ? 'transient' : 'permanent';
  }
  if (typeof e?.code === 'string' && NEVER_CONNECTED.has(e.code)) return 'transient';
  return 'ambiguous';
}

/** 4xx answers that say "not now" rather than "never": sending rate and quota limits. */
const LATER = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException', 'Throttling']);

/** Socket errors that mean no connection was made, so no request was sent. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
