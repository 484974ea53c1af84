import type { AuthState } from '../shared/auth-state.ts';
import { AuthError, openProfileCache, createAuthSession, keychainAccount } from '../core/index.ts';
import type { Opener, AuthSession } from '../core/index.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { holdSignalsUntilStored } from './interrupts.ts';
import type { CommandContext } from './context.ts';

type Values = Record<string, string | boolean | undefined>;

/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs `use` with a session over the shared keychain entry, and always closes it so the process can exit. */
async function withSession<T>(context: CommandContext, use: (session: AuthSession) => Promise<T>, opener?: Opener): Promise<T> {
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
  const session = await createAuthSession({ config: context.config, opener: opener ?? refuse, logger: context.logger, onKeychainWaiting: sayWaiting, onLockWait });
  const releaseSignals = holdSignalsUntilStored(session);
  try {
    return await use(session);
  } finally {
    await session.close();
    releaseSignals();
  }
}

/**
 * Without the OS keychain a stored session is out of reach, not absent: say so
 * (exit 2, like `login`) instead of "not signed in", which would send the user
 * to a sign-in that cannot be kept.
 */
function refuseWithoutKeychain(state: AuthState, consequence: string): void {
  if (state.keychain !== 'memory-only' || state.status !== 'signed-out') return;
  throw new AuthError(
    'keychain_unavailable',
    `The OS keychain is not available, so ${consequence}. Start a Secret Service (e.g. gnome-keyring) or unlock the keychain, then try again.`,
  );
}

function displayName(state: AuthState): string {
  const user = state.user;
  return user?.name ?? user?.email ?? user?.sub ?? 'unknown user';
}

/**
 * `login [--timeout SECONDS] [--device]`: the interactive sign-in through the browser, or with a code
 * (`--device`, RFC 8628) — which it also falls back to when no browser opens or the provider refuses the loopback redirect.
 */
export async function loginCommand(context: CommandContext, values: Values): Promise<ExitCode> {
  const { io } = context;
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
  return withSession(
    context,
    async (session) => {
      const state = session.getState();
      if (state.keychain === 'memory-only') {
        // A CLI session in memory would end with this command: say so before sending the user to the browser.
        io.stderr(state.error?.message ?? 'No OS keychain is available.');
        io.stderr('A sign-in from the command line needs the OS keychain to be kept; start a Secret Service (e.g. gnome-keyring) or unlock the keychain, then try again.');
        return EXIT.usage;
      }
      // Ctrl-C cancels the sign-in (holdSignalsUntilStored), freeing the loopback port (or ending the polling).
      let signedIn: AuthState;
      if (values.device) {
        signedIn = await deviceSignIn(session, io);
      } else {
        codeOffered = await session.offersDeviceSignIn();
        try {
          signedIn = await session.signIn(timeoutMs === undefined ? {} : { timeoutMs });
        } catch (error) {
          const why = codeOffered ? whyUseCode(error) : undefined;
          if (!why) throw error;
          io.stderr(why);
          signedIn = await deviceSignIn(session, io);
        }
      }
      io.stdout(`Signed in as ${displayName(signedIn)} (${signedIn.user?.sub ?? ''})\n`);
      return EXIT.ok;
    },
    opener,
  );
}

/** `status [--json]`: whether a session is stored, without any network call. */
export async function statusCommand(context: CommandContext, values: Values): Promise<ExitCode> {
  const { io, config } = context;
  return withSession(context, async (session) => {
    const state = session.getState();
    const signedIn = state.status === 'signed-in';
    // Stored but locked away (or refused): the session is kept, and only the keychain stands between it and the user.
    const outOfReach = state.keychain === 'locked' || state.keychain === 'refused';
    const lastSignInAt = signedIn ? openProfileCache(config.dataDir).get(keychainAccount(config))?.lastSignInAt : undefined;
    if (values.json) {
      const report: Record<string, unknown> = {
        signedIn,
        issuer: config.issuer,
        clientId: config.clientId,
        user: signedIn ? state.user : null,
        keychain: state.keychain,
      };
      if (signedIn && state.standsOn) report.standsOn = state.standsOn;
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
      io.stdout(`Not signed in at ${config.issuer}.${state.keychain === 'os' ? ' Run `latchkey login`.' : ''}\n`);
    }
    if (state.error) io.stderr(state.error.message);
    if (outOfReach) return EXIT.usage;
    return signedIn ? EXIT.ok : EXIT.signInNeeded;
  });
}

/** `token [--refresh] [--api NAME]`: only the access token (of the API named, else the first) and a newline on stdout. */
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
    if (shown(session.getState())?.dpop) {
      context.io.stderr('This access token is DPoP-bound (RFC 9449): an API accepts it only with a proof signed by this session\'s key. Use `latchkey headers URL` for the headers of one call.');
    }
    return EXIT.ok;
  });
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
    const headers = await session.requestHeaders({ method, url });
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) context.io.stdout(`${name}: ${value}\n`);
    return EXIT.ok;
  });
}

/** `logout`: revoke at the provider when possible, forget the session here always. */
export async function logoutCommand(context: CommandContext): Promise<ExitCode> {
  const { io } = context;
  return withSession(context, async (session) => {
    const wasSignedIn = session.getState().status !== 'signed-out';
    const { endSessionUrl, notice } = await session.signOut();
    if (!wasSignedIn) refuseWithoutKeychain(session.getState(), 'a stored session cannot be read or forgotten');
    io.stdout(wasSignedIn ? 'Signed out.\n' : 'No session was stored; nothing to sign out of.\n');
    // Refused, unreachable or not offered: the sentence says which; nothing retries it.
    if (wasSignedIn && notice) io.stderr(notice.message);
    if (wasSignedIn && endSessionUrl) io.stdout(`To also end the provider's browser session, open: ${endSessionUrl}\n`);
    return EXIT.ok;
  });
}
