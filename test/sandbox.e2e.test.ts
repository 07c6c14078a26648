/**
 * `npm start` end to end: the sandbox runs as its own process on free ports, the demo story runs against it
 * through the Cognito API, and the test checks the decisions, the events and notices the table's stream leads to,
 * the table, and that Ctrl-C leaves nothing behind.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  AdminConfirmSignUpCommand,
  AdminGetUserCommand,
  AdminUpdateUserAttributesCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { unknownNameIdentity, userIdentity } from '../lambdas/identity/identity';
import { runDemo } from '../sandbox/demo';
import { LOCAL_CREDENTIALS } from '../sandbox/dynamodb-local';
import { type SandboxStatus, fetchStatus } from '../sandbox/sandbox';

const root = path.join(__dirname, '..');

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startCli(args: string[], env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'sandbox', 'start.ts'), ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Waits for the banner (the sandbox runs on `--port 0`, so the banner says where), then reads the status. */
async function waitForStatus(running: Running): Promise<SandboxStatus> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const endpoint = /Cognito endpoint {2}(http:\/\/\S+)/.exec(running.output())?.[1];
    const status = endpoint === undefined ? undefined : await fetchStatus(endpoint);
    if (status) return status;
    if (running.child.exitCode !== null) throw new Error(`sandbox exited early:\n${running.output()}`);
    if (Date.now() > deadline) throw new Error(`sandbox not ready:\n${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Any free ports, chosen by the sandbox: ports picked here could be taken by another process before it binds them. */
const ANY_PORTS = ['--port', '0', '--dynamodb-port', '0'];
const portOf = (url: string) => Number(new URL(url).port);

/** The decision log's lines that announce an event for one identity, and the lock notices emailed. */
const eventLines = (output: string, identity: string, type = 'AccountLocked') =>
  output.split('\n').filter((line) => new RegExp(`\\bevent\\s+${identity}\\s+${type} `).test(line));
const noticeLines = (output: string) => output.split('\n').filter((line) => /\bemail\s+\(to the owner\)\s+lock notice /.test(line));

async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Long enough for a duplicate delivery to show: several polls of both event source mappings. */
const SETTLE_MS = 2000;

const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

describe('npm start', () => {
  let sandbox: Running;
  let status: SandboxStatus;

  beforeAll(async () => {
    sandbox = startCli([...ANY_PORTS, '--maxFailedAttempts', '3', '--lockoutDurationSeconds=3', '--notifyUserFrom', 'security@example.com']);
    status = await waitForStatus(sandbox);
  }, 150_000);

  afterAll(async () => {
    if (sandbox.child.exitCode === null) {
      sandbox.child.kill('SIGKILL');
      await sandbox.exited;
    }
  });

  it('prints where it is, the policy in force and how to connect', () => {
    const out = sandbox.output();
    expect(status.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(portOf(status.endpoint)).toBeGreaterThan(0);
    expect(out).toContain(`Cognito endpoint  ${status.endpoint}`);
    expect(out).toContain(`DynamoDB Local    ${status.dynamodbEndpoint}`);
    expect(out).toContain(`User pool id      ${status.userPoolId}`);
    expect(out).toContain(`App client id     ${status.userPoolClientId}`);
    expect(out).toContain('3 attempts per 900 s window, then locked 3 s');
    expect(status.streamConsumers.sort()).toEqual(['Announcer', 'NotifyUser']);
    expect(out).toContain("Table stream      Announcer, NotifyUser (event source mappings, polled like Lambda's)");
    expect(out).toContain('aws --endpoint-url');
    expect(out).toContain('userPoolEndpoint');
  });

  it('enforces the lockout through the Cognito API, as the demo story expects', async () => {
    const steps = await runDemo(status, { stormSize: 15 });
    expect(steps.filter((s) => !s.ok)).toEqual([]);
    // With device tokens on (the default): the laptop keeps its token and signs in during the attack (4 steps more); the last step is the uncounted sign-in.
    expect(steps).toHaveLength(19);
  }, 60_000);

  it('keeps only hashed identities in the table, with the unknown name locked', async () => {
    const table = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: status.dynamodbEndpoint, region: status.region, credentials: LOCAL_CREDENTIALS }),
    );
    const { Items = [] } = await table.send(new ScanCommand({ TableName: status.tableName, ConsistentRead: true }));
    table.destroy();
    expect(Items.length).toBeGreaterThan(0);
    // Lockout state by hashed identity; the notifier's requests (by lock id), recipient limits (by hashed sub), hour counters.
    for (const item of Items)
      expect(item[status.partitionKey]).toMatch(
        /^((signin|signup-[a-z-]+|notice-recipient)#[0-9a-f]{64}|notice#[0-9a-f]{32}|notice-hour#\d{4}-\d\d-\d\dT\d\d)$/,
      );
    const locks = Items.filter((i) => (i[status.partitionKey] as string).startsWith('signin#') && (i.lockedUntil as number) > 0);
    expect(locks).toHaveLength(1); // the unknown name's; the real user's lock expired and was cleared
    expect(JSON.stringify(Items)).not.toMatch(/example\.com/);
  });

  it('logs one readable line per decision, with hashed identities only', () => {
    const out = sandbox.output();
    expect(out).toMatch(/signin\s+[0-9a-f]{16}\s+allowed\s+attempt 1 of 3/);
    expect(out).toMatch(/signin\s+[0-9a-f]{16}\s+REFUSED\s+lockout #1 starts: locked until \d\d:\d\d:\d\d/);
    expect(out).toMatch(/REFUSED\s+locked until \d\d:\d\d:\d\d {2}\(unknown user\)/);
    expect(out).toMatch(/signed in \(failures cleared\)/);
    expect(out).toMatch(/signup-email\s+[0-9a-f]{16}\s+allowed/);
    expect(out).toMatch(/event\s+[0-9a-f]{16}\s+AccountLocked \(until \d{4}-[\d-]+T[\d:.]+Z\) sent to EventBridge/);
    expect(out).not.toContain('ERROR');
    expect(out).not.toMatch(/demo-[0-9a-f]{8}@example\.com|nobody-/);
  });

  it('announces a lock once, from the table stream, and emails its verified owner once; an unknown name gets the event only', async () => {
    const cognito = new CognitoIdentityProviderClient({
      endpoint: status.endpoint,
      region: status.region,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const signIn = (username: string) =>
      cognito
        .send(
          new InitiateAuthCommand({
            ClientId: status.userPoolClientId,
            AuthFlow: 'USER_PASSWORD_AUTH',
            AuthParameters: { USERNAME: username, PASSWORD: 'wrong-password' },
          }),
        )
        .then(
          () => 'signed-in',
          (e: Error) => e.name,
        );
    const email = 'notice-me@example.com';
    await cognito.send(new SignUpCommand({ ClientId: status.userPoolClientId, Username: email, Password: 'Correct-Horse-42!' }));
    await cognito.send(new AdminConfirmSignUpCommand({ UserPoolId: status.userPoolId, Username: email }));
    // A notice goes to a verified address only (AdminConfirmSignUp verifies nothing, in Cognito as here).
    await cognito.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: status.userPoolId,
        Username: email,
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
    const sub = (await cognito.send(new AdminGetUserCommand({ UserPoolId: status.userPoolId, Username: email }))).UserAttributes!.find(
      (a) => a.Name === 'sub',
    )!.Value!;
    const known = userIdentity(sub).logId;

    const noticesBefore = noticeLines(sandbox.output()).length;
    const attempts = [];
    for (let i = 0; i < 5; i++) attempts.push(await signIn(email));
    expect(attempts).toEqual([...Array(3).fill('NotAuthorizedException'), 'UserLambdaValidationException', 'UserLambdaValidationException']);
    await until(() => noticeLines(sandbox.output()).length > noticesBefore, 'the lock notice');
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(eventLines(sandbox.output(), known)).toHaveLength(1);
    const notices = noticeLines(sandbox.output()).slice(noticesBefore);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('lock notice "Your account was locked"');
    expect(sandbox.output()).not.toContain(email);

    const stranger = 'nobody-notice@example.com';
    const unknown = unknownNameIdentity(stranger, { caseSensitive: false }).logId;
    for (let i = 0; i < 4; i++) await signIn(stranger);
    await until(() => eventLines(sandbox.output(), unknown).length > 0, "the unknown name's AccountLocked");
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(eventLines(sandbox.output(), unknown)).toHaveLength(1);
    expect(noticeLines(sandbox.output()).slice(noticesBefore)).toHaveLength(1);
    expect(sandbox.output()).not.toMatch(new RegExp(`notice\\s+${unknown}`));
    cognito.destroy();
  }, 60_000);

  it("lets an operator find, and lift, a real user's lock by email with the admin CLI", async () => {
    const cognito = new CognitoIdentityProviderClient({
      endpoint: status.endpoint,
      region: status.region,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    const email = 'Locked.Out@Example.com';
    const signIn = (password: string) =>
      cognito
        .send(
          new InitiateAuthCommand({
            ClientId: status.userPoolClientId,
            AuthFlow: 'USER_PASSWORD_AUTH',
            AuthParameters: { USERNAME: email, PASSWORD: password },
          }),
        )
        .then(
          () => 'signed-in',
          (e: Error) => e.name,
        );
    await cognito.send(new SignUpCommand({ ClientId: status.userPoolClientId, Username: email.toLowerCase(), Password: 'Correct-Horse-42!' }));
    await cognito.send(new AdminConfirmSignUpCommand({ UserPoolId: status.userPoolId, Username: email.toLowerCase() }));
    for (let i = 0; i < 4; i++) await signIn('wrong');
    expect(await signIn('Correct-Horse-42!')).toBe('UserLambdaValidationException');

    const env = {
      ...process.env,
      AWS_REGION: status.region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: status.dynamodbEndpoint,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: status.endpoint,
      AWS_ENDPOINT_URL_STS: status.endpoint,
    };
    const admin = (...args: string[]) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [path.join(root, 'bin', 'cli.js'), ...args, '--table', status.tableName, '--user-pool-id', status.userPoolId, '--json'],
          { env },
        ).toString(),
      );
    expect(admin('status', email)).toMatchObject({ resolvedAs: 'pool-user', locked: true });
    expect(admin('unlock', email)).toMatchObject({ unlocked: true, wasLocked: true });
    expect(await signIn('Correct-Horse-42!')).toBe('signed-in');
    cognito.destroy();
  }, 60_000);

  it('refuses to start a second sandbox on a port in use, with a clear message', async () => {
    const port = portOf(status.endpoint);
    const second = startCli(['--port', String(port), '--dynamodb-port', '0']);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(
      `port ${port} is already in use (is another sandbox running?): stop that process or choose another port with --port N`,
    );
  });

  it('rejects unknown options and invalid settings, naming them', async () => {
    const unknown = startCli(['--maxFailedAtempts', '3']);
    expect(await unknown.exited).toBe(1);
    expect(unknown.output()).toContain('unknown option --maxFailedAtempts');
    const invalid = startCli([...ANY_PORTS, '--lockoutMode', 'strict']);
    expect(await invalid.exited).toBe(1);
    expect(invalid.output()).toContain('context key "lockoutMode" must be one of "enforce", "monitor", got "strict"');
  }, 60_000);

  it('stops cleanly on Ctrl-C: children ended, ports freed', async () => {
    // The processes the sandbox spawns. (tsx may also run an esbuild service child, which leaves by itself
    // when its parent's pipe closes, so it is not the sandbox's to stop.)
    const children = execFileSync('pgrep', ['-P', String(sandbox.child.pid)])
      .toString()
      .trim()
      .split('\n')
      .map(Number)
      .filter((pid) => /DynamoDBLocal\.jar|lambda-host\.ts|cognito-local/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')));
    // DynamoDB Local, cognito-local, and one Lambda host per function: the five triggers of these settings
    // (pre-authentication, post-authentication, pre token generation, pre-signup, post-confirmation) and each stream consumer.
    expect(children).toHaveLength(2 + 5 + status.streamConsumers.length);
    sandbox.child.kill('SIGINT');
    expect(await sandbox.exited).toBe(0);
    expect(sandbox.output()).toContain('stopped; ports freed.');
    expect(await portIsFree(portOf(status.endpoint))).toBe(true);
    expect(await portIsFree(portOf(status.dynamodbEndpoint))).toBe(true);
    const alive = children.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });
});

it('explains that Java is needed when it is missing', async () => {
  // A PATH with Node's tools and a shell (bundling runs npx) but no java.
  const noJava = mkdtempSync(path.join(tmpdir(), 'no-java-'));
  for (const tool of ['node', 'npm', 'npx', 'sh']) symlinkSync(execFileSync('which', [tool]).toString().trim(), path.join(noJava, tool));
  const running = startCli(ANY_PORTS, { ...process.env, PATH: noJava });
  expect(await running.exited).toBe(1);
  expect(running.output()).toContain('DynamoDB Local needs Java 17 or later on the PATH: `java` was not found');
}, 60_000);

it('keeps users and locks across restarts with --persist', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-persist-'));
  const run = async () => {
    const running = startCli([...ANY_PORTS, '--persist', dir, '--maxFailedAttempts', '1']);
    return { running, status: await waitForStatus(running) };
  };
  const signIn = async (status: SandboxStatus) => {
    const cognito = new CognitoIdentityProviderClient({
      endpoint: status.endpoint,
      region: status.region,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      await cognito.send(
        new InitiateAuthCommand({
          ClientId: status.userPoolClientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: 'ghost@example.com', PASSWORD: 'x' },
        }),
      );
      return 'signed-in';
    } catch (error) {
      return (error as Error).name;
    } finally {
      cognito.destroy();
    }
  };
  const first = await run();
  expect([await signIn(first.status), await signIn(first.status)]).toEqual(['NotAuthorizedException', 'UserLambdaValidationException']);
  await until(() => /AccountLocked/.test(first.running.output()), 'the AccountLocked event');
  first.running.child.kill('SIGINT');
  expect(await first.running.exited).toBe(0);

  const second = await run();
  try {
    expect(second.status.userPoolId).toBe(first.status.userPoolId);
    expect(second.status.userPoolClientId).toBe(first.status.userPoolClientId);
    expect(await signIn(second.status)).toBe('UserLambdaValidationException');
    // The announcer's event source mapping resumed after what it had read: the lock is not announced again.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(second.running.output()).not.toContain('AccountLocked');
    expect(second.running.output()).not.toContain('ERROR');
  } finally {
    second.running.child.kill('SIGINT');
    await second.running.exited;
  }
}, 120_000);
