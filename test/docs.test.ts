/**
 * The README and the pages in docs/ as a newcomer follows them: the configuration reference and the published
 * bundle sizes match the code, every page is reached from the README, every link lands, and the API reference
 * generates from the JSDoc without a warning.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { KNOBS, DEFAULT_SETTINGS, SETTING_NAMES } from '../lambdas/policy/settings';
import { propNameOf } from '../lib/lockout-props';

const root = path.join(__dirname, '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const PAGES = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const rows = read('docs/configuration.md')
  .split('\n')
  .filter((line) => line.startsWith('| `'));

describe('the configuration reference (docs/configuration.md)', () => {
  it.each(SETTING_NAMES)('documents %s with its context key, prop, variable and default', (name) => {
    const row = rows.find((line) => line.includes(`\`${KNOBS[name].env}\``));
    expect(row).toBeDefined();
    expect(row).toContain(`| \`${name}\` |`);
    expect(row).toContain(`\`${propNameOf(name)}\``);
    expect(row).toContain(String(DEFAULT_SETTINGS[name]));
  });
});

describe('the benchmark figures (docs/benchmarks.md)', () => {
  // The published sizes are the bundles the package builds now (jest's global setup builds them): a code change that
  // moves a size means the figures must be regenerated (`npm run bench`), not left describing other code.
  const sizes = new Map(
    read('docs/benchmarks.md')
      .split('\n')
      .map((line) => /^\| (PreAuthentication|PostAuthentication|PreSignUp|PostConfirmation|PreTokenGeneration) \| (\d+) \|/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => [match[1], Number(match[2])]),
  );
  const assetOf = (trigger: string) =>
    trigger.replace(/[A-Z]/g, (c, i) => `${i === 0 ? '' : '-'}${c.toLowerCase()}`).replace('pre-sign-up', 'pre-signup');

  it.each(['PreAuthentication', 'PostAuthentication', 'PreSignUp', 'PostConfirmation', 'PreTokenGeneration'])(
    'publishes the size of the %s bundle as built',
    (trigger) => {
      expect(sizes.get(trigger)).toBe(statSync(path.join(__dirname, '..', 'dist', 'assets', assetOf(trigger), 'index.js')).size);
    },
  );
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
const anchorsIn = (file: string) => new Set([...read(file).matchAll(/^#{1,6} (.*)$/gm)].map((m) => anchorOf(m[1])));

describe('the README and docs/', () => {
  it('keeps the README a page a newcomer reads in minutes', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(250);
  });

  it('links every page in docs/ from the README', () => {
    const readme = read('README.md');
    for (const page of PAGES.filter((p) => p !== 'README.md')) expect({ page, linked: readme.includes(`](${page}`) }).toEqual({ page, linked: true });
  });

  it.each(PAGES)('%s: every relative link reaches a file, and every anchor a heading', (page) => {
    const broken: string[] = [];
    for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      const [file, anchor] = target.split('#');
      const resolved = file === '' ? page : path.join(path.dirname(page), file);
      if (!existsSync(path.join(root, resolved))) broken.push(`${target} (no ${resolved})`);
      else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsIn(resolved).has(anchor)) broken.push(`${target} (no heading)`);
    }
    expect(broken).toEqual([]);
  });
});

describe('the Python, Java and Go examples (docs/languages.md)', () => {
  // Each example is the stack of a consumer app that CI builds and checks (scripts/consumer-apps.sh).
  it.each([
    ['python', 'consumers/python/app.py'],
    ['java', 'consumers/java/src/main/java/com/example/AuthStack.java'],
    ['go', 'consumers/go/stack.go'],
  ])('shows %s as %s, word for word', (language, file) => {
    const blocks = [...read('docs/languages.md').matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
    expect(blocks).toEqual([read(file)]);
  });
});

describe('the API reference', () => {
  it('generates from the JSDoc with TypeDoc (npm run docs) without a warning, the construct props documented', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'lockout-api-'));
    try {
      // typedoc.json sets treatWarningsAsErrors: a warning fails the run, and so this test.
      await promisify(execFile)(process.execPath, [path.join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out], {
        cwd: root,
        timeout: 120_000,
      });
      const props = readFileSync(path.join(out, 'interfaces', 'lib.CognitoLockoutProps.html'), 'utf8');
      for (const prop of ['maxFailedAttempts', 'deviceTokens', 'storeErrorPolicy', 'userPool']) expect(props).toContain(prop);
      expect(props).toContain('Device tokens');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 150_000);
});
