/**
 * Where a notice goes: the pool's own record of the user, found by `sub`. The notice request carries no address,
 * and nothing a stranger typed; only a user the pool knows, with an address the pool has verified, gets mail.
 */
import { type CognitoIdentityProviderClient, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { isNoticeSub } from './notice-request';

export interface Recipient {
  readonly email?: string;
  /** The pool's `email_verified`: only a verified address may be the owner's. */
  readonly verified: boolean;
}

/** Finds a user's address by `sub`; undefined when the pool has no such user. */
export interface RecipientDirectory {
  find(sub: string): Promise<Recipient | undefined>;
}

export class InvalidSubError extends Error {
  override readonly name = 'InvalidSubError';
  constructor() {
    super('a sub must be a UUID');
  }
}

/**
 * The ListUsers filter for one `sub`. Only a UUID gets this far (isNoticeSub), and quotes and backslashes are
 * escaped anyway, so nothing in a request can widen the filter.
 */
export function subFilter(sub: string): string {
  if (!isNoticeSub(sub)) throw new InvalidSubError();
  return `sub = "${sub.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The pool's directory: `ListUsers` with an exact `sub` filter, reading `email` and `email_verified` only. */
export function cognitoDirectory(client: CognitoIdentityProviderClient, userPoolId: string): RecipientDirectory {
  return {
    async find(sub) {
      const output = await client.send(
        new ListUsersCommand({ UserPoolId: userPoolId, Filter: subFilter(sub), Limit: 1, AttributesToGet: ['email', 'email_verified'] }),
      );
      const user = output.Users?.[0];
      if (user === undefined) return undefined;
      const attribute = (name: string) => user.Attributes?.find((a) => a.Name === name)?.Value;
      const email = attribute('email');
      return { email: email === undefined || email.trim() === '' ? undefined : email, verified: attribute('email_verified') === 'true' };
    },
  };
}
