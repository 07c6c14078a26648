/**
 * The package as users get it: `npm pack` of the package build, the tarball installed offline into
 * throwaway apps, each synthesized with no network. Apps: TypeScript compiled by tsc under the strictest flags,
 * ts-node, plain CommonJS, an ES module, and an app whose own pre-authentication function runs the lockout's
 * logic from `cognito-lockout/triggers`. Then the front-end helper bundled for a browser.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { GENERIC_FAILURE_MESSAGE } from '../lambdas/shared/messages';

const run = promisify(execFile);
const root = path.join(__dirname, '..');
const quiet = {
  ...process.env,
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
};
let work: string;
let tarball: string;
let contents: string[];

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'lockout-consumer-'));
  // The package build (prepack) already ran once for the whole test run (test/support/global-setup.js): packing
  // again without scripts keeps other suites from reading bundles while they are rebuilt.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: root,
    env: quiet,
    maxBuffer: 1 << 26,
  });
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(work, packed.filename);
  contents = packed.files.map((f) => f.path);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A throwaway app: the tarball unpacked as node_modules/cognito-lockout (what npm does), its peers beside it. */
async function makeApp(name: string, files: Record<string, string>, links: string[] = []): Promise<string> {
  const dir = path.join(work, name);
  const modules = path.join(dir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const unpack = path.join(work, `${name}-unpack`);
  mkdirSync(unpack);
  await run('tar', ['-xzf', tarball, '-C', unpack]);
  await run('mv', [path.join(unpack, 'package'), path.join(modules, 'cognito-lockout')]);
  // Peers and tools from this repository's lockfile install: nothing is fetched.
  for (const pkg of ['aws-cdk-lib', 'constructs', ...links]) {
    mkdirSync(path.dirname(path.join(modules, pkg)), { recursive: true });
    symlinkSync(path.join(root, 'node_modules', pkg), path.join(modules, pkg), 'dir');
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- template properties are read by path, as in CDK's own assertions
type Json = any;
type Template = {
  Resources: Record<string, { Type: string; Properties: Record<string, Json>; Metadata?: Record<string, string> }>;
  Outputs?: Record<string, unknown>;
};

/** Runs an app's entry with node, synthesizing into cdk.out, and returns the stack's template. */
async function synth(dir: string, args: string[]): Promise<Template> {
  const out = path.join(dir, 'cdk.out');
  await run(process.execPath, args, { cwd: dir, env: { ...quiet, CDK_OUTDIR: out }, maxBuffer: 1 << 26 });
  return JSON.parse(readFileSync(path.join(out, 'Consumer.template.json'), 'utf8')) as Template;
}

/** The consumer's pool is wired to our pre-authentication bundle, which carries the consumer's settings. */
function expectWired(template: Template, dir: string, maxFailedAttempts: string): void {
  const pools = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Cognito::UserPool');
  expect(pools).toHaveLength(1);
  const fnId = pools[0].Properties.LambdaConfig.PreAuthentication['Fn::GetAtt'][0] as string;
  const fn = template.Resources[fnId];
  expect(fn.Properties.Environment.Variables.LOCKOUT_MAX_FAILED_ATTEMPTS).toBe(maxFailedAttempts);
  expect(fn.Properties.Runtime).toBe('nodejs24.x');
  const asset = fn.Metadata?.['aws:asset:path'];
  expect(readFileSync(path.join(dir, 'cdk.out', asset!, 'index.js'), 'utf8').length).toBeGreaterThan(10_000);
}

const APP_BODY = (imports: string) => `${imports}
// The CDK reads its output folder from CDK_OUTDIR, as the CLI sets it.
const app = new App({ context: { 'aws:cdk:enable-asset-metadata': true } });
const stack = new Stack(app, 'Consumer');
const pool = new UserPool(stack, 'Pool', { signInAliases: { email: true } });
new CognitoLockout(stack, 'Lockout', { userPool: pool, maxFailedAttempts: 3, lockoutDuration: Duration.hours(1) });
app.synth();
`;

describe('the packed tarball', () => {
  it('holds the library and nothing else: compiled code, declarations, bundles, LICENSE', () => {
    for (const needed of [
      'LICENSE',
      'README.md',
      // The README's pages: its links work in the package too.
      'docs/configuration.md',
      'package.json',
      'bin/cli.js',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      // The jsii assembly: what the Python, Java and Go packages call into.
      '.jsii',
      'dist/assets/pre-authentication/index.js',
      'dist/triggers/index.js',
      'dist/client/index.mjs',
      'dist/cli/index.js',
    ]) {
      expect(contents).toContain(needed);
    }
    expect(contents.filter((f) => /^(test|bench|scripts|sandbox|\.ci|lambdas|lib|docs\/api)\/|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('declares no dependency: the bundles carry the AWS SDK, aws-cdk-lib and constructs are peers', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, Json>;
    expect(manifest.dependencies).toBeUndefined();
    expect(Object.keys(manifest.peerDependencies)).toEqual(['aws-cdk-lib', 'constructs']);
    expect(manifest.private).toBeUndefined();
  });
});

describe('apps that install it', () => {
  it('a TypeScript app compiled by tsc with strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess', async () => {
    const dir = await makeApp(
      'tsc-app',
      {
        'tsconfig.json': JSON.stringify({
          // skipLibCheck: aws-cdk-lib's own declarations do not compile under exactOptionalPropertyTypes; ours are
          // checked below without it.
          compilerOptions: {
            target: 'ES2022',
            module: 'commonjs',
            strict: true,
            exactOptionalPropertyTypes: true,
            noUncheckedIndexedAccess: true,
            outDir: 'out',
            types: ['node'],
            skipLibCheck: true,
          },
          include: ['app.ts'],
        }),
        'app.ts': APP_BODY(
          "import { App, Duration, Stack } from 'aws-cdk-lib';\nimport { UserPool } from 'aws-cdk-lib/aws-cognito';\nimport { CognitoLockout, type CognitoLockoutProps, LockoutMode } from 'cognito-lockout';\nconst typed: Pick<CognitoLockoutProps, 'mode'> = { mode: LockoutMode.MONITOR };\nvoid typed;",
        ),
      },
      ['typescript', '@types/node'],
    );
    const tsc = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(process.execPath, [tsc, '-p', dir], { cwd: dir });
    expectWired(await synth(dir, ['out/app.js']), dir, '3');
    // Our declarations, checked under the same flags: no error may point into the package.
    const strict = await run(process.execPath, [tsc, '-p', dir, '--noEmit', '--skipLibCheck', 'false'], { cwd: dir }).then(
      ({ stdout }) => stdout,
      (error: { stdout: string }) => error.stdout,
    );
    expect(strict.split('\n').filter((line) => line.includes('cognito-lockout'))).toEqual([]);
    expect(strict).toMatch(/aws-cdk-lib/); // the check did run, and met aws-cdk-lib's own declarations
  }, 120_000);

  it('a ts-node app', async () => {
    const dir = await makeApp(
      'ts-node-app',
      {
        'tsconfig.json': JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, types: ['node'] } }),
        'app.ts': APP_BODY(
          "import { App, Duration, Stack } from 'aws-cdk-lib';\nimport { UserPool } from 'aws-cdk-lib/aws-cognito';\nimport { CognitoLockout } from 'cognito-lockout';",
        ),
      },
      ['typescript', 'ts-node', '@types/node'],
    );
    expectWired(await synth(dir, ['-r', 'ts-node/register', 'app.ts']), dir, '3');
  }, 120_000);

  it('a plain CommonJS app, whose synth loads neither the AWS SDK nor Powertools', async () => {
    const dir = await makeApp('cjs-app', {
      'app.js': `${APP_BODY("const { App, Duration, Stack } = require('aws-cdk-lib');\nconst { UserPool } = require('aws-cdk-lib/aws-cognito');\nconst { CognitoLockout } = require('cognito-lockout');")}
const loaded = Object.keys(require.cache).filter((f) => /@aws-sdk|@aws-lambda-powertools/.test(f));
if (loaded.length > 0) { console.error('runtime code loaded at synth:', loaded.slice(0, 3)); process.exit(3); }
`,
    });
    expectWired(await synth(dir, ['app.js']), dir, '3');
  }, 120_000);

  it('an ES module app', async () => {
    const dir = await makeApp('esm-app', {
      'app.mjs': APP_BODY(
        "import { App, Duration, Stack } from 'aws-cdk-lib';\nimport { UserPool } from 'aws-cdk-lib/aws-cognito';\nimport { CognitoLockout } from 'cognito-lockout';",
      ),
    });
    expectWired(await synth(dir, ['app.mjs']), dir, '3');
  }, 120_000);

  it('an app that runs the lockout inside its own pre-authentication trigger', async () => {
    const dir = await makeApp('composed-app', {
      'app.js': `const { App, Duration, Stack } = require('aws-cdk-lib');
const { UserPool, UserPoolOperation } = require('aws-cdk-lib/aws-cognito');
const { Code, Function, Runtime } = require('aws-cdk-lib/aws-lambda');
const { CognitoLockout } = require('cognito-lockout');
const app = new App();
const stack = new Stack(app, 'Consumer');
const pool = new UserPool(stack, 'Pool');
const mine = new Function(stack, 'MyPreAuth', { runtime: Runtime.NODEJS_24_X, handler: 'index.handler', code: Code.fromAsset('my-pre-auth') });
pool.addTrigger(UserPoolOperation.PRE_AUTHENTICATION, mine);
new CognitoLockout(stack, 'Lockout', { userPool: pool, maxFailedAttempts: 4, ownFunctions: { preAuthentication: mine } });
app.synth();
`,
      // The user's own trigger: their check, after the lockout's.
      'my-pre-auth/index.js': `const { preAuthenticationHandler } = require('cognito-lockout/triggers');
const lockout = preAuthenticationHandler();
exports.handler = async (event, context) => {
  await lockout(event, context);
  if (event.request.userAttributes['custom:blocked'] === 'true') throw new Error('Account blocked');
  return event;
};
`,
    });
    const template = await synth(dir, ['app.js']);
    const pool = Object.values(template.Resources).find((r) => r.Type === 'AWS::Cognito::UserPool')!;
    const fn = template.Resources[pool.Properties.LambdaConfig.PreAuthentication['Fn::GetAtt'][0]];
    expect(fn.Properties.Handler).toBe('index.handler');
    // CDK's default pool compares names case-sensitively: the functions are told so, and the app author warned.
    expect(fn.Properties.Environment.Variables).toMatchObject({
      LOCKOUT_MAX_FAILED_ATTEMPTS: '4',
      LOCKOUT_TABLE_NAME: expect.anything(),
      LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'true',
    });
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(6); // theirs, our four other triggers and the announcer

    // The user's function, as Lambda would run it from its asset: misconfigured it answers the generic message;
    // configured, with the store unreachable, it decides from its instance record (store-error policy local).
    const handlerPath = path.join(dir, 'my-pre-auth', 'index.js');
    const probe = `
      const { handler } = require(${JSON.stringify(handlerPath)});
      const event = { version: '1', triggerSource: 'PreAuthentication_Authentication', region: 'us-east-1', userPoolId: 'us-east-1_x', userName: 'jane',
        callerContext: { awsSdkVersion: 'x', clientId: 'x' }, request: { userAttributes: { sub: '7f1c0c4e-0000-4000-8000-00000000000a' } }, response: {} };
      handler(event, { getRemainingTimeInMillis: () => 3000 }).then(() => console.log('returned'), (e) => console.log('threw: ' + e.message));`;
    const misconfigured = await run(process.execPath, ['-e', probe], {
      env: { PATH: process.env.PATH, POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    });
    expect(misconfigured.stdout.trim()).toBe(`threw: ${GENERIC_FAILURE_MESSAGE}`);
    const configured = await run(process.execPath, ['-e', probe], {
      env: {
        PATH: process.env.PATH,
        LOCKOUT_TABLE_NAME: 'lockout',
        LOCKOUT_SIGN_IN_CASE_SENSITIVE: 'false',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
        AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
      },
    });
    expect(configured.stdout.trim()).toBe('returned');
  }, 120_000);
});

describe('the front-end helper from the tarball', () => {
  it('bundles for a browser with no SDK or CDK code, and recognizes a refusal from both module formats', async () => {
    const dir = await makeApp('browser-app', {
      'main.js': "import { recognizeLockout } from 'cognito-lockout/client';\nwindow.check = (e) => recognizeLockout(e);\n",
    });
    const result = await build({
      absWorkingDir: dir,
      entryPoints: ['main.js'],
      bundle: true,
      minify: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0].text;
    expect(code.length).toBeLessThan(3000);
    expect(code).not.toMatch(/aws-sdk|aws-cdk-lib|smithy|powertools/i);
    const refusal = {
      name: 'UserLambdaValidationException',
      message: 'PreAuthentication failed with error Too many failed sign-in attempts. Try again later..',
    };
    const check = `
      const refusal = ${JSON.stringify(refusal)};
      const cjs = require('cognito-lockout/client').recognizeLockout(refusal);
      import('cognito-lockout/client').then((esm) => console.log(JSON.stringify([cjs, esm.recognizeLockout(refusal)])));`;
    const { stdout } = await run(process.execPath, ['-e', check], { cwd: dir });
    const expected = { locked: true, message: 'Too many failed sign-in attempts. Try again later.', trigger: 'PreAuthentication' };
    expect(JSON.parse(stdout)).toEqual([expected, expected]);
    expect(existsSync(path.join(dir, 'node_modules', 'cognito-lockout', 'dist', 'client', 'index.mjs'))).toBe(true);
    // The device token keeper, from both formats: a token from an ID token's claim becomes the next clientMetadata.
    const idToken = ['e30', Buffer.from(JSON.stringify({ lockout_device: 'abc.def' })).toString('base64url'), 'sig'].join('.');
    const devices = `
      const keep = async (m) => { const d = m.deviceTokens(); await d.remember('Jane', ${JSON.stringify(idToken)}); return d.clientMetadata('jane'); };
      Promise.all([keep(require('cognito-lockout/client')), import('cognito-lockout/client').then(keep)]).then((r) => console.log(JSON.stringify(r)));`;
    const kept = await run(process.execPath, ['-e', devices], { cwd: dir });
    expect(JSON.parse(kept.stdout)).toEqual([{ lockout_device: 'abc.def' }, { lockout_device: 'abc.def' }]);
    expect(readdirSync(path.join(dir, 'node_modules', 'cognito-lockout'))).not.toContain('node_modules');
  });
});
