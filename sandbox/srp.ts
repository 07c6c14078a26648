/**
 * The server side of Cognito's SRP sign-in (USER_SRP_AUTH, then the PASSWORD_VERIFIER challenge) for the local
 * sandbox: Cognito's variant of SRP-6a (3072-bit group, k = H(N | g), x = H(salt | H(pool name | user id ":"
 * password)), the key from HKDF over S and u), so that Amplify's and amazon-cognito-identity-js's default sign-in
 * work unchanged. Every number that is hashed is encoded as those clients encode it (`padHex`).
 *
 * As Cognito does when user existence errors are prevented, an unknown name gets a challenge of the same shape,
 * with a salt that is stable per name, and fails the same way as a wrong password.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a PASSWORD_VERIFIER challenge may be answered (Cognito's sessions last minutes too). */
const CHALLENGE_TTL_MS = 3 * 60_000;
const HEX = /^[0-9a-fA-F]{1,1024}$/;

/** RFC 5054's 3072-bit group, generator 2: the group Cognito and its clients use. */
export const N = BigInt(
  '0x' +
    'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
    'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
    '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
    '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
    'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF',
);
export const g = 2n;

/**
 * A non-negative integer as the clients hash it: the shortest even-length big-endian hex, with a 00 byte in front
 * when the top bit is set (Java's `BigInteger.toByteArray()`, Cognito's `padHex`/`getPaddedHex`).
 */
export function padHex(value: bigint): string {
  const hex = value.toString(16);
  const even = hex.length % 2 === 1 ? `0${hex}` : hex;
  return /^[89a-f]/.test(even) ? `00${even}` : even;
}

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();
const hashOfHex = (hex: string): bigint => BigInt(`0x${sha256(Buffer.from(hex, 'hex')).toString('hex')}`);

/** base^exponent mod modulus, by squaring: native BigInt, ~2 ms for a 256-bit exponent. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let square = ((base % modulus) + modulus) % modulus;
  for (let rest = exponent; rest > 0n; rest >>= 1n) {
    if (rest & 1n) result = (result * square) % modulus;
    square = (square * square) % modulus;
  }
  return result;
}

/** SRP-6a's multiplier k = H(N | g). */
export const k = hashOfHex(padHex(N) + padHex(g));

/** The password verifier v = g^x, x = H(salt | H(pool name | user id ":" password)); `salt` is SALT's hex. */
export function verifier(poolName: string, userIdForSrp: string, password: string, salt: string): bigint {
  // Why the salt's value and not its hex as sent: the clients parse SALT as a number and padHex it, so "003f5c…" is
  // hashed as 3f 5c … (npm cognito-srp, used before, hashed 00 3f 5c …: 1 name in 512 could never sign in).
  const x = hashOfHex(padHex(BigInt(`0x${salt}`)) + sha256(`${poolName}${userIdForSrp}:${password}`).toString('hex'));
  return modPow(g, x, N);
}

/** What the server keeps between the challenge and the client's answer: the key both sides derive. */
export interface SrpKey {
  /** The server's public value B (SRP_B). */
  readonly B: bigint;
  /** The 16-byte HKDF key the client signs with. */
  readonly hkdf: Buffer;
}

/**
 * The server's half for one sign-in: B for the challenge and the key a client that knows the password derives.
 * `salt` is the hex the challenge carries, `A` the client's public value, `b` the server's secret.
 */
export function serverKey(poolName: string, userIdForSrp: string, password: string, salt: string, A: bigint, b: bigint): SrpKey {
  const v = verifier(poolName, userIdForSrp, password, salt);
  const B = (k * v + modPow(g, b, N)) % N;
  // Why padHex of B and S, never their fixed 384-byte form: the clients' padHex drops leading 00 bytes. npm
  // cognito-srp, used before, kept them, so when B or S was below 2^3063 (1 sign-in in 256) a correct proof was refused.
  const u = hashOfHex(padHex(A) + padHex(B));
  const S = modPow((A * modPow(v, u, N)) % N, b, N);
  const prk = createHmac('sha256', Buffer.from(padHex(u), 'hex'))
    .update(Buffer.from(padHex(S), 'hex'))
    .digest();
  const hkdf = createHmac('sha256', prk).update('Caldera Derived Key\u0001', 'utf8').digest().subarray(0, 16);
  return { B, hkdf };
}

/** PASSWORD_CLAIM_SIGNATURE: HMAC-SHA256 under the key of pool name, user id, secret block and timestamp, base64. */
export function passwordClaimSignature(hkdf: Buffer, poolName: string, userIdForSrp: string, secretBlock: string, timestamp: string): string {
  return createHmac('sha256', hkdf)
    .update(
      Buffer.concat([
        Buffer.from(poolName, 'utf8'),
        Buffer.from(userIdForSrp, 'utf8'),
        Buffer.from(secretBlock, 'base64'),
        Buffer.from(timestamp, 'utf8'),
      ]),
    )
    .digest('base64');
}

export interface SrpChallenge {
  readonly SALT: string;
  readonly SRP_B: string;
  readonly SECRET_BLOCK: string;
  readonly USER_ID_FOR_SRP: string;
}

interface Pending {
  readonly hkdf: Buffer;
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

/** Tests only: fix the values the server otherwise draws at random. */
export interface SrpServerOptions {
  /** The server's secret b of each challenge (default: 256 random bits). */
  readonly serverSecret?: () => bigint;
  /** The salt (hex) of a user id (default: stable per name for the run). */
  readonly salt?: (userIdForSrp: string) => string;
}

export class SrpServer {
  private readonly pending = new Map<string, Pending>();
  private readonly poolName: string;
  /** Per sandbox run: salts for unknown names are stable for the run, and mean nothing outside it. */
  private readonly secret = randomBytes(32);

  constructor(
    userPoolId: string,
    private readonly options: SrpServerOptions = {},
  ) {
    // Cognito's SRP hashes the pool's name: the part of the pool id after the region and underscore.
    this.poolName = userPoolId.split('_')[1] ?? userPoolId;
  }

  /**
   * Starts a sign-in: `user` is the pool's user (its user name and password) or undefined for an unknown name,
   * `userIdForSrp` what the client proves knowledge for, `srpA` the client's public value (hex).
   */
  async challenge(userIdForSrp: string, user: { username: string; password: string } | undefined, srpA: unknown): Promise<SrpChallenge> {
    const A = typeof srpA === 'string' && HEX.test(srpA) ? BigInt(`0x${srpA}`) : 0n;
    if (A === 0n) throw new InvalidSrpParameterError('SRP_A must be a non-zero hexadecimal number');
    if (A >= N) throw new InvalidSrpParameterError('SRP_A was refused: A must be below N');
    this.sweep();
    const salt = this.options.salt?.(userIdForSrp) ?? createHmac('sha256', this.secret).update(`salt:${userIdForSrp}`).digest('hex').slice(0, 32);
    // An unknown name proves against a password nobody knows: the same work and the same answer as a wrong one.
    const password = user?.password ?? randomBytes(24).toString('base64');
    const b = this.options.serverSecret?.() ?? BigInt(`0x${randomBytes(32).toString('hex')}`);
    const { B, hkdf } = serverKey(this.poolName, userIdForSrp, password, salt, A, b);
    const secretBlock = randomBytes(48).toString('base64');
    this.pending.set(secretBlock, {
      hkdf,
      userIdForSrp,
      username: user?.username,
      password: user?.password,
      expiresAt: Date.now() + CHALLENGE_TTL_MS,
    });
    return { SALT: salt, SRP_B: B.toString(16), SECRET_BLOCK: secretBlock, USER_ID_FOR_SRP: userIdForSrp };
  }

  /** Checks the client's PASSWORD_VERIFIER answer. Each challenge can be answered once. */
  verify(secretBlock: unknown, signature: unknown, timestamp: unknown): SrpVerdict {
    const pending = typeof secretBlock === 'string' ? this.pending.get(secretBlock) : undefined;
    if (pending === undefined || pending.expiresAt < Date.now()) return { ok: false, reason: 'expired' };
    this.pending.delete(secretBlock as string);
    if (typeof signature !== 'string' || typeof timestamp !== 'string') return { ok: false, reason: 'wrong-password' };
    const expected = Buffer.from(passwordClaimSignature(pending.hkdf, this.poolName, pending.userIdForSrp, secretBlock as string, timestamp));
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
