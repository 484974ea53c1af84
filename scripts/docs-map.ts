// Writes the map of folders in docs/architecture.md, between `<!-- map:start -->` and `<!-- map:end -->`,
// from the folders themselves, so the map is never a list kept by hand: each src/core/<folder>/README.md's
// title and "May import" line, the files in each folder, and a line for every other folder of src/ (and
// support/, bench/, scripts/) — its README.md's title, else the first sentence of its index.ts, main.ts or
// run.ts. A folder with neither says "(no README)".
//
// Usage: node scripts/docs-map.ts [--check] [--root DIR]
//   --check   write nothing; exit 1, naming the lines that differ, when the map is out of date
//   --root    the repository to read and write (default: the one this script is in)
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const MAP_FILE = 'docs/architecture.md';
export const MAP_START = '<!-- map:start -->';
export const MAP_END = '<!-- map:end -->';

/** The folders outside src/core the map describes, in this order. */
const OTHER_FOLDERS = ['src/shared', 'src/main', 'src/preload', 'src/renderer', 'src/cli', 'src/demo', 'support', 'bench', 'scripts'];
/** Where a folder without README.md says what it is: the first comment of the first of these files. */
const ENTRY_FILES = ['index.ts', 'main.ts', 'run.ts'];

interface Folder {
  /** The folder's path from the repository root, with '/' separators. */
  path: string;
  /** What it holds: its README.md's title after the dash, or its entry file's first sentence; undefined when neither says. */
  holds: string | undefined;
  /** The text after "**May import:**" in its README.md, when it has that line. */
  mayImport: string | undefined;
  /** Its files (README.md aside), sorted. */
  files: string[];
}

const isFolder = (path: string): boolean => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

const childFolders = (root: string, path: string): string[] =>
  readdirSync(join(root, path), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${path}/${entry.name}`)
    .sort();

/** The title of a folder README (`# name/ — what it holds`): what it holds. */
function readmeTitle(text: string): string | undefined {
  const title = text.split('\n').find((line) => line.startsWith('# '));
  if (title === undefined) return undefined;
  const dash = title.indexOf(' — ');
  return (dash === -1 ? title.slice(2) : title.slice(dash + 3)).trim();
}

function readmeMayImport(text: string): string | undefined {
  const line = text.split('\n').find((candidate) => candidate.includes('**May import:**'));
  return line?.slice(line.indexOf('**May import:**') + '**May import:**'.length).trim();
}

/** The first sentence of a file's opening comment (`//` lines or a `/** … *\/` block), skipping a shebang. */
export function firstCommentSentence(source: string): string | undefined {
  const lines = source.split('\n');
  let index = lines[0]?.startsWith('#!') ? 1 : 0;
  const words: string[] = [];
  const first = lines[index]?.trim() ?? '';
  if (first.startsWith('//')) {
    while (lines[index]?.trim().startsWith('//')) {
      const text = lines[index]!.trim().replace(/^\/\/\s?/, '');
      if (text === '') break;
      words.push(text);
      index++;
    }
  } else if (first.startsWith('/*')) {
    for (; index < lines.length; index++) {
      const line = lines[index]!.trim();
      const text = line.replace(/^\/\*\*?\s?/, '').replace(/\*\/$/, '').replace(/^\*\s?/, '').trim();
      if (text === '' && words.length > 0) break;
      if (text !== '') words.push(text);
      if (line.endsWith('*/')) break;
    }
  }
  if (words.length === 0) return undefined;
  const paragraph = words.join(' ');
  const end = paragraph.search(/[.!?](\s|$)/);
  return end === -1 ? paragraph : paragraph.slice(0, end + 1);
}

function describeFolder(root: string, path: string): Folder {
  const absolute = join(root, path);
  const files = readdirSync(absolute, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name !== 'README.md')
    .map((entry) => entry.name)
    .sort();
  const folder: Folder = { path, holds: undefined, mayImport: undefined, files };
  const readmePath = join(absolute, 'README.md');
  if (isFile(readmePath)) {
    const text = readFileSync(readmePath, 'utf8');
    folder.holds = readmeTitle(text);
    folder.mayImport = readmeMayImport(text);
    return folder;
  }
  for (const name of ENTRY_FILES) {
    if (!files.includes(name)) continue;
    const sentence = firstCommentSentence(readFileSync(join(absolute, name), 'utf8'));
    if (sentence !== undefined) {
      folder.holds = sentence;
      break;
    }
  }
  return folder;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** A folder and every folder under it, depth first. */
function withSubfolders(root: string, path: string): Folder[] {
  return [describeFolder(root, path), ...childFolders(root, path).flatMap((child) => withSubfolders(root, child))];
}

/** How many core folders a core folder may import, by its "May import" line: the map lists the bottom first. */
const importCount = (folder: Folder): number =>
  folder.mayImport === undefined ? Number.POSITIVE_INFINITY : (folder.mayImport.match(/`[^`]+\/`/g) ?? []).length;

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
const fileList = (files: string[]): string => (files.length === 0 ? '—' : files.map((file) => `\`${file}\``).join(' '));

/** The folder's name, linked to its README.md when it has one (the link is relative to docs/). */
function folderName(root: string, folder: Folder, shown: string): string {
  return isFile(join(root, folder.path, 'README.md')) ? `[\`${shown}\`](../${folder.path}/README.md)` : `\`${shown}\``;
}

const holdsText = (folder: Folder): string => folder.holds ?? '(no README)';

/** The map, as the lines between the two markers. */
export function renderMap(root: string): string[] {
  const core = describeFolder(root, 'src/core');
  const coreFolders = childFolders(root, 'src/core')
    .flatMap((path) => withSubfolders(root, path))
    .sort((a, b) => importCount(a) - importCount(b) || a.path.localeCompare(b.path));
  const others = OTHER_FOLDERS.filter((path) => isFolder(join(root, path))).flatMap((path) => withSubfolders(root, path));

  const lines = [
    '<!-- Written by `npm run docs:map` from the folders (their README.md files, entry files and file lists): edit those, then run it. -->',
    '',
    `**\`src/core/\`** — ${holdsText(core)} Its root: ${fileList(core.files)}.`,
    '',
    'The core\'s folders, those that may import the fewest first:',
    '',
    '| folder | what it holds | may import | files |',
    '|---|---|---|---|',
    ...coreFolders.map((folder) => {
      const shown = `${folder.path.slice('src/core/'.length)}/`;
      return `| ${folderName(root, folder, shown)} | ${cell(holdsText(folder))} | ${cell(folder.mayImport ?? '(no README)')} | ${fileList(folder.files)} |`;
    }),
    '',
    'Everything else:',
    '',
    '| folder | what it holds | files |',
    '|---|---|---|',
    ...others.map((folder) => `| ${folderName(root, folder, `${folder.path}/`)} | ${cell(holdsText(folder))} | ${fileList(folder.files)} |`),
  ];
  return lines;
}

export interface MapResult {
  /** The document with its map as the folders say it should be. */
  text: string;
  /** Lines of the present map the new one drops (`- …`) or adds (`+ …`); empty when it is up to date. */
  differences: string[];
}

/** Builds the map of `root` and compares it with the one in its docs/architecture.md. */
export function updateMap(root: string): MapResult {
  const path = join(root, MAP_FILE);
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(MAP_START);
  const end = text.indexOf(MAP_END);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`${MAP_FILE} has no ${MAP_START} … ${MAP_END} pair to write the map between.`);
  }
  const present = text.slice(start + MAP_START.length, end).split('\n').slice(1, -1);
  const wanted = renderMap(root);
  const differences = [
    ...present.filter((line) => !wanted.includes(line)).map((line) => `- ${line}`),
    ...wanted.filter((line) => !present.includes(line)).map((line) => `+ ${line}`),
  ];
  if (differences.length === 0 && present.length !== wanted.length) differences.push('(the same lines in another order or number)');
  const updated = `${text.slice(0, start + MAP_START.length)}\n${wanted.join('\n')}\n${text.slice(end)}`;
  return { text: updated, differences };
}

function main(): void {
  const { values } = parseArgs({ options: { check: { type: 'boolean' }, root: { type: 'string' } } });
  const root = values.root ?? fileURLToPath(new URL('..', import.meta.url));
  let result: MapResult;
  try {
    result = updateMap(root);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const shown = relative(process.cwd(), join(root, MAP_FILE)) || MAP_FILE;
  if (values.check) {
    if (result.differences.length === 0) return;
    console.error(`${shown}: the map of folders is out of date; run \`npm run docs:map\`. What differs (- in the file, + from the folders):`);
    for (const line of result.differences) console.error(`  ${line}`);
    process.exit(1);
  }
  writeFileSync(join(root, MAP_FILE), result.text);
  const unsaid = renderMap(root).filter((line) => line.includes('(no README)')).map((line) => line.match(/`([^`]+)`/)?.[1]);
  if (unsaid.length > 0) console.error(`(no README) in: ${unsaid.join(', ')}`);
  console.log(result.differences.length === 0 ? `${shown}: the map is up to date.` : `${shown}: map written (${result.differences.length} lines changed).`);
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) main();
