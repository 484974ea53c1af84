import { spawn } from 'node:child_process';
import type { Opener } from '../../core/index.ts';

export interface BrowserCommand {
  command: string;
  args: string[];
}

export interface SystemOpenerOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** How long to watch the launcher for an early failure before assuming the browser is up. */
  exitWatchMs?: number;
}

/**
 * The command that opens `url` in the user's browser, as an argv (never a
 * shell string, so nothing in the URL is interpreted). `$BROWSER` wins: it is
 * split like a shell would split words (quotes respected), `%s` in it is
 * replaced by the URL (`%%` is a literal %), and without `%s` the URL becomes
 * the last argument. Otherwise the platform's opener: `open` on macOS,
 * `rundll32 url.dll,FileProtocolHandler` on Windows (not `cmd /c start`, which
 * would re-parse `&` and `%` in the URL), `xdg-open` elsewhere.
 */
export function browserCommand(url: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): BrowserCommand {
  const configured = env.BROWSER?.trim();
  if (configured) {
    const words = splitWords(configured);
    const hasPlaceholder = words.some((word) => /%s/.test(word.replace(/%%/g, '')));
    const args = words.map((word) => word.replace(/%([s%])/g, (_match, which: string) => (which === 's' ? url : '%')));
    const [command, ...rest] = args;
    if (!command) throw new Error('$BROWSER is empty.');
    return { command, args: hasPlaceholder ? rest : [...rest, url] };
  }
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
  return { command: 'xdg-open', args: [url] };
}

/**
 * The CLI's opener: the authorization request goes to the user's own browser,
 * never an embedded view (RFC 8252 §4.1, §8.12). Only http(s) URLs are opened. The
 * launcher is spawned detached without a shell; it rejects when the command
 * cannot be started or exits with a failure right away, so the caller can
 * show the URL instead.
 */
export function createSystemOpener(options: SystemOpenerOptions = {}): Opener {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const exitWatchMs = options.exitWatchMs ?? 1_000;

  return (url: string) => {
    const protocol = URL.canParse(url) ? new URL(url).protocol : '';
    if (protocol !== 'https:' && protocol !== 'http:') return Promise.reject(new Error(`Refusing to open a non-web URL (${protocol || 'unparsable'}).`));
    const { command, args } = browserCommand(url, env, platform);
    const source = env.BROWSER?.trim() ? `$BROWSER (${command})` : command;

    return new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, { detached: true, stdio: 'ignore', shell: false, windowsHide: true, env });
      let watch: NodeJS.Timeout | undefined;
      child.once('error', (error) => {
        clearTimeout(watch);
        reject(new Error(`Could not start ${source}: ${error.message}. Set BROWSER to your browser's command (e.g. BROWSER=firefox).`, { cause: error }));
      });
      child.once('spawn', () => {
        watch = setTimeout(() => {
          child.removeAllListeners('exit');
          child.unref();
          resolve();
        }, exitWatchMs);
        child.once('exit', (code, signal) => {
          clearTimeout(watch);
          if (code === 0) resolve();
          else reject(new Error(`${source} failed (${signal ?? `exit code ${code}`}). Set BROWSER to your browser's command (e.g. BROWSER=firefox).`));
        });
      });
    });
  };
}

/** Splits a command line into words: whitespace separates, '…' and "…" group, a backslash escapes the next character outside single quotes. */
function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
