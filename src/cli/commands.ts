import { parseStepUpChallenge, type StepUpRequest } from '../shared/step-up.ts';
import type { AuthState } from '../shared/auth-state.ts';
import { inertText } from '../shared/inert-text.ts';
import { AGENT_SOCK_VARIABLE, AuthError, openProfileCache, createAuthSession, connectAgent, defaultAccount, defaultLockDir, findAccount, keychainAccount, openAccountIndex, openKeychain, openPlaintextKeychain } from '../core/index.ts';
import type { Opener, AuthSession, AccountIndex } from '../core/index.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { holdSignalsUntilStored } from './interrupts.ts';
import type { CommandContext } from './context.ts';
import { accountAskedFor, DPOP_BOUND_HINT, headerLines } from './quick-token.ts';

type Values = Record<string, string | boolean | undefined>;

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The account a command acts for: see quick-token.ts. */
export function chosenAccount(context: CommandContext, values: Values): string | undefined {
  return accountAskedFor(values, context.io.env);
}

function accountIndex(context: CommandContext): AccountIndex {
  return openAccountIndex(context.config, defaultLockDir());
}

/** Runs `use` with a session over the shared keychain entry of `account` (else the default account), and always closes it so the process can exit. */
async function withSession<T>(context: CommandContext, use: (session: AuthSession) => Promise<T>, opener?: Opener, account?: string): Promise<T> {
  const refuse: Opener = async () => {
    throw new AuthError('invalid_argument', 'This command does not open a browser.');
  };
  let waitingSaid = false;
  const sayWaiting = () => {
    if (!waitingSaid) context.io.stderr('Waiting for your keychain to unlock…');
    waitingSaid = true;
  };
  let lockWaitSaid = false;
  const onLockWait = () => {
    if (!lockWaitSaid) context.io.stderr('Waiting for another Latchkey process to finish with the session…');
    lockWaitSaid = true;
  };
  const session = await openSession(context, opener ?? refuse, { onKeychainWaiting: sayWaiting, onLockWait }, account);
  const releaseSignals = holdSignalsUntilStored(session);
  try {
    return await use(session);
  } finally {
    await session.close();
    releaseSignals();
  }
}

/**
 * Where the command's session is kept: the agent LATCHKEY_AGENT_SOCK names (which holds the refresh token, and
 * hands this process access tokens only); else the plaintext file a person named (command-runner.ts warns); else
 * the OS keychain.
 */
async function openSession(context: CommandContext, opener: Opener, waits: { onKeychainWaiting(): void; onLockWait(): void }, account: string | undefined): Promise<AuthSession> {
  const { env } = context.io;
  const agentSocket = env[AGENT_SOCK_VARIABLE];
  if (agentSocket) return connectAgent(agentSocket, keychainAccount(context.config), account, opener);
  const plaintext = env.LATCHKEY_INSECURE_PLAINTEXT_FILE;
  const keychain = plaintext ? await openPlaintextKeychain(plaintext) : undefined;
  return createAuthSession({ config: context.config, opener, logger: context.logger, ...waits, ...(keychain ? { keychain } : {}), ...(account !== undefined ? { account } : {}) });
}

/** Where sessions can be kept when no OS keychain answers: the three ways, in one message. */
export function noKeychainMessage(consequence: string): string {
  return (
    `No OS keychain answers here and no agent is set (LATCHKEY_AGENT_SOCK), so ${consequence}. Keep sessions one of three ways: ` +
    'start a Secret Service (e.g. gnome-keyring) and unlock it; start an agent: eval "$(latchkey agent)"; ' +
    'or keep them in a file encrypted with a passphrase: eval "$(latchkey agent --keep FILE)".'
  );
}

/**
 * Without the OS keychain a stored session is out of reach, not absent: say so
 * (exit 2, like `login`) instead of "not signed in", which would send the user
 * to a sign-in that cannot be kept.
 */
function refuseWithoutKeychain(state: AuthState, consequence: string): void {
  if (state.keychain !== 'memory-only' || state.status !== 'signed-out') return;
  throw new AuthError('keychain_unavailable', noKeychainMessage(consequence));
}

/** The provider's name for the user, one inert line (it is the provider's text). */
function displayName(state: AuthState): string {
  const user = state.user;
  return inertText(user?.name ?? user?.email ?? user?.sub ?? 'unknown user');
}

/**
 * `login [--timeout SECONDS] [--device]`: the interactive sign-in through the browser, or with a code
 * (`--device`, RFC 8628) — which it also falls back to when no browser opens or the provider refuses the loopback redirect.
 */
export async function loginCommand(context: CommandContext, values: Values): Promise<ExitCode> {
  const { io } = context;
  // RFC 9470 §4: a stronger (--acr) or more recent (--max-age) sign-in, as an API asked for.
  let stepUp: StepUpRequest | undefined;
  if (values.acr !== undefined || values['max-age'] !== undefined) {
    stepUp = {};
    if (typeof values.acr === 'string') {
      const acrValues = values.acr.split(/[\s,]+/).filter(Boolean).join(' ');
      if (!acrValues) {
        io.stderr('--acr: give the acr values the API asked for, space- or comma-separated, e.g. --acr "urn:example:mfa".');
        return EXIT.usage;
      }
      stepUp.acrValues = acrValues;
    }
    if (values['max-age'] !== undefined) {
      const maxAge = Number(values['max-age']);
      if (!Number.isInteger(maxAge) || maxAge < 0) {
        io.stderr(`--max-age: "${String(values['max-age'])}" is not a whole number of seconds.`);
        return EXIT.usage;
      }
      stepUp.maxAge = maxAge;
    }
  }
  return signInCommand(context, values, stepUp);
}

/**
 * `step-up CHALLENGE [--account NAME] [--timeout SECONDS]`: an API's `WWW-Authenticate` value that asks for a
 * stronger or more recent sign-in (RFC 9470 `insufficient_user_authentication`, or an Entra claims challenge)
 * becomes that sign-in, for the account (the default without --account); anything else is refused (exit 2).
 */
export async function stepUpCommand(context: CommandContext, values: Values, positionals: string[]): Promise<ExitCode> {
  const { io } = context;
  const challenge = positionals.join(' ').trim();
  const stepUp = parseStepUpChallenge(challenge);
  if (!stepUp) {
    io.stderr(
      challenge
        ? 'That WWW-Authenticate value asks for no stronger sign-in (no error="insufficient_user_authentication" with acr_values or max_age, nor error="insufficient_claims" with claims): a new token (latchkey token --refresh) is what it needs, if anything.'
        : `step-up takes the API's WWW-Authenticate value: latchkey step-up 'Bearer error="insufficient_user_authentication", acr_values="…"'`,
    );
    return EXIT.usage;
  }
  io.stderr(`The API asks for a stronger sign-in${stepUp.reason ? `: ${stepUp.reason}` : ''}. Sign in again in the browser${stepUp.acrValues ? ` (${stepUp.acrValues})` : ''}.`);
  return signInCommand(context, values, stepUp);
}

async function signInCommand(context: CommandContext, values: Values, stepUp: StepUpRequest | undefined): Promise<ExitCode> {
  const { io } = context;
  if (stepUp && values.device) {
    io.stderr('A stronger sign-in an API asks for goes through the browser; leave out --device.');
    return EXIT.usage;
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      io.stderr(`--timeout: "${String(values.timeout)}" is not a positive number of seconds.`);
      return EXIT.usage;
    }
    if (seconds * 1000 > MAX_TIMER_MS) {
      // Node cannot wait longer: a longer timer fires at once, which would end the sign-in immediately.
      io.stderr(`--timeout: "${String(values.timeout)}" is too long; use at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds.`);
      return EXIT.usage;
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  const [{ createCliOpener }, { deviceSignIn, whyUseCode }] = await Promise.all([import('./login/opener.ts'), import('./login/device-sign-in.ts')]);
  let codeOffered = false;
  const opener = createCliOpener(io, () => codeOffered);
  // Named: renew that account (a sign-in as anyone else is refused). Not named: add whoever signs in, or renew their account.
  const account = typeof values.account === 'string' && values.account !== '' ? values.account : undefined;
  // A step-up renews the account (the default without --account): a sign-in as anyone else is refused.
  const adding = account === undefined && stepUp === undefined;
  return withSession(
    context,
    async (session) => {
      const state = session.getState();
      if (state.keychain === 'memory-only') {
        // A CLI session in memory would end with this command: say so before sending the user to the browser.
        io.stderr(noKeychainMessage('a sign-in from the command line could not be kept'));
        return EXIT.usage;
      }
      // Ctrl-C cancels the sign-in (holdSignalsUntilStored), freeing the loopback port (or ending the polling).
      let signedIn: AuthState;
      const startedAt = performance.now();
      if (values.device) {
        signedIn = await deviceSignIn(session, io, { adding, timeoutMs });
      } else {
        codeOffered = await session.offersDeviceSignIn();
        try {
          signedIn = await session.signIn({ adding, ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(stepUp ? { stepUp } : {}) });
        } catch (error) {
          const why = codeOffered && !stepUp ? whyUseCode(error) : undefined;
          if (!why) throw error;
          io.stderr(why);
          // --timeout bounds the whole command: the code gets what the browser attempt left.
          const left = timeoutMs === undefined ? undefined : Math.max(1, Math.round(timeoutMs - (performance.now() - startedAt)));
          signedIn = await deviceSignIn(session, io, { adding, timeoutMs: left });
        }
      }
      io.stdout(`Signed in as ${displayName(signedIn)} (${signedIn.user?.sub ?? ''})\n`);
      // What the provider says the sign-in was (acr): what a retried call is judged by.
      if (stepUp && signedIn.accessToken?.acr !== undefined) io.stdout(`Signed in with ${signedIn.accessToken.acr}.\n`);
      const others = accountIndex(context).read().accounts.length - 1;
      if (others > 0) io.stdout(`${signedIn.account ?? ''} is the default account now; ${others === 1 ? 'one other account is' : `${others} other accounts are`} still signed in (latchkey accounts).\n`);
      return EXIT.ok;
    },
    opener,
    account,
  );
}

/** `status [--json]`: whether a session is stored, without any network call. */
export async function statusCommand(context: CommandContext, values: Values): Promise<ExitCode> {
  const { io, config } = context;
  return withSession(
    context,
    async (session) => {
    const state = session.getState();
    const signedIn = state.status === 'signed-in';
    // Stored but locked away (or refused): the session is kept, and only the keychain stands between it and the user.
    const outOfReach = state.keychain === 'locked' || state.keychain === 'refused';
    const entry = accountIndex(context).read().accounts.find((account) => account.name === state.account)?.entry;
    const lastSignInAt = signedIn && entry !== undefined ? openProfileCache(config.dataDir).get(entry)?.lastSignInAt : undefined;
    if (values.json) {
      const report: Record<string, unknown> = {
        signedIn,
        account: state.account ?? null,
        issuer: config.issuer,
        clientId: config.clientId,
        user: signedIn ? state.user : null,
        keychain: state.keychain,
      };
      if (signedIn && state.standsOn) report.standsOn = state.standsOn;
      // How and when the user signed in for the shared token (acr, auth_time), where the provider said: what a step-up is judged by.
      const { acr, authTime } = state.accessToken ?? {};
      if (signedIn && (acr !== undefined || authTime !== undefined)) report.signedInWith = { ...(acr !== undefined ? { acr } : {}), ...(authTime !== undefined ? { authTime: new Date(authTime * 1000).toISOString() } : {}) };
      if (config.apis.length > 0) {
        // Each API and when its shared token expires (null: none shared yet); read from the keychain, no network.
        const tokens = signedIn ? (await session.lookUpSharedTokens()).apiTokens : undefined;
        report.apis = config.apis.map((api, index) => {
          const token = index === 0 ? state.accessToken : tokens?.[api.name];
          return { name: api.name, baseUrl: api.baseUrl, expiresAt: token?.expiresAt === undefined ? null : new Date(token.expiresAt).toISOString() };
        });
      }
      if (lastSignInAt) report.lastSignInAt = new Date(lastSignInAt).toISOString();
      if (state.error) report.error = state.error;
      io.stdout(JSON.stringify(report) + '\n');
    } else if (signedIn && outOfReach) {
      io.stdout(`Signed in as ${displayName(state)} (${state.user?.sub ?? ''}) at ${config.issuer}, but the session is out of reach: the keychain is ${state.keychain}.\n`);
    } else if (signedIn) {
      io.stdout(`Signed in as ${displayName(state)} (${state.user?.sub ?? ''}) at ${config.issuer}\n`);
      // Which kind of session: most stand on a refresh token; a GitHub OAuth App's on the one long-lived access token it issued.
      if (state.standsOn === 'access_token') io.stdout('The session stands on a long-lived access token (the provider issues no refresh token): it lasts until the provider refuses it.\n');
    } else {
      // Without the keychain a sign-in would be refused; stderr says what to fix instead.
      io.stdout(`Not signed in at ${config.issuer}.${state.keychain === 'memory-only' ? '' : ' Run `latchkey login`.'}\n`);
    }
    // Without a keychain or an agent, what to set up instead of the core's "kept in memory only" (which ends with this command).
    if (state.keychain === 'memory-only' && !signedIn) io.stderr(noKeychainMessage('no session can be kept'));
    else if (state.error) io.stderr(state.error.message);
    if (outOfReach) return EXIT.usage;
    return signedIn ? EXIT.ok : EXIT.signInNeeded;
    },
    undefined,
    chosenAccount(context, values),
  );
}

/** `token [--refresh] [--api NAME]` through the session (main.ts has printed a fresh shared token without one, when there was one): only the access token (of the API named, else the first) and a newline on stdout. */
export async function tokenCommand(context: CommandContext, values: Values): Promise<ExitCode> {
  const api = typeof values.api === 'string' && values.api !== context.config.apis[0]?.name ? values.api : undefined;
  /** What the state shows of the token printed. */
  const shown = (state: AuthState) => (api === undefined ? state.accessToken : state.apiTokens?.[api]);
  return withSession(context, async (session) => {
    refuseWithoutKeychain(session.getState(), 'a stored session cannot be read');
    const startedAt = Date.now();
    let token = await session.getAccessToken(api);
    const refreshedAt = shown(session.getState())?.refreshedAt ?? 0;
    // An access token never outlives its process, so it is fresh already unless something was cached in memory before this command —
    // or unless the session stands on a long-lived access token: then no newer one exists, and asking says it was refused (the session ends).
    if (values.refresh && (refreshedAt < startedAt || session.getState().standsOn === 'access_token')) token = await session.refreshAccessToken(token);
    context.io.stdout(token + '\n');
    if (shown(session.getState())?.dpop) context.io.stderr(DPOP_BOUND_HINT);
    return EXIT.ok;
  }, undefined, chosenAccount(context, values));
}

/**
 * `headers [--method M] URL`: the headers one call to the configured API needs, one `Name: value` line each —
 * `Authorization: DPoP …` and `DPoP: <proof>` for a bound token, `Authorization: Bearer …` otherwise — so
 * `curl -H @<(latchkey headers URL) URL` works for either. A proof is good for one request.
 */
export async function headersCommand(context: CommandContext, values: Values, positionals: string[]): Promise<ExitCode> {
  const [url, ...extra] = positionals;
  if (url === undefined || extra.length > 0) {
    context.io.stderr('headers takes one URL: latchkey headers [--method M] URL');
    return EXIT.usage;
  }
  const method = typeof values.method === 'string' ? values.method : 'GET';
  return withSession(context, async (session) => {
    refuseWithoutKeychain(session.getState(), 'a stored session cannot be read');
    context.io.stdout(headerLines(await session.requestHeaders({ method, url })));
    return EXIT.ok;
  }, undefined, chosenAccount(context, values));
}

/**
 * `logout [--account NAME | --all]`: revoke at the provider when possible, forget the session here always — of one
 * account (the others stay signed in; the next default is named), or of every account.
 */
export async function logoutCommand(context: CommandContext, values: Values): Promise<ExitCode> {
  const { io } = context;
  if (values.all === true) {
    if (typeof values.account === 'string') {
      io.stderr('logout takes --account NAME or --all, not both.');
      return EXIT.usage;
    }
    const accounts = accountIndex(context).read().accounts;
    if (accounts.length === 0) return logoutOne(context, undefined);
    for (const account of accounts) {
      const code = await logoutOne(context, account.sub);
      if (code !== EXIT.ok) return code;
    }
    return EXIT.ok;
  }
  return logoutOne(context, chosenAccount(context, values));
}

async function logoutOne(context: CommandContext, account: string | undefined): Promise<ExitCode> {
  const { io } = context;
  return withSession(
    context,
    async (session) => {
      const wasSignedIn = session.getState().status !== 'signed-out';
      const { endSessionUrl, notice, account: signedOut, nextDefault } = await session.signOut();
      if (!wasSignedIn) refuseWithoutKeychain(session.getState(), 'a stored session cannot be read or forgotten');
      io.stdout(wasSignedIn ? 'Signed out.\n' : 'No session was stored; nothing to sign out of.\n');
      if (signedOut !== undefined) io.stdout(`${signedOut} is no longer signed in here. ${nextDefault !== undefined ? `The default account is now ${nextDefault}.` : 'No account is signed in now.'}\n`);
      // Refused, unreachable or not offered: the sentence says which; nothing retries it.
      if (wasSignedIn && notice) io.stderr(notice.message);
      if (wasSignedIn && endSessionUrl) io.stdout(`To also end the provider's browser session, open: ${endSessionUrl}\n`);
      return EXIT.ok;
    },
    undefined,
    account,
  );
}

/** `accounts [--json]`: every account at the configured provider, without any network call; exit 1 when there is none. */
export async function accountsCommand(context: CommandContext, values: Values): Promise<ExitCode> {
  const { io, config } = context;
  const list = accountIndex(context).read();
  // Through an agent the accounts are the agent's to read; without one, the OS keychain's.
  const keychain = context.io.env[AGENT_SOCK_VARIABLE] ? undefined : await openKeychain(config.keychainService, { logger: context.logger });
  const place = !keychain ? 'agent' : keychain.kind === 'memory-only' ? 'memory-only' : (await keychain.isLocked?.()) === true ? 'locked' : 'os';
  if (values.json) {
    const report = list.accounts.map((account) => ({
      name: account.name,
      sub: account.sub,
      user: { name: account.user.name ?? null, email: account.user.email ?? null },
      default: account.sub === list.defaultSub,
      standsOn: account.standsOn ?? null,
      keychain: place,
    }));
    io.stdout(JSON.stringify(report) + '\n');
  } else if (list.accounts.length === 0) {
    io.stdout(`No account is signed in at ${config.issuer}. Run \`latchkey login\`.\n`);
  } else {
    for (const account of list.accounts) {
      const shown = account.user.name !== undefined && account.user.name !== account.name ? ` — ${account.user.name}` : '';
      const on = account.standsOn === undefined ? ', signed out: its session ended at the provider (latchkey login --account NAME)' : account.standsOn === 'access_token' ? ', on a long-lived access token' : '';
      io.stdout(`${account.sub === list.defaultSub ? '*' : ' '} ${account.name}${shown} (${account.sub}${on})\n`);
    }
    io.stdout(`* the default account (latchkey switch NAME changes it) · at ${config.issuer}\n`);
    if (place !== 'os' && place !== 'agent') io.stdout(`The keychain is ${place === 'locked' ? 'locked: unlock it to use these accounts' : 'not available: these accounts cannot be read'}.\n`);
  }
  return list.accounts.length > 0 ? EXIT.ok : EXIT.signInNeeded;
}

/** `switch NAME`: makes NAME (or the account of that `sub`) the default for commands started from now on. */
export async function switchCommand(context: CommandContext, _values: Values, positionals: string[]): Promise<ExitCode> {
  const { io } = context;
  const [given, ...extra] = positionals;
  if (given === undefined || extra.length > 0) {
    io.stderr('switch takes one account: latchkey switch NAME (see latchkey accounts)');
    return EXIT.usage;
  }
  const index = accountIndex(context);
  const account = findAccount(index.read(), given);
  if (!account || !(await index.setDefault(account.sub))) {
    const names = index.read().accounts.map((known) => known.name);
    throw new AuthError('account_unknown', `No account "${given}" is signed in at ${context.config.issuer}. ${names.length > 0 ? `The accounts signed in are: ${names.join(', ')}.` : 'No account is signed in: run `latchkey login`.'}`);
  }
  io.stdout(`${account.name} is the default account now.\n`);
  const now = defaultAccount(index.read());
  if (now?.sub !== account.sub) io.stderr(`Another process changed the default meanwhile: it is ${now?.name ?? 'none'}.`);
  return EXIT.ok;
}
