/**
 * Store faults under the real client (retries, socket timeouts and the decision deadline all as in Lambda):
 * a fake DynamoDB endpoint throttles, fails, resets connections or hangs. Every handler must decide by its
 * store-error policy within 4 s, post-authentication must never fail a sign-in, and under the default policy
 * (`local`) one instance admits at most N attempts per identity however the store fails.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Socket } from 'node:net';
import { runtimeDeps } from '../../lambdas/runtime/deps';
import { DEFAULT_SETTINGS, type StoreErrorPolicy, settingsToEnv } from '../../lambdas/policy/settings';
import { createPostAuthenticationHandler } from '../../lambdas/handlers/post-authentication';
import { createPreAuthenticationHandler } from '../../lambdas/handlers/pre-authentication';
import { createPreSignUpHandler } from '../../lambdas/handlers/pre-signup';
import { postAuthEvent, preAuthEvent, preSignUpEvent } from '../../sandbox/sample-events';

type Fault = 'throttling' | 'throughput-exceeded' | 'internal-error-500' | 'connection-reset' | 'hang' | 'slow-answer';

function awsError(type: string, status: number) {
  return { status, body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} injected` }) };
}

const FAULTS: Record<Fault, (req: IncomingMessage, res: ServerResponse) => void> = {
  throttling: (_, res) => reply(res, awsError('ThrottlingException', 400)),
  'throughput-exceeded': (_, res) => reply(res, awsError('ProvisionedThroughputExceededException', 400)),
  'internal-error-500': (_, res) => reply(res, awsError('InternalServerError', 500)),
  'connection-reset': (req) => req.socket.destroy(),
  hang: () => undefined,
  // Answers, but only long after any sensible budget.
  'slow-answer': (_, res) => setTimeout(() => reply(res, { status: 200, body: '{}' }), 6000).unref(),
};

function reply(res: ServerResponse, { status, body }: { status: number; body: string }) {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(body);
}

let fault: Fault = 'hang';
let requests = 0;
let server: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => FAULTS[fault](req, res));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_DYNAMODB = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
  sockets.forEach((s) => s.destroy());
  await new Promise((resolve) => server.close(resolve));
});

function handlersFor(storeErrorPolicy: StoreErrorPolicy) {
  const deps = runtimeDeps('PreAuthentication', {
    LOCKOUT_TABLE_NAME: 'faulty',
    LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
    ...settingsToEnv({ storeErrorPolicy }),
  });
  return { pre: createPreAuthenticationHandler(deps), post: createPostAuthenticationHandler(deps), signUp: createPreSignUpHandler(deps) };
}

async function timed(call: () => Promise<unknown>): Promise<{ ms: number; result: string }> {
  const started = Date.now();
  const result = await call().then(
    () => 'returned the event',
    (error: Error) => `threw: ${error.message}`,
  );
  return { ms: Date.now() - started, result };
}

describe.each<Fault>(['throttling', 'throughput-exceeded', 'internal-error-500', 'connection-reset', 'hang', 'slow-answer'])(
  'a store that answers with %s',
  (kind) => {
    it("gets each handler's configured decision within 4 s", async () => {
      fault = kind;
      requests = 0;
      const local = handlersFor('local');
      const allow = handlersFor('allow');
      const deny = handlersFor('deny');
      const cases = await Promise.all([
        timed(() => local.pre(preAuthEvent('fault-user'))),
        timed(() => local.signUp(preSignUpEvent())),
        timed(() => local.post(postAuthEvent('fault-user'))),
        timed(() => allow.pre(preAuthEvent('fault-user'))),
        timed(() => deny.pre(preAuthEvent('fault-user'))),
        timed(() => allow.signUp(preSignUpEvent())),
        timed(() => deny.signUp(preSignUpEvent())),
        timed(() => allow.post(postAuthEvent('fault-user'))),
        timed(() => deny.post(postAuthEvent('fault-user'))),
      ]);
      expect(cases.map((c) => c.result)).toEqual([
        'returned the event',
        'returned the event',
        'returned the event',
        'returned the event',
        `threw: ${DEFAULT_SETTINGS.refusalMessage}`,
        'returned the event',
        `threw: ${DEFAULT_SETTINGS.signUpRefusalMessage}`,
        'returned the event',
        'returned the event',
      ]);
      for (const c of cases) expect(c.ms).toBeLessThan(4000);
      expect(requests).toBeGreaterThanOrEqual(9); // the faults really were met on the wire
    });

    it('admits at most N of 30 concurrent attempts on one identity, then of 6 sequential ones, under the default policy', async () => {
      fault = kind;
      const { pre } = handlersFor(DEFAULT_SETTINGS.storeErrorPolicy);
      const outcome = (name: string) =>
        pre(preAuthEvent(name)).then(
          () => 'admitted',
          (error: Error) => error.message,
        );
      const burst = await Promise.all(Array.from({ length: 30 }, () => outcome('stormed')));
      expect(burst.filter((o) => o === 'admitted').length).toBeLessThanOrEqual(DEFAULT_SETTINGS.maxFailedAttempts);
      expect(burst.filter((o) => o !== 'admitted').every((o) => o === DEFAULT_SETTINGS.refusalMessage)).toBe(true);
      const sequential: string[] = [];
      for (let i = 0; i < 6; i++) sequential.push(await outcome('patient'));
      expect(sequential).toEqual([...Array(5).fill('admitted'), DEFAULT_SETTINGS.refusalMessage]);
    });
  },
);

describe('a store that flaps between answering and failing', () => {
  it('never lets one instance admit more than N per identity per window', async () => {
    // Alternate: every other request is throttled. The circuit may open and close; the bound must hold.
    let flip = 0;
    const kinds: Fault[] = ['throttling', 'hang'];
    requests = 0;
    const { pre } = handlersFor(DEFAULT_SETTINGS.storeErrorPolicy);
    let admitted = 0;
    for (let round = 0; round < 4; round++) {
      fault = kinds[flip++ % kinds.length];
      const burst = await Promise.all(
        Array.from({ length: 10 }, () =>
          pre(preAuthEvent('flapped')).then(
            () => 1,
            () => 0,
          ),
        ),
      );
      admitted += burst.reduce<number>((a, b) => a + b, 0);
    }
    expect(admitted).toBeLessThanOrEqual(DEFAULT_SETTINGS.maxFailedAttempts);
    expect(requests).toBeGreaterThan(0);
  });
});
