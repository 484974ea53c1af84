// The glossary (docs/architecture.md) retires words: the code says each thing one way. This looks for the
// retired words in src/ — the list is read from the glossary itself, so the two cannot drift apart.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const glossary = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');

/** The words after "Retired words:" up to the end of that paragraph. */
function retiredWords(text: string): string[] {
  const start = text.indexOf('Retired words:');
  if (start < 0) return [];
  const paragraph = text.slice(start, text.indexOf('\n\n', start));
  return [...paragraph.matchAll(/`([^`]+)`/g)].map(([, word]) => word!);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js|html|css)$/.test(entry.name) ? [path] : [];
  });
}

describe('the glossary', () => {
  const words = retiredWords(glossary);

  it('lists the words it retired', () => {
    expect(words).toEqual(expect.arrayContaining(['SecretStore', 'HeldSession', 'refreshAfterUnauthorized', 'loginWithCode', 'login_cancelled']));
  });

  it('finds none of them in src/, in file names or in the code', () => {
    const files = sourceFiles(join(ROOT, 'src'));
    const found: string[] = [];
    for (const file of files) {
      const name = relative(ROOT, file);
      const text = readFileSync(file, 'utf8');
      for (const word of words) {
        const pattern = new RegExp(`(^|[^A-Za-z0-9_-])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9_])`);
        if (pattern.test(name)) found.push(`${name}: its name says "${word}"`);
        const line = text.split('\n').findIndex((candidate) => pattern.test(candidate));
        if (line >= 0) found.push(`${name}:${line + 1}: "${word}"`);
      }
    }
    expect(found).toEqual([]);
  });

  it('would find one: a retired word in a line is caught', () => {
    const pattern = new RegExp(`(^|[^A-Za-z0-9_-])SecretStore($|[^A-Za-z0-9_])`);
    expect(pattern.test('const store: SecretStore = open();')).toBe(true);
    expect(pattern.test('const store: SecretStoreish = open();')).toBe(false);
  });
});
