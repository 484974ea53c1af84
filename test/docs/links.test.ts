// The README and docs/ point at things that exist: every relative link at a file or folder (and, for a
// Markdown page, at one of its headings), and every repository path they name in code.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** The page without fenced code blocks, and the code blocks and inline code spans it holds. */
function split(text: string): { prose: string; code: string[] } {
  const code: string[] = [];
  const withoutBlocks = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, (block) => {
    code.push(block);
    return '';
  });
  const prose = withoutBlocks.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (_span, _ticks: string, inner: string) => {
    code.push(inner);
    return '';
  });
  return { prose, code };
}

/** GitHub's anchor for a heading: lower case, formatting and punctuation dropped, spaces as hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(path: string): Set<string> {
  const text = readFileSync(path, 'utf8').replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const match of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = headingAnchor(match[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  for (const match of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(match[1]!);
  return anchors;
}

/** Every link target in a page's prose: inline links and images, and reference definitions. */
function linkTargets(prose: string): string[] {
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!);
  const references = [...prose.matchAll(/^\s*\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((match) => match[1]!);
  return [...inline, ...references];
}

function brokenLinks(page: string): string[] {
  const file = join(ROOT, page);
  const { prose } = split(readFileSync(file, 'utf8'));
  const broken: string[] = [];
  for (const target of linkTargets(prose)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const [pathPart = '', anchor] = target.split('#', 2);
    const resolved = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    if (!existsSync(resolved)) {
      broken.push(`${page}: ${target} (no ${relative(ROOT, resolved)})`);
      continue;
    }
    if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
      broken.push(`${page}: ${target} (no heading #${anchor} in ${relative(ROOT, resolved)})`);
    }
  }
  return broken;
}

/** Repository paths named in a page's code (`src/…`, `test/…`, `support/…`, `scripts/…`, `bench/…`, `docs/…`, `.ci/…`). */
function missingPaths(page: string): string[] {
  const { code } = split(readFileSync(join(ROOT, page), 'utf8'));
  const missing = new Set<string>();
  for (const snippet of code) {
    for (const match of snippet.matchAll(/(?:^|[\s"'(=@<])((?:src|test|support|scripts|bench|docs|\.ci)\/[\w./-]*)/g)) {
      const path = match[1]!.replace(/[.]+$/, '');
      if (!existsSync(join(ROOT, path))) missing.add(`${page}: ${path}`);
    }
  }
  return [...missing];
}

describe('the README and docs/', () => {
  it('have pages to check', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/providers.md']));
  });

  it('link only to files and folders that exist, and to headings that exist', () => {
    expect(PAGES.flatMap(brokenLinks)).toEqual([]);
  });

  it('name only repository paths that exist', () => {
    expect(PAGES.flatMap(missingPaths)).toEqual([]);
  });

  it('turn headings into anchors as GitHub does', () => {
    expect(headingAnchor('Rotation: faults, races and crashes')).toBe('rotation-faults-races-and-crashes');
    expect(headingAnchor('Sign in with a code, and the browser')).toBe('sign-in-with-a-code-and-the-browser');
    expect(headingAnchor('Map of the `src/` folders — generated')).toBe('map-of-the-src-folders--generated');
  });
});
