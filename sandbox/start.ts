#!/usr/bin/env node
// `npm start`: a local user pool with the project's lockout, on this machine, no AWS account.
// Options: --port N (9229), --dynamodb-port N (8000), 0 for any free port, --persist DIR, and any lockout setting
// (--maxFailedAttempts 3 ...), the same keys as `cdk deploy -c`.
import * as path from 'node:path';
import { parseArgs, portFlag } from './cli-args';
import { formatDecision } from './decision-log';
import { type SandboxStatus, startSandbox } from './sandbox';

const DEFAULT_PORT = 9229;
const DEFAULT_DYNAMODB_PORT = 8000;

async function main(): Promise<void> {
  // The SDK warns on Node 20 that its releases from January 2027 need Node 22; the README says what Node 20 gets.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { flags, context } = parseArgs(process.argv.slice(2), ['port', 'dynamodb-port', 'persist']);
  let maxAttempts = Number(context.maxFailedAttempts ?? 5);
  const sandbox = await startSandbox({
    projectRoot: path.join(__dirname, '..'),
    port: portFlag(flags, 'port', DEFAULT_PORT),
    dynamodbPort: portFlag(flags, 'dynamodb-port', DEFAULT_DYNAMODB_PORT),
    persistDir: flags.persist,
    context,
    onProgress: (message) => console.log(`… ${message}`),
    onLog: (line) => {
      const text = formatDecision(line, maxAttempts);
      if (text !== undefined) console.log(text);
    },
  });
  maxAttempts = sandbox.status.settings.maxFailedAttempts;
  console.log(banner(sandbox.status, flags.persist));

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the sandbox…`);
    sandbox.stop().then(
      () => {
        console.log('stopped; ports freed.');
        process.exit(0);
      },
      (error: Error) => {
        console.error(`error while stopping: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('Ctrl-C'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

function banner(s: SandboxStatus, persist: string | undefined): string {
  const p = s.settings;
  const permanent = p.maxTemporaryLockouts > 0 ? `permanent after ${p.maxTemporaryLockouts} lockouts` : 'never permanent';
  const cli = `aws --endpoint-url ${s.endpoint} cognito-idp`;
  return `
cognito-lockout sandbox is ready. Ctrl-C stops it${persist ? ` (data kept in ${persist})` : ' (data kept in memory only)'}.
What it emulates, and what it assumes where AWS documents nothing: docs/sandbox.md

  Cognito endpoint  ${s.endpoint}
  User pool id      ${s.userPoolId}
  App client id     ${s.userPoolClientId}
  Managed login     ${s.managedLogin.baseUrl}  (sign-in page: ${s.managedLogin.signInUrl})
  DynamoDB Local    ${s.dynamodbEndpoint}  table "${s.tableName}"
  Sign-in policy    ${p.maxFailedAttempts} attempts per ${p.failureWindowSeconds} s window, then locked ${p.lockoutDurationSeconds} s
                    (x${p.lockoutBackoffMultiplier} per consecutive lockout, up to ${p.maxLockoutDurationSeconds} s, ${permanent});
                    mode ${p.lockoutMode}, store errors: ${p.storeErrorPolicy}
  Sign-up limits    ${p.signUpMaxAttempts} per ${p.signUpWindowSeconds} s per email, phone and user name
  Device tokens     ${p.deviceTokens === 'on' ? `claim "${p.deviceTokenClaim}" in every sign-in's ID token; sent back in clientMetadata, counted in the device's own bucket` : 'off'}
  Table stream      ${s.streamConsumers.length > 0 ? `${s.streamConsumers.join(', ')} (event source mappings, polled like Lambda's)` : 'no consumers (events and notices are off)'}

With the aws CLI (any credentials work locally; SRP, Amplify's default, works too):
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=${s.region}
  ${cli} sign-up --client-id ${s.userPoolClientId} --username you@example.com --password 'Correct-Horse-42'
  ${cli} admin-confirm-sign-up --user-pool-id ${s.userPoolId} --username you@example.com
  ${cli} initiate-auth --client-id ${s.userPoolClientId} --auth-flow USER_PASSWORD_AUTH \\
      --auth-parameters USERNAME=you@example.com,PASSWORD=Correct-Horse-42

With Amplify v6:
  Amplify.configure({ Auth: { Cognito: { userPoolId: '${s.userPoolId}', userPoolClientId: '${s.userPoolClientId}',
                                         userPoolEndpoint: '${s.endpoint}' } } });
  await signIn({ username, password });   // SRP, unchanged from production code
  // Choice-based sign-in (this client allows USER_AUTH; the stack's does not): docs/sandbox.md#choice-based-sign-in
  await signIn({ username, password, options: { authFlowType: 'USER_AUTH', preferredChallenge: 'PASSWORD_SRP' } });
  // Familiar devices: import { deviceTokens } from 'cognito-lockout/client'; const devices = deviceTokens();
  await signIn({ username, password, options: { clientMetadata: await devices.clientMetadata(username) } });
  await devices.remember(username, (await fetchAuthSession()).tokens.idToken);

Admin CLI (finds a user's lock by email through the pool; identities are hashed in the table):
  export AWS_ENDPOINT_URL_DYNAMODB=${s.dynamodbEndpoint} AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=${s.endpoint} AWS_ENDPOINT_URL_STS=${s.endpoint}
  npx cognito-lockout status you@example.com --table ${s.tableName} --user-pool-id ${s.userPoolId}
  npx cognito-lockout unlock you@example.com --table ${s.tableName} --user-pool-id ${s.userPoolId}
  npx cognito-lockout list --locked --table ${s.tableName}${
    s.deviceKeySecret === undefined
      ? ''
      : `
  npx cognito-lockout revoke-devices you@example.com --table ${s.tableName} --user-pool-id ${s.userPoolId}
  AWS_ENDPOINT_URL_SECRETS_MANAGER=${s.deviceKeySecret.endpoint} npx cognito-lockout rotate-device-key --secret ${s.deviceKeySecret.arn} --table ${s.tableName}`
  }
  npm run demo -- --endpoint ${s.endpoint}                                   # the scripted lockout story

Decisions (identities are hashed, as in CloudWatch):`;
}

main().catch((error: Error) => {
  console.error(`npm start: ${error.message}`);
  process.exit(1);
});
