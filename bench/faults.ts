/**
 * The at-most-N guarantee under store faults, with the shipped defaults (store-error policy `local`, 1.5 s
 * budget): a proxy in front of DynamoDB Local throttles, answers late, hangs or flaps, and the real
 * pre-authentication bundle is attacked in one process and in several processes sharing the table (as a Lambda
 * fleet does). Also the decision latency of a warm instance during an outage, and how soon it uses a recovered
 * store again.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { MAX_SOCKETS } from '../lambdas/store/store';
import { localAwsEnv } from '../sandbox/dynamodb-local';
import { freePort } from '../sandbox/ports';
import { percentiles, round } from './stats';
import { STORE_USE_LOG_LEVEL, type StoreUse, sumStoreUse } from './store-use';

const ATTACKER = path.join(__dirname, 'attacker.ts');
/**
 * Decisions each process has under way at once: the sockets an instance keeps to DynamoDB (store.ts MAX_SOCKETS). A
 * Lambda instance takes one decision at a time; beyond its sockets a process only queues decisions behind its own,
 * and a decision's wait for a socket counts against its store budget, so the queue, not the store, would time it out.
 */
export const ATTACK_CONCURRENCY = MAX_SOCKETS;

export type FaultMode = 'pass' | 'throttle' | 'slow' | 'hang' | 'flap';

/**
 * A DynamoDB endpoint whose behaviour the benchmark switches: passes requests through to DynamoDB Local, or fails as
 * told. It works on the TCP stream, not through an HTTP server and client: each connection the SDK opens gets one
 * connection of its own to DynamoDB Local, opened at its first forwarded request, and a forwarded request's bytes
 * are written to it exactly as they came, the answer's bytes copied back as they come. So a request passed through
 * is the request the SDK sent (same bytes, headers and all), on a connection that carries only its client's
 * requests, in their order, and the client closing it (an abort at the end of the store budget) closes DynamoDB
 * Local's side as it would have directly. Nothing is buffered beyond one request's bytes, which the proxy reads to
 * decide what to do with it (HTTP/1.1 without pipelining, as the SDK sends: one request at a time per connection).
 *
 * An HTTP proxy (node:http server forwarding through the global agent) did not: it waited for whole requests,
 * re-serialized them, and sent them over its own pool of connections, shared by every client connection and
 * every process. That added its own queueing to every request of the 'store up' rows.
 */
export class FaultProxy {
  mode: FaultMode = 'pass';
  /** Requests written through to DynamoDB Local. */
  forwarded = 0;
  /** When the first request was written through after the last switch to 'pass' (performance.now()). */
  firstForwardAt?: number;
  /** Requests the proxy could not frame (a body without Content-Length): the run fails on any. */
  unframed = 0;
  endpoint = '';
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  private flapStarted = performance.now();
  private readonly upstreamPort: number;
  private readonly upstreamHost: string;

  constructor(target: string) {
    const url = new URL(target);
    this.upstreamHost = url.hostname;
    this.upstreamPort = Number(url.port);
  }

  async start(): Promise<this> {
    this.server = createServer((client) => this.connection(client));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
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

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    return socket;
  }

  private connection(client: Socket): void {
    this.track(client);
    client.setNoDelay(true);
    let upstream: Socket | undefined;
    const toStore = (): Socket => {
      if (upstream === undefined) {
        upstream = this.track(connect(this.upstreamPort, this.upstreamHost));
        upstream.setNoDelay(true);
        upstream.on('data', (chunk: Buffer) => client.write(chunk));
        upstream.on('close', () => client.destroy());
      }
      return upstream;
    };
    client.on('close', () => upstream?.destroy());
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const framed = frameRequest(pending);
        if (framed === 'incomplete') return;
        if (framed === 'unframed') {
          this.unframed += 1;
          client.destroy();
          return;
        }
        const request = Buffer.from(pending.subarray(0, framed));
        pending = pending.subarray(framed);
        this.dispatch(request, client, toStore);
      }
    });
  }

  private dispatch(request: Buffer, client: Socket, toStore: () => Socket): void {
    switch (this.effectiveMode()) {
      case 'pass':
        return this.forward(request, toStore());
      case 'throttle':
        client.write(THROTTLED);
        return;
      case 'slow':
        // Answers, correctly, but after the decision budget: the request reaches the store late, and lands even when
        // the client has given up (it does on a slow DynamoDB); its answer then goes nowhere.
        setTimeout(() => {
          if (!client.destroyed) return this.forward(request, toStore());
          const alone = this.track(connect(this.upstreamPort, this.upstreamHost));
          alone.once('data', () => alone.destroy());
          this.forward(request, alone);
        }, DEFAULT_SETTINGS.storeTimeoutMs + 500).unref();
        return;
      case 'hang':
        return;
    }
  }

  /** 'flap' alternates 500 ms of a working store with 500 ms of throttling. */
  private effectiveMode(): Exclude<FaultMode, 'flap'> {
    if (this.mode !== 'flap') return this.mode;
    return Math.floor((performance.now() - this.flapStarted) / 500) % 2 === 0 ? 'pass' : 'throttle';
  }

  private forward(request: Buffer, upstream: Socket): void {
    this.forwarded += 1;
    if (this.mode === 'pass') this.firstForwardAt ??= performance.now();
    upstream.write(request);
  }
}
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * The length of the first whole HTTP/1.1 request in `bytes` (its head and a Content-Length body, as the SDK sends
 * every DynamoDB request), 'incomplete' while more bytes are needed, 'unframed' for a body without a length.
 */
export function frameRequest(bytes: Buffer): number | 'incomplete' | 'unframed' {
  const headEnd = bytes.indexOf(HEAD_END);
  if (headEnd < 0) return 'incomplete';
  const head = bytes.subarray(0, headEnd).toString('latin1');
  if (/\r\ntransfer-encoding:/i.test(head)) return 'unframed';
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const total = headEnd + HEAD_END.length + (length === null ? 0 : Number(length[1]));
  return bytes.length < total ? 'incomplete' : total;
}

/** DynamoDB's answer to a throttled request, as the SDK reads it (a retryable ThrottlingException). */
const THROTTLED = (() => {
  const body = JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.',
  });
  return Buffer.from(
    `HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: keep-alive\r\n\r\n${body}`,
  );
})();

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

export interface FaultRow {
  readonly scenario: string;
  readonly processes: number;
  readonly n: number;
  readonly identities: number;
  readonly attemptsPerIdentity: number;
  /** The most any one process admitted for any one identity, over N: the per-instance bound is 1.0. */
  readonly maxPerInstanceRatio: number;
  /** The most the processes together admitted for any one identity, over N: 1.0 at most with the store up. */
  readonly maxFleetPerIdentityRatio: number;
  /** Everything admitted, over N × identities × processes. */
  readonly totalRatio: number;
  /** Everything admitted, over N × identities: 1.0 with the store up, whatever the number of processes. */
  readonly fleetRatio: number;
  /** The attack's decisions (all processes) and how many were taken without the store (store-use.ts). */
  readonly storeUse: StoreUse;
  /** Requests the proxy could not frame during the row: any is a harness error. */
  readonly unframed: number;
}

/**
 * Attacks `identities` identities from `processes` processes at once (bench/attacker.ts: each takes one decision
 * alone first, then all start together), each process sending `attempts` attempts per identity, ATTACK_CONCURRENCY at a time, with
 * the store behaving as `scenario` says. Fresh identities each run.
 */
export async function attackUnderFault(options: {
  bundle: string;
  proxy: FaultProxy;
  table: string;
  scenario: FaultScenario;
  processes: number;
  identities: number;
  attempts: number;
  /** More of the function's environment (the device token key's secret, as deployed). */
  env?: Record<string, string>;
  /** Decisions under way at once per process; ATTACK_CONCURRENCY unless told. */
  concurrency?: number;
  /** No decision alone before the burst (see bench/attacker.ts). */
  cold?: boolean;
}): Promise<FaultRow> {
  const { proxy, scenario } = options;
  const endpoint = scenario.mode === 'refused' ? `http://127.0.0.1:${await freePort()}` : proxy.endpoint;
  if (scenario.mode !== 'refused') proxy.switchTo(scenario.mode);
  const unframedBefore = proxy.unframed;
  const n = DEFAULT_SETTINGS.maxFailedAttempts;
  const names = Array.from({ length: options.identities }, (_, i) => `fault-${randomUUID()}-${i}`);
  const env = {
    PATH: process.env.PATH,
    LOCKOUT_TABLE_NAME: options.table,
    LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
    ...localAwsEnv(endpoint),
    POWERTOOLS_LOG_LEVEL: STORE_USE_LOG_LEVEL,
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...options.env,
  };
  const children = Array.from({ length: options.processes }, () =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        ATTACKER,
        options.bundle,
        JSON.stringify(names),
        String(options.attempts),
        String(options.concurrency ?? ATTACK_CONCURRENCY),
        ...(options.cold ? ['cold'] : []),
      ],
      {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    ),
  );
  const outputs = children.map((child) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const ready = new Promise<void>((resolve, reject) => {
      const check = () => (stdout.includes('ready\n') ? resolve() : undefined);
      child.stdout.on('data', check);
      child.once('exit', (code) => reject(new Error(`attacker exited with ${code} before it was ready:\n${stderr}`)));
    });
    const done = new Promise<string>((resolve, reject) =>
      child.once('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`attacker exited with ${code}:\n${stderr}`)))),
    );
    return { child, ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const { child } of outputs) child.stdin.end('go\n');
  const results = (await Promise.all(outputs.map((o) => o.done))).map(
    (stdout) => JSON.parse(stdout.trim().split('\n').at(-1)!) as { admitted: Record<string, number>; storeUse: StoreUse },
  );
  proxy.switchTo('pass');
  const counts = results.flatMap(({ admitted }) => Object.values(admitted));
  const fleetPerIdentity = names.map((name) => results.reduce((sum, { admitted }) => sum + (admitted[name] ?? 0), 0));
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    scenario: scenario.name,
    processes: options.processes,
    n,
    identities: options.identities,
    attemptsPerIdentity: options.attempts,
    maxPerInstanceRatio: round(Math.max(...counts) / n, 3),
    maxFleetPerIdentityRatio: round(Math.max(...fleetPerIdentity) / n, 3),
    totalRatio: round(total / (n * options.identities * options.processes), 3),
    fleetRatio: round(total / (n * options.identities), 3),
    storeUse: sumStoreUse(results.map((r) => r.storeUse)),
    unframed: proxy.unframed - unframedBefore,
  };
}

/**
 * The rows that measure the lockout itself, not a fault: with the store up, the fleet admits at most N per identity
 * whatever the number of processes, and every decision is the store's. Returns what breaks that (empty when nothing).
 */
export function passThroughViolations(rows: readonly FaultRow[]): string[] {
  const unframed = rows
    .filter((row) => row.unframed > 0)
    .map((row) => `${row.scenario}, ${row.processes} processes: ${row.unframed} requests the proxy could not frame`);
  return rows
    .filter((row) => SCENARIOS.find((s) => s.name === row.scenario)?.mode === 'pass')
    .flatMap((row) => [
      ...(row.maxFleetPerIdentityRatio > 1
        ? [`store up, ${row.processes} processes: the fleet admitted ${row.maxFleetPerIdentityRatio} × N for one identity (bound 1.0)`]
        : []),
      ...(row.storeUse.withoutStore > 0
        ? [
            `store up, ${row.processes} processes: ${row.storeUse.withoutStore} decisions taken without the store (${JSON.stringify(row.storeUse.errors)})`,
          ]
        : []),
    ])
    .concat(unframed);
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
