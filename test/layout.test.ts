/**
 * The parts of lambdas/ and the one way their imports run (docs/development.md, "The Lambda code"): a file imports
 * its own part and the parts below it in PARTS, never a part above; no files import each other in a circle; and the
 * files the package ships compiled for the construct (package.json "files") import nothing but each other and
 * Node.js's own modules.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const root = path.join(__dirname, '..');
const lambdas = path.join(root, 'lambdas');

/** Bottom first: each part may import the parts before it. `triggers.ts` is the `cognito-lockout/triggers` entry. */
const PARTS = ['shared', 'policy', 'identity', 'outbox', 'devices', 'store', 'runtime', 'decision', 'handlers', 'factories', 'triggers.ts'];

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourcesUnder(file);
    return name.endsWith('.ts') ? [file] : [];
  });
}

const rel = (file: string) => path.relative(root, file).split(path.sep).join('/');
const partOf = (file: string) => path.relative(lambdas, file).split(path.sep)[0];

/** Every module a file names (static and dynamic imports, re-exports, requires, type-only ones too), resolved. */
function importsOf(file: string): { relative: string[]; packages: string[] } {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const relative: string[] = [];
  const packages: string[] = [];
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) {
      packages.push(fileName);
      continue;
    }
    const base = path.resolve(path.dirname(file), fileName);
    const found = [`${base}.ts`, path.join(base, 'index.ts'), base].find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
    if (found === undefined) throw new Error(`${rel(file)}: cannot resolve ${fileName}`);
    relative.push(found);
  }
  return { relative, packages };
}

const files = sourcesUnder(lambdas);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

describe('lambdas/ as its parts', () => {
  it('holds the declared parts and nothing else, each folder with the README that says what it owns', () => {
    expect(readdirSync(lambdas).sort()).toEqual([...PARTS].sort());
    const missing = PARTS.filter((part) => !part.endsWith('.ts') && !existsSync(path.join(lambdas, part, 'README.md')));
    expect(missing).toEqual([]);
  });

  it('imports run one way: no file imports a part above its own, nor anything outside lambdas/', () => {
    const wrong: string[] = [];
    for (const [file, { relative }] of graph) {
      for (const target of relative) {
        if (!target.startsWith(lambdas + path.sep)) wrong.push(`${rel(file)} -> ${rel(target)} (outside lambdas/)`);
        else if (PARTS.indexOf(partOf(target)) > PARTS.indexOf(partOf(file))) wrong.push(`${rel(file)} -> ${rel(target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no files import each other in a circle', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...trail.slice(trail.indexOf(file)), file].map(rel).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file)?.relative ?? []) visit(target, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('the files the package ships for the construct (package.json "files") import nothing but each other and Node.js', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
    const shipped = manifest.files
      .filter((entry) => /^dist\/lambdas\/.*\.js$/.test(entry))
      .map((entry) => path.join(root, entry.replace(/^dist\//, '').replace(/\.js$/, '.ts')));
    expect(shipped.length).toBeGreaterThan(0);
    for (const file of shipped) {
      const { relative, packages } = importsOf(file);
      expect({
        file: rel(file),
        packages: packages.filter((name) => !name.startsWith('node:')),
        outside: relative.filter((target) => !shipped.includes(target)).map(rel),
      }).toEqual({
        file: rel(file),
        packages: [],
        outside: [],
      });
    }
  });
});
