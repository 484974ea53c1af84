import { constants } from 'node:os';

/** How long Ctrl-C or SIGTERM waits for a refresh in flight: the provider's answer, then the keychain write. */
export const INTERRUPT_GRACE_MS = 5_000;

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Until the returned function is called, SIGINT and SIGTERM do not kill the
 * process outright: a pending sign-in is cancelled and a refresh in flight gets
 * up to `graceMs` to store its rotated refresh token — the provider may already
 * have spent the old one, so exiting between its answer and the keychain write
 * would end the session (RFC 9700 §4.14.2). Then the process exits with
 * 128 + the signal's number, as a shell expects.
 */
export function holdSignalsUntilStored(
  session: { cancelSignIn(): void; whenIdle(): Promise<void> },
  options: { graceMs?: number; exit?: (code: number) => void } = {},
): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let exiting = false;
  const onSignal = (signal: (typeof SIGNALS)[number]) => {
    if (exiting) return;
    exiting = true;
    session.cancelSignIn();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.graceMs ?? INTERRUPT_GRACE_MS)));
    void Promise.race([session.whenIdle().catch(() => {}), grace]).then(() => {
      clearTimeout(timer);
      exit(128 + constants.signals[signal]);
    });
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  };
}
