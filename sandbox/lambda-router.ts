/**
 * The sandbox's Lambda Invoke endpoint (what cognito-local and the front call): each trigger runs in a Lambda host
 * process of its own, as Lambda runs each function in execution environments of its own, with its own environment
 * and credentials (so the IAM gateway can tell the functions apart). This forwards each invocation to its function's
 * host, by the name in the path, and answers as Lambda does for a name it does not know. On the way, a success
 * event of a sign-in a challenge response completes gets that response's ClientMetadata (challenge-metadata.ts).
 */
import { type Server, createServer, request as httpRequest } from 'node:http';
import type { ChallengeMetadata } from './challenge-metadata';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export interface LambdaRouter {
  readonly url: string;
  close(): Promise<void>;
}

/** `hosts`: each function's name and the URL of the host that runs it. */
export async function startLambdaRouter(hosts: ReadonlyMap<string, string>, metadata?: ChallengeMetadata): Promise<LambdaRouter> {
  const server: Server = createServer((req, res) => {
    const match = INVOKE_PATH.exec(req.url?.split('?')[0] ?? '');
    const host = match ? hosts.get(decodeURIComponent(match[1]).split(':').pop()!) : undefined;
    if (host === undefined) {
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
      res.end(JSON.stringify({ Type: 'User', message: `Function not found: ${req.url}` }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = withMetadata(Buffer.concat(chunks), metadata);
      const headers = { ...req.headers, 'content-length': String(body.length) };
      const upstream = httpRequest(new URL(req.url!, host), { method: req.method, headers }, (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      });
      upstream.on('error', (error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `the function's host did not answer: ${error.message}` }));
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The payload as it came, or with the metadata added; a payload that is not JSON goes on untouched, for the host to refuse. */
function withMetadata(body: Buffer, metadata: ChallengeMetadata | undefined): Buffer {
  if (metadata === undefined) return body;
  let event: unknown;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  const given = metadata.addTo(event);
  return given === event ? body : Buffer.from(JSON.stringify(given));
}
