/**
 * One row of the latency table, in a process of its own: `node --import tsx bench/latency-row.ts <row>`, run by
 * bench/run.ts. A Lambda instance holds one function's bundle; measured in a shared process, every bundle loaded
 * (each with its own SDK clients and sockets) slowed the ones measured after it. Here a row's bundles and its
 * floor client are all the process holds, and the row's samples alternate with floor samples, so the ratio
 * compares like with like. Prints `{ samples, floor, storeUse, setupStoreUse }` as JSON: the row's and its floor's
 * times (ms), and how many of the row's timed decisions (and of the untimed ones that set them up) were taken without
 * the store (store-use.ts; the parent loads the bundles with POWERTOOLS_LOG_LEVEL=ERROR for that).
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { KNOBS, SETTING_NAMES, type LockoutSettings, DEFAULT_SETTINGS, settingsToEnv } from '../lambdas/policy/settings';
import { issueDeviceToken, parseDeviceKeySet } from '../lambdas/devices/device-token';
import { postAuthEvent, preAuthEvent, preSignUpEvent } from '../sandbox/sample-events';
import { bareUpdateItem } from './floor';
import { StoreUseCounter } from './store-use';

export const LATENCY_ROWS = ['preAuthentication', 'preAuthenticationWithDeviceToken', 'postAuthentication', 'preSignUp'] as const;
export type LatencyRow = (typeof LATENCY_ROWS)[number];

export type Handler = (event: unknown) => Promise<unknown>;

/**
 * A fresh instance of a bundle, configured through its environment as in Lambda: exactly the settings given (the
 * shipped defaults for the rest, nothing a previous load set) and `env`. Shared by every part of the benchmark.
 */
export function freshBundle(bundleDir: string, settings: Partial<LockoutSettings>, env: Record<string, string>): Handler {
  for (const name of SETTING_NAMES) delete process.env[KNOBS[name].env];
  Object.assign(process.env, { ...settingsToEnv(settings), ...env });
  const bundle = path.join(bundleDir, 'index.js');
  delete require.cache[require.resolve(bundle)];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(bundle) as { handler: Handler }).handler;
}

function load(bundleDir: string, settings: Partial<LockoutSettings>, table: string): Handler {
  return freshBundle(bundleDir, settings, { LOCKOUT_TABLE_NAME: table });
}

async function timedCall(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const row = process.argv[2] as LatencyRow;
  const bundles = JSON.parse(process.env.BENCH_BUNDLES!) as Record<string, string>;
  const table = process.env.BENCH_TABLE!;
  const invocations = Number(process.env.BENCH_INVOCATIONS ?? 2000);
  const ids = Array.from({ length: 100 }, (_, i) => `steady-${i}`);
  const timedUse = new StoreUseCounter();
  const setupUse = new StoreUseCounter();
  /** One timed decision, traced. */
  const timed = (decide: () => Promise<unknown>) => timedUse.trace(() => timedCall(decide));
  let call: (i: number) => Promise<number>;
  switch (row) {
    case 'preAuthentication': {
      // Steady state: identities counted, unlocked and inside their window (a high maximum keeps them so).
      const pre = load(bundles.PreAuthentication, { maxFailedAttempts: 1000 }, table);
      call = (i) => timed(() => pre(preAuthEvent(ids[i % ids.length])));
      break;
    }
    case 'preAuthenticationWithDeviceToken': {
      // The same with a valid device token each: the HMAC check, then the one UpdateItem on the user's devices item.
      const pre = load(bundles.PreAuthentication, { maxFailedAttempts: 1000 }, table);
      const keys = parseDeviceKeySet(process.env.BENCH_DEVICE_KEY_TEXT!);
      const lifetime = DEFAULT_SETTINGS.deviceTokenLifetimeDays * 86_400_000;
      const events = ids.map((id) =>
        preAuthEvent(id, { validationData: { [DEFAULT_SETTINGS.deviceTokenClaim]: issueDeviceToken(keys, id, Date.now(), lifetime)! } }),
      );
      call = (i) => timed(() => pre(events[i % events.length]));
      break;
    }
    case 'postAuthentication': {
      // After an attempt counted on the same table: the delete that clears it (timed alone).
      const pre = load(bundles.PreAuthentication, {}, table);
      const post = load(bundles.PostAuthentication, {}, table);
      call = async (i) => {
        await setupUse.trace(() => pre(preAuthEvent(`post-${i}`)));
        return timed(() => post(postAuthEvent(`post-${i}`)));
      };
      break;
    }
    case 'preSignUp': {
      // Cognito had set the pool up with email sign-in: one new address per sign-up.
      const signUp = load(bundles.PreSignUp, { signUpMaxAttempts: 100_000 }, table);
      const run = randomUUID().slice(0, 8);
      call = (i) => timed(() => signUp(preSignUpEvent({ email: `user${i}-${run}@example.com` })));
      break;
    }
  }
  const floor = bareUpdateItem(table);
  // Warm both: the first requests open sockets and settle the JIT.
  for (let i = 0; i < 300; i++) {
    await floor.call();
    await call(invocations + i).catch(() => undefined);
  }
  // Only the measured decisions count.
  timedUse.reset();
  setupUse.reset();
  const samples: number[] = [];
  const floorSamples: number[] = [];
  for (let i = 0; i < invocations; i++) {
    floorSamples.push(await timedCall(floor.call));
    samples.push(await call(i));
  }
  floor.destroy();
  process.stdout.write(`${JSON.stringify({ samples, floor: floorSamples, storeUse: timedUse.result(), setupStoreUse: setupUse.result() })}\n`);
}

// Run as a child of bench/run.ts, which also imports the row names from here.
if (require.main === module) {
  main().catch((error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  });
}
