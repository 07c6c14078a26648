/**
 * The sandbox's public endpoint: a thin loopback front in front of cognito-local that closes the gaps that
 * matter to a lockout and to unchanged front ends. cognito-local has no PreAuthentication trigger, no SRP, no
 * managed login, matches sign-in names case-sensitively and reports wrong passwords as InvalidPasswordException;
 * real Cognito runs pre-authentication before the password check (also for unknown names when existence errors
 * are prevented), signs in case-insensitively and answers every failure with NotAuthorizedException "Incorrect
 * username or password.". So for sign-ins (InitiateAuth, AdminInitiateAuth: password flows and USER_SRP_AUTH,
 * whose PASSWORD_VERIFIER challenge the front answers itself, see srp.ts; InitiateAuth USER_AUTH with a password,
 * see user-auth.ts) the front resolves the user, runs the project's pre-authentication bundle through the local
 * Lambda endpoint, and only then checks the password or forwards; the managed login pages and OAuth endpoints are
 * managed-login.ts. Admin calls that name a user have the name resolved case-insensitively; everything else passes
 * through untouched.
 */
import { type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import {
  type AttributeType,
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
  GetUserCommand,
  InitiateAuthCommand,
  ListUsersCommand,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';
import { MANAGED_LOGIN_PATHS, ManagedLogin, type ManagedLoginDeps, type OAuthClient } from './managed-login';
import { userIdentity } from '../lambdas/identity/identity';
import { InvalidSrpParameterError, SrpServer } from './srp';
import type { ChallengeMetadata } from './challenge-metadata';
import { ChoiceSessions, type PasswordChallenge, PASSWORD_CHALLENGES, missingCredential, selectedChallenge, userAuthStart } from './user-auth';

export interface FrontOptions {
  /** cognito-local's own URL. */
  readonly cognitoUrl: string;
  /** The local Lambda Invoke endpoint. */
  readonly lambdaUrl: string;
  /** Where a challenge response's ClientMetadata waits for its sign-in's success triggers (the Lambda router adds it). */
  readonly challengeMetadata?: ChallengeMetadata;
  readonly userPoolId: string;
  /** Served as JSON at GET /__sandbox, for the demo and tests. */
  readonly status: object;
  /** cognito-local's working directory: its users, passwords included, are in `.cognito/db/<pool>.json`. */
  readonly cognitoDir: string;
  /** The app client's OAuth settings, for the managed login pages. */
  readonly oauth: OAuthClient;
  /** Where the front reports what a real pool would send by email (a password reset code), for the decision log. */
  readonly onNotice?: (line: Record<string, unknown>) => void;
}

const PASSWORD_FLOWS = new Set(['USER_PASSWORD_AUTH', 'ADMIN_USER_PASSWORD_AUTH', 'ADMIN_NO_SRP_AUTH']);
const WRONG_PASSWORD = 'Incorrect username or password.';
const EXPIRED_SESSION = 'Invalid session for the user, session is expired.';
export const STATUS_PATH = '/__sandbox';
/** What a real pool would have emailed (password reset codes), newest last, for scripts such as `npm run demo`. */
export const MAILBOX_PATH = '/__sandbox/mail';
const MAILBOX_SIZE = 100;

interface FrontState {
  readonly srp: SrpServer;
  /** USER_AUTH sign-ins between SELECT_CHALLENGE and its answer. */
  readonly choices: ChoiceSessions;
  /** What a real pool would have emailed, newest last, at most MAILBOX_SIZE. */
  readonly mailbox: Array<Record<string, string>>;
}

export interface Front {
  /** The port bound: the one asked for, or the one the system chose for 0. */
  readonly port: number;
  /** Starts serving the sandbox; until then every request is answered 503. */
  serve(options: FrontOptions): void;
  close(): Promise<void>;
}

/**
 * Binds the public port first, before the slow start-up (synth, bundling, JVM), so that the port is held
 * from the first moment: a port taken is reported at once, and nothing else can take it meanwhile.
 */
export function openFront(port: number): Promise<Front> {
  let serving: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (serving) serving(req, res);
    else sendError(res, 503, 'ServiceUnavailableException', 'The local sandbox is still starting.');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.removeListener('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        serve: (options) => {
          const admin = new CognitoIdentityProviderClient({ endpoint: options.cognitoUrl, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
          server.once('close', () => admin.destroy());
          const login = new ManagedLogin(managedLoginDeps(options, admin));
          // What the front keeps while it serves: SRP challenges in progress, and the sandbox's mailbox.
          const state: FrontState = { srp: new SrpServer(options.userPoolId), choices: new ChoiceSessions(), mailbox: [] };
          serving = (req, res) => {
            handle(req, res, options, admin, login, state).catch((error: Error) => {
              // Bad input gets Cognito's kind of answer; anything else is the sandbox's own failure.
              if (error instanceof InvalidSrpParameterError) return sendError(res, 400, 'InvalidParameterException', error.message);
              if (error instanceof SyntaxError) return sendError(res, 400, 'SerializationException', 'The request body is not valid JSON.');
              sendError(res, 500, 'InternalErrorException', `sandbox front: ${error.message}`);
            });
          };
        },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: FrontOptions,
  admin: CognitoIdentityProviderClient,
  login: ManagedLogin,
  state: FrontState,
): Promise<void> {
  if (req.method === 'GET' && req.url === STATUS_PATH) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(options.status));
    return;
  }
  if (req.method === 'GET' && req.url === MAILBOX_PATH) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(state.mailbox));
    return;
  }
  const body = await readBody(req);
  const url = new URL(req.url ?? '/', 'http://sandbox');
  if (MANAGED_LOGIN_PATHS.has(url.pathname) && (await login.handle(req, res, url, body))) return;
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target === '' && req.method === 'POST' && isCallerIdentityQuery(body)) return answerCallerIdentity(res);
  const operation = target.split('.').pop();
  if (operation === 'RespondToAuthChallenge') return respondToChallenge(req, body, res, options, admin, state);
  if (operation === 'ForgotPassword' || operation === 'ConfirmForgotPassword')
    return passwordReset(req, body, res, options, admin, operation, state.mailbox);
  if (operation !== 'InitiateAuth' && operation !== 'AdminInitiateAuth') {
    return forward(req, await caseInsensitiveUsername(body, admin, options.userPoolId), res, options.cognitoUrl);
  }

  const input = JSON.parse(body.toString('utf8') || '{}') as AuthInput;
  const flow = input.AuthFlow ?? '';
  if (flow === 'CUSTOM_AUTH' || (flow === 'USER_AUTH' && operation === 'AdminInitiateAuth')) {
    return sendError(
      res,
      400,
      'InvalidParameterException',
      flow === 'CUSTOM_AUTH'
        ? 'The local sandbox does not support CUSTOM_AUTH: use SRP (the default of Amplify and amazon-cognito-identity-js) or USER_PASSWORD_AUTH.'
        : 'The local sandbox supports USER_AUTH on InitiateAuth only: use InitiateAuth, or ADMIN_USER_PASSWORD_AUTH.',
    );
  }
  if (flow === 'USER_AUTH') return userAuth(req, input, res, options, admin, state);
  const srp = flow === 'USER_SRP_AUTH';
  if ((!PASSWORD_FLOWS.has(flow) && !srp) || typeof input.AuthParameters?.USERNAME !== 'string') return forward(req, body, res, options.cognitoUrl);

  // Cognito runs pre-authentication on InitiateAuth, before any password check: for SRP before the verifier, so an
  // abandoned SRP start counts as an attempt.
  const typed = input.AuthParameters.USERNAME;
  const gate = await preAuthenticate(options, admin, typed, input);
  if (gate.refusal !== undefined) return refuse(res, gate.refusal);
  if (srp) return startSrp(res, state.srp, options, typed, gate.user, input.AuthParameters.SRP_A);

  // Sign in as the resolved user, which makes the name case-insensitive as in the stack's pool.
  const forwarded = gate.user ? { ...input, AuthParameters: { ...input.AuthParameters, USERNAME: gate.user.Username } } : input;
  return answerSignIn(res, await send(req, Buffer.from(JSON.stringify(forwarded)), options.cognitoUrl));
}

/**
 * Resolves the typed name and runs pre-authentication, Cognito's first step of every password attempt: the refusal
 * message when the lockout refuses, else the user (undefined for an unknown name, which is let through the same way).
 */
async function preAuthenticate(
  options: FrontOptions,
  admin: CognitoIdentityProviderClient,
  typed: string,
  input: AuthInput,
): Promise<{ user?: UserType; refusal?: string }> {
  const user = await findUser(admin, options.userPoolId, typed);
  const refusal = await runPreAuthentication(options, preAuthenticationEvent(options.userPoolId, typed, user, input));
  return { user, refusal };
}

function refuse(res: ServerResponse, refusal: string): void {
  sendError(res, 400, 'UserLambdaValidationException', triggerErrorMessage('PreAuthentication', refusal));
}

/** The PASSWORD_VERIFIER challenge Cognito sends after an SRP start (USER_SRP_AUTH, or USER_AUTH's PASSWORD_SRP). */
async function startSrp(
  res: ServerResponse,
  srp: SrpServer,
  options: FrontOptions,
  typed: string,
  user: UserType | undefined,
  srpA: unknown,
): Promise<void> {
  const password = user?.Username === undefined ? undefined : await userField(options, user.Username, 'Password');
  const challenge = await srp.challenge(
    user?.Username ?? typed,
    user?.Username && password !== undefined ? { username: user.Username, password } : undefined,
    srpA,
  );
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(JSON.stringify({ ChallengeName: 'PASSWORD_VERIFIER', ChallengeParameters: { ...challenge, USERNAME: challenge.USER_ID_FOR_SRP } }));
}

/**
 * InitiateAuth with USER_AUTH (choice-based sign-in), as far as a password is involved. PREFERRED_CHALLENGE PASSWORD
 * (with PASSWORD) or PASSWORD_SRP (with SRP_A) is a password attempt in this call; without a preference the answer
 * is SELECT_CHALLENGE, and the attempt is the answer to it (selectChallenge). Pre-authentication runs on the request
 * that carries the password or SRP_A: the sandbox's choice, which AWS does not document (docs/sandbox.md).
 */
async function userAuth(
  req: IncomingMessage,
  input: AuthInput,
  res: ServerResponse,
  options: FrontOptions,
  admin: CognitoIdentityProviderClient,
  state: FrontState,
): Promise<void> {
  const parameters = input.AuthParameters ?? {};
  if (typeof parameters.USERNAME !== 'string') return sendError(res, 400, 'InvalidParameterException', 'Missing required parameter USERNAME');
  const allowed = await clientAllowsUserAuth(admin, options.userPoolId, input.ClientId);
  if (allowed !== true) {
    if (allowed === 'unknown') return sendError(res, 400, 'ResourceNotFoundException', `User pool client ${String(input.ClientId)} does not exist.`);
    return sendError(res, 400, 'InvalidParameterException', 'USER_AUTH flow not enabled for this client');
  }
  const start = userAuthStart(parameters);
  if (start.kind === 'invalid') return sendError(res, 400, 'InvalidParameterException', start.message);
  if (start.kind === 'attempt') {
    const missing = missingCredential(start.challenge, parameters);
    if (missing !== undefined) return sendError(res, 400, 'InvalidParameterException', missing);
    return passwordAttempt(req, res, options, admin, state, {
      ...input,
      typed: parameters.USERNAME,
      challenge: start.challenge,
      parameters,
      answersChallenge: false,
    });
  }
  // The choice, identical for every name: which of them exist is not told (PreventUserExistenceErrors).
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
  res.end(
    JSON.stringify({
      ChallengeName: 'SELECT_CHALLENGE',
      ChallengeParameters: {},
      AvailableChallenges: PASSWORD_CHALLENGES,
      Session: state.choices.issue(parameters.USERNAME, input.ClientId),
    }),
  );
}

/** RespondToAuthChallenge SELECT_CHALLENGE: ANSWER PASSWORD with PASSWORD, or PASSWORD_SRP with SRP_A. */
function selectChallenge(
  req: IncomingMessage,
  input: ChallengeInput,
  res: ServerResponse,
  options: FrontOptions,
  admin: CognitoIdentityProviderClient,
  state: FrontState,
): Promise<void> | void {
  const responses = input.ChallengeResponses ?? {};
  const challenge = selectedChallenge(responses);
  if (typeof challenge !== 'string') return sendError(res, 400, 'InvalidParameterException', challenge.message);
  const missing = missingCredential(challenge, responses);
  if (missing !== undefined) return sendError(res, 400, 'InvalidParameterException', missing);
  const choice = state.choices.take(input.Session, input.ClientId);
  if (choice === undefined) return sendError(res, 400, 'NotAuthorizedException', EXPIRED_SESSION);
  return passwordAttempt(req, res, options, admin, state, {
    ClientId: input.ClientId,
    ClientMetadata: input.ClientMetadata,
    typed: choice.typed,
    challenge,
    parameters: responses,
    answersChallenge: true,
  });
}

interface PasswordAttempt extends AuthInput {
  /** The name typed at InitiateAuth. */
  readonly typed: string;
  readonly challenge: PasswordChallenge;
  /** The request's AuthParameters or ChallengeResponses, with PASSWORD or SRP_A (missingCredential checked). */
  readonly parameters: Record<string, string>;
  /** A RespondToAuthChallenge (SELECT_CHALLENGE's answer): its ClientMetadata reaches the success triggers. */
  readonly answersChallenge: boolean;
}

/**
 * One USER_AUTH password attempt: pre-authentication with this request's ClientMetadata as validationData (as for the
 * other flows), then the password check (tokens from cognito-local, which runs post-authentication and pre token
 * generation) or the PASSWORD_VERIFIER challenge.
 */
async function passwordAttempt(
  req: IncomingMessage,
  res: ServerResponse,
  options: FrontOptions,
  admin: CognitoIdentityProviderClient,
  state: FrontState,
  attempt: PasswordAttempt,
): Promise<void> {
  const gate = await preAuthenticate(options, admin, attempt.typed, attempt);
  if (gate.refusal !== undefined) return refuse(res, gate.refusal);
  if (attempt.challenge === 'PASSWORD_SRP') return startSrp(res, state.srp, options, attempt.typed, gate.user, attempt.parameters.SRP_A);
  const username = gate.user?.Username ?? attempt.typed;
  const signIn = {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: attempt.ClientId,
    AuthParameters: { USERNAME: username, PASSWORD: attempt.parameters.PASSWORD },
    ClientMetadata: attempt.ClientMetadata,
  };
  return answerSignIn(res, await completeSignIn(req, options, username, signIn, attempt.answersChallenge ? attempt.ClientMetadata : undefined));
}

/**
 * The password sign-in at cognito-local that completes what the front checked. `challengeMetadata`: the metadata of
 * the challenge response that completes it, which Cognito gives the success triggers (challenge-metadata.ts).
 */
function completeSignIn(
  req: IncomingMessage,
  options: FrontOptions,
  username: string,
  signIn: object,
  challengeMetadata: Record<string, string> | undefined,
): Promise<Answer> {
  const call = () => send(req, Buffer.from(JSON.stringify(signIn)), options.cognitoUrl, 'AWSCognitoIdentityProviderService.InitiateAuth');
  return options.challengeMetadata === undefined ? call() : options.challengeMetadata.during(username, challengeMetadata, call);
}

/** Whether the app client allows USER_AUTH (ALLOW_USER_AUTH), as Cognito checks; 'unknown' for no such client. */
async function clientAllowsUserAuth(admin: CognitoIdentityProviderClient, userPoolId: string, clientId: unknown): Promise<boolean | 'unknown'> {
  if (typeof clientId !== 'string') return 'unknown';
  try {
    const { UserPoolClient } = await admin.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }));
    return (UserPoolClient?.ExplicitAuthFlows ?? []).includes('ALLOW_USER_AUTH');
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return 'unknown';
    throw error;
  }
}

interface AuthInput {
  AuthFlow?: string;
  AuthParameters?: Record<string, string>;
  ClientId?: string;
  ClientMetadata?: Record<string, string>;
}

interface ChallengeInput {
  ChallengeName?: string;
  ClientId?: string;
  Session?: string;
  ChallengeResponses?: Record<string, string>;
  ClientMetadata?: Record<string, string>;
}

/** The PreAuthentication event Cognito would send for this sign-in. */
function preAuthenticationEvent(userPoolId: string, typed: string, user: UserType | undefined, input: AuthInput): unknown {
  return {
    version: '1',
    triggerSource: 'PreAuthentication_Authentication',
    region: 'local',
    userPoolId,
    // Like Cognito: the user's own user name when the name is known, the typed text when it is not.
    userName: user?.Username ?? typed,
    callerContext: { awsSdkVersion: 'sandbox', clientId: input.ClientId ?? 'CLIENT_ID_NOT_APPLICABLE' },
    request: {
      userAttributes: user ? { ...attributesOf(user.Attributes), 'cognito:user_status': user.UserStatus } : {},
      validationData: input.ClientMetadata ?? {},
      ...(user ? {} : { userNotFound: true }),
    },
    response: {},
  };
}

/**
 * The text Cognito gives clients when a trigger throws. AWS documents it ("Customizing user pool workflows with
 * Lambda triggers", error handling): "[trigger] failed with error [error text]." — the period is Cognito's, so a
 * message that ends in one reaches users ending in two.
 */
export function triggerErrorMessage(trigger: string, text: string): string {
  return `${trigger} failed with error ${text}.`;
}

/** cognito-local's answer to a password sign-in, with its errors turned into Cognito's one wrong-password answer. */
function answerSignIn(res: ServerResponse, answer: Answer): void {
  const type = errorType(answer.body);
  if (answer.status === 400 && (type === 'InvalidPasswordException' || type === 'NotAuthorizedException' || type === 'UserNotFoundException')) {
    return sendError(res, 400, 'NotAuthorizedException', WRONG_PASSWORD);
  }
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

/**
 * RespondToAuthChallenge: SELECT_CHALLENGE answers a USER_AUTH sign-in this front started; PASSWORD_VERIFIER is the
 * second half of an SRP sign-in this front started (cognito-local has no SRP); a correct proof signs the user in at
 * cognito-local, which runs post-authentication. Every other challenge is cognito-local's.
 */
async function respondToChallenge(
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
  options: FrontOptions,
  admin: CognitoIdentityProviderClient,
  state: FrontState,
): Promise<void> {
  const input = JSON.parse(body.toString('utf8') || '{}') as ChallengeInput;
  if (input.ChallengeName === 'SELECT_CHALLENGE') return selectChallenge(req, input, res, options, admin, state);
  if (input.ChallengeName !== 'PASSWORD_VERIFIER') return forward(req, body, res, options.cognitoUrl);
  const responses = input.ChallengeResponses ?? {};
  const verdict = state.srp.verify(responses.PASSWORD_CLAIM_SECRET_BLOCK, responses.PASSWORD_CLAIM_SIGNATURE, responses.TIMESTAMP);
  if (!verdict.ok) return sendError(res, 400, 'NotAuthorizedException', verdict.reason === 'expired' ? EXPIRED_SESSION : WRONG_PASSWORD);
  const signIn = {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: input.ClientId,
    AuthParameters: { USERNAME: verdict.username, PASSWORD: verdict.password },
    ClientMetadata: input.ClientMetadata,
  };
  return answerSignIn(res, await completeSignIn(req, options, verdict.username, signIn, input.ClientMetadata));
}

/** The managed login's sign-in: the API's, pre-authentication first; tokens from cognito-local. */
function managedLoginDeps(options: FrontOptions, admin: CognitoIdentityProviderClient): ManagedLoginDeps {
  return {
    client: options.oauth,
    async signIn(typed, password, clientId) {
      const user = await findUser(admin, options.userPoolId, typed);
      const refusal = await runPreAuthentication(options, preAuthenticationEvent(options.userPoolId, typed, user, { ClientId: clientId }));
      if (refusal !== undefined) return { error: triggerErrorMessage('PreAuthentication', refusal) };
      if (user?.Username === undefined) return { error: WRONG_PASSWORD };
      try {
        const answer = await admin.send(
          new InitiateAuthCommand({
            ClientId: clientId,
            AuthFlow: 'USER_PASSWORD_AUTH',
            AuthParameters: { USERNAME: user.Username, PASSWORD: password },
          }),
        );
        const result = answer.AuthenticationResult;
        if (!result?.IdToken || !result.AccessToken)
          return { error: 'This sign-in needs a step the local managed login does not offer (a challenge).' };
        return {
          tokens: { IdToken: result.IdToken, AccessToken: result.AccessToken, RefreshToken: result.RefreshToken, ExpiresIn: result.ExpiresIn },
        };
      } catch {
        return { error: WRONG_PASSWORD };
      }
    },
    async refresh(refreshToken, clientId) {
      try {
        const answer = await admin.send(
          new InitiateAuthCommand({ ClientId: clientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: refreshToken } }),
        );
        const result = answer.AuthenticationResult;
        return result?.IdToken && result.AccessToken
          ? { IdToken: result.IdToken, AccessToken: result.AccessToken, ExpiresIn: result.ExpiresIn }
          : undefined;
      } catch {
        return undefined;
      }
    },
    async userInfo(accessToken) {
      try {
        const user = await admin.send(new GetUserCommand({ AccessToken: accessToken }));
        return { ...attributesOf(user.UserAttributes), username: user.Username ?? '' };
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * ForgotPassword and ConfirmForgotPassword, with the name resolved as the stack's case-insensitive email pool
 * would (cognito-local matches it exactly). A real pool emails the code; the sandbox prints it in the decision
 * log. ConfirmForgotPassword runs the post-confirmation trigger in cognito-local, which lifts the lock.
 */
async function passwordReset(
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
  options: FrontOptions,
  admin: CognitoIdentityProviderClient,
  operation: 'ForgotPassword' | 'ConfirmForgotPassword',
  mailbox: Array<Record<string, string>>,
): Promise<void> {
  const input = JSON.parse(body.toString('utf8') || '{}') as { Username?: unknown };
  const user = typeof input.Username === 'string' ? await findUser(admin, options.userPoolId, input.Username) : undefined;
  const resolved = user?.Username ? Buffer.from(JSON.stringify({ ...input, Username: user.Username })) : body;
  const answer = await send(req, resolved, options.cognitoUrl);
  if (operation === 'ForgotPassword' && answer.status === 200 && user?.Username) {
    const code = await userField(options, user.Username, 'ConfirmationCode');
    if (code) {
      const notice = { type: 'password-reset-code', identity: userIdentity(attributesOf(user.Attributes).sub ?? '').logId, code };
      mailbox.push(notice);
      mailbox.splice(0, Math.max(0, mailbox.length - MAILBOX_SIZE));
      options.onNotice?.({ localNotice: notice });
    }
  }
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

/**
 * A field of a user as cognito-local stores it: the password (in plain text; SRP needs it for the verifier) or the
 * reset code. cognito-local writes its data file asynchronously, so a field of a user ListUsers already returns may
 * be missing from the file for a few milliseconds: it is waited for briefly before it counts as absent.
 */
async function userField(options: FrontOptions, username: string, field: 'Password' | 'ConfirmationCode'): Promise<string | undefined> {
  for (let waited = 0; ; waited += 25) {
    const value = userRecord(options, username)?.[field];
    if (value !== undefined || waited >= 1000) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A user as cognito-local stores it, in `.cognito/db/<pool>.json`. */
function userRecord(options: FrontOptions, username: string): { Password?: string; ConfirmationCode?: string } | undefined {
  try {
    const db = JSON.parse(readFileSync(path.join(options.cognitoDir, '.cognito', 'db', `${options.userPoolId}.json`), 'utf8')) as {
      Users?: Record<string, { Password?: string; ConfirmationCode?: string }>;
    };
    return db.Users?.[username];
  } catch {
    return undefined;
  }
}

/**
 * Admin calls name a user (`AdminGetUser`, `AdminConfirmSignUp`, ...): resolve the name as the stack's
 * case-insensitive pool would, since cognito-local matches it exactly.
 */
async function caseInsensitiveUsername(body: Buffer, admin: CognitoIdentityProviderClient, userPoolId: string): Promise<Buffer> {
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return body;
  }
  if (input.UserPoolId !== userPoolId || typeof input.Username !== 'string') return body;
  const user = await findUser(admin, userPoolId, input.Username);
  return user?.Username ? Buffer.from(JSON.stringify({ ...input, Username: user.Username })) : body;
}

/**
 * Cognito's lookup: user name, then email or phone alias; case-insensitive, as the stack's pool is configured, and
 * nothing else folded (no trimming: Cognito resolves " jane@example.com" to nobody).
 */
async function findUser(admin: CognitoIdentityProviderClient, userPoolId: string, typed: string): Promise<UserType | undefined> {
  const wanted = typed.toLowerCase();
  let token: string | undefined;
  do {
    const page = await admin.send(new ListUsersCommand({ UserPoolId: userPoolId, PaginationToken: token }));
    const match = page.Users?.find((u) => {
      const attributes = attributesOf(u.Attributes);
      return [u.Username, attributes.email, attributes.phone_number].some((v) => typeof v === 'string' && v.toLowerCase() === wanted);
    });
    if (match) return match;
    token = page.PaginationToken;
  } while (token);
  return undefined;
}

/**
 * STS `GetCallerIdentity` (the query protocol): the admin CLI records who acted as the caller's AWS identity, so
 * with `AWS_ENDPOINT_URL_STS` pointing here the sandbox names every local operator alike.
 */
export const SANDBOX_OPERATOR_ARN = 'arn:aws:sts::000000000000:assumed-role/sandbox-operator/local';

function isCallerIdentityQuery(body: Buffer): boolean {
  return new URLSearchParams(body.toString('utf8')).get('Action') === 'GetCallerIdentity';
}

function answerCallerIdentity(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>' +
      `<Arn>${SANDBOX_OPERATOR_ARN}</Arn><UserId>AROASANDBOX:local</UserId><Account>000000000000</Account>` +
      '</GetCallerIdentityResult><ResponseMetadata><RequestId>sandbox</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
  );
}

/** Invokes the pre-authentication bundle; returns the refusal message, or undefined when admitted. */
async function runPreAuthentication(options: FrontOptions, event: unknown): Promise<string | undefined> {
  const response = await fetch(`${options.lambdaUrl}/2015-03-31/functions/PreAuthentication/invocations`, {
    method: 'POST',
    body: JSON.stringify(event),
  });
  const payload = (await response.json()) as { errorMessage?: string };
  if (response.headers.get('x-amz-function-error')) return payload.errorMessage ?? 'Lambda threw an exception';
  if (!response.ok) throw new Error(`local Lambda answered ${response.status}`);
  return undefined;
}

function attributesOf(attributes: AttributeType[] | undefined): Record<string, string> {
  return Object.fromEntries((attributes ?? []).map((a) => [a.Name ?? '', a.Value ?? '']));
}

function errorType(body: Buffer): string | undefined {
  try {
    const type = (JSON.parse(body.toString('utf8')) as { __type?: string }).__type;
    return type?.split('#').pop();
  } catch {
    return undefined;
  }
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': `${type}:` });
  res.end(JSON.stringify({ __type: type, message }));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

function send(req: IncomingMessage, body: Buffer, base: string, target?: string): Promise<Answer> {
  const url = new URL(req.url ?? '/', base);
  const headers = {
    ...req.headers,
    host: url.host,
    'content-length': String(body.length),
    ...(target === undefined ? {} : { 'x-amz-target': target }),
  };
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(url, { method: req.method, headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const passed: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(answer.headers))
          if (v !== undefined && k !== 'content-length' && k !== 'transfer-encoding') passed[k] = v;
        resolve({ status: answer.statusCode ?? 502, headers: passed, body: Buffer.concat(chunks) });
      });
      answer.on('error', reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

async function forward(req: IncomingMessage, body: Buffer, res: ServerResponse, base: string): Promise<void> {
  const answer = await send(req, body, base);
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}
