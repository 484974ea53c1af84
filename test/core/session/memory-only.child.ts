// A process with no Secret Service, driven by memory-only.test.ts over
// the IPC channel: the browser runs in the test (its profile would hold the
// authorization code), and tokens travel back over IPC, never through a file or
// this process's output, which the test scans for them.
import { createAuthSession, createLogger, loadConfig } from '../../../src/core/index.ts';

export type ChildMessage =
  | { type: 'open'; url: string }
  | { type: 'signed-in'; keychain?: string; status: string; accessTokens: string[] }
  | { type: 'restarted'; keychain?: string; status: string };

const send = (message: ChildMessage) => new Promise<void>((resolve, reject) => process.send!(message, (error: Error | null) => (error ? reject(error) : resolve())));

const session = await createAuthSession({
  config: loadConfig({ env: process.env }),
  opener: (url) => send({ type: 'open', url }),
  logger: createLogger(),
});

if (process.argv[2] === 'restart') {
  await send({ type: 'restarted', keychain: session.getState().keychain, status: session.getState().status });
} else {
  await session.signIn({ timeoutMs: 30_000 });
  const signedIn = await session.getAccessToken();
  const refreshed = await session.refreshAccessToken(signedIn);
  const refreshedAgain = await session.refreshAccessToken(refreshed);
  await session.whenIdle();
  const { keychain, status } = session.getState();
  await send({ type: 'signed-in', keychain, status, accessTokens: [signedIn, refreshed, refreshedAgain] });
  await session.signOut();
}
await session.close();
process.disconnect();
