/**
 * IAM for the suites that build handlers directly on DynamoDB Local (docs/development.md, "IAM in the tests"): each
 * function's policy from the synthesized app, enforced on the SDK client its handler gets, so an operation its role
 * does not allow fails as in AWS (the SDK raises AccessDeniedException, and the handler's own error handling runs).
 *
 * The enforcement is SDK middleware at the innermost step, after signing and before the deserializer: it reads the
 * signed request as the sandbox's gateway reads it (sandbox/iam-requests.ts), evaluates it with the same evaluator
 * (sandbox/iam-policy.ts), and answers a refusal with the response AWS gives, which the SDK's own deserializer turns
 * into the error. Allowed requests go on to DynamoDB Local unchanged.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lambdas/runtime/config';
import { type TriggerDeps, guardFor } from '../../lambdas/runtime/deps';
import { DeviceKeys } from '../../lambdas/devices/device-keys';
import { LockoutStore, createDocumentClient } from '../../lambdas/store/store';
import { type TriggerName, createTelemetry } from '../../lambdas/shared/telemetry';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../sandbox/dynamodb-local';
import { type RolePrincipal } from '../../sandbox/iam-policy';
import { type LocalNames, rolePrincipal } from '../../sandbox/iam-template';
import { IamLedger, type WireRequest, decide, deniedAnswer, firstRefusal, readRequest } from '../../sandbox/iam-requests';

export { IamLedger };
import { LOCAL_ACCOUNT, accessKeyIdOf } from '../../sandbox/local-iam';
import { LOCAL_DEVICE_KEY_SECRET_ARN } from '../../sandbox/secrets-manager';
import { type SandboxBlueprint, appContext, localEnvironment, synthesizeBlueprint } from '../../sandbox/synthesized';

const PROJECT_ROOT = path.join(__dirname, '..', '..');
export { LOCAL_ACCOUNT, accessKeyIdOf };

/**
 * The two deployments whose policies the tests enforce: the app exactly as `cdk deploy` deploys it from a clone
 * (cdk.json, no -c), and the same with the optional function turned on (the lock notice's notifier, which also gives
 * the announcer its notice requests). Every other optional function is on by default.
 */
export const DEPLOYMENTS = { default: {}, notices: { notifyUserFrom: 'security@example.com' } } as const;
export type Deployment = keyof typeof DEPLOYMENTS;

const blueprints = new Map<Deployment, SandboxBlueprint>();

/**
 * The synthesized app of a deployment. Synthesized once per test run: global-setup.js names a fresh directory per run
 * (LOCKOUT_TEST_SYNTH_DIR) where the first suite that asks leaves it for the others, so it is never older than the
 * run, and no suite pays the synth twice.
 */
export function synthesizedApp(deployment: Deployment = 'default'): SandboxBlueprint {
  const cached = blueprints.get(deployment);
  if (cached !== undefined) return cached;
  const runDir = process.env.LOCKOUT_TEST_SYNTH_DIR ?? mkdtempSync(path.join(tmpdir(), 'lockout-synth-'));
  const dir = path.join(runDir, deployment);
  const file = path.join(dir, 'blueprint.json');
  if (!existsSync(file)) {
    mkdirSync(runDir, { recursive: true });
    const staging = mkdtempSync(path.join(runDir, `${deployment}-staging-`));
    const blueprint = synthesizeBlueprint(appContext(PROJECT_ROOT, DEPLOYMENTS[deployment]), path.join(dir, 'cdk.out'));
    writeFileSync(path.join(staging, 'blueprint.json'), JSON.stringify(blueprint));
    if (!existsSync(file)) renameSync(path.join(staging, 'blueprint.json'), file);
    rmSync(staging, { recursive: true, force: true });
  }
  const blueprint = JSON.parse(readFileSync(file, 'utf8')) as SandboxBlueprint;
  blueprints.set(deployment, blueprint);
  return blueprint;
}

/** The function names of a deployment's template (`PreAuthentication`, ..., `Announcer`, `NotifyUser`). */
export function functionNames(deployment: Deployment = 'default'): string[] {
  return synthesizedApp(deployment).functionRoles.map((role) => role.name);
}

export interface LocalTargets {
  /** The table the function's `LOCKOUT_TABLE_NAME` names here. */
  readonly tableName: string;
  readonly userPoolId?: string;
  readonly deviceKeySecretArn?: string;
  readonly streamArn?: string;
}

/** A function's role as the local IAM evaluates it, its references resolved to the test's table (and pool, secret). */
export function principalFor(functionName: string, targets: LocalTargets, deployment: Deployment = 'default'): RolePrincipal {
  const blueprint = synthesizedApp(deployment);
  const role = blueprint.functionRoles.find((r) => r.name === functionName);
  if (role === undefined) throw new Error(`the ${deployment} deployment has no function ${functionName}: ${functionNames(deployment).join(', ')}`);
  return rolePrincipal(role, blueprint.resources, localNames(blueprint, targets));
}

export function localNames(blueprint: SandboxBlueprint, targets: LocalTargets): LocalNames {
  const names: Record<string, string> = { [blueprint.table.logicalId]: targets.tableName };
  if (targets.userPoolId !== undefined) names[blueprint.pool.logicalId] = targets.userPoolId;
  if (targets.deviceKeySecretArn !== undefined && blueprint.deviceKeySecret !== undefined)
    names[blueprint.deviceKeySecret.logicalId] = targets.deviceKeySecretArn;
  return {
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT,
    names,
    ...(targets.streamArn === undefined ? {} : { streamArns: { [blueprint.table.logicalId]: targets.streamArn } }),
  };
}

interface MiddlewareClient {
  readonly middlewareStack: { add(middleware: unknown, options: Record<string, unknown>): void };
}

/**
 * Makes `client` enforce `principal`: every request it sends is evaluated as IAM would, and a refused one answered as
 * AWS answers it without reaching the endpoint. Use a client of the function's own (as Lambda gives each function its
 * own credentials), never one shared with the test's own reads and writes.
 */
export function enforceIam<C extends MiddlewareClient>(client: C, principal: RolePrincipal, partitionKey: string, ledger?: IamLedger): C {
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: { request: SdkHttpRequest }) => {
      const wire = wireRequest(args.request);
      const read = readRequest(wire, principal.accountId, () => partitionKey);
      if (read === undefined) throw new Error('the enforcing client sent an unsigned request');
      const decided = decide(principal, read);
      const refusal = firstRefusal(decided);
      for (const { request, message } of decided) ledger?.record(principal.functionName, request, message);
      if (refusal === undefined) return next(args);
      const answer = deniedAnswer(wire, refusal);
      return {
        response: { statusCode: answer.statusCode, headers: answer.headers, body: new Uint8Array(Buffer.from(answer.body)) },
        output: undefined,
      };
    },
    // Innermost: after the signer (the credential names the caller), before the deserializer (which raises the error).
    { step: 'deserialize', priority: 'low', name: 'localIamEnforcement' },
  );
  return client;
}

interface SdkHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

function wireRequest(request: SdkHttpRequest): WireRequest {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const { body } = request;
  // The JSON protocols hand the body over as bytes (a Uint8Array whose valueOf is its text): read the bytes.
  const text =
    typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : '';
  return { method: request.method, path: request.path, headers, body: text };
}

export interface EnforcedClientOptions extends LocalTargets {
  /** DynamoDB Local's endpoint. */
  readonly endpoint: string;
  readonly deployment?: Deployment;
  readonly ledger?: IamLedger;
  /** The SDK's attempts; 1 unless a test needs the store's retry. */
  readonly maxAttempts?: number;
}

/** A document client of `functionName`'s own, on DynamoDB Local, that refuses what its role does not allow. */
export function enforcedDocumentClient(functionName: string, options: EnforcedClientOptions): DynamoDBDocumentClient {
  const principal = principalFor(functionName, options, options.deployment);
  const client = new DynamoDBClient({
    endpoint: options.endpoint,
    region: LOCAL_REGION,
    // Each function signs with its own key id, as each Lambda function has its role's credentials.
    credentials: { ...LOCAL_CREDENTIALS, accessKeyId: accessKeyIdOf(functionName) },
    maxAttempts: options.maxAttempts ?? 1,
  });
  return DynamoDBDocumentClient.from(enforceIam(client, principal, synthesizedApp(options.deployment).table.partitionKey, options.ledger));
}

export interface EnforcedDepsOptions extends EnforcedClientOptions {
  readonly now: () => number;
  /** Variables to set differently from the template (settings a test changes). */
  readonly env?: Record<string, string>;
  /** The Secrets Manager stand-in that holds the device token key (sandbox/secrets-manager.ts). */
  readonly secrets?: { readonly endpoint: string; readonly arn: string };
}

/**
 * A trigger's dependencies as Lambda builds them from its environment, except that its DynamoDB and Secrets Manager
 * clients are its own and enforce its role: the handler a test builds with them is refused what the function would be.
 */
export function enforcedTriggerDeps(trigger: TriggerName, options: EnforcedDepsOptions): TriggerDeps {
  // The function's environment as the template sets it (only the key readers are told where the key is).
  const blueprint = synthesizedApp(options.deployment);
  const bundle = blueprint.triggers[trigger as keyof SandboxBlueprint['triggers']];
  if (bundle === undefined) throw new Error(`the ${options.deployment ?? 'default'} deployment has no ${trigger} trigger`);
  const refs: Record<string, string> = { [blueprint.table.logicalId]: options.tableName };
  if (blueprint.deviceKeySecret !== undefined) refs[blueprint.deviceKeySecret.logicalId] = options.secrets?.arn ?? LOCAL_DEVICE_KEY_SECRET_ARN;
  const env = { ...localEnvironment(bundle.environment, refs), ...options.env };
  const config = loadConfig(env);
  const telemetry = createTelemetry(trigger);
  // The store client the function ships with (store.ts `createDocumentClient`: per-try timeouts from the budget, two
  // attempts, a few kept-alive sockets), so what a suite proves on it holds for the deployed function; pointed at
  // DynamoDB Local through the SDK's own variable, as in the sandbox, and confined to the function's role.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = options.endpoint;
  const documents = enforceIam(
    createDocumentClient(config.settings.storeTimeoutMs),
    principalFor(trigger, options, options.deployment),
    blueprint.table.partitionKey,
    options.ledger,
  );
  const guard = guardFor(new LockoutStore(documents, options.tableName), config, telemetry, options.now);
  const base = { config, telemetry };
  const secrets = options.secrets;
  const keySecret = base.config.devices?.keySecret;
  if (secrets === undefined || keySecret === undefined) return { ...base, guard, now: options.now };
  const principal = principalFor(trigger, { ...options, deviceKeySecretArn: secrets.arn }, options.deployment);
  const client = enforceIam(
    new SecretsManagerClient({
      endpoint: secrets.endpoint,
      region: LOCAL_REGION,
      credentials: { ...LOCAL_CREDENTIALS, accessKeyId: accessKeyIdOf(trigger) },
    }),
    principal,
    blueprint.table.partitionKey,
    options.ledger,
  );
  const read = async () => (await client.send(new GetSecretValueCommand({ SecretId: keySecret }))).SecretString ?? '';
  return { ...base, guard, now: options.now, deviceKeys: new DeviceKeys(read, { clock: options.now, onError: () => undefined }) };
}
