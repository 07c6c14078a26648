/**
 * `npm run bench:profile`: where a warm pre-authentication decision spends the time the bare `UpdateItem` floor does
 * not. CPU-profiles the real bundle (steady state, one request per decision) and the floor in the same process
 * against DynamoDB Local, maps every sample through the bundle's source map to the package or project file it came
 * from, and prints the CPU milliseconds per decision by origin for both, and the difference. Not part of `npm test`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bareUpdateItem } from './floor';
import { localAwsEnv, startDynamoDbLocal, warmUp } from '../sandbox/dynamodb-local';
import { createBenchTable } from './table';
import { preAuthEvent } from '../sandbox/sample-events';
import { appContext, synthesizeBlueprint } from '../sandbox/synthesized';

const DECISIONS = Number(process.env.BENCH_INVOCATIONS ?? 3000);

interface ProfileNode {
  id: number;
  callFrame: { url: string; lineNumber: number; columnNumber: number; functionName: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

async function main(): Promise<void> {
  Object.assign(process.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...localAwsEnv() });
  const root = path.join(__dirname, '..');
  const blueprint = synthesizeBlueprint(appContext(root, {}), path.join(mkdtempSync(path.join(tmpdir(), 'lockout-profile-')), 'cdk.out'));
  const engine = await startDynamoDbLocal();
  try {
    await warmUp(engine);
    const table = `profile-${randomUUID().slice(0, 8)}`;
    await createBenchTable(engine.client, table, blueprint.table.partitionKey, blueprint.table.ttlAttribute);
    Object.assign(process.env, {
      LOCKOUT_TABLE_NAME: table,
      LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
      LOCKOUT_MAX_FAILED_ATTEMPTS: '1000',
      AWS_ENDPOINT_URL_DYNAMODB: engine.endpoint,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const bundle = path.join(blueprint.triggers.PreAuthentication.bundleDir, 'index.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handler } = require(bundle) as { handler: (event: unknown) => Promise<unknown> };
    const ids = Array.from({ length: 100 }, (_, i) => preAuthEvent(`profile-${i}`));
    const floorUpdate = bareUpdateItem(table);
    const floor = floorUpdate.call;
    for (let i = 0; i < 500; i++) {
      await handler(ids[i % ids.length]);
      await floor();
    }

    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    const measure = async (label: string, call: (i: number) => Promise<unknown>) => {
      await session.post('Profiler.start');
      const started = performance.now();
      for (let i = 0; i < DECISIONS; i++) await call(i);
      const wallMs = (performance.now() - started) / DECISIONS;
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
      return { label, wallMs, byOrigin: cpuByOrigin(profile, bundle) };
    };
    const floorRun = await measure('floor (bare UpdateItem)', () => floor());
    const preRun = await measure('pre-authentication', (i) => handler(ids[i % ids.length]));
    session.disconnect();
    floorUpdate.destroy();
    report(floorRun, preRun);
  } finally {
    await engine.stop();
  }
}

/** CPU ms per decision by origin: a package of node_modules, a project file, Node's own code, or idle. */
function cpuByOrigin(profile: Profile, bundle: string): Map<string, number> {
  const map = findSourceMap(bundle);
  const origin = new Map<number, string>();
  for (const node of profile.nodes) {
    const { url, lineNumber, columnNumber, functionName } = node.callFrame;
    // V8's own entries are already parenthesized: (idle), (program), (garbage collector).
    let where =
      url === ''
        ? functionName.startsWith('(')
          ? functionName
          : `native ${functionName || '(anonymous)'}`
        : url.startsWith('node:')
          ? 'node: core'
          : url;
    if (url.endsWith(bundle) || url === bundle || url === `file://${bundle}`) {
      const entry = map?.findEntry(lineNumber, columnNumber) as { originalSource?: string } | undefined;
      const source = entry?.originalSource ?? '';
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1];
      where = pkg ?? (source.includes('lambdas/') ? `project ${source.slice(source.indexOf('lambdas/'))}` : 'bundle (unmapped)');
    } else if (url.includes('node_modules')) {
      // The floor loads the same SDK packages from node_modules, the bundle carries them: one origin either way.
      where = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? url;
    } else if (url.includes('/bench/') || url.includes('/lambdas/') || url.includes('/lib/')) {
      where = `project ${url.slice(url.lastIndexOf('/work/') >= 0 ? url.indexOf('/', 6) + 1 : 0)}`;
    }
    origin.set(node.id, where);
  }
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const key = origin.get(id) ?? 'unknown';
    totals.set(key, (totals.get(key) ?? 0) + profile.timeDeltas[i] / 1000);
  });
  for (const [key, ms] of totals) totals.set(key, ms / DECISIONS);
  return totals;
}

function report(floor: { wallMs: number; byOrigin: Map<string, number> }, pre: { wallMs: number; byOrigin: Map<string, number> }): void {
  const busy = (m: Map<string, number>) => [...m].filter(([k]) => k !== '(idle)' && k !== '(program)').reduce((a, [, v]) => a + v, 0);
  console.log(`\nWarm decisions, ${DECISIONS} each, CPU ms per decision by origin (sampling every 0.1 ms):`);
  console.log(`  wall time per decision: floor ${floor.wallMs.toFixed(3)} ms, pre-authentication ${pre.wallMs.toFixed(3)} ms`);
  console.log(`  busy CPU per decision:  floor ${busy(floor.byOrigin).toFixed(3)} ms, pre-authentication ${busy(pre.byOrigin).toFixed(3)} ms\n`);
  const keys = [...new Set([...floor.byOrigin.keys(), ...pre.byOrigin.keys()])];
  const rows = keys
    .map((k) => ({ origin: k, floor: floor.byOrigin.get(k) ?? 0, pre: pre.byOrigin.get(k) ?? 0 }))
    .map((r) => ({ ...r, extra: r.pre - r.floor }))
    .sort((a, b) => b.extra - a.extra);
  console.log('| Origin | Floor | Pre-authentication | Difference |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const r of rows.filter((r) => Math.abs(r.extra) >= 0.005 || r.pre >= 0.02)) {
    console.log(`| ${r.origin} | ${r.floor.toFixed(3)} | ${r.pre.toFixed(3)} | ${r.extra >= 0 ? '+' : ''}${r.extra.toFixed(3)} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
