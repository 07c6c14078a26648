/**
 * The real app, through the pinned CDK CLI with bundling on, as `npm run synth` runs it (offline). Then the
 * built bundles themselves: what SDK code they carry, and that one answers a Cognito event against DynamoDB Local.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { createLockoutTable, type DynamoDbLocal, localAwsEnv, startDynamoDbLocal } from '../sandbox/dynamodb-local';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../lambdas/store/store';
import { preAuthEvent } from '../sandbox/sample-events';
import { DEFAULT_SETTINGS, settingsFromEnv, settingsToEnv } from '../lambdas/policy/settings';

const run = promisify(execFile);
const root = path.join(__dirname, '..');
const outdir = mkdtempSync(path.join(tmpdir(), 'lockout-synth-'));
type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> }> };

/** The SDK packages a trigger needs to talk to DynamoDB; anything else is dead weight on every cold start. */
const NEEDED_SDK = new Set([
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/util-dynamodb',
  '@aws-sdk/dynamodb-codec',
  '@aws-sdk/core',
  '@aws-sdk/credential-provider-env',
  '@aws-sdk/endpoint-cache',
  '@aws-sdk/middleware-endpoint-discovery',
  '@aws-sdk/xml-builder',
]);
/** The announcer alone publishes on EventBridge (whose client signs with SigV4a for global endpoints). */
const NEEDED_FOR_EVENTS = new Set(['@aws-sdk/client-eventbridge', '@aws-sdk/signature-v4-multi-region']);

let bundles: Record<string, string>;
let template: Template;
beforeAll(async () => {
  // As a fresh clone deploys: the app must build its bundles itself, from the current source.
  rmSync(path.join(root, 'dist', 'assets'), { recursive: true, force: true });
  await run(path.join(root, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--output', outdir], {
    cwd: root,
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', npm_config_update_notifier: 'false' },
    timeout: 120_000,
  });
  template = JSON.parse(readFileSync(path.join(outdir, 'CognitoLockout.template.json'), 'utf8'));
  bundles = {};
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const asset = resource.Metadata?.['aws:asset:path'];
    const name = resource.Metadata?.['aws:cdk:path']?.split('/').at(-2);
    if (asset && name) bundles[name] = path.join(outdir, asset);
  }
}, 180_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function packagesIn(bundleDir: string, file = 'index.js'): string[] {
  const map = JSON.parse(readFileSync(path.join(bundleDir, `${file}.map`), 'utf8')) as { sources: string[] };
  const names = map.sources.map((source) => source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1]).filter((n): n is string => n !== undefined);
  return [...new Set(names)].sort();
}

describe('the synthesized app', () => {
  it('deploys exactly the documented defaults from the committed cdk.json: every function, every setting', () => {
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(5);
    const expected = settingsToEnv(DEFAULT_SETTINGS);
    for (const fn of functions) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const settings = Object.fromEntries(Object.keys(expected).map((name) => [name, env[name]]));
      expect(settings).toEqual(expected);
      expect(settingsFromEnv(env as Record<string, string>)).toEqual(DEFAULT_SETTINGS);
      // The stack's pool is case-insensitive, and the functions key unknown names that way.
      expect(env.LOCKOUT_SIGN_IN_CASE_SENSITIVE).toBe('false');
    }
  });

  it('registers no localhost URL on the app client unless asked', () => {
    const [client] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Cognito::UserPoolClient');
    expect(JSON.stringify(client.Properties)).not.toContain('localhost');
    expect(client.Properties.CallbackURLs).toBeUndefined();
    expect(client.Properties.AllowedOAuthFlowsUserPoolClient).toBe(false);
  });

  it('bundles all five triggers, minified with source maps', () => {
    expect(Object.keys(bundles).sort()).toEqual([
      'announcer',
      'postAuthentication',
      'postConfirmation',
      'preAuthentication',
      'preSignUp',
      'preTokenGeneration',
    ]);
    for (const dir of Object.values(bundles)) {
      expect(existsSync(path.join(dir, 'index.js'))).toBe(true);
      expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      const code = readFileSync(path.join(dir, 'index.js'), 'utf8');
      // Minified: long lines (unminified code averages well under 100 characters a line).
      expect(code.length / code.split('\n').length).toBeGreaterThan(2000);
      expect(statSync(path.join(dir, 'index.js')).size).toBeLessThan(700_000);
    }
  });

  it('carries only the SDK code a DynamoDB caller needs: no other clients, no credential chain; the triggers no side-call client', () => {
    for (const [name, dir] of Object.entries(bundles)) {
      const sdk = packagesIn(dir).filter((p) => p.startsWith('@aws-sdk/'));
      // A decision is one write: only the announcer, a stream consumer, carries EventBridge.
      const announces = name === 'announcer';
      const needed = (p: string) => NEEDED_SDK.has(p) || (announces && NEEDED_FOR_EVENTS.has(p));
      expect({ name, unneeded: sdk.filter((p) => !needed(p)) }).toEqual({ name, unneeded: [] });
      expect(sdk).toContain('@aws-sdk/client-dynamodb');
      expect(sdk.includes('@aws-sdk/client-eventbridge')).toBe(announces);
    }
  });

  it('keeps the Secrets Manager client in a file beside the bundle, loaded at the first key read, only for the three functions that check or sign device tokens', () => {
    for (const [name, dir] of Object.entries(bundles)) {
      const readsKey = ['preAuthentication', 'postAuthentication', 'preTokenGeneration'].includes(name);
      expect({ name, apart: existsSync(path.join(dir, 'secrets-client.js')) }).toEqual({ name, apart: readsKey });
      // A cold start without a token (most of pre-authentication's and post-authentication's) never parses it.
      expect(packagesIn(dir)).not.toContain('@aws-sdk/client-secrets-manager');
      const index = readFileSync(path.join(dir, 'index.js'), 'utf8');
      expect({ name, requires: index.includes('require("./secrets-client")') }).toEqual({ name, requires: readsKey });
      if (readsKey) expect(packagesIn(dir, 'secrets-client.js')).toContain('@aws-sdk/client-secrets-manager');
    }
  });

  it('runs a bundle as Lambda would: it answers a pre-authentication event from DynamoDB Local', async () => {
    let engine: DynamoDbLocal | undefined;
    try {
      engine = await startDynamoDbLocal();
      await createLockoutTable(engine.client, 'bundle-test', PARTITION_KEY, TTL_ATTRIBUTE);
      const script = `
        const { handler } = require(${JSON.stringify(path.join(bundles.preAuthentication, 'index.js'))});
        const event = JSON.parse(process.argv[1]);
        (async () => {
          const out = [];
          for (let i = 0; i < 3; i++) out.push(await handler(event).then(() => 'admitted', (e) => e.message));
          console.log(JSON.stringify(out));
        })();`;
      const { stdout } = await run(process.execPath, ['-e', script, JSON.stringify(preAuthEvent('bundle-user'))], {
        env: {
          PATH: process.env.PATH,
          ...localAwsEnv(engine.endpoint),
          LOCKOUT_TABLE_NAME: 'bundle-test',
          LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
          LOCKOUT_MAX_FAILED_ATTEMPTS: '2',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
        },
        timeout: 30_000,
      });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual(['admitted', 'admitted', 'Too many failed sign-in attempts. Try again later.']);
    } finally {
      await engine?.stop();
    }
  });

  it("fails the bundle's cold start with a message naming a missing variable", async () => {
    const error = await run(process.execPath, ['-e', `require(${JSON.stringify(path.join(bundles.preAuthentication, 'index.js'))})`], {
      env: { PATH: process.env.PATH },
    }).catch((e: { stderr: string }) => e);
    expect((error as { stderr: string }).stderr).toContain('LOCKOUT_TABLE_NAME must name the lockout DynamoDB table, but it is not set');
  });
});
