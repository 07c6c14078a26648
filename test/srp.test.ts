/**
 * The sandbox's SRP server against amazon-cognito-identity-js's own client mathematics (AuthenticationHelper), so a
 * failure points at the protocol, not at the HTTP front. Salts are stable per name; unknown names always fail.
 */
import { createHmac } from 'node:crypto';
import { SrpServer } from '../sandbox/srp';
// The client half of Cognito's SRP, exactly as the library computes it.
import AuthenticationHelper from 'amazon-cognito-identity-js/lib/AuthenticationHelper';
import BigInteger from 'amazon-cognito-identity-js/lib/BigInteger';

const POOL_ID = 'local_AbCdEfGh';

async function clientProof(
  userId: string,
  password: string,
  challenge: { SALT: string; SRP_B: string; SECRET_BLOCK: string },
  helper: AuthenticationHelper,
) {
  const hkdf = await new Promise<Buffer>((resolve, reject) =>
    helper.getPasswordAuthenticationKey(
      userId,
      password,
      new BigInteger(challenge.SRP_B, 16),
      new BigInteger(challenge.SALT, 16),
      (error: Error, key: Buffer) => (error ? reject(error) : resolve(key)),
    ),
  );
  const timestamp = 'Sun Nov 22 16:00:00 UTC 2026';
  const message = Buffer.concat([
    Buffer.from(POOL_ID.split('_')[1], 'utf8'),
    Buffer.from(userId, 'utf8'),
    Buffer.from(challenge.SECRET_BLOCK, 'base64'),
    Buffer.from(timestamp, 'utf8'),
  ]);
  return { signature: createHmac('sha256', hkdf).update(message).digest('base64'), timestamp };
}

async function largeA(helper: AuthenticationHelper): Promise<string> {
  return new Promise((resolve, reject) =>
    helper.getLargeAValue((error: Error, a: { toString(radix: number): string }) => (error ? reject(error) : resolve(a.toString(16)))),
  );
}

describe('sandbox SRP server', () => {
  it('accepts the right password, once, and refuses a wrong one', async () => {
    const server = new SrpServer(POOL_ID);
    const user = { username: 'u-1', password: 'Correct-Horse-42!' };
    for (const [password, expected] of [
      [user.password, { ok: true, username: 'u-1', password: user.password }],
      ['wrong', { ok: false, reason: 'wrong-password' }],
    ] as const) {
      const helper = new AuthenticationHelper(POOL_ID.split('_')[1]);
      const challenge = await server.challenge('u-1', user, await largeA(helper));
      const proof = await clientProof('u-1', password, challenge, helper);
      expect(server.verify(challenge.SECRET_BLOCK, proof.signature, proof.timestamp)).toEqual(expected);
      // A challenge answers once: replaying the same proof is an expired session.
      expect(server.verify(challenge.SECRET_BLOCK, proof.signature, proof.timestamp)).toEqual({ ok: false, reason: 'expired' });
    }
  });

  it('gives an unknown name a stable salt and a challenge no password answers', async () => {
    const server = new SrpServer(POOL_ID);
    const helper = new AuthenticationHelper(POOL_ID.split('_')[1]);
    const first = await server.challenge('ghost', undefined, await largeA(helper));
    const second = await server.challenge('ghost', undefined, await largeA(helper));
    expect(second.SALT).toBe(first.SALT);
    expect(Object.keys(first).sort()).toEqual(['SALT', 'SECRET_BLOCK', 'SRP_B', 'USER_ID_FOR_SRP']);
    const proof = await clientProof('ghost', 'any-guess', first, helper);
    expect(server.verify(first.SECRET_BLOCK, proof.signature, proof.timestamp)).toEqual({ ok: false, reason: 'wrong-password' });
  });

  it.each([undefined, '', 'xyz', '00', 42])('refuses SRP_A %p as an invalid parameter', async (srpA) => {
    await expect(new SrpServer(POOL_ID).challenge('u', undefined, srpA)).rejects.toThrow(/SRP_A/);
  });
});
