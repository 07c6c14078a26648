/**
 * A minimal local Lambda: loads the function bundles the CDK app produced and answers the Lambda Invoke API
 * (`POST /2015-03-31/functions/{name}/invocations`) on loopback, as cognito-local, the sandbox front and the
 * sandbox's event source mappings (stream-poller.ts) call it.
 *
 * Run as its own process (see sandbox.ts), with the functions' environment variables already set, because the
 * bundles read their configuration at load time exactly as in Lambda: each function has a host of its own, with
 * its own environment and credentials (the sandbox's Lambda router, lambda-router.ts, sends each invocation to it). Protocol on stdout: one JSON line
 * `{"lambdaHost":"ready","port":N}`, then the functions' own log lines.
 *
 * It also stands in for the two services the functions send to: EventBridge (PutEvents) and SES (SendEmail).
 */
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import * as path from 'node:path';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** What LAMBDA_HOST_FUNCTIONS gives per function name: the bundle, its `Handler` (`file.export`) and timeout. */
export interface HostedFunction {
  readonly bundleDir: string;
  readonly handler?: string;
  readonly timeoutSeconds?: number;
}

const functions = JSON.parse(process.env.LAMBDA_HOST_FUNCTIONS ?? '{}') as Record<string, HostedFunction>;
const handlers = new Map<string, { handler: Handler; timeoutMs: number }>();
for (const [name, { bundleDir, handler = 'index.handler', timeoutSeconds = 3 }] of Object.entries(functions)) {
  const dot = handler.lastIndexOf('.');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(path.join(bundleDir, `${handler.slice(0, dot)}.js`)) as Record<string, Handler>;
  handlers.set(name, { handler: loaded[handler.slice(dot + 1)], timeoutMs: timeoutSeconds * 1000 });
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
let requestCounter = 0;

/**
 * A stand-in for EventBridge's PutEvents: the functions' events (AccountLocked) are printed as log lines
 * `{"localEvent": {...}}` instead of being sent anywhere.
 */
async function putEvents(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const { Entries = [] } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
    Entries?: Array<{ DetailType?: string; Detail?: string }>;
  };
  for (const entry of Entries)
    process.stdout.write(`${JSON.stringify({ localEvent: { type: entry.DetailType, detail: JSON.parse(entry.Detail ?? '{}') } })}\n`);
  response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify({ FailedEntryCount: 0, Entries: Entries.map((_, i) => ({ EventId: `local-event-${++requestCounter}-${i}` })) }));
}

/**
 * A stand-in for Amazon SES v2's SendEmail: the lock notice is printed as a log line `{"localEmail": {...}}` for
 * the decision log instead of being sent. The address is not printed: the decision log keeps hashed identities.
 */
async function sendEmail(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
    Content?: { Simple?: { Subject?: { Data?: string }; Body?: { Text?: { Data?: string } } } };
  };
  const simple = body.Content?.Simple;
  process.stdout.write(`${JSON.stringify({ localEmail: { subject: simple?.Subject?.Data, text: simple?.Body?.Text?.Data } })}\n`);
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ MessageId: `local-email-${++requestCounter}` }));
}

async function invoke(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.headers['x-amz-target'] === 'AWSEvents.PutEvents') return putEvents(request, response);
  if (request.method === 'POST' && request.url?.split('?')[0] === '/v2/email/outbound-emails') return sendEmail(request, response);
  const match = request.method === 'POST' ? INVOKE_PATH.exec(request.url?.split('?')[0] ?? '') : null;
  const name = match ? decodeURIComponent(match[1]) : undefined;
  const hosted = name === undefined ? undefined : handlers.get(name.split(':').pop()!);
  if (!hosted) {
    response.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
    response.end(JSON.stringify({ Type: 'User', message: `Function not found: ${name ?? request.url}` }));
    return;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const requestId = `local-${++requestCounter}`;
  const { handler, timeoutMs } = hosted;
  // Counts down from the function's configured timeout, as Lambda's does.
  const deadline = Date.now() + timeoutMs;
  const context = { awsRequestId: requestId, functionName: name, getRemainingTimeInMillis: () => deadline - Date.now() };
  // An asynchronous invoke (`Event`) is queued: Lambda answers 202 at once and runs the function afterwards.
  if (request.headers['x-amz-invocation-type'] === 'Event') {
    response.writeHead(202, { 'content-type': 'application/json' });
    response.end();
    void handler(JSON.parse(Buffer.concat(chunks).toString('utf8')), context).catch(() => undefined);
    return;
  }
  try {
    const result = await handler(JSON.parse(Buffer.concat(chunks).toString('utf8')), context);
    response.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
    response.end(JSON.stringify(result ?? null));
  } catch (error) {
    // Lambda reports a thrown error as a 200 with X-Amz-Function-Error; callers read errorMessage.
    const e = error as Error;
    response.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
    response.end(JSON.stringify({ errorType: e?.name ?? 'Error', errorMessage: e?.message ?? String(error), trace: [] }));
  }
}

const server = createServer((request, response) => {
  invoke(request, response).catch((error: Error) => {
    response.writeHead(500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ message: error.message }));
  });
});
server.listen(Number(process.env.LAMBDA_HOST_PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  // The SDK resolves endpoints at the first request, so this still reaches the functions' EventBridge client.
  if (typeof address === 'object' && address) {
    const self = `http://127.0.0.1:${address.port}`;
    // The announcer's events and the notifier's emails come here, through the sandbox's IAM gateway when it set
    // the endpoints (it forwards what the function's role allows to this host).
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE ??= self;
    process.env.AWS_ENDPOINT_URL_SESV2 ??= self;
  }
  process.stdout.write(`${JSON.stringify({ lambdaHost: 'ready', port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
