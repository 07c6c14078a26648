/**
 * The sandbox's IAM: one loopback endpoint in front of every local service the functions call (DynamoDB Local, the
 * Secrets Manager stand-in, the pool's front, the EventBridge and SES stand-ins of the Lambda hosts). Each function
 * signs with an access key id of its own (as each Lambda function has its role's credentials), which names its role;
 * the SigV4 credential scope names the service. A request its role allows is forwarded unchanged; anything else is
 * answered as AWS answers it (iam-requests.ts), so the function's SDK raises AccessDeniedException and the function's
 * own error handling runs, exactly as in AWS.
 *
 * DynamoDB Local and the stand-ins check no signature and no permission themselves: this is the only check.
 */
import { Agent, type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { RolePrincipal } from './iam-policy';
import {
  type Decided,
  IamLedger,
  type PartitionKeyOf,
  type WireRequest,
  UnmodelledRequestError,
  decide,
  deniedAnswer,
  readRequest,
} from './iam-requests';

/** A caller the gateway knows: its role, and where each service it calls is served. */
export interface GatewayCaller {
  readonly accessKeyId: string;
  readonly principal: RolePrincipal;
  /** The upstream URL per SigV4 service name (`dynamodb`, `secretsmanager`, `events`, `ses`, `cognito-idp`). */
  readonly upstreams: Readonly<Record<string, string>>;
}

export interface IamGateway {
  readonly endpoint: string;
  /** What every caller was allowed, and every refusal, since the start. */
  readonly ledger: IamLedger;
  /** Adds or replaces a caller (a Lambda host's upstreams are known only once it listens). */
  register(caller: GatewayCaller): void;
  close(): Promise<void>;
}

export interface IamGatewayOptions {
  readonly accountId: string;
  readonly partitionKeyOf: PartitionKeyOf;
  /** Called with each refusal's message, for the decision log. */
  readonly onRefusal?: (functionName: string, message: string) => void;
}

export async function startIamGateway(options: IamGatewayOptions): Promise<IamGateway> {
  const callers = new Map<string, GatewayCaller>();
  const ledger = new IamLedger();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: Error) => answer(res, 500, { 'content-type': 'application/json' }, JSON.stringify({ message: error.message })));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
    const wire: WireRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body: Buffer.concat(chunks).toString('utf8') };
    let read;
    try {
      read = readRequest(wire, options.accountId, options.partitionKeyOf);
    } catch (error) {
      // A call the local IAM cannot judge fails loudly: a test must not pass on a guess.
      if (!(error instanceof UnmodelledRequestError)) throw error;
      return answer(
        res,
        500,
        { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalFailure' },
        JSON.stringify({ message: error.message }),
      );
    }
    const caller = read === undefined ? undefined : callers.get(read.accessKeyId);
    if (read === undefined || caller === undefined) {
      const body = JSON.stringify({ __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' });
      return answer(res, 400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'UnrecognizedClientException' }, body);
    }
    const upstream = caller.upstreams[read.service];
    if (upstream === undefined) throw new Error(`the sandbox serves no ${read.service} to ${caller.principal.functionName}`);
    const decided = decide(caller.principal, read);
    for (const { request, message } of decided) {
      ledger.record(caller.principal.functionName, request, message);
      if (message !== undefined) options.onRefusal?.(caller.principal.functionName, message);
    }
    if (read.service === 'events') return putEvents(wire, decided, upstream, res);
    const refused = decided.find((d) => !d.allowed);
    if (refused !== undefined) {
      const denied = deniedAnswer(wire, refused.message!);
      return answer(res, denied.statusCode, denied.headers, denied.body);
    }
    const forwarded = await forward(upstream, wire);
    return answer(res, forwarded.statusCode, forwarded.headers, forwarded.body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    ledger,
    register: (caller) => void callers.set(caller.accessKeyId, caller),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * EventBridge authorizes each entry of a PutEvents on its own and reports a refused one in the answer (200, with
 * `FailedEntryCount` and the entry's `ErrorCode`), sending the others: NotAuthorizedForSourceException when only the
 * source's condition refused it, AccessDeniedException otherwise.
 */
async function putEvents(wire: WireRequest, decided: readonly Decided[], upstream: string, res: ServerResponse): Promise<void> {
  const body = JSON.parse(wire.body || '{}') as { Entries?: unknown[] };
  const entries = body.Entries ?? [];
  const allowed = entries.filter((_, i) => decided[i].allowed);
  let sent: Array<Record<string, unknown>> = [];
  let headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
  if (allowed.length > 0) {
    const forwarded = await forward(upstream, { ...wire, body: JSON.stringify({ ...body, Entries: allowed }) });
    if (forwarded.statusCode !== 200) return answer(res, forwarded.statusCode, forwarded.headers, forwarded.body);
    sent = (JSON.parse(forwarded.body) as { Entries?: Array<Record<string, unknown>> }).Entries ?? [];
    headers = forwarded.headers;
  }
  const results = decided.map((d) =>
    d.allowed ? sent.shift()! : { ErrorCode: d.byCondition ? 'NotAuthorizedForSourceException' : 'AccessDeniedException', ErrorMessage: d.message },
  );
  const failed = results.filter((r) => r.ErrorCode !== undefined).length;
  return answer(res, 200, headers, JSON.stringify({ FailedEntryCount: failed, Entries: results }));
}

/** Kept-alive connections to the services, as the functions' own clients keep theirs: a burst opens no new sockets. */
const upstreamAgent = new Agent({ keepAlive: true, maxSockets: 64 });

function forward(upstream: string, wire: WireRequest): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  const target = new URL(wire.path, upstream);
  const body = Buffer.from(wire.body, 'utf8');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(wire.headers)) if (value !== undefined && name !== 'content-length') headers[name] = value;
  headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, { method: wire.method, headers, agent: upstreamAgent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers))
          if (value !== undefined && name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection')
            out[name] = Array.isArray(value) ? value.join(',') : value;
        resolve({ statusCode: response.statusCode ?? 500, headers: out, body: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function answer(res: ServerResponse, statusCode: number, headers: Record<string, string>, body: string): void {
  res.writeHead(statusCode, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}
