#!/usr/bin/env node
/**
 * Builds everything the package ships as bundled JavaScript, once, with one set of esbuild options:
 *   dist/assets/<trigger>/index.js  the Lambda bundles the construct deploys (Code.fromAsset)
 *   dist/triggers/index.js          the trigger logic for functions users own (composition), same options
 *   dist/cli/index.js               the admin CLI (`npx cognito-lockout`)
 *   dist/client/index.{js,mjs}      the front-end helper, CommonJS and ES module, no dependency
 * The AWS SDK and Powertools are bundled in, so neither a consumer's versions nor their presence matter, and
 * the code that runs is exactly the code that was tested. The project's own app, sandbox, benchmark and tests
 * use these same files: there is no second build path.
 *
 * Usage: node scripts/build-assets.mjs            everything
 *        node scripts/build-assets.mjs --lambdas  the Lambda bundles only (what the CDK app deploys, see bin/cognito-lockout.ts)
 */
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lambdaNodeMajor, supportedMajors } from './node-majors.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

/** Node.js code for Lambda (the runtime's major, ARM64 or x86: esbuild output is architecture-independent). */
export const LAMBDA_OPTIONS = {
  bundle: true,
  minify: true,
  sourcemap: true,
  // Stack traces need the mappings only: without the sources inside, the map Node parses at a cold start's first
  // stack trace (NODE_OPTIONS=--enable-source-maps) is a third of the size, and so is the asset's.
  sourcesContent: false,
  platform: 'node',
  target: `node${lambdaNodeMajor()}`,
  format: 'cjs',
  // The SDK's ES module builds let esbuild drop the commands the code never sends.
  mainFields: ['module', 'main'],
  // Lambda supplies credentials in the environment: the SDK's default chain (SSO, INI files, IMDS...) is dead weight.
  alias: { '@aws-sdk/credential-provider-node': path.join(root, 'lambdas', 'runtime', 'env-credentials.ts') },
  logLevel: 'warning',
  legalComments: 'linked',
};

/**
 * Each function's bundle and the factory in lambdas/factories/ it runs. The entry is generated here, one line that
 * builds the handler once per cold start (`export const handler = preAuthenticationHandler()`), so no source file
 * exists only to forward: from a bundle to its logic is factory, then handler (lambdas/handlers/). The two stay
 * apart for a consumer-facing reason: the factories are the `cognito-lockout/triggers` API (a pool that already has
 * triggers runs the lockout inside its own functions, configured from the environment), while a handler takes its
 * dependencies as an argument (tests, the sandbox).
 */
export const FACTORIES = {
  'pre-authentication': 'preAuthenticationHandler',
  'post-authentication': 'postAuthenticationHandler',
  'pre-signup': 'preSignUpHandler',
  'post-confirmation': 'postConfirmationHandler',
  'pre-token-generation': 'preTokenGenerationHandler',
  'notify-user': 'notifyUserHandler',
  announcer: 'announcerHandler',
};

/**
 * The bundles of the functions that check or sign device tokens: contract.ts `DEVICE_KEY_READERS`, read from the one
 * place it is set (as node-majors.mjs reads the runtime's major). Their Secrets Manager client is a file of its own
 * beside the bundle, required at the first secret read (lambdas/runtime/secret-reader.ts): pre-authentication and
 * post-authentication read the key only for an event that carries a token, so their cold starts without one never
 * parse it (pre token generation signs at every sign-in and reads at init).
 */
function deviceKeyReaders() {
  const contract = readFileSync(path.join(root, 'lambdas', 'shared', 'contract.ts'), 'utf8');
  const list = /export const DEVICE_KEY_READERS: readonly TriggerName\[\] = \[([^\]]*)\];/.exec(contract);
  if (list === null) throw new Error('lambdas/shared/contract.ts does not set DEVICE_KEY_READERS');
  return [...list[1].matchAll(/'(\w+)'/g)].map(([, trigger]) => {
    const bundle = trigger.replace(/(?<!^)[A-Z]/g, (letter) => `-${letter}`).toLowerCase();
    if (!(bundle in FACTORIES)) throw new Error(`DEVICE_KEY_READERS names ${trigger}, which has no bundle named ${bundle}`);
    return bundle;
  });
}
const READS_DEVICE_KEY = deviceKeyReaders();

/** The Lambda bundles the construct deploys; each overwrites its own files, so readers never see a missing bundle. */
function lambdaBundles() {
  return Object.entries(FACTORIES).flatMap(([name, factory]) => [
    build({
      ...LAMBDA_OPTIONS,
      ...(READS_DEVICE_KEY.includes(name) ? { external: ['./secrets-client'] } : {}),
      stdin: {
        contents: `import { ${factory} } from './factories/${name}';\nexport const handler = ${factory}();\n`,
        resolveDir: path.join(root, 'lambdas'),
        sourcefile: `lambdas/${name}.entry.ts`,
        loader: 'ts',
      },
      outfile: path.join(dist, 'assets', name, 'index.js'),
    }),
    ...(READS_DEVICE_KEY.includes(name)
      ? [
          build({
            ...LAMBDA_OPTIONS,
            entryPoints: [path.join(root, 'lambdas', 'runtime', 'secrets-client.ts')],
            outfile: path.join(dist, 'assets', name, 'secrets-client.js'),
          }),
        ]
      : []),
  ]);
}

export async function buildLambdaBundles() {
  await Promise.all(lambdaBundles());
}

export async function buildAssets() {
  for (const dir of ['assets', 'triggers', 'cli', 'client']) rmSync(path.join(dist, dir), { recursive: true, force: true });
  await Promise.all([
    ...lambdaBundles(),
    // Rebundled by the consumer's own tooling: readable, no source map.
    build({
      ...LAMBDA_OPTIONS,
      entryPoints: [path.join(root, 'lambdas', 'triggers.ts')],
      outfile: path.join(dist, 'triggers', 'index.js'),
      minify: false,
      sourcemap: false,
    }),
    // The CLI runs on the operator's machine: the SDK's full credential chain (profiles, SSO) is wanted there.
    build({
      ...LAMBDA_OPTIONS,
      alias: {},
      // The oldest Node.js the package supports (engines.node).
      target: `node${supportedMajors()[0]}`,
      minify: false,
      sourcemap: false,
      entryPoints: [path.join(root, 'bin', 'admin.ts')],
      outfile: path.join(dist, 'cli', 'index.js'),
    }),
    ...['cjs', 'esm'].map((format) =>
      build({
        entryPoints: [path.join(root, 'lib', 'client', 'index.ts')],
        bundle: true,
        platform: 'neutral',
        target: 'es2020',
        format,
        outfile: path.join(dist, 'client', format === 'cjs' ? 'index.js' : 'index.mjs'),
        logLevel: 'warning',
      }),
    ),
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  (process.argv.includes('--lambdas') ? buildLambdaBundles() : buildAssets()).catch((error) => {
    console.error(`build-assets: ${error.message}`);
    process.exit(1);
  });
}
