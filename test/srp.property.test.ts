/**
 * The sandbox's SRP server (sandbox/srp.ts) against the clients' own code: amazon-cognito-identity-js's whole
 * `authenticateUser` (its transport routed to the server in-process) and Amplify v6's PASSWORD_VERIFIER steps
 * (AuthenticationHelper, getNowString, getSignatureString, called as its handlePasswordVerifierChallenge calls them),
 * on correct proofs the sandbox used to refuse.
 */
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { AuthenticationDetails, CognitoUser, CognitoUserPool } from 'amazon-cognito-identity-js';
import IdentityHelper from 'amazon-cognito-identity-js/lib/AuthenticationHelper';
import IdentityBigInteger from 'amazon-cognito-identity-js/lib/BigInteger';
import { N, SrpServer, g, k, modPow, padHex, verifier } from '../sandbox/srp';

// Amplify's SRP modules are internal (not in the package's exports), so they are loaded by file.
type AmplifySrp = typeof import('@aws-amplify/auth/dist/esm/providers/cognito/utils/srp/index');
type AmplifyHelperModule = typeof import('@aws-amplify/auth/dist/esm/providers/cognito/utils/srp/AuthenticationHelper/index');
type AmplifyBigIntegerModule = typeof import('@aws-amplify/auth/dist/esm/providers/cognito/utils/srp/BigInteger/index');
type AmplifyCalculate = typeof import('@aws-amplify/auth/dist/esm/providers/cognito/utils/srp/calculate/index');
type AmplifyConstants = typeof import('@aws-amplify/auth/dist/esm/providers/cognito/utils/srp/constants');
const amplifySrpDir = join(dirname(require.resolve('@aws-amplify/auth/package.json')), 'dist/cjs/providers/cognito/utils/srp');
const amplify = <T extends object>(file: string): T => jest.requireActual<T>(join(amplifySrpDir, file));
const { getNowString, getSignatureString } = amplify<AmplifySrp>('index.js');
const { AuthenticationHelper: AmplifyHelper } = amplify<AmplifyHelperModule>('AuthenticationHelper/index.js');
const { BigInteger: AmplifyBigInteger } = amplify<AmplifyBigIntegerModule>('BigInteger/index.js');
const { calculateA } = amplify<AmplifyCalculate>('calculate/index.js');
const { INIT_N } = amplify<AmplifyConstants>('constants.js');

interface SrpCase {
  /** The pool id's part after the underscore: Cognito's SRP hashes it. */
  readonly poolName: string;
  readonly signInName: string;
  /** USER_ID_FOR_SRP: what the proof is for (Cognito's internal user name, not what the user typed). */
  readonly userIdForSrp: string;
  readonly password: string;
  /** When set, the client proves with this password instead, which must be refused. */
  readonly wrongPassword: string | undefined;
  /** SALT's hex, as the server sends it. */
  readonly salt: string;
  /** The client's secret a and the server's secret b. */
  readonly a: bigint;
  readonly b: bigint;
  /** The clients' clock, for their TIMESTAMP. */
  readonly date: number;
}

const TWO_TO_3063 = 2n ** 3063n;
const sha256Int = (hex: string) => BigInt(`0x${createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex')}`);

/** The sandbox's server with the case's salt and b. */
function serverFor(c: SrpCase): SrpServer {
  return new SrpServer(`local_${c.poolName}`, { serverSecret: () => c.b, salt: () => c.salt });
}

const user = (c: SrpCase) => ({ username: c.signInName, password: c.password });

type Callback = (error: unknown, data?: unknown) => void;
type Params = { readonly AuthParameters: Record<string, string>; readonly ChallengeResponses: Record<string, string> };

/**
 * amazon-cognito-identity-js's `authenticateUser` (USER_SRP_AUTH, its default) with its client secret a set to
 * `c.a`; its two requests go to the sandbox's SRP server as the sandbox front forwards them. True when signed in.
 */
async function identityJsSignIn(c: SrpCase): Promise<boolean> {
  const server = serverFor(c);
  const pool = new CognitoUserPool({ UserPoolId: `local_${c.poolName}`, ClientId: 'sandbox-client' });
  const transport = (pool as unknown as { client: { request(operation: string, params: Params, callback: Callback): void } }).client;
  transport.request = (operation, params, callback) => {
    const answer = async () => {
      if (operation === 'InitiateAuth') {
        const challenge = await server.challenge(c.userIdForSrp, user(c), params.AuthParameters['SRP_A']);
        return { ChallengeName: 'PASSWORD_VERIFIER', ChallengeParameters: { ...challenge, USERNAME: challenge.USER_ID_FOR_SRP }, Session: 's' };
      }
      if (operation !== 'RespondToAuthChallenge') throw new Error(`unexpected ${operation}`);
      const responses = params.ChallengeResponses;
      const verdict = server.verify(responses['PASSWORD_CLAIM_SECRET_BLOCK'], responses['PASSWORD_CLAIM_SIGNATURE'], responses['TIMESTAMP']);
      if (!verdict.ok) throw Object.assign(new Error('Incorrect username or password.'), { code: 'NotAuthorizedException' });
      const token = `e30.${Buffer.from(JSON.stringify({ sub: c.userIdForSrp })).toString('base64url')}.sig`;
      return { AuthenticationResult: { IdToken: token, AccessToken: token, RefreshToken: 'refresh' }, ChallengeParameters: {} };
    };
    answer().then(
      (data) => callback(null, data),
      (error: unknown) => callback(error),
    );
  };
  jest.spyOn(IdentityHelper.prototype, 'generateRandomSmallA').mockReturnValueOnce(new IdentityBigInteger(c.a.toString(16), 16));
  const cognitoUser = new CognitoUser({ Username: c.signInName, Pool: pool });
  const details = new AuthenticationDetails({ Username: c.signInName, Password: c.wrongPassword ?? c.password });
  return new Promise<boolean>((resolve, reject) =>
    cognitoUser.authenticateUser(details, {
      onSuccess: () => resolve(true),
      onFailure: (error: { code?: string }) => (error.code === 'NotAuthorizedException' ? resolve(false) : reject(error)),
    }),
  );
}

/**
 * Amplify v6's SRP sign-in as `signIn` runs it: getAuthenticationHelper with the client secret a set to `c.a`, SRP_A,
 * then handlePasswordVerifierChallenge's steps on the server's challenge. True when the server accepts the proof.
 */
async function amplifySignIn(c: SrpCase): Promise<boolean> {
  const server = serverFor(c);
  const userPoolId = `local_${c.poolName}`;
  const N = new AmplifyBigInteger(INIT_N, 16);
  const g = new AmplifyBigInteger('2', 16);
  const a = new AmplifyBigInteger(c.a.toString(16), 16);
  const helper = new AmplifyHelper({ userPoolName: c.poolName, a, g, A: await calculateA({ a, g, N }), N });
  const challengeParameters = await server.challenge(c.userIdForSrp, user(c), helper.A.toString(16));
  // handlePasswordVerifierChallenge, line by line:
  const userPoolName = userPoolId.split('_')[1];
  const serverBValue = new AmplifyBigInteger(challengeParameters.SRP_B, 16);
  const salt = new AmplifyBigInteger(challengeParameters.SALT, 16);
  const username = challengeParameters.USER_ID_FOR_SRP;
  const hkdf = await helper.getPasswordAuthenticationKey({ username, password: c.wrongPassword ?? c.password, serverBValue, salt });
  const dateNow = getNowString();
  const signature = getSignatureString({ username, userPoolName, challengeParameters, dateNow, hkdf });
  return server.verify(challengeParameters.SECRET_BLOCK, signature, dateNow).ok;
}

beforeEach(() => {
  // Only Date is faked: the clients' TIMESTAMP.
  jest.useFakeTimers({
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/**
 * Correct proofs the sandbox refused before this fix (npm cognito-srp hashed B and S as fixed 384-byte buffers, and
 * the salt as sent), each checked still to meet its number. Pool "AbCdEfGh".
 */
describe('regression: correct proofs the sandbox refused', () => {
  const numbers = (c: SrpCase) => {
    const v = verifier(c.poolName, c.userIdForSrp, c.password, c.salt);
    const A = modPow(g, c.a, N);
    const B = (k * v + modPow(g, c.b, N)) % N;
    const u = sha256Int(padHex(A) + padHex(B));
    return { salt: BigInt(`0x${c.salt}`), B, S: modPow(A * modPow(v, u, N), c.b, N) };
  };
  const fixture = (userIdForSrp: string, password: string, salt: string, a: string, b: string): SrpCase => ({
    poolName: 'AbCdEfGh',
    signInName: userIdForSrp,
    userIdForSrp,
    password,
    wrongPassword: undefined,
    salt,
    a: BigInt(`0x${a}`),
    b: BigInt(`0x${b}`),
    date: Date.UTC(2026, 10, 1, 16),
  });
  it.each([
    {
      why: 'B below 2^3063 (SRP_B 5c768e…, 766 digits), which went into u as 00 5c 76 …',
      c: fixture('user-244', 'Pw-244', '7a206c9266a97ddba635644e0af9481d', '976b177e86d248c019', '802aa8b872a5500b3f'),
      meets: ({ B }: { B: bigint }) => B < TWO_TO_3063,
    },
    {
      why: 'S below 2^3063, which went into the HKDF with a leading 00 byte',
      c: fixture('user-146', 'Pw-146', 'aa9595c46930ec3e10acac2428b8cfda', '5ad9dae58417c5400f', '4ce6653b77fcc9a059'),
      meets: ({ S }: { S: bigint }) => S < TWO_TO_3063,
    },
    {
      why: 'salt 003f5c…, which went into x as 00 3f 5c … where the clients hash 3f 5c …',
      c: fixture('user-1', 'Pw-1', '003f5c2e9a81d4b7c6e0f1a2b3c4d5e6', '13c6ef372fe94f82a', '10bd794d6185655c6'),
      meets: ({ salt }: { salt: bigint }) => salt < 2n ** 119n,
    },
  ])('$why', async ({ c, meets }) => {
    expect(meets(numbers(c))).toBe(true);
    jest.setSystemTime(c.date);
    expect(await identityJsSignIn(c)).toBe(true);
    expect(await amplifySignIn(c)).toBe(true);
    const wrong = { ...c, wrongPassword: `${c.password}!` };
    expect(await identityJsSignIn(wrong)).toBe(false);
    expect(await amplifySignIn(wrong)).toBe(false);
  });
});
