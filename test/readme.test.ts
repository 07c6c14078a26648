import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { KNOBS, DEFAULT_SETTINGS, SETTING_NAMES } from '../lambdas/engine/settings';
import { propNameOf } from '../lib/lockout-props';

const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const rows = readme.split('\n').filter((line) => line.startsWith('| `'));

describe('README configuration table', () => {
  it.each(SETTING_NAMES)('documents %s with its context key, prop, variable and default', (name) => {
    const row = rows.find((line) => line.includes(`\`${KNOBS[name].env}\``));
    expect(row).toBeDefined();
    expect(row).toContain(`| \`${name}\` |`);
    expect(row).toContain(`\`${propNameOf(name)}\``);
    expect(row).toContain(String(DEFAULT_SETTINGS[name]));
  });
});

describe('README benchmark figures', () => {
  // The published sizes are the bundles the package builds now (jest's global setup builds them): a code change that
  // moves a size means the figures must be regenerated (`npm run bench`), not left describing other code.
  const sizes = new Map(
    readme
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
