import { readFileSync } from 'node:fs';
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
