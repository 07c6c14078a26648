/**
 * The local sandbox behind `npm start`: a user pool with the project's lockout on this machine, no AWS account.
 *
 *   client ──► front (public port) ──► cognito-local ──► Lambda host ──► trigger bundles ──► DynamoDB Local
 *                 └── runs PreAuthentication through the Lambda host before forwarding a password sign-in
 *
 * Everything the sandbox runs comes from the synthesized CDK app: the bundles, their environment, the table's
 * key schema and TTL attribute, and the pool and client settings.
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
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { type LockoutSettings, settingsFromEnv } from '../../lambdas/engine/settings';
import { STATUS_PATH, openFront } from './cognito-front';
import { LOCAL_CREDENTIALS, LOCAL_REGION, createLockoutTable, localAwsEnv, startDynamoDbLocal, stopProcess } from './dynamodb-local';
import { PortTakenError, onFreePort } from './ports';
import { appContext, localEnvironment, synthesizeBlueprint } from './synthesized';

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
    await createLockoutTable(dynamodb.client, LOCAL_TABLE_NAME, blueprint.table.partitionKey, blueprint.table.ttlAttribute).catch(
      (error: unknown) => {
        if (!(error instanceof ResourceInUseException)) throw error;
      },
    );

    progress('starting the trigger functions');
    // The notifier runs in the same local Lambda host, under the name pre-authentication invokes it by.
    const functionNames = blueprint.notifier ? { [blueprint.notifier.logicalId]: 'NotifyUser' } : {};
    const bundles = { ...blueprint.triggers, ...(blueprint.notifier ? { NotifyUser: blueprint.notifier } : {}) };
    const environment = mergeEnvironments(
      Object.values(bundles).map((t) => localEnvironment(t.environment, blueprint.table.logicalId, LOCAL_TABLE_NAME, functionNames)),
    );
    const lambda = await startLambdaHost(
      options.projectRoot,
      bundles,
      {
        ...environment,
        ...localAwsEnv(dynamodb.endpoint),
        // The metrics' EMF lines mean something to CloudWatch only; the decision log lines stay.
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      options.onLog,
    );
    cleanups.push(() => stopProcess(lambda.child));

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
    const settings = settingsFromEnv(environment);
    const status: SandboxStatus = {
      endpoint: `http://127.0.0.1:${front.port}`,
      region: LOCAL_REGION,
      userPoolId,
      userPoolClientId,
      dynamodbEndpoint: dynamodb.endpoint,
      tableName: LOCAL_TABLE_NAME,
      partitionKey: blueprint.table.partitionKey,
      settings,
      managedLogin: managedLoginStatus(`http://127.0.0.1:${front.port}`, userPoolClientId, blueprint.client.oauth),
    };
    front.serve({
      cognitoUrl: cognito.url,
      lambdaUrl: lambda.url,
      userPoolId,
      status,
      cognitoDir,
      oauth: { clientId: userPoolClientId, ...blueprint.client.oauth },
      onNotice: options.onLog,
    });
    return { status, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * One environment for the one process that hosts all three functions: a variable set for only some of them
 * (LOCKOUT_EVENT_BUS, for pre-authentication) is harmless to the others; one set differently is an error.
 */
export function mergeEnvironments(environments: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const environment of environments) {
    for (const [key, value] of Object.entries(environment)) {
      if (key in merged && merged[key] !== value)
        throw new SandboxError(`the triggers set ${key} differently; the local Lambda host runs them in one process`);
      merged[key] = value;
    }
  }
  return merged;
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
  triggers: Record<string, { bundleDir: string }>,
  environment: Record<string, string>,
  onLog?: (line: Record<string, unknown>) => void,
): Promise<{ child: ChildProcess; url: string }> {
  const functions = Object.fromEntries(Object.entries(triggers).map(([name, t]) => [name, t.bundleDir]));
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

/** Creates the pool and client like the stack's, or finds them when the sandbox keeps its data. */
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
    if (!userPoolClientId) {
      const created = await cognito.send(
        new CreateUserPoolClientCommand({
          UserPoolId: userPoolId,
          ClientName: CLIENT_NAME,
          GenerateSecret: false,
          ExplicitAuthFlows: blueprint.client.explicitAuthFlows as never,
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
