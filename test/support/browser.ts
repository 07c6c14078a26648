/**
 * The Chromium the browser tests drive, with playwright-core (which never downloads a browser).
 *
 * Why two: `npm ci && npm test` must pass on a machine with nothing installed by hand, and most machines have no
 * `/usr/bin/chromium`. Debian's chromium is used when it is there (CI's `.ci/run` installs it); otherwise the
 * Chromium that npm `@sparticuz/chromium` ships inside the package (a build for Lambda that runs on x64 and arm64
 * Linux), so the lockfile alone brings a browser.
 *
 * The package unpacks its browser into `os.tmpdir()` and reuses whatever `chromium` it finds there, whichever
 * version or user wrote it, even one half-written by a concurrent run. So it unpacks, in a child process with
 * `TMPDIR` pointed at a fresh directory, into a cache keyed by the package's version under `node_modules/.cache`
 * (private to this checkout, gone with the next `npm ci`), and the directory is renamed into place only once
 * complete. The child also keeps this helper independent of the package's module format (ES module only from 149).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { type Browser, chromium } from 'playwright-core';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const PROJECT_ROOT = path.join(__dirname, '..', '..');
/** Quiet, headless, no network of its own: the flags every browser test runs with, whichever browser. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];
/**
 * Flags of the package's list (made for Lambda) left out: `--single-process` closes the whole browser with its
 * last page (Lambda needs it, a test opening page after page cannot have it), and the others relax the web's rules
 * (same-origin policy, mixed content, site isolation), which would let a page pass here that fails in a real browser.
 */
const NOT_HERE = new Set(['--single-process', '--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials']);

export async function launchChromium(): Promise<Browser> {
  if (existsSync(DEBIAN_CHROMIUM)) return chromium.launch({ executablePath: DEBIAN_CHROMIUM, args: FLAGS });
  const { executablePath, args } = npmChromium();
  return chromium.launch({ executablePath, args: [...new Set([...args.filter((flag) => !NOT_HERE.has(flag)), ...FLAGS])] });
}

function npmChromium(): { executablePath: string; args: string[] } {
  if (process.platform !== 'linux') {
    throw new Error(`The browser tests need ${DEBIAN_CHROMIUM} here: the Chromium of @sparticuz/chromium runs on Linux only`);
  }
  const { version } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'node_modules', '@sparticuz', 'chromium', 'package.json'), 'utf8')) as {
    version: string;
  };
  const cacheRoot = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'cognito-lockout');
  const dir = path.join(cacheRoot, `sparticuz-chromium-${version}`);
  const unpack = (tmpdir: string) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "const { default: c } = await import('@sparticuz/chromium'); console.log(JSON.stringify({ exe: await c.executablePath(), args: c.args }));",
        ],
        { cwd: PROJECT_ROOT, env: { ...process.env, TMPDIR: tmpdir }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      ),
    ) as { exe: string; args: string[] };
  if (!existsSync(path.join(dir, 'chromium'))) {
    mkdirSync(cacheRoot, { recursive: true });
    const staging = mkdtempSync(path.join(cacheRoot, 'unpacking-'));
    try {
      unpack(staging);
      renameSync(staging, dir);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      // Another run renamed its copy into place first: use that one.
      if (!existsSync(path.join(dir, 'chromium'))) throw error;
    }
  }
  // Unpacked already: the package finds its `chromium` in TMPDIR and only reports it (and its flags).
  const { exe, args } = unpack(dir);
  return { executablePath: exe, args };
}
