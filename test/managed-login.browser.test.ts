/**
 * The managed login and the OAuth authorization code grant with PKCE, in a real browser (Debian's chromium, or
 * where there is none the one npm @sparticuz/chromium ships: test/support/browser.ts) against `npm start`'s
 * sandbox: sign in on the page, follow the redirect, exchange the code; wrong passwords until the page shows the
 * refusal (a screenshot is kept in test-artifacts/); after the lock expires the right password signs in again.
 * Then the OAuth errors Cognito documents, and backend-issued sessions installed into amazon-cognito-identity-js.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import * as path from 'node:path';
import { AdminInitiateAuthCommand, type CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import {
  CognitoAccessToken,
  CognitoIdToken,
  CognitoRefreshToken,
  CognitoUser,
  CognitoUserPool,
  CognitoUserSession,
} from 'amazon-cognito-identity-js';
import type { Browser, Page } from 'playwright-core';
import { freePort } from '../sandbox/ports';
import { type Sandbox, startSandbox } from '../sandbox/sandbox';
import { launchChromium } from './support/browser';
import { confirmedUser, sandboxCognito } from './support/local-services';

const ARTIFACTS = path.join(__dirname, '..', 'test-artifacts');
const PASSWORD = 'Correct-Horse-42!';
const EMAIL = 'browser-user@example.com';
const LOCK_SECONDS = 2;
let sandbox: Sandbox;
let sdk: CognitoIdentityProviderClient;
let browser: Browser;
let app: Server;
let callback: string;
const arrivals: URLSearchParams[] = [];

beforeAll(async () => {
  // The front end's own origin: the redirect target registered as the app client's callback URL.
  const appPort = await freePort();
  callback = `http://localhost:${appPort}/callback`;
  app = createServer((req, res) => {
    const url = new URL(req.url ?? '/', callback);
    // The browser also asks the app for /favicon.ico: only the redirects count.
    if (url.pathname === '/callback') arrivals.push(url.searchParams);
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>App</title><p id="app">signed in</p>');
  });
  await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
  sandbox = await startSandbox({
    projectRoot: path.join(__dirname, '..'),
    port: 0,
    dynamodbPort: 0,
    context: { maxFailedAttempts: '2', lockoutDurationSeconds: String(LOCK_SECONDS), callbackUrls: callback, logoutUrls: callback },
  });
  sdk = sandboxCognito(sandbox.status);
  await confirmedUser(sdk, sandbox.status, EMAIL, PASSWORD);
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  sdk?.destroy();
  await sandbox?.stop();
  await new Promise((resolve) => app?.close(resolve));
});

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(state: string, challenge: string): string {
  const url = new URL('/oauth2/authorize', sandbox.status.managedLogin.baseUrl);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: sandbox.status.userPoolClientId,
    redirect_uri: callback,
    state,
    scope: 'openid email',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

async function signInOnPage(page: Page, password: string): Promise<void> {
  await page.fill('#signInFormUsername', EMAIL);
  await page.fill('#signInFormPassword', password);
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
}

async function exchange(code: string, verifier: string): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(new URL('/oauth2/token', sandbox.status.managedLogin.baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: sandbox.status.userPoolClientId,
      code,
      redirect_uri: callback,
      code_verifier: verifier,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('managed login in a real browser', () => {
  it('signs in, redirects with the code and state, and the code (with PKCE) buys tokens', async () => {
    const page = await browser.newPage();
    const { verifier, challenge } = pkce();
    await page.goto(authorizeUrl('state-1', challenge));
    expect(new URL(page.url()).pathname).toBe('/login');
    await signInOnPage(page, PASSWORD);
    expect(page.url().startsWith(callback)).toBe(true);
    expect(await page.textContent('#app')).toBe('signed in');
    const arrived = arrivals.at(-1)!;
    expect(arrived.get('state')).toBe('state-1');
    const tokens = await exchange(arrived.get('code')!, verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({
      token_type: 'Bearer',
      id_token: expect.any(String),
      access_token: expect.any(String),
      refresh_token: expect.any(String),
    });
    const info = await fetch(new URL('/oauth2/userInfo', sandbox.status.managedLogin.baseUrl), {
      headers: { authorization: `Bearer ${tokens.body.access_token}` },
    });
    expect(await info.json()).toMatchObject({ email: EMAIL });
    // Once only.
    expect(await exchange(arrived.get('code')!, verifier)).toEqual({ status: 400, body: { error: 'invalid_grant' } });
    await page.close();
  });

  it('shows wrong passwords, then the refusal, above the form; after the lock the right password signs in', async () => {
    const page = await browser.newPage();
    const { verifier, challenge } = pkce();
    await page.goto(authorizeUrl('state-2', challenge));
    const messages: string[] = [];
    for (let i = 0; i < 3; i++) {
      await signInOnPage(page, `wrong-${i}`);
      messages.push((await page.textContent('#loginErrorMessage')) ?? '');
    }
    expect(messages).toEqual([
      'Incorrect username or password.',
      'Incorrect username or password.',
      'PreAuthentication failed with error Too many failed sign-in attempts. Try again later..',
    ]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'managed-login-refused.png') });
    // Still locked: the right password is refused too.
    await signInOnPage(page, PASSWORD);
    expect(await page.textContent('#loginErrorMessage')).toContain('Too many failed sign-in attempts');

    await new Promise((resolve) => setTimeout(resolve, LOCK_SECONDS * 1000 + 200));
    await signInOnPage(page, PASSWORD);
    expect(page.url().startsWith(callback)).toBe(true);
    expect((await exchange(arrivals.at(-1)!.get('code')!, verifier)).status).toBe(200);
    await page.close();
  });
});

describe('successful managed-login sign-ins', () => {
  it('never accumulate into a lock (N = 2 here, and 4 sign-ins in a row succeed)', async () => {
    await confirmedUser(sdk, sandbox.status, 'regular@example.com', PASSWORD);
    const params = { client_id: sandbox.status.userPoolClientId, response_type: 'code', redirect_uri: callback, state: 'r' };
    for (let i = 0; i < 4; i++) {
      const response = await fetch(new URL('/login', sandbox.status.managedLogin.baseUrl), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ ...params, username: 'regular@example.com', password: PASSWORD }),
      });
      expect(response.status).toBe(302);
      expect(new URL(response.headers.get('location')!).searchParams.get('code')).toMatch(/^[0-9a-f]+$/);
    }
  });
});

describe('OAuth errors, as Cognito documents them', () => {
  const base = () => sandbox.status.managedLogin.baseUrl;
  const get = (pathAndQuery: string) => fetch(new URL(pathAndQuery, base()), { redirect: 'manual' });
  const authorize = (params: Record<string, string>) =>
    get(
      `/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: sandbox.status.userPoolClientId, redirect_uri: callback, ...params })}`,
    );

  it('shows a redirect mismatch as a page, never redirecting to an unregistered URI', async () => {
    const response = await authorize({ redirect_uri: 'https://evil.example/steal' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('redirect_mismatch');
  });

  it('rejects an unknown client id', async () => {
    expect((await authorize({ client_id: 'nope' })).status).toBe(400);
  });

  it.each([
    [{ response_type: 'token' }, 'unauthorized_client'],
    [{ response_type: 'id_token x' }, 'invalid_request'],
    [{ scope: 'openid admin' }, 'invalid_scope'],
    [{ code_challenge: 'abc', code_challenge_method: 'plain' }, 'invalid_request'],
  ])('sends %p back to the client as %s', async (params, error) => {
    const response = await authorize({ ...params, state: 's' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(callback);
    expect(Object.fromEntries(location.searchParams)).toEqual({ error, state: 's' });
  });

  const token = (form: Record<string, string>) =>
    fetch(new URL('/oauth2/token', base()), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });

  it.each([
    [{}, 400, 'invalid_request'],
    [{ grant_type: 'authorization_code', client_id: 'nope', code: 'x' }, 400, 'invalid_client'],
    [{ grant_type: 'authorization_code', client_id: 'CLIENT', code: 'never-issued', redirect_uri: 'CALLBACK' }, 400, 'invalid_grant'],
    [{ grant_type: 'refresh_token', client_id: 'CLIENT', refresh_token: 'tampered' }, 400, 'invalid_grant'],
    [{ grant_type: 'password', client_id: 'CLIENT' }, 400, 'unsupported_grant_type'],
  ])('answers the token request %p with %s %s', async (form, status, error) => {
    const filled = Object.fromEntries(
      Object.entries(form).map(([k, v]) => [k, v === 'CLIENT' ? sandbox.status.userPoolClientId : v === 'CALLBACK' ? callback : v]),
    );
    const response = await token(filled);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error });
  });

  it('refuses a code exchanged with the wrong PKCE verifier', async () => {
    const page = await browser.newPage();
    const { challenge } = pkce();
    await page.goto(authorizeUrl('state-3', challenge));
    await signInOnPage(page, PASSWORD);
    await page.close();
    expect(await exchange(arrivals.at(-1)!.get('code')!, pkce().verifier)).toEqual({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('signs out to a registered URL only, and refreshes tokens with a real refresh token', async () => {
    const out = await get(`/logout?${new URLSearchParams({ client_id: sandbox.status.userPoolClientId, logout_uri: callback })}`);
    expect(out.status).toBe(302);
    expect(out.headers.get('location')).toBe(callback);
    expect(
      (await get(`/logout?${new URLSearchParams({ client_id: sandbox.status.userPoolClientId, logout_uri: 'https://evil.example/' })}`)).status,
    ).toBe(400);
    const signedIn = await sdk.send(
      new AdminInitiateAuthCommand({
        UserPoolId: sandbox.status.userPoolId,
        ClientId: sandbox.status.userPoolClientId,
        AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: EMAIL, PASSWORD },
      }),
    );
    const refreshed = await token({
      grant_type: 'refresh_token',
      client_id: sandbox.status.userPoolClientId,
      refresh_token: signedIn.AuthenticationResult!.RefreshToken!,
    });
    expect(refreshed.status).toBe(200);
    expect(await refreshed.json()).toMatchObject({ id_token: expect.any(String), access_token: expect.any(String), token_type: 'Bearer' });
    expect((await fetch(new URL('/oauth2/userInfo', base()), { headers: { authorization: 'Bearer forged' } })).status).toBe(401);
  });
});

describe('backend-issued sessions', () => {
  it('a front end installs the three tokens a backend got with AdminInitiateAuth, and refreshes them (device remembering is off)', async () => {
    const issued = await sdk.send(
      new AdminInitiateAuthCommand({
        UserPoolId: sandbox.status.userPoolId,
        ClientId: sandbox.status.userPoolClientId,
        AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: EMAIL, PASSWORD },
      }),
    );
    const result = issued.AuthenticationResult!;
    const pool = new CognitoUserPool({
      UserPoolId: sandbox.status.userPoolId,
      ClientId: sandbox.status.userPoolClientId,
      endpoint: sandbox.status.endpoint,
    });
    const idToken = new CognitoIdToken({ IdToken: result.IdToken! });
    const user = new CognitoUser({ Username: String(idToken.payload['cognito:username'] ?? idToken.payload.sub), Pool: pool });
    const session = new CognitoUserSession({
      IdToken: idToken,
      AccessToken: new CognitoAccessToken({ AccessToken: result.AccessToken! }),
      RefreshToken: new CognitoRefreshToken({ RefreshToken: result.RefreshToken! }),
    });
    user.setSignInUserSession(session);
    const renewed = await new Promise<CognitoUserSession>((resolve, reject) =>
      user.refreshSession(session.getRefreshToken(), (error: Error | null, fresh: CognitoUserSession) => (error ? reject(error) : resolve(fresh))),
    );
    expect(renewed.isValid()).toBe(true);
    expect(renewed.getIdToken().payload.email).toBe(EMAIL);
  });
});
