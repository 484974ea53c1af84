import { renderUnicodeCompact } from 'uqr';
import { AuthError, RedirectRefusedError } from '../../core/index.ts';
import type { AuthSession } from '../../core/index.ts';
import type { AuthState, DeviceCodePrompt } from '../../shared/auth-state.ts';
import type { CliIo } from '../context.ts';

/**
 * Signs in with a code (RFC 8628): prints where to go and what to enter as
 * soon as the provider issued the codes, then waits for the sign-in to be
 * approved on any device.
 */
export async function deviceSignIn(
  session: AuthSession,
  io: CliIo,
  { adding = true, timeoutMs }: { adding?: boolean; timeoutMs?: number | undefined } = {},
): Promise<AuthState> {
  let shown = false;
  const stop = session.onStateChange((state) => {
    if (!state.deviceCode || shown) return;
    shown = true;
    io.stdout(describeDeviceCode(state.deviceCode, { terminal: io.stdoutIsTerminal?.() === true, now: Date.now() }));
  });
  try {
    return await session.signIn({ method: 'device', adding, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  } finally {
    stop();
  }
}

/**
 * The prompt a person reads: the site, the address and the code each on a line
 * of their own (so the site can be checked, and either can be copied alone), the address that carries the code when
 * the provider gives one, a QR code of it on a terminal, and — because a code
 * can be phished (RFC 8628 §5.4) — which app asked which provider, and when the
 * code stops working.
 */
export function describeDeviceCode(prompt: DeviceCodePrompt, options: { terminal: boolean; now: number }): string {
  const direct = prompt.verificationUriComplete ?? prompt.verificationUri;
  const minutes = Math.max(1, Math.round((prompt.expiresAt - options.now) / 60_000));
  const until = new Date(prompt.expiresAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  // The site on a line of its own, apart from the path: what a person checks is their provider's before entering a code there.
  const lines = ["The sign-in page is on this site (check that it is your provider's):", prompt.verificationHost, 'To sign in, open this address on any device:', prompt.verificationUri, 'and enter the code:', prompt.userCode];
  if (prompt.verificationUriComplete) lines.push('Or open this address, which carries the code:', prompt.verificationUriComplete);
  if (options.terminal) lines.push('', renderUnicodeCompact(direct).trimEnd(), '');
  lines.push(
    `Latchkey (client ${prompt.clientId}) asked ${prompt.issuer} for this code. Enter it only if you started this sign-in yourself; it expires at ${until} (in ${minutes} minute${minutes === 1 ? '' : 's'}).`,
    'Waiting for the sign-in…',
  );
  return lines.join('\n') + '\n';
}

/**
 * One line saying why a sign-in through the browser cannot work here, when the
 * answer is to sign in with a code instead: no browser could be opened, or the
 * provider refused the loopback redirect. Undefined for any other failure.
 */
export function whyUseCode(error: unknown): string | undefined {
  if (error instanceof RedirectRefusedError) return 'The provider refused the loopback redirect of a browser sign-in; signing in with a code instead.';
  if (error instanceof AuthError && error.code === 'browser_unavailable') {
    const cause = error.cause instanceof Error ? ` (${error.cause.message.split(/\.\s/)[0]})` : '';
    return `No browser could be opened${cause}; signing in with a code instead.`;
  }
  return undefined;
}
