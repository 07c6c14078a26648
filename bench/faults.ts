/**
 * The at-most-N guarantee under store faults, with the shipped defaults (store-error policy `local`, 1.5 s
 * budget): a proxy in front of DynamoDB Local throttles, answers late, hangs or flaps, and the real
 * pre-authentication bundle is attacked in one process and in several processes sharing the table (as a Lambda
 * fleet does). Also the decision latency of a warm instance during an outage, and how soon it uses a recovered
 * store again.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { localAwsEnv } from '../sandbox/dynamodb-local';
import { freePort } from '../sandbox/ports';
import { percentiles, round } from './stats';

const run = promisify(execFile);

export type FaultMode = 'pass' | 'throttle' | 'slow' | 'hang' | 'flap';

/** A DynamoDB endpoint whose behaviour the benchmark switches: forwards to DynamoDB Local, or fails as told. */
export class FaultProxy {
  mode: FaultMode = 'pass';
  /** Requests DynamoDB Local answered through this proxy. */
  forwarded = 0;
  /** When the first request was forwarded after the last switch to 'pass' (performance.now()). */
  firstForwardAt?: number;
  endpoint = '';
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  private flapStarted = performance.now();

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  switchTo(mode: FaultMode): void {
    this.mode = mode;
    this.firstForwardAt = undefined;
    this.flapStarted = performance.now();
  }

  async stop(): Promise<void> {
    this.sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      switch (this.effectiveMode()) {
        case 'pass':
          return this.forward(req, body, res);
        case 'throttle':
          return throttled(res);
        case 'slow':
          // Answers, correctly, but after the decision budget.
          setTimeout(() => this.forward(req, body, res), DEFAULT_SETTINGS.storeTimeoutMs + 500).unref();
          return;
        case 'hang':
          return;
      }
    });
  }

  /** 'flap' alternates 500 ms of a working store with 500 ms of throttling. */
  private effectiveMode(): Exclude<FaultMode, 'flap'> {
    if (this.mode !== 'flap') return this.mode;
    return Math.floor((performance.now() - this.flapStarted) / 500) % 2 === 0 ? 'pass' : 'throttle';
  }

  private forward(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const upstream = httpRequest(new URL(req.url ?? '/', this.target), { method: req.method, headers: req.headers }, (answer) => {
      this.forwarded += 1;
      if (this.mode === 'pass') this.firstForwardAt ??= performance.now();
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    upstream.end(body);
  }
}

function throttled(res: ServerResponse): void {
  res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(
    JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' }),
  );
}

export interface FaultScenario {
  readonly name: string;
  readonly mode: FaultMode | 'refused';
}

export const SCENARIOS: readonly FaultScenario[] = [
  { name: 'store up', mode: 'pass' },
  { name: 'throttling (every request)', mode: 'throttle' },
  { name: 'answers slower than the budget', mode: 'slow' },
  { name: 'connection refused', mode: 'refused' },
  { name: 'never answers', mode: 'hang' },
  { name: 'flaps (0.5 s up, 0.5 s throttled)', mode: 'flap' },
];

/**
 * One instance in a child process: loads the bundle with the environment Lambda would give it, fires
 * `attempts` attempts at each identity, `concurrency` at a time, and reports what it admitted per identity.
 */
const ATTACKER = `
  const [bundle, identities, attempts, concurrency] = [process.argv[1], JSON.parse(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
  const { handler } = require(bundle);
  const event = (userName) => ({ version: '1', triggerSource: 'PreAuthentication_Authentication', region: 'us-east-1', userPoolId: 'us-east-1_bench',
    userName, callerContext: { awsSdkVersion: 'bench', clientId: 'bench' }, request: { userAttributes: { sub: userName }, validationData: {} }, response: {} });
  const admitted = Object.fromEntries(identities.map((id) => [id, 0]));
  const jobs = identities.flatMap((id) => Array.from({ length: attempts }, () => id));
  let next = 0;
  Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < jobs.length) {
      const id = jobs[next++];
      await handler(event(id)).then(() => { admitted[id] += 1; }, () => undefined);
    }
  })).then(() => console.log(JSON.stringify(admitted)));
`;

export interface FaultRow {
  readonly scenario: string;
  readonly processes: number;
  readonly n: number;
  readonly identities: number;
  readonly attemptsPerIdentity: number;
  /** The most any one process admitted for any one identity, over N: the per-instance bound is 1.0. */
  readonly maxPerInstanceRatio: number;
  /** Everything admitted, over N × identities × processes. */
  readonly totalRatio: number;
  /** Everything admitted, over N × identities: 1.0 with the store up, whatever the number of processes. */
  readonly fleetRatio: number;
}

/**
 * Attacks `identities` identities from `processes` processes at once, each process sending `attempts` attempts
 * per identity, 50 at a time, with the store behaving as `scenario` says. Fresh identities each run.
 */
export async function attackUnderFault(options: {
  bundle: string;
  proxy: FaultProxy;
  table: string;
  scenario: FaultScenario;
  processes: number;
  identities: number;
  attempts: number;
}): Promise<FaultRow> {
  const { proxy, scenario } = options;
  const endpoint = scenario.mode === 'refused' ? `http://127.0.0.1:${await freePort()}` : proxy.endpoint;
  if (scenario.mode !== 'refused') proxy.switchTo(scenario.mode);
  const n = DEFAULT_SETTINGS.maxFailedAttempts;
  const names = Array.from({ length: options.identities }, (_, i) => `fault-${randomUUID()}-${i}`);
  const env = {
    PATH: process.env.PATH,
    LOCKOUT_TABLE_NAME: options.table,
    LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
    ...localAwsEnv(endpoint),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const outputs = await Promise.all(
    Array.from({ length: options.processes }, () =>
      run(process.execPath, ['-e', ATTACKER, options.bundle, JSON.stringify(names), String(options.attempts), '50'], { env, maxBuffer: 1 << 24 }),
    ),
  );
  proxy.switchTo('pass');
  const perProcess = outputs.map(({ stdout }) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>);
  const counts = perProcess.flatMap((admitted) => Object.values(admitted));
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    scenario: scenario.name,
    processes: options.processes,
    n,
    identities: options.identities,
    attemptsPerIdentity: options.attempts,
    maxPerInstanceRatio: round(Math.max(...counts) / n, 3),
    totalRatio: round(total / (n * options.identities * options.processes), 3),
    fleetRatio: round(total / (n * options.identities), 3),
  };
}

export interface OutageLatency {
  readonly scenario: string;
  readonly decisions: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Decisions that waited for the store (the first failures and the circuit's probes). */
  readonly waitedForStore: number;
  /** After the store came back: ms until the instance's first request reached it again. */
  readonly recoveryMs?: number;
}

/**
 * Sequential decisions on a warm instance (a handler loaded in this process) while the store is down, one
 * every 10 ms for `seconds`: how much the outage adds to a sign-in, after the first few failures. Then the store
 * comes back, and the time until the instance uses it again is measured.
 */
export async function outageLatency(
  handler: (event: unknown) => Promise<unknown>,
  proxy: FaultProxy,
  mode: 'hang' | 'throttle',
  event: (name: string) => unknown,
  seconds = 12,
): Promise<OutageLatency> {
  proxy.switchTo(mode);
  const samples: number[] = [];
  const until = performance.now() + seconds * 1000;
  let i = 0;
  while (performance.now() < until) {
    const started = performance.now();
    await handler(event(`outage-${i++ % 200}`)).catch(() => undefined);
    samples.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 10));
  }
  const back = performance.now();
  proxy.switchTo('pass');
  while (proxy.firstForwardAt === undefined && performance.now() - back < 15_000) {
    await handler(event(`outage-${i++ % 200}`)).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
  }
  // Drop the first three decisions: they are the failures that open the circuit.
  const steady = samples.slice(3);
  return {
    scenario: mode === 'hang' ? 'never answers' : 'throttling (every request)',
    decisions: steady.length,
    ...percentiles(steady, 3),
    max: round(Math.max(...steady), 3),
    waitedForStore: steady.filter((ms) => ms > 50).length,
    recoveryMs: proxy.firstForwardAt === undefined ? undefined : Math.round(proxy.firstForwardAt - back),
  };
}
