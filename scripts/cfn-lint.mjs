#!/usr/bin/env node
// @ts-check
/**
 * Lints synthesized CloudFormation templates with cfn-lint, CloudFormation's linter (a Python tool from PyPI).
 *
 * Usage: node scripts/cfn-lint.mjs <file.template.json | cdk.out dir>...  the templates given; for a directory,
 *                                                                         every top-level *.template.json in it
 *        node scripts/cfn-lint.mjs --synth                                the project's app, synthesized as deployed
 *                                                                         (`npm run lint:cfn`)
 *
 * The first run creates a Python venv (`python3`, 3.10 or later; CFN_LINT_PYTHON names another interpreter) at
 * ${XDG_CACHE_HOME:-~/.cache}/cognito-lockout/cfn-lint/<CFN_LINT_VERSION> and pip-installs cfn-lint there; later
 * runs reuse it. Exits non-zero on any error and on any warning not in KEPT_WARNINGS; informational messages are
 * not reported. No user or project .cfnlintrc is read: what is checked is what this file says.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The cfn-lint release, from PyPI. Raising it may report new findings: fix them, or keep them below with a reason. */
export const CFN_LINT_VERSION = '1.58.0';

/**
 * Warnings kept: not reported, and so not failing the lint. Each with why it is harmless. docs/development.md
 * ("CloudFormation lint") lists the same.
 */
export const KEPT_WARNINGS = {
  // aws-cdk-lib's lambda.Function adds DependsOn on its own role (and the role's default policy, which is needed)
  // while its Role property already references the role: a redundant, harmless ordering hint we cannot remove.
  W3005: 'redundant DependsOn from each Lambda function to its own role, added by aws-cdk-lib (lambda.Function), not by us',
};

/** The region the templates are checked against (resource types, properties and values available there). */
const REGIONS = ['us-east-1'];

/** What `--synth` lints: the app as `cdk deploy` deploys it from a clone, and with the one optional function on. */
const DEPLOYMENTS = [
  { name: 'default', context: [] },
  { name: 'notify-user', context: ['-c', 'notifyUserFrom=security@example.com'] },
];

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The venv's directory for this version; `XDG_CACHE_HOME` unset or empty means ~/.cache. */
function venvDir() {
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'cognito-lockout', 'cfn-lint', CFN_LINT_VERSION);
}

/** Runs a command with inherited output; returns its exit status (1 when it could not start). */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) {
    console.error(`cfn-lint.mjs: could not run ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

function usable(venv) {
  if (!existsSync(path.join(venv, 'installed'))) return false;
  // The interpreter the venv was made from may have gone (a Python upgrade): then make it again.
  return spawnSync(path.join(venv, 'bin', 'python'), ['-c', 'import cfnlint'], { stdio: 'ignore' }).status === 0;
}

/**
 * The venv with cfn-lint, created on first use. It is built beside its final place and renamed into it when
 * complete, so an interrupted install is never taken for a finished one and two runs at once do not collide (the
 * venv is run through bin/python, which finds its venv wherever the folder is).
 */
function ensureVenv() {
  const venv = venvDir();
  if (usable(venv)) return venv;
  const python = process.env.CFN_LINT_PYTHON || 'python3';
  const check = 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 3)';
  if (run(python, ['-c', check]) !== 0) {
    throw new Error(`cfn-lint ${CFN_LINT_VERSION} needs Python 3.10 or later as \`${python}\` (set CFN_LINT_PYTHON to use another)`);
  }
  console.error(`cfn-lint.mjs: installing cfn-lint ${CFN_LINT_VERSION} from PyPI into ${venv} (once)`);
  mkdirSync(path.dirname(venv), { recursive: true });
  rmSync(venv, { recursive: true, force: true });
  const partial = `${venv}.partial-${process.pid}`;
  try {
    if (run(python, ['-m', 'venv', partial]) !== 0) throw new Error(`\`${python} -m venv\` failed`);
    const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `cfn-lint==${CFN_LINT_VERSION}`];
    if (run(path.join(partial, 'bin', 'python'), pip) !== 0) throw new Error(`pip could not install cfn-lint==${CFN_LINT_VERSION}`);
    writeFileSync(path.join(partial, 'installed'), `cfn-lint==${CFN_LINT_VERSION}\n`);
    try {
      renameSync(partial, venv);
    } catch (error) {
      // Another run finished first: use its venv.
      if (!usable(venv)) throw error;
    }
  } finally {
    rmSync(partial, { recursive: true, force: true });
  }
  return venv;
}

/** The templates an argument names: the file itself, or a directory's top-level *.template.json files. */
function templatesOf(arg) {
  if (!statSync(arg, { throwIfNoEntry: false })) throw new Error(`${arg}: no such file or directory`);
  if (!statSync(arg).isDirectory()) return [arg];
  const found = readdirSync(arg)
    .filter((name) => name.endsWith('.template.json'))
    .sort()
    .map((name) => path.join(arg, name));
  if (found.length === 0) throw new Error(`${arg}: no *.template.json in it`);
  return found;
}

/** Runs cfn-lint on the templates; returns its exit status (0: no error and no warning that is not kept). */
export function lint(templates) {
  const venv = ensureVenv();
  const args = [
    // No ~/.cfnlintrc or ./.cfnlintrc: the options are all here.
    ['--config-file', process.platform === 'win32' ? 'NUL' : '/dev/null'],
    ['--regions', ...REGIONS],
    // `I`: every informational rule.
    ['--ignore-checks', 'I', ...Object.keys(KEPT_WARNINGS)],
    ['--non-zero-exit-code', 'warning'],
    ['--', ...templates],
  ].flat();
  const main = 'import sys; from cfnlint.runner import main; sys.exit(main())';
  const status = run(path.join(venv, 'bin', 'python'), ['-c', main, ...args]);
  const kept = Object.keys(KEPT_WARNINGS).join(', ');
  const summary = `cfn-lint ${CFN_LINT_VERSION}: ${templates.length} template(s), ${REGIONS.join(', ')}, warnings kept: ${kept}`;
  // cfn-lint's exit status is a bit field: 2 errors, 4 warnings (informational, 8, is off here); others are its own failures.
  const found = [status & 2 && 'errors', status & 4 && 'warnings not kept'].filter(Boolean).join(' and ') || 'cfn-lint failed';
  console.error(status === 0 ? `${summary}: no error, no other warning` : `${summary}: FAILED (${found}, exit ${status})`);
  return status;
}

/** Synthesizes each deployment with the CDK CLI and cdk.json, as deployed (offline), then lints them all. */
function synthAndLint() {
  const out = mkdtempSync(path.join(tmpdir(), 'lockout-cfn-lint-'));
  try {
    const templates = [];
    for (const { name, context } of DEPLOYMENTS) {
      const dir = path.join(out, name);
      console.error(`cfn-lint.mjs: cdk synth ${context.join(' ')}`.trimEnd());
      if (run('npx', ['cdk', 'synth', '--quiet', ...context, '-o', dir], { cwd: root }) !== 0) {
        throw new Error(`cdk synth of the ${name} deployment failed`);
      }
      templates.push(...templatesOf(dir));
    }
    return lint(templates);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  try {
    if (args.length === 1 && args[0] === '--synth') process.exitCode = synthAndLint();
    else if (args.length > 0 && !args.some((arg) => arg.startsWith('-'))) process.exitCode = lint(args.flatMap(templatesOf));
    else {
      console.error('usage: node scripts/cfn-lint.mjs <file.template.json | cdk.out dir>...\n       node scripts/cfn-lint.mjs --synth');
      process.exitCode = 2;
    }
  } catch (error) {
    console.error(`cfn-lint.mjs: ${error instanceof Error ? error.message : error}`);
    process.exitCode = 1;
  }
}
