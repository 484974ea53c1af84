// Runs first in every entry point (the `latchkey` command, and `npm run cli`, `npm run idp`, `npm start`
// through `node --import ./bin/node-check.js` or `node bin/node-check.js`): on an older Node the TypeScript
// sources and the bundles fail with errors that never name the version (ERR_UNKNOWN_FILE_EXTENSION ".ts"),
// so this says it instead. Plain JavaScript that any Node with ES modules can parse.
// The global `process`: an ES import of node:process makes its every property, stdin and stdout included, and
// loads some thirty stream modules before the command starts.
/* global process */

const NEEDED = [22, 19];

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1])) {
  process.stderr.write(
    `Latchkey needs Node ≥ ${NEEDED.join('.')} (this is ${process.version}). ` +
      'Install Node 22.19 or newer (nodejs.org, or your version manager: nvm install 24, fnm install 24, volta install node@24), make it the `node` on your PATH, then run the command again.\n',
  );
  process.exit(2);
}
