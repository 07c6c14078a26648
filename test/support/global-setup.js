// Runs the package build (`npm run build`: the bundles in dist/assets, the trigger library, the CLI, the client,
// and the compiled library with declarations) once, before any suite: the tests exercise exactly what `npm pack`
// ships, and no suite rebuilds while another reads the bundles.
const { execFileSync } = require('node:child_process');
const process = require('node:process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

module.exports = async () => {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'ignore', 'inherit'] });
  // Where the suites that enforce IAM leave the synthesized app for each other (test/support/iam.ts): fresh per run,
  // so no suite ever enforces the policies of an older build.
  const synthDir = mkdtempSync(path.join(tmpdir(), 'lockout-synth-'));
  process.env.LOCKOUT_TEST_SYNTH_DIR = synthDir;
  process.on('exit', () => rmSync(synthDir, { recursive: true, force: true }));
};
