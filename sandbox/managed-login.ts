/**
 * The sandbox's stand-in for Cognito's managed login (hosted UI) and OAuth 2.0 endpoints, so that the sign-in
 * path many teams use, the authorization code grant with PKCE, runs locally against the lockout:
 *
 *   GET  /oauth2/authorize   checks the client, the redirect URI (against the app client's callback URLs), the
 *                            response type, the scopes and PKCE, then shows /login
 *   GET  /login              the sign-in page; POST /login runs pre-authentication before the password check, and
 *                            shows a refusal or a wrong password above the form, as Cognito's page does
 *   POST /oauth2/token       authorization_code (PKCE S256 verified; a code works once, for 5 minutes) and
 *                            refresh_token
 *   GET  /oauth2/userInfo    the signed-in user's attributes, for a Bearer access token
 *   GET  /logout             back to a registered sign-out URL
 *
 * Tokens are cognito-local's own (a successful page sign-in is a USER_PASSWORD_AUTH sign-in there, which also runs
 * post-authentication). Errors are the ones Cognito documents for these endpoints: `invalid_request`,
 * `invalid_client`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`, and a
 * redirect mismatch shown as a page, never a redirect to an unregistered URI. Nothing logs a password.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface OAuthClient {
  readonly clientId: string;
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
  readonly scopes: readonly string[];
  readonly flows: readonly string[];
}

/** What the managed login needs from the rest of the front. */
export interface ManagedLoginDeps {
  readonly client: OAuthClient;
  /**
   * Runs a password sign-in as the API does (pre-authentication first): tokens, or the text the page shows.
   */
  signIn(username: string, password: string, clientId: string): Promise<{ tokens: Tokens } | { error: string }>;
  /** cognito-local's REFRESH_TOKEN_AUTH. */
  refresh(refreshToken: string, clientId: string): Promise<Tokens | undefined>;
  /** cognito-local's GetUser for an access token: the user's attributes, or undefined when the token is not valid. */
  userInfo(accessToken: string): Promise<Record<string, string> | undefined>;
}

export interface Tokens {
  readonly IdToken: string;
  readonly AccessToken: string;
  readonly RefreshToken?: string;
  readonly ExpiresIn?: number;
}

interface IssuedCode {
  readonly tokens: Tokens;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly challenge?: string;
  readonly expiresAt: number;
}

/** Cognito's authorization codes are valid for five minutes, and once. */
const CODE_TTL_MS = 5 * 60_000;
const PKCE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export const MANAGED_LOGIN_PATHS = new Set(['/oauth2/authorize', '/login', '/oauth2/token', '/oauth2/userInfo', '/logout']);

export class ManagedLogin {
  private readonly codes = new Map<string, IssuedCode>();

  constructor(private readonly deps: ManagedLoginDeps) {}

  /** Handles a managed-login path; false when `url` is not one. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<boolean> {
    switch (`${req.method} ${url.pathname}`) {
      case 'GET /oauth2/authorize':
        this.authorize(res, url.searchParams);
        return true;
      case 'GET /login':
        this.loginPage(res, url.searchParams);
        return true;
      case 'POST /login':
        await this.login(res, new URLSearchParams(body.toString('utf8')));
        return true;
      case 'POST /oauth2/token':
        await this.token(res, new URLSearchParams(body.toString('utf8')));
        return true;
      case 'GET /oauth2/userInfo':
        await this.userInfo(req, res);
        return true;
      case 'GET /logout':
        this.logout(res, url.searchParams);
        return true;
      default:
        return false;
    }
  }

  /**
   * The request parameters of an authorization, checked in Cognito's order: the client and the redirect URI first
   * (an error then is a page: never redirect to an unregistered URI), then the rest (an error then goes back to the
   * client's redirect URI).
   */
  private checkAuthorization(params: URLSearchParams): { page: string } | { redirect: string; error: string } | { ok: AuthorizationRequest } {
    const clientId = params.get('client_id');
    if (clientId !== this.deps.client.clientId) return { page: 'invalid_request: unknown client_id' };
    const redirectUri = params.get('redirect_uri') ?? '';
    if (!this.deps.client.callbackUrls.includes(redirectUri)) return { page: 'redirect_mismatch' };
    const back = (error: string) => ({ redirect: redirectUri, error });
    const responseType = params.get('response_type');
    if (responseType !== 'code' && responseType !== 'token') return back('invalid_request');
    if (responseType === 'token' || !this.deps.client.flows.includes('code')) return back('unauthorized_client');
    const scopes = (params.get('scope') ?? this.deps.client.scopes.join(' ')).split(/\s+/).filter(Boolean);
    if (scopes.some((scope) => !this.deps.client.scopes.includes(scope))) return back('invalid_scope');
    const challenge = params.get('code_challenge') ?? undefined;
    const method = params.get('code_challenge_method') ?? undefined;
    if ((challenge === undefined) !== (method === undefined) || (method !== undefined && method !== 'S256')) return back('invalid_request');
    return { ok: { clientId, redirectUri, state: params.get('state') ?? undefined, scope: scopes.join(' '), challenge } };
  }

  private authorize(res: ServerResponse, params: URLSearchParams): void {
    const checked = this.checkAuthorization(params);
    if ('page' in checked) return errorPage(res, checked.page);
    if ('redirect' in checked) return redirectWith(res, checked.redirect, { error: checked.error, state: params.get('state') ?? undefined });
    redirect(res, `/login?${params.toString()}`);
  }

  private loginPage(res: ServerResponse, params: URLSearchParams, message?: string): void {
    const checked = this.checkAuthorization(params);
    if ('page' in checked) return errorPage(res, checked.page);
    if ('redirect' in checked) return redirectWith(res, checked.redirect, { error: checked.error, state: params.get('state') ?? undefined });
    html(res, message === undefined ? 200 : 400, loginForm(params, message));
  }

  private async login(res: ServerResponse, form: URLSearchParams): Promise<void> {
    const params = new URLSearchParams(form);
    const username = params.get('username') ?? '';
    const password = params.get('password') ?? '';
    params.delete('username');
    params.delete('password');
    const checked = this.checkAuthorization(params);
    if (!('ok' in checked)) return this.loginPage(res, params);
    if (username.trim() === '' || password === '') return this.loginPage(res, params, 'Username and password are required.');
    const result = await this.deps.signIn(username, password, checked.ok.clientId);
    if ('error' in result) return this.loginPage(res, params, result.error);
    const code = randomBytes(24).toString('hex');
    this.codes.set(code, {
      tokens: result.tokens,
      clientId: checked.ok.clientId,
      redirectUri: checked.ok.redirectUri,
      challenge: checked.ok.challenge,
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    redirectWith(res, checked.ok.redirectUri, { code, state: checked.ok.state });
  }

  private async token(res: ServerResponse, form: URLSearchParams): Promise<void> {
    const clientId = form.get('client_id');
    const grantType = form.get('grant_type');
    if (!grantType || !clientId) return oauthError(res, 400, 'invalid_request');
    if (clientId !== this.deps.client.clientId) return oauthError(res, 400, 'invalid_client');
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? '';
      const issued = this.codes.get(code);
      // Once only: a second exchange of the same code fails like an unknown one.
      this.codes.delete(code);
      if (issued === undefined || issued.expiresAt < Date.now() || issued.clientId !== clientId) return oauthError(res, 400, 'invalid_grant');
      if (form.get('redirect_uri') !== issued.redirectUri) return oauthError(res, 400, 'invalid_grant');
      if (issued.challenge !== undefined) {
        const verifier = form.get('code_verifier') ?? '';
        if (!PKCE_VERIFIER.test(verifier) || createHash('sha256').update(verifier).digest('base64url') !== issued.challenge)
          return oauthError(res, 400, 'invalid_grant');
      }
      return json(res, 200, tokenResponse(issued.tokens, true));
    }
    if (grantType === 'refresh_token') {
      const refreshToken = form.get('refresh_token');
      if (!refreshToken) return oauthError(res, 400, 'invalid_request');
      const tokens = await this.deps.refresh(refreshToken, clientId);
      return tokens === undefined ? oauthError(res, 400, 'invalid_grant') : json(res, 200, tokenResponse(tokens, false));
    }
    return oauthError(res, 400, 'unsupported_grant_type');
  }

  private async userInfo(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''));
    const info = match ? await this.deps.userInfo(match[1]) : undefined;
    if (info === undefined) {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' });
      res.end(JSON.stringify({ error: 'invalid_token', error_description: 'Access token is missing, expired or not valid' }));
      return;
    }
    json(res, 200, info);
  }

  private logout(res: ServerResponse, params: URLSearchParams): void {
    if (params.get('client_id') !== this.deps.client.clientId) return errorPage(res, 'invalid_request: unknown client_id');
    const logoutUri = params.get('logout_uri') ?? '';
    if (!this.deps.client.logoutUrls.includes(logoutUri)) return errorPage(res, 'redirect_mismatch');
    redirect(res, logoutUri);
  }
}

interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state?: string;
  readonly scope: string;
  readonly challenge?: string;
}

function tokenResponse(tokens: Tokens, withRefresh: boolean): Record<string, unknown> {
  return {
    id_token: tokens.IdToken,
    access_token: tokens.AccessToken,
    ...(withRefresh && tokens.RefreshToken ? { refresh_token: tokens.RefreshToken } : {}),
    expires_in: tokens.ExpiresIn ?? 3600,
    token_type: 'Bearer',
  };
}

function loginForm(params: URLSearchParams, message: string | undefined): string {
  const hidden = [...params.entries()].map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`).join('\n      ');
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Sign in</title>
    <style>body{font-family:sans-serif;max-width:24rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.4rem 0}
    .error{color:#b00020;border:1px solid #b00020;padding:.6rem;margin-bottom:1rem}</style></head>
  <body>
    <h1>Sign in</h1>
    <p><small>cognito-lockout local sandbox: managed login</small></p>
    ${message === undefined ? '' : `<p class="error" id="loginErrorMessage" role="alert">${escape(message)}</p>`}
    <form method="post" action="/login">
      ${hidden}
      <label for="signInFormUsername">Username</label>
      <input id="signInFormUsername" name="username" type="text" autocomplete="username" required>
      <label for="signInFormPassword">Password</label>
      <input id="signInFormPassword" name="password" type="password" autocomplete="current-password" required>
      <button type="submit" name="signInSubmitButton">Sign in</button>
    </form>
  </body>
</html>`;
}

function errorPage(res: ServerResponse, error: string): void {
  html(
    res,
    400,
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><h1>An error was encountered with the requested page.</h1><p id="error">${escape(error)}</p></body></html>`,
  );
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function oauthError(res: ServerResponse, status: number, error: string): void {
  json(res, status, { error });
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store' });
  res.end();
}

function redirectWith(res: ServerResponse, base: string, params: Record<string, string | undefined>): void {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  redirect(res, url.toString());
}
