/**
 * Who acts, for audit records and events: the caller's AWS identity, as STS reports it for the credentials in
 * use. A name the operator types (or an environment variable, or user@host) is whatever anyone claims; the ARN is
 * the principal AWS authenticated, the same one CloudTrail records for the table writes themselves, so the audit
 * trail can be trusted as far as the account's IAM can.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AdminError } from './errors';

export interface OperatorIdentity {
  /** The caller's ARN (`arn:aws:sts::123456789012:assumed-role/Support/jane`, `arn:aws:iam::...:user/...`). */
  readonly arn: string;
  /** Free text the operator adds (a ticket, a reason). Recorded beside the ARN, never instead of it. */
  readonly note?: string;
}

/** Long enough for a ticket reference and a reason; an audit item is not a document. */
export const MAX_NOTE_LENGTH = 200;

/**
 * Asks STS who the credentials belong to. `GetCallerIdentity` needs no IAM permission and cannot be denied by a
 * policy, so it works for every operator who can reach the table.
 */
export async function resolveOperator(region: string | undefined, note?: string): Promise<OperatorIdentity> {
  const checkedNote = note === undefined ? undefined : operatorNote(note);
  const sts = new STSClient({ region });
  try {
    const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
    if (!Arn) throw new AdminError('AWS STS did not say who the credentials belong to (GetCallerIdentity returned no ARN)');
    return checkedNote === undefined ? { arn: Arn } : { arn: Arn, note: checkedNote };
  } finally {
    sts.destroy();
  }
}

/** A note is one line of at most MAX_NOTE_LENGTH characters: it is shown in log lines and audit listings. */
export function operatorNote(text: string): string {
  const note = text.trim();
  if (note === '' || note.length > MAX_NOTE_LENGTH || /\p{Cc}/u.test(note))
    throw new AdminError(`--operator takes a note of 1-${MAX_NOTE_LENGTH} characters on one line (a ticket or a reason)`, 2);
  return note;
}
