// Runs the package build (`npm run build`: the bundles in dist/assets, the trigger library, the CLI, the client,
// and the compiled library with declarations) once, before any suite: the tests exercise exactly what `npm pack`
// ships, and no suite rebuilds while another reads the bundles.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'ignore', 'inherit'] });
};
