// The boundary rules eslint does not ship (used by eslint.config.js):
//   restricted-dynamic-imports  `no-restricted-imports`' own options, applied to `import()`
//                               and `typeof import()` too, which the built-in rule does not look at;
//   no-import-cycle             a cycle through imports of any kind — type-only, re-exports and
//                               `import()` included (import-x/no-cycle skips type-only imports);
//   no-re-export                a name exported again from a file that does not declare it, which
//                               gives it a second import path (eslint.config.js allows it in the doors).
// And `readCoreFolders`: what each folder of src/core may import, read from its README.md.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { builtinRules } from 'eslint/use-at-your-own-risk';
import ts from 'typescript';

const restrictedImports = builtinRules.get('no-restricted-imports');

/** The source string of an import expression or an import type, when it is a literal. */
function dynamicSource(node) {
  if (node.type === 'ImportExpression') return node.source.type === 'Literal' ? node.source : undefined;
  const literal = node.source ?? node.argument?.literal;
  return literal?.type === 'Literal' ? literal : undefined;
}

const restrictedDynamicImports = {
  meta: { ...restrictedImports.meta, docs: { description: 'no-restricted-imports, for import() and import types' } },
  create(context) {
    const staticRule = restrictedImports.create(context);
    const check = (node) => {
      const source = dynamicSource(node);
      if (typeof source?.value !== 'string') return;
      // Checked as `import '…'` at the same place: the built-in rule's matching and messages, unchanged.
      staticRule.ImportDeclaration?.({ type: 'ImportDeclaration', importKind: 'value', specifiers: [], source, loc: node.loc, range: node.range, parent: node.parent });
    };
    return { ImportExpression: check, TSImportType: check };
  },
};

const importsByFile = new Map();

/** Relative imports of every kind a file makes, resolved to paths; cached by modification time. */
function importsOf(file) {
  let stamp;
  try {
    stamp = statSync(file).mtimeMs;
  } catch {
    return [];
  }
  const cached = importsByFile.get(file);
  if (cached?.stamp === stamp) return cached.imports;
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const imports = importedFiles.filter(({ fileName }) => fileName.startsWith('.')).map(({ fileName }) => resolve(dirname(file), fileName));
  importsByFile.set(file, { stamp, imports });
  return imports;
}

/** The shortest chain of imports from `start` back to `file`, or undefined. */
function routeBack(start, file) {
  const cameFrom = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const current = queue.shift();
    if (current === file) {
      const route = [];
      for (let at = current; at !== undefined; at = cameFrom.get(at)) route.unshift(at);
      return route;
    }
    for (const next of importsOf(current)) {
      if (!cameFrom.has(next)) {
        cameFrom.set(next, current);
        queue.push(next);
      }
    }
  }
  return undefined;
}

const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles of any kind, type-only imports and import() included' },
    schema: [],
    messages: { cycle: 'Import cycle (type-only and dynamic imports count): {{route}}. Move what both need into a file of its own.' },
  },
  create(context) {
    const file = context.physicalFilename;
    if (!file || file === '<text>') return {};
    const check = (node, source) => {
      if (typeof source?.value !== 'string' || !source.value.startsWith('.')) return;
      const route = routeBack(resolve(dirname(file), source.value), file);
      if (!route) return;
      const root = context.cwd;
      context.report({ node, messageId: 'cycle', data: { route: [file, ...route].map((path) => relative(root, path)).join(' → ') } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, dynamicSource(node)),
      TSImportType: (node) => check(node, dynamicSource(node)),
    };
  },
};

const noReExport = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid re-exports: one name, one import path' },
    schema: [],
    messages: {
      reExport: 'Re-export of {{name}}: it gives the name a second import path. Import it from the file that declares it (only the doors re-export).',
    },
  },
  create(context) {
    const imported = new Set();
    const exportedAgain = [];
    const report = (node, name) => context.report({ node, messageId: 'reExport', data: { name } });
    return {
      ImportDeclaration(node) {
        for (const specifier of node.specifiers) imported.add(specifier.local.name);
      },
      ExportAllDeclaration: (node) => report(node, node.exported ? `* as ${node.exported.name ?? node.exported.value}` : `* from '${node.source.value}'`),
      ExportNamedDeclaration(node) {
        if (node.source) {
          for (const specifier of node.specifiers) report(specifier, specifier.exported.name ?? specifier.exported.value);
          return;
        }
        // `export { x }` of an imported `x`: known only once every import is seen.
        for (const specifier of node.specifiers) exportedAgain.push(specifier);
      },
      ExportDefaultDeclaration(node) {
        if (node.declaration.type === 'Identifier') exportedAgain.push({ local: node.declaration, exported: { name: 'default' }, node });
      },
      'Program:exit'() {
        for (const specifier of exportedAgain) {
          if (specifier.local.type === 'Identifier' && imported.has(specifier.local.name)) report(specifier.node ?? specifier, specifier.local.name);
        }
      },
    };
  },
};

/**
 * The folders of the core (`coreDir`) and, from each one's README.md, the folders it lists on its
 * "May import" and "Never imported by" lines (`undefined` when the README or the line is missing;
 * `[]` for "nothing but the core's root"). The lint boundaries between folders are built from these.
 */
export function readCoreFolders(coreDir) {
  // A folder of the core is one that holds code: an empty one left behind by a move is not.
  const holdsCode = (name) => readdirSync(join(coreDir, name)).some((file) => file.endsWith('.ts'));
  const folders = readdirSync(coreDir, { withFileTypes: true }).filter((entry) => entry.isDirectory() && holdsCode(entry.name)).map((entry) => entry.name).sort();
  return folders.map((name) => {
    let text = '';
    try {
      text = readFileSync(join(coreDir, name, 'README.md'), 'utf8');
    } catch {
      // No README: both lines are missing.
    }
    const listed = (label) => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`- **${label}:**`));
      return line === undefined ? undefined : [...line.matchAll(/`([\w-]+)\/`/g)].map(([, folder]) => folder);
    };
    return { name, mayImport: listed('May import'), neverImportedBy: listed('Never imported by') };
  });
}

export default { rules: { 'restricted-dynamic-imports': restrictedDynamicImports, 'no-import-cycle': noImportCycle, 'no-re-export': noReExport } };
