// `latchkey` — the command-line entry over the same auth core as the app.
// Usage: npm run --silent cli -- <command>   (or the package bin `latchkey`)
import { realpathSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CommandName } from './command-runner.ts';
import { startCompileCache } from './compile-cache.ts';
import { runCachedScript } from './script-cache.ts';
import type { CliIo } from './context.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { inertText } from '../shared/inert-text.ts';

export const USAGE = `Usage: latchkey <command> [options]

Signs you in through your browser (OAuth 2.0 + PKCE) and keeps the session in the OS keychain,
shared with the Latchkey app.

Commands:
  login [--timeout SECONDS]  Sign in through the browser ($BROWSER, else the system's default) and add that
                             user as an account (or renew theirs); it becomes the default. With a code
                             instead when no browser opens or the provider refuses the loopback redirect
  login --account NAME       Renew that account; a sign-in as anyone else is refused (exit 1)
  login --acr VALUES [--max-age S]
                             Sign the account (the default, or --account) in again more strongly or more
                             recently, as an API asked (RFC 9470); a sign-in as anyone else is refused
  step-up CHALLENGE          The same, from the API's WWW-Authenticate value (insufficient_user_authentication,
                             or an Entra claims challenge): latchkey step-up "$(the header's value)"
  login --device             Sign in with a code entered on any device (RFC 8628), e.g. over SSH; --timeout
                             bounds it too (a fallback to a code keeps what is left of it)
  accounts [--json]          List the accounts signed in here; * marks the default (exit 1: none)
  switch NAME                Make NAME the default account
  status [--json]            Show whether a session is stored (exit 0), not (exit 1), or locked away (exit 2)
  token [--refresh] [--api NAME]
                             Print a valid access token (the one all processes share while it is fresh;
                             with --refresh, a newer one; a DPoP-bound one needs a proof: see headers);
                             with --api, the token of that API in "apis" (default: the first API)
  headers [--method M] URL   Print the headers one call to the API needs, one "Name: value" line each, with
                             the token of the API the URL is under (Authorization, and DPoP for a bound
                             token): curl -H @<(latchkey headers URL) URL
  logout [--all]             Revoke the session at the provider and forget it here (one account, or --all)
  doctor                     Check the configuration against the provider, with fixes
  agent [--foreground]       Keep sessions in this agent's memory where no OS keychain runs, as ssh-agent does:
                             eval "$(latchkey agent)" sets LATCHKEY_AGENT_SOCK, and every command then uses it
        [--lifetime S] [--idle S]   forget everything and stop after S seconds (in all, or without a request)
        [--keep FILE]        also keep them in FILE, encrypted with a passphrase asked once (or read from the
                             file LATCHKEY_AGENT_PASSPHRASE_FILE names)
        [--csh|--fish] [--socket PATH]    lines for csh or fish; the socket's path
  agent --stop               Stop the agent: it forgets every session

Options:
  --account NAME             (status, token, headers, logout) act for that account: its email, username
                             or sub; else LATCHKEY_ACCOUNT; else the default account
  -h, --help                 Show this help

Exit codes: 0 ok · 1 signed out or session ended (run \`latchkey login\`) · 2 usage or configuration error,
or the OS keychain is missing or locked (the session is kept) · 3 provider unreachable or unusable (the session is kept; try again later)

Configuration (environment, else the JSON file AUTH_CONFIG or config.json in the data folder; no issuer → the demo provider):
  AUTH_ISSUER or AUTH0_DOMAIN, AUTH_CLIENT_ID, AUTH_AUDIENCE, AUTH_RESOURCE, AUTH_SCOPE,
  AUTH_REDIRECT_PORT, AUTH_DPOP (auto|required|off), API_BASE_URL, AUTH_CA_FILE, AUTH_KEYCHAIN_SERVICE, AUTH_DATA_DIR, LATCHKEY_LOG_LEVEL;
  several APIs: "apis" in the config file, [{"name", "baseUrl", "resource" or "audience", "scope"}, …];
  LATCHKEY_AGENT_SOCK (use that agent instead of the OS keychain); LATCHKEY_INSECURE_PLAINTEXT_FILE (keep the session
  unencrypted in that file: only if you accept that anyone who reads it can act as you; every command warns);
  HTTPS_PROXY / HTTP_PROXY (http://USER:PASSWORD@host:port for a proxy that asks for a sign-in), NO_PROXY`;

type Options = NonNullable<ParseArgsConfig['options']>;

/** Each command's options. Its code, and the core under it, load only once the command line is good (command-runner.ts). */
const ACCOUNT: Options = { account: { type: 'string' } };
const OPTIONS: Record<CommandName, Options> = {
  login: { timeout: { type: 'string' }, device: { type: 'boolean' }, acr: { type: 'string' }, 'max-age': { type: 'string' }, ...ACCOUNT },
  'step-up': { timeout: { type: 'string' }, ...ACCOUNT },
  status: { json: { type: 'boolean' }, ...ACCOUNT },
  token: { refresh: { type: 'boolean' }, api: { type: 'string' }, ...ACCOUNT },
  headers: { method: { type: 'string' }, ...ACCOUNT },
  logout: { all: { type: 'boolean' }, ...ACCOUNT },
  accounts: { json: { type: 'boolean' } },
  switch: {},
  doctor: {},
  agent: {
    foreground: { type: 'boolean' },
    stop: { type: 'boolean' },
    csh: { type: 'boolean' },
    fish: { type: 'boolean' },
    lifetime: { type: 'string' },
    idle: { type: 'string' },
    keep: { type: 'string' },
    socket: { type: 'string' },
  },
};

/** The commands that take positional arguments (the URL of `headers`, the account of `switch`, the challenge of `step-up`). */
const TAKES_POSITIONALS: ReadonlySet<CommandName> = new Set(['headers', 'switch', 'step-up']);

const isCommand = (name: string | undefined): name is CommandName => name !== undefined && Object.hasOwn(OPTIONS, name);

type QuickOutput = { stdout: string; stderr?: string } | undefined;

/**
 * `latchkey token` with a fresh shared token, or `headers` with one, printed before the command's modules load
 * (quick-token-script.ts): from the bundle's script and its code cache (script-cache.ts), or — unbundled — the same
 * module imported. Undefined whenever the session must decide, and on any failure here: the command then runs as
 * usual and says what is wrong.
 */
async function quickOutput(name: 'token' | 'headers', values: Record<string, string | boolean | undefined>, positionals: string[], env: NodeJS.ProcessEnv): Promise<QuickOutput> {
  // The keychain is read without a session only over the Secret Service (Linux): elsewhere the session reads it.
  if (process.platform !== 'linux') return undefined;
  try {
    const script = fileURLToPath(new URL('./quick-token.cjs', import.meta.url));
    // A cache for each command (quick-token.v8, quick-headers.v8): each holds what its own path compiles.
    const ran = await runCachedScript<QuickOutput>(script, `quick-${name}`, env, [name, values, positionals, env]);
    if (ran) return ran.result;
    return await (await import('./quick-token-script.ts')).run(name, values, positionals, env);
  } catch {
    return undefined;
  }
}

/** Runs one CLI command and returns its exit code; `beforeLoad` runs once the command line is good, before the command's modules load. */
export async function runCli(argv: string[], io: CliIo, beforeLoad?: () => void): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help' || name === 'help') {
    io.stdout(USAGE + '\n');
    return EXIT.ok;
  }
  if (!isCommand(name)) {
    io.stderr(name === undefined ? 'No command given.' : `Unknown command "${name}".`);
    io.stderr('Run `latchkey --help` for the commands.');
    return EXIT.usage;
  }

  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: { ...OPTIONS[name], help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: TAKES_POSITIONALS.has(name) }));
  } catch (error) {
    io.stderr(`${(error as Error).message.split('\n')[0]}`);
    io.stderr(`Run \`latchkey --help\` for the options of "${name}".`);
    return EXIT.usage;
  }
  if (values.help) {
    io.stdout(USAGE + '\n');
    return EXIT.ok;
  }

  if (name === 'token' || name === 'headers') {
    const quick = await quickOutput(name, values, positionals, io.env);
    if (quick) {
      io.stdout(quick.stdout);
      if (quick.stderr) io.stderr(quick.stderr);
      return EXIT.ok;
    }
  }

  beforeLoad?.();
  const { runCommand } = await import('./command-runner.ts');
  return runCommand(name, values, io, positionals);
}

/**
 * Standard output and error written straight to their file descriptors: `process.stdout` and `process.stderr` are
 * streams whose first use loads some twenty stream modules, a tenth of what `latchkey token` costs beyond a bare
 * Node start. A descriptor that is not ready (a non-blocking pipe that is full) hands the rest to its stream, which
 * waits for it; the command then exits once that stream has written everything.
 */
const streamsInUse = new Set<NodeJS.WriteStream>();
function writeOut(fd: 1 | 2, text: string): void {
  const stream = () => (fd === 1 ? process.stdout : process.stderr);
  const bytes = Buffer.from(text);
  let written = 0;
  if (streamsInUse.size === 0) {
    try {
      while (written < bytes.length) written += writeSync(fd, bytes, written);
      return;
    } catch (error) {
      // A reader that has gone (`latchkey token | true`) wants nothing more: the output ends there, as with a stream.
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') return;
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
  // What writeSync took is on its way; the rest, and everything after it, goes through the streams, in order.
  streamsInUse.add(stream());
  stream().write(bytes.subarray(written));
}

/** Runs the CLI on this process's arguments and exits with its code. */
export async function main(): Promise<never> {
  // Every byte the command writes passes `inertText`: a provider's error or display name never drives the terminal.
  // Tokens and header lines are visible ASCII (RFC 6750 §2.1), so they come out exactly as they are.
  const code = await runCli(
    process.argv.slice(2),
    {
      stdout: (text) => writeOut(1, inertText(text, { multiline: true })),
      stderr: (line) => writeOut(2, inertText(line, { multiline: true }) + '\n'),
      env: process.env,
      // Asked of the descriptor, when a command wants to know (a device code's QR): not of process.stdout, whose stream would load for it.
      stdoutIsTerminal: () => isatty(1),
    },
    // A command's modules come from compiled code when this user ran a command before; `--help` needs none.
    () => startCompileCache(process.env),
  );
  // Exit at once: nothing may keep a finished command alive (sockets, keychain connections, timers).
  return new Promise<never>(() => {
    const pending = [...streamsInUse];
    if (pending.length === 0) process.exit(code);
    let left = pending.length;
    for (const stream of pending) stream.write('', () => --left === 0 && process.exit(code));
  });
}

// One realpath(3) call: the JavaScript realpathSync asks the file system about every folder on the way.
if (process.argv[1] && realpathSync.native(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
