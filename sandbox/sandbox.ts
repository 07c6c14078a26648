/**
 * The local sandbox behind `npm start`: a user pool with the project's lockout on this machine, no AWS account.
 *
 *   client ──► front (public port) ──► cognito-local ──► Lambda router ──► a Lambda host per trigger
 *                 └── runs PreAuthentication through the router before forwarding a password sign-in
 *   DynamoDB Local's stream ──► event source mappings (stream-poller.ts) ──► a Lambda host per stream consumer
 *                 (announcer: EventBridge stand-in; notifier: SES stand-in, ListUsers through the front)
 *   every function's AWS calls ──► IAM gateway (its role from the template) ──► DynamoDB Local, Secrets Manager,
 *                 the front (ListUsers), its host's EventBridge and SES stand-ins
 *
 * Everything the sandbox runs comes from the synthesized CDK app: the bundles, their environment, the table's
 * key schema and TTL attribute, the event source mappings on its stream, and the pool and client settings.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { ResourceInUseException } from '@aws-sdk/client-dynamodb';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  DescribeUserPoolClientCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  UpdateUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { type LockoutSettings, settingsFromEnv } from '../lambdas/policy/settings';
import { STATUS_PATH, openFront } from './cognito-front';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import {
  type DynamoDbLocal,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  createLockoutTable,
  enableLockoutStream,
  startDynamoDbLocal,
  stopProcess,
} from './dynamodb-local';
import { type IamGateway, startIamGateway } from './iam-gateway';
import type { IamLedger } from './iam-requests';
import type { FunctionRole, LocalNames } from './iam-template';
import { startLambdaRouter } from './lambda-router';
import { ChallengeMetadata } from './challenge-metadata';
import { LOCAL_ACCOUNT, functionAwsEnv, registerFunction } from './local-iam';
import type { HostedFunction } from './lambda-host';
import { PortTakenError, onFreePort } from './ports';
import { FileCheckpoints, FunctionError, StreamPoller, dynamoDbStreamSource } from './stream-poller';
import { startSecretsManager } from './secrets-manager';
import { type SandboxBlueprint, type TriggerBundle, appContext, localEnvironment, synthesizeBlueprint } from './synthesized';
import { SANDBOX_ONLY_AUTH_FLOWS } from './user-auth';

export interface SandboxOptions {
  /** The project root (holds cdk.json and node_modules). */
  readonly projectRoot: string;
  /** The port of the Cognito endpoint clients talk to; 0 for any free port (the status tells which). */
  readonly port: number;
  /** DynamoDB Local's port; 0 for any free port. */
  readonly dynamodbPort: number;
  /** Keep users and lockout state in this directory across restarts; in memory when omitted. */
  readonly persistDir?: string;
  /** CDK context overrides (the same keys as `cdk deploy -c`), as given on the command line. */
  readonly context: Record<string, unknown>;
  /** Receives each trigger log line (JSON objects) as it happens. */
  readonly onLog?: (line: Record<string, unknown>) => void;
  /** Progress messages while starting. */
  readonly onProgress?: (message: string) => void;
}

export interface SandboxStatus {
  readonly endpoint: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  readonly partitionKey: string;
  readonly settings: LockoutSettings;
  /** The device token key's secret and the local Secrets Manager that holds it; undefined when device tokens are off. */
  readonly deviceKeySecret?: { readonly arn: string; readonly endpoint: string };
  /**
   * cognito-local behind the front, which runs every trigger but pre-authentication: a sign-in sent here stands for a
   * flow Cognito runs no pre-authentication for (CUSTOM_AUTH, as users report it), and the accounting reports it as an
   * uncounted sign-in (docs/policy.md, "Every sign-in accounted for"). `npm run demo` shows it. No front end uses it.
   */
  readonly withoutPreAuthentication: string;
  /** The functions the table's stream invokes (event source mappings of the template), by name. */
  readonly streamConsumers: string[];
  /** The managed login (hosted UI) and OAuth endpoints, as the stack's DomainUrl and ManagedLoginUrl outputs. */
  readonly managedLogin: {
    /** The domain's base URL: /oauth2/authorize, /login, /oauth2/token, /oauth2/userInfo, /logout below it. */
    readonly baseUrl: string;
    /** The sign-in page for the first callback URL (the stack's ManagedLoginUrl output). */
    readonly signInUrl: string;
    readonly callbackUrls: string[];
    readonly logoutUrls: string[];
    readonly scopes: string[];
  };
}

export interface Sandbox {
  readonly status: SandboxStatus;
  stop(): Promise<void>;
  /**
   * Resolves once the table's stream has been read to its end by every event source mapping and a whole round
   * went by without an invocation: what the writes so far announce (events, notices) has happened.
   */
  streamsSettled(timeoutMs?: number): Promise<void>;
  /** What each function's role allowed it, and every request IAM refused, since the start (iam-gateway.ts). */
  readonly iam: IamLedger;
  /** The IAM gateway the functions call every AWS service through: a request signed with a function's key id is its. */
  readonly iamEndpoint: string;
}

export const LOCAL_TABLE_NAME = 'lockout';
/**
 * The sandbox's managed login sends users back to a local app. Only the sandbox registers these: the committed
 * app registers no URL it is not given (-c callbackUrls=...).
 */
const SANDBOX_URLS = { callbackUrls: ['http://localhost:3000/'], logoutUrls: ['http://localhost:3000/'] };
const POOL_NAME = 'cognito-lockout-local';
const CLIENT_NAME = 'web';

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const progress = options.onProgress ?? (() => undefined);
  if (options.dynamodbPort) await assertPortFree(options.dynamodbPort, '--dynamodb-port');
  const front = await openFront(options.port).catch((error: NodeJS.ErrnoException) => {
    throw portError(error, options.port, '--port');
  });

  const workDir = options.persistDir ? path.resolve(options.persistDir) : mkdtempSync(path.join(tmpdir(), 'cognito-lockout-sandbox-'));
  mkdirSync(workDir, { recursive: true });
  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    // The public endpoint first, so no client is forwarded to a process already stopped.
    await front.close();
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    if (!options.persistDir) rmSync(workDir, { recursive: true, force: true });
  };

  try {
    progress('synthesizing the CDK app and bundling the triggers');
    const blueprint = synthesizeBlueprint(appContext(options.projectRoot, { ...SANDBOX_URLS, ...options.context }), path.join(workDir, 'cdk.out'));

    progress('starting DynamoDB Local');
    const dataDir = options.persistDir ? path.join(workDir, 'dynamodb') : undefined;
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const dynamodb = await startDynamoDbLocal({ port: options.dynamodbPort, dataDir });
    cleanups.push(() => dynamodb.stop());
    const streamArn = await createLockoutTable(dynamodb.client, LOCAL_TABLE_NAME, blueprint.table.partitionKey, blueprint.table.ttlAttribute).catch(
      (error: unknown) => {
        if (!(error instanceof ResourceInUseException)) throw error;
        // The table kept with --persist: its stream (turned on now for a table kept from before there was one).
        return enableLockoutStream(dynamodb.client, LOCAL_TABLE_NAME);
      },
    );

    // The device token key, generated as CloudFormation would (kept with --persist, so issued tokens stay valid).
    const secrets = await startSecretsManager(options.persistDir ? path.join(workDir, 'device-token-key.json') : undefined);
    cleanups.push(() => secrets.stop());
    const refs = {
      [blueprint.table.logicalId]: LOCAL_TABLE_NAME,
      ...(blueprint.deviceKeySecret === undefined ? {} : { [blueprint.deviceKeySecret.logicalId]: secrets.arn }),
    };

    // Every call a function makes goes through the IAM gateway, which allows what its role in the template allows.
    const gateway = await startIamGateway({
      accountId: LOCAL_ACCOUNT,
      partitionKeyOf: (table) => (table === LOCAL_TABLE_NAME ? blueprint.table.partitionKey : undefined),
      onRefusal: (functionName, message) => options.onLog?.({ level: 'ERROR', trigger: functionName, message: `IAM refused a request: ${message}` }),
    });
    cleanups.push(() => gateway.close());
    const localIam = (extra: Record<string, string> = {}): LocalNames => ({
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
      names: { ...refs, ...extra },
      streamArns: { [blueprint.table.logicalId]: streamArn },
    });
    const roleOf = (name: string) => {
      const role = blueprint.functionRoles.find((r) => r.name === name);
      if (role === undefined) throw new SandboxError(`the template has no role for the function ${name}`);
      return role;
    };

    progress('starting the trigger functions');
    const environments = Object.fromEntries(Object.entries(blueprint.triggers).map(([name, t]) => [name, localEnvironment(t.environment, refs)]));
    const hostEnvironment = {
      // The metrics' EMF lines mean something to CloudWatch only; the decision log lines stay.
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const upstreams = { dynamodb: dynamodb.endpoint, secretsmanager: secrets.endpoint };
    // One host per trigger, as Lambda gives each function environments of its own: its own variables and credentials.
    const hosts = await Promise.all(
      Object.entries(blueprint.triggers).map(async ([name, bundle]) => {
        registerFunction(gateway, roleOf(name), blueprint.resources, localIam(), upstreams);
        const env = { ...environments[name], ...hostEnvironment, ...functionAwsEnv(name, gateway) };
        const host = await startLambdaHost(options.projectRoot, { [name]: bundle }, env, options.onLog);
        cleanups.push(() => stopProcess(host.child));
        return [name, host.url] as const;
      }),
    );
    const challengeMetadata = new ChallengeMetadata();
    const lambda = await startLambdaRouter(new Map(hosts), challengeMetadata);
    cleanups.push(() => lambda.close());

    progress('starting cognito-local');
    const cognitoDir = path.join(workDir, 'cognito');
    const cognito = await startCognitoLocal({
      projectRoot: options.projectRoot,
      dir: cognitoDir,
      lambdaUrl: lambda.url,
      usernameAttributes: blueprint.pool.usernameAttributes,
      triggerNames: Object.keys(blueprint.triggers),
    });
    cleanups.push(() => stopProcess(cognito.child));

    const { userPoolId, userPoolClientId } = await ensurePoolAndClient(cognito.url, blueprint);
    const endpoint = `http://127.0.0.1:${front.port}`;
    const streams = await startStreamConsumers(options, blueprint, {
      streamArn,
      dynamodb,
      workDir,
      environment: hostEnvironment,
      refs: { [blueprint.table.logicalId]: LOCAL_TABLE_NAME, [blueprint.pool.logicalId]: userPoolId },
      cleanups,
      iam: {
        gateway,
        local: localIam({ [blueprint.pool.logicalId]: userPoolId }),
        roleOf,
        // The notifier finds a `sub`'s address in the pool: through the front, as any client of the sandbox.
        upstreams: { ...upstreams, 'cognito-idp': endpoint },
      },
    });
    const settings = settingsFromEnv(environments.PreAuthentication);
    const status: SandboxStatus = {
      endpoint,
      region: LOCAL_REGION,
      userPoolId,
      userPoolClientId,
      dynamodbEndpoint: dynamodb.endpoint,
      withoutPreAuthentication: cognito.url,
      tableName: LOCAL_TABLE_NAME,
      partitionKey: blueprint.table.partitionKey,
      settings,
      deviceKeySecret: blueprint.deviceKeySecret === undefined ? undefined : { arn: secrets.arn, endpoint: secrets.endpoint },
      streamConsumers: blueprint.streamConsumers.map((c) => c.name),
      managedLogin: managedLoginStatus(endpoint, userPoolClientId, blueprint.client.oauth),
    };
    // Served only now: the event source mappings have taken their positions, so no write escapes them.
    front.serve({
      cognitoUrl: cognito.url,
      lambdaUrl: lambda.url,
      challengeMetadata,
      userPoolId,
      status,
      cognitoDir,
      oauth: { clientId: userPoolClientId, ...blueprint.client.oauth },
      onNotice: options.onLog,
    });
    return { status, stop, streamsSettled: streams.settled, iam: gateway.ledger, iamEndpoint: gateway.endpoint };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface StreamContext {
  readonly streamArn: string;
  readonly dynamodb: DynamoDbLocal;
  readonly workDir: string;
  /** What every consumer's host gets besides the function's own environment. */
  readonly environment: Record<string, string>;
  /** Local values for the references in the functions' environments (the table, the pool). */
  readonly refs: Record<string, string>;
  readonly cleanups: Array<() => Promise<void> | void>;
  readonly iam: {
    readonly gateway: IamGateway;
    readonly local: LocalNames;
    readonly roleOf: (name: string) => FunctionRole;
    readonly upstreams: Record<string, string>;
  };
}

/**
 * The template's event source mappings on the table's stream: each function in a Lambda host of its own (its own
 * environment, as in Lambda), and per mapping a poller that reads DynamoDB Local's stream as Lambda's mapping
 * reads the table's. With --persist, each mapping's position is kept, so a restart resumes where it stopped.
 */
async function startStreamConsumers(
  options: SandboxOptions,
  blueprint: SandboxBlueprint,
  context: StreamContext,
): Promise<{ settled: (timeoutMs?: number) => Promise<void> }> {
  const { streamConsumers } = blueprint;
  if (streamConsumers.length === 0) return { settled: () => Promise.resolve() };
  options.onProgress?.(`starting the stream consumers (${[...new Set(streamConsumers.map((c) => c.name))].join(', ')})`);
  const streams = new DynamoDBStreamsClient({ endpoint: context.dynamodb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  context.cleanups.push(() => streams.destroy());
  const functions = new Map(streamConsumers.map((c) => [c.logicalId, c]));
  const hosts = new Map(
    await Promise.all(
      [...functions.values()].map(async (consumer) => {
        const { gateway, local, roleOf, upstreams } = context.iam;
        const environment = {
          ...localEnvironment(consumer.environment, context.refs),
          ...context.environment,
          ...functionAwsEnv(consumer.name, gateway),
        };
        const host = await startLambdaHost(options.projectRoot, { [consumer.name]: consumer }, environment, options.onLog);
        context.cleanups.push(() => stopProcess(host.child));
        // Its events and emails go to the stand-ins in its own host, through the gateway.
        registerFunction(gateway, roleOf(consumer.name), blueprint.resources, local, { ...upstreams, events: host.url, ses: host.url });
        return [consumer.logicalId, host.url] as const;
      }),
    ),
  );
  const source = dynamoDbStreamSource(streams);
  const pollers: StreamPoller[] = [];
  for (const consumer of streamConsumers) {
    const url = hosts.get(consumer.logicalId)!;
    const poller = new StreamPoller({
      functionName: consumer.name,
      streamArn: context.streamArn,
      source,
      mapping: consumer.mapping,
      checkpoints: options.persistDir
        ? new FileCheckpoints(path.join(context.workDir, 'stream-checkpoints.json'), consumer.mappingId, context.streamArn)
        : undefined,
      invoke: (event, signal) => invokeHosted(url, consumer.name, event, consumer.timeoutSeconds, signal),
      // The failure destination (a queue in AWS): the decision log says which records went there.
      onFailure: (record) => options.onLog?.({ localFailure: { functionName: consumer.name, record } }),
      onError: (error) => options.onLog?.({ level: 'ERROR', trigger: `${consumer.name} event source mapping`, message: error.message }),
    });
    context.cleanups.push(() => poller.stop());
    await poller.start();
    pollers.push(poller);
  }
  const invocations = () => pollers.reduce((sum, poller) => sum + poller.invocationCount, 0);
  return {
    // A consumer's invocation can write what another consumer reads (a notice request): settled when a whole round
    // of draining saw no invocation complete.
    async settled(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const before = invocations();
        await Promise.all(pollers.map((poller) => poller.drained(Math.max(0, deadline - Date.now()))));
        if (invocations() === before) return;
      }
    },
  };
}

/** Lambda's synchronous Invoke, as an event source mapping makes it; a function error or timeout throws FunctionError. */
async function invokeHosted(url: string, name: string, event: unknown, timeoutSeconds: number, signal: AbortSignal): Promise<unknown> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${url}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
      method: 'POST',
      body: JSON.stringify(event),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutSeconds * 1000)]),
    });
    text = await response.text();
  } catch (error) {
    if (!signal.aborted && (error as Error).name === 'TimeoutError') throw new FunctionError(`Task timed out after ${timeoutSeconds} seconds`);
    throw error;
  }
  const functionError = response.headers.get('x-amz-function-error');
  if (functionError) throw new FunctionError((JSON.parse(text) as { errorMessage?: string }).errorMessage ?? 'the function failed', functionError);
  if (!response.ok) throw new Error(`the local Lambda host answered ${response.status}: ${text}`);
  return text === '' ? null : (JSON.parse(text) as unknown);
}

/** Reads the status a running sandbox serves, or undefined when nothing answers at `endpoint`. */
export async function fetchStatus(endpoint: string): Promise<SandboxStatus | undefined> {
  try {
    const response = await fetch(`${endpoint}${STATUS_PATH}`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? ((await response.json()) as SandboxStatus) : undefined;
  } catch {
    return undefined;
  }
}

async function assertPortFree(port: number, flag: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(portError(error, port, flag)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

function portError(error: NodeJS.ErrnoException, port: number, flag: string): SandboxError {
  return new SandboxError(
    error.code === 'EADDRINUSE'
      ? `port ${port} is already in use (is another sandbox running?): stop that process or choose another port with ${flag} N (0: any free port)`
      : `cannot listen on port ${port}: ${error.message}`,
  );
}

function startLambdaHost(
  projectRoot: string,
  bundles: Record<string, TriggerBundle>,
  environment: Record<string, string>,
  onLog?: (line: Record<string, unknown>) => void,
): Promise<{ child: ChildProcess; url: string }> {
  const functions: Record<string, HostedFunction> = Object.fromEntries(
    Object.entries(bundles).map(([name, b]) => [name, { bundleDir: b.bundleDir, handler: b.handler, timeoutSeconds: b.timeoutSeconds }]),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'lambda-host.ts')], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH, NODE_OPTIONS: environment.NODE_OPTIONS, ...environment, LAMBDA_HOST_FUNCTIONS: JSON.stringify(functions) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let errors = '';
  // Powertools writes INFO to stdout and WARN/ERROR to stderr: decisions arrive on both.
  const parse = (text: string): Record<string, unknown> | undefined => {
    try {
      const line = JSON.parse(text) as unknown;
      return typeof line === 'object' && line !== null ? (line as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  createInterface({ input: child.stderr! }).on('line', (text) => {
    const line = parse(text);
    if (line) onLog?.(line);
    else errors = `${errors}${text}\n`.slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new SandboxError(`the local Lambda host did not start within 30 s:\n${errors}`)), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.once('exit', (code) => fail(new SandboxError(`the local Lambda host exited with code ${code}:\n${errors}`)));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const line = parse(text);
      if (line?.lambdaHost === 'ready') {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, url: `http://127.0.0.1:${line.port}` });
      } else if (line) onLog?.(line);
    });
  });
}

interface CognitoLocalOptions {
  readonly projectRoot: string;
  /** cognito-local's working directory (its config and data). */
  readonly dir: string;
  /** The local Lambda Invoke endpoint its triggers call. */
  readonly lambdaUrl: string;
  readonly usernameAttributes: string[];
  /** The pool's triggers; cognito-local runs all but PreAuthentication, which is the front's. */
  readonly triggerNames: string[];
}

function startCognitoLocal(options: CognitoLocalOptions): Promise<{ child: ChildProcess; url: string }> {
  return onFreePort((port) => launchCognitoLocal(port, options));
}

async function launchCognitoLocal(
  port: number,
  { projectRoot, dir, lambdaUrl, usernameAttributes, triggerNames }: CognitoLocalOptions,
): Promise<{ child: ChildProcess; url: string }> {
  mkdirSync(path.join(dir, '.cognito'), { recursive: true });
  writeFileSync(
    path.join(dir, '.cognito', 'config.json'),
    JSON.stringify(
      {
        ServerConfig: { hostname: '127.0.0.1', port },
        LambdaClient: { endpoint: lambdaUrl, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } },
        // Function names equal to trigger names make cognito-local's error text match Cognito's
        // ("PreSignUp failed with error ...").
        // PreAuthentication is the front's to run (cognito-local has none).
        TriggerFunctions: Object.fromEntries(triggerNames.filter((name) => name !== 'PreAuthentication').map((name) => [name, name])),
        UserPoolDefaults: { UsernameAttributes: usernameAttributes },
        TokenConfig: { IssuerDomain: `http://127.0.0.1:${port}` },
      },
      null,
      2,
    ),
  );
  const child = spawn(process.execPath, [require.resolve('cognito-local/lib/bin/start.js', { paths: [projectRoot] })], {
    cwd: dir,
    env: { PATH: process.env.PATH, AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      if (output.includes('EADDRINUSE')) throw new PortTakenError(port, 'cognito-local could not listen on it');
      throw new SandboxError(`cognito-local exited with code ${child.exitCode}:\n${output}`);
    }
    const up = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { child, url };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new SandboxError(`cognito-local did not answer on ${url} within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** Mirrors the stack's outputs: the domain, and the sign-in page for the first callback URL (code grant). */
function managedLoginStatus(
  baseUrl: string,
  clientId: string,
  oauth: { callbackUrls: string[]; logoutUrls: string[]; scopes: string[] },
): SandboxStatus['managedLogin'] {
  const signIn = new URL('/login', baseUrl);
  signIn.search = new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: oauth.callbackUrls[0] ?? '' }).toString();
  return { baseUrl, signInUrl: signIn.toString(), ...oauth };
}

/**
 * Creates the pool and client like the stack's, or finds them when the sandbox keeps its data. The client allows the
 * stack's auth flows and USER_AUTH (SANDBOX_ONLY_AUTH_FLOWS, docs/sandbox.md); a client kept from an earlier run is
 * brought to those flows.
 */
async function ensurePoolAndClient(
  cognitoUrl: string,
  blueprint: ReturnType<typeof synthesizeBlueprint>,
): Promise<{ userPoolId: string; userPoolClientId: string }> {
  const cognito = new CognitoIdentityProviderClient({ endpoint: cognitoUrl, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const pools = await cognito.send(new ListUserPoolsCommand({ MaxResults: 60 }));
    let userPoolId = pools.UserPools?.find((p) => p.Name === POOL_NAME)?.Id;
    if (!userPoolId) {
      const created = await cognito.send(
        new CreateUserPoolCommand({
          PoolName: POOL_NAME,
          UsernameAttributes: blueprint.pool.usernameAttributes as never,
          UsernameConfiguration: { CaseSensitive: blueprint.pool.caseSensitive },
          Policies: { PasswordPolicy: blueprint.pool.passwordPolicy },
          AutoVerifiedAttributes: ['email'],
        }),
      );
      userPoolId = created.UserPool!.Id!;
    }
    const clients = await cognito.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }));
    let userPoolClientId = clients.UserPoolClients?.find((c) => c.ClientName === CLIENT_NAME)?.ClientId;
    const authFlows = [...new Set([...blueprint.client.explicitAuthFlows, ...SANDBOX_ONLY_AUTH_FLOWS])];
    if (userPoolClientId) {
      const kept = await cognito.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: userPoolClientId }));
      const flows: string[] = kept.UserPoolClient?.ExplicitAuthFlows ?? [];
      if (flows.length !== authFlows.length || authFlows.some((flow) => !flows.includes(flow))) {
        await cognito.send(
          new UpdateUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: userPoolClientId, ExplicitAuthFlows: authFlows as never }),
        );
      }
    } else {
      const created = await cognito.send(
        new CreateUserPoolClientCommand({
          UserPoolId: userPoolId,
          ClientName: CLIENT_NAME,
          GenerateSecret: false,
          ExplicitAuthFlows: authFlows as never,
          PreventUserExistenceErrors: blueprint.client.preventUserExistenceErrors as never,
        }),
      );
      userPoolClientId = created.UserPoolClient!.ClientId!;
    }
    return { userPoolId, userPoolClientId };
  } finally {
    cognito.destroy();
  }
}
