// @ts-check
/**
 * `npm run package`: the construct library for every language jsii targets here, into dist/packages/:
 *   js/      the npm tarball (exactly what `npm pack` makes: the .jsii assembly, the compiled library, the Lambda bundles)
 *   python/  a wheel and an sdist
 *   java/    Maven artifacts, in a file repository layout (io/github/cognito-lockout/cognito-lockout/<version>/)
 *   go/      a Go module (cognitolockout/, with its go.mod)
 * Every language's package embeds that same npm tarball, which the jsii kernel unpacks at run time: the Lambda bundles
 * a Python, Java or Go app deploys are the bytes the npm package ships.
 *
 * jsii-pacmak runs on the unpacked tarball, not on the clone: the clone's package.json has a devDependency on the
 * package itself (`file:`, so that `npx cognito-lockout` runs the admin CLI in a clone), which pacmak would take for a
 * dependency cycle. devDependencies mean nothing to an installed package, so the staged copy drops them.
 *
 * `node scripts/package-languages.mjs [python java go]` builds only the targets named (default: all three).
 * Maven downloads are kept in ~/.m2/repository (pacmak's default is a fresh one per build); Go's in its own cache.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGETS = ['python', 'java', 'go'];
const targets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : TARGETS;
for (const target of targets) if (!TARGETS.includes(target)) throw new Error(`unknown target ${target}: one of ${TARGETS.join(', ')}`);

const out = path.join(root, 'dist', 'packages');
// Inside the clone, so that the staged package resolves aws-cdk-lib and constructs (their .jsii) from node_modules.
const stage = path.join(root, 'dist', 'stage');
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
mkdirSync(path.join(out, 'js'), { recursive: true });

const env = { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '1' };
const run = (/** @type {string} */ file, /** @type {string[]} */ args, /** @type {string} */ cwd = root) =>
  execFileSync(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

const started = Date.now();
// `npm pack` runs prepack (the build: bundles, then jsii) and prints the tarball's name last.
const tarball =
  run('npm', ['pack', '--silent', '--pack-destination', path.join(out, 'js')])
    .trim()
    .split('\n')
    .pop() ?? '';
const tarballPath = path.join(out, 'js', tarball);
run('tar', ['-xzf', tarballPath, '-C', stage]);
const staged = path.join(stage, 'package');
const manifest = JSON.parse(readFileSync(path.join(staged, 'package.json'), 'utf8'));
delete manifest.devDependencies;
writeFileSync(path.join(staged, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
// pacmak asks for the npm tarball it embeds with this command, run in the staged package: hand it the one built above.
copyFileSync(tarballPath, path.join(staged, tarball));
const packCommand = `node -e "console.log(${JSON.stringify(tarball).replace(/"/g, "'")})"`;

const pacmak = path.join(root, 'node_modules', '.bin', 'jsii-pacmak');
for (const target of targets) rmSync(path.join(out, target), { recursive: true, force: true });
run(
  pacmak,
  [
    staged,
    '--outdir',
    out,
    '--targets',
    ...targets,
    '--pack-command',
    packCommand,
    '--maven-local-repository',
    path.join(homedir(), '.m2', 'repository'),
  ],
  root,
);
rmSync(stage, { recursive: true, force: true });
for (const target of ['js', ...targets]) console.log(`dist/packages/${target}: ${readdirSync(path.join(out, target)).join(', ')}`);
console.log(`packaged ${targets.join(', ')} in ${Math.round((Date.now() - started) / 1000)} s`);
