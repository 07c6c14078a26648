/** The notifier's wiring: its clients and configuration, built once per cold start from the environment. */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type NotifierConfig, loadNotifierConfig } from '../outbox/notice-config';
import { NoticeLedger } from '../outbox/notice-ledger';
import { type EmailSender, sesSender } from '../outbox/notice-mail';
import { type RecipientDirectory, cognitoDirectory } from '../outbox/notice-recipient';
import { type Telemetry, createTelemetry } from '../shared/telemetry';

/** Everything the notifier depends on; Lambda builds it once per cold start (below), tests pass their own. */
export interface NotifierDeps {
  readonly config: Pick<NotifierConfig, 'from' | 'words' | 'recipientPeriodSeconds' | 'maxPerHour'>;
  readonly ledger: NoticeLedger;
  readonly directory: RecipientDirectory;
  readonly sender: EmailSender;
  readonly telemetry: Telemetry;
  readonly now: () => number;
  /** A fresh claim token per attempt at a notice; random by default. */
  readonly newToken?: () => string;
}

/** Short timeouts: the notifier waits on nobody's sign-in, but a hung call holds up the records behind it. */
const CONNECTION_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 5_000;
const requestHandler = { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true };

/** Throws naming the variable when the configuration is missing or malformed. */
export function notifierDepsFromEnv(env: NodeJS.ProcessEnv): NotifierDeps {
  const config = loadNotifierConfig(env);
  return {
    config,
    // The ledger's writes are conditional and carry the claim token, so the SDK's one retry is safe (notice-ledger.ts).
    ledger: new NoticeLedger(DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 2, requestHandler })), config.tableName),
    // A read: the SDK's retries are harmless.
    directory: cognitoDirectory(new CognitoIdentityProviderClient({ maxAttempts: 3, requestHandler }), config.userPoolId),
    // Never retried by the SDK: a retry after a try whose answer was lost sends the email twice (notice-mail.ts).
    sender: sesSender(new SESv2Client({ maxAttempts: 1, requestHandler })),
    telemetry: createTelemetry('NotifyUser'),
    now: Date.now,
  };
}
