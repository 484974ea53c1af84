import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserCommand, createSystemOpener } from '../../../src/cli/login/system-opener.ts';

// A URL full of characters a shell would act on; it must reach the browser verbatim.
const URL_WITH_METACHARACTERS = "https://idp.example/authorize?a=1&b=$(touch pwned)&c=`id`;d='x'|e=\"y\"%20z";

let dir: string;
let fakeBrowser: string;
let failingBrowser: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'latchkey-opener-'));
  fakeBrowser = join(dir, 'fake browser.sh');
  writeFileSync(fakeBrowser, '#!/bin/sh\nfor arg in "$@"; do printf "%s\\n" "$arg"; done > "$ARGV_FILE"\n');
  chmodSync(fakeBrowser, 0o755);
  failingBrowser = join(dir, 'failing.sh');
  writeFileSync(failingBrowser, '#!/bin/sh\nexit 3\n');
  chmodSync(failingBrowser, 0o755);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function argvSeenBy(browser: string, url: string): Promise<string[]> {
  const argvFile = join(dir, `argv-${Math.random().toString(36).slice(2)}`);
  await createSystemOpener({ env: { BROWSER: browser, ARGV_FILE: argvFile, PATH: process.env.PATH }, exitWatchMs: 5_000 })(url);
  return readFileSync(argvFile, 'utf8').split('\n').slice(0, -1);
}

describe('createSystemOpener with $BROWSER', () => {
  it('appends the URL as the last argument, verbatim and without a shell', async () => {
    expect(await argvSeenBy(`'${fakeBrowser}' --new-window`, URL_WITH_METACHARACTERS)).toEqual(['--new-window', URL_WITH_METACHARACTERS]);
    expect(existsSync('pwned')).toBe(false);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('puts the URL where %s is', async () => {
    expect(await argvSeenBy(`"${fakeBrowser}" --app=%s --flag "100%%"`, 'https://idp.example/a?b=c')).toEqual(['--app=https://idp.example/a?b=c', '--flag', '100%']);
  });

  it('rejects when the browser command cannot be started, naming BROWSER', async () => {
    const open = createSystemOpener({ env: { BROWSER: join(dir, 'no-such-browser') } });
    await expect(open('https://idp.example/')).rejects.toThrow(/Could not start \$BROWSER.*Set BROWSER/);
  });

  it('rejects when the browser command fails at once', async () => {
    const open = createSystemOpener({ env: { BROWSER: failingBrowser }, exitWatchMs: 5_000 });
    await expect(open('https://idp.example/')).rejects.toThrow(/exit code 3/);
  });

  it('opens only web URLs', async () => {
    const open = createSystemOpener({ env: { BROWSER: fakeBrowser } });
    await expect(open('file:///etc/passwd')).rejects.toThrow(/non-web URL/);
  });
});

describe('browserCommand', () => {
  it('uses the platform opener without $BROWSER, never a shell', () => {
    const url = 'https://idp.example/?a=1&b=2';
    expect(browserCommand(url, {}, 'linux')).toEqual({ command: 'xdg-open', args: [url] });
    expect(browserCommand(url, {}, 'darwin')).toEqual({ command: 'open', args: [url] });
    expect(browserCommand(url, {}, 'win32')).toEqual({ command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
  });
});
