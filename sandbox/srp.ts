/**
 * The server side of Cognito's SRP sign-in (USER_SRP_AUTH, then the PASSWORD_VERIFIER challenge) for the local
 * sandbox, on npm `cognito-srp`, a maintained implementation of Cognito's variant (its key derivation differs
 * from generic SRP-6a packages), so that Amplify's and amazon-cognito-identity-js's default sign-in work unchanged.
 *
 * As Cognito does when user existence errors are prevented, an unknown name gets a challenge of the same shape,
 * with a salt that is stable per name, and fails the same way as a wrong password.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Session, UserPool as SrpUserPool } from 'cognito-srp';

/** How long a PASSWORD_VERIFIER challenge may be answered (Cognito's sessions last minutes too). */
const CHALLENGE_TTL_MS = 3 * 60_000;
const HEX = /^[0-9a-fA-F]{2,1024}$/;

export interface SrpChallenge {
  readonly SALT: string;
  readonly SRP_B: string;
  readonly SECRET_BLOCK: string;
  readonly USER_ID_FOR_SRP: string;
}

interface Pending {
  readonly session: Session;
  readonly userIdForSrp: string;
  /** The user the challenge was for, or undefined for an unknown name. */
  readonly username?: string;
  readonly password?: string;
  readonly expiresAt: number;
}

export type SrpVerdict =
  { readonly ok: true; readonly username: string; readonly password: string } | { readonly ok: false; readonly reason: 'wrong-password' | 'expired' };

export class InvalidSrpParameterError extends Error {
  override readonly name = 'InvalidSrpParameterError';
}

export class SrpServer {
  private readonly pending = new Map<string, Pending>();
  private readonly pool: SrpUserPool;
  /** Per sandbox run: salts for unknown names are stable for the run, and mean nothing outside it. */
  private readonly secret = randomBytes(32);

  constructor(userPoolId: string) {
    // Cognito's SRP hashes the pool's name: the part of the pool id after the region and underscore.
    this.pool = new SrpUserPool(userPoolId.split('_')[1] ?? userPoolId);
  }

  /**
   * Starts a sign-in: `user` is the pool's user (its user name and password) or undefined for an unknown name,
   * `userIdForSrp` what the client proves knowledge for, `srpA` the client's public value (hex).
   */
  async challenge(userIdForSrp: string, user: { username: string; password: string } | undefined, srpA: unknown): Promise<SrpChallenge> {
    if (typeof srpA !== 'string' || !HEX.test(srpA) || /^0+$/.test(srpA))
      throw new InvalidSrpParameterError('SRP_A must be a non-zero hexadecimal number');
    this.sweep();
    const salt = createHmac('sha256', this.secret).update(`salt:${userIdForSrp}`).digest('hex').slice(0, 32);
    // An unknown name proves against a password nobody knows: the same work and the same answer as a wrong one.
    const password = user?.password ?? randomBytes(24).toString('base64');
    const verifier = await this.pool.createUser({ username: userIdForSrp, password }, salt);
    const challenge = await this.pool.getServerChallenge(verifier);
    let session: Session;
    try {
      session = challenge.getSession(srpA);
    } catch (error) {
      throw new InvalidSrpParameterError(`SRP_A was refused: ${(error as Error).message}`);
    }
    const secretBlock = randomBytes(48).toString('base64');
    this.pending.set(secretBlock, {
      session,
      userIdForSrp,
      username: user?.username,
      password: user?.password,
      expiresAt: Date.now() + CHALLENGE_TTL_MS,
    });
    return { SALT: salt, SRP_B: challenge.calculateB().toString('hex'), SECRET_BLOCK: secretBlock, USER_ID_FOR_SRP: userIdForSrp };
  }

  /** Checks the client's PASSWORD_VERIFIER answer. Each challenge can be answered once. */
  verify(secretBlock: unknown, signature: unknown, timestamp: unknown): SrpVerdict {
    const pending = typeof secretBlock === 'string' ? this.pending.get(secretBlock) : undefined;
    if (pending === undefined || pending.expiresAt < Date.now()) return { ok: false, reason: 'expired' };
    this.pending.delete(secretBlock as string);
    if (typeof signature !== 'string' || typeof timestamp !== 'string') return { ok: false, reason: 'wrong-password' };
    const expected = Buffer.from(pending.session.calculateSignature(secretBlock as string, timestamp));
    const given = Buffer.from(signature);
    const matches = expected.length === given.length && timingSafeEqual(expected, given);
    if (!matches || pending.username === undefined || pending.password === undefined) return { ok: false, reason: 'wrong-password' };
    return { ok: true, username: pending.username, password: pending.password };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, value] of this.pending) if (value.expiresAt < now) this.pending.delete(key);
  }
}
