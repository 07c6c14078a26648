// @ts-check
/**
 * The Node.js majors the project supports, and so the ones CI runs the whole suite on: every major `engines.node`
 * in package.json names (`^22.12.0 || ^24.0.0`), which must include the major of the Lambda runtime the construct
 * deploys (LAMBDA_NODE_MAJOR in lambdas/shared/contract.ts; test/node-majors.test.ts fails when it does not).
 * `node scripts/node-majors.mjs` prints them, space-separated, for .ci/run.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The majors `engines.node` names, in ascending order. */
export function supportedMajors(pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'))) {
  const range = pkg.engines?.node;
  if (typeof range !== 'string') throw new Error('package.json has no engines.node');
  const majors = [...range.matchAll(/\^(\d+)\./g)].map((m) => Number(m[1]));
  if (majors.length === 0) throw new Error(`engines.node must list majors as ^N.x.y ranges, got ${JSON.stringify(range)}`);
  return [...new Set(majors)].sort((a, b) => a - b);
}

/** The major of the Lambda runtime the construct deploys, read from the one place it is set. */
export function lambdaNodeMajor(contract = readFileSync(path.join(root, 'lambdas', 'shared', 'contract.ts'), 'utf8')) {
  const match = /export const LAMBDA_NODE_MAJOR = (\d+);/.exec(contract);
  if (match === null) throw new Error('lambdas/shared/contract.ts does not set LAMBDA_NODE_MAJOR');
  return Number(match[1]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const majors = supportedMajors();
  const lambda = lambdaNodeMajor();
  if (!majors.includes(lambda)) {
    process.stderr.write(`the Lambda runtime's Node.js ${lambda} is not among engines.node's majors (${majors.join(', ')}): add it\n`);
    process.exit(1);
  }
  process.stdout.write(`${majors.join(' ')}\n`);
}
