// A long-running process over the session (as the app is), driven by two-data-folders.test.ts over the IPC
// channel: it restores whatever its own data folder and the shared keychain entry say, then, on each
// `refresh`, refreshes after a 401 for its current access token and says who it shows and which token it
// hands out. Tokens travel back over IPC only.
import { createAuthSession, createLogger, loadConfig } from '../../../src/core/index.ts';
import type { AuthState } from '../../../src/shared/auth-state.ts';

export type ChildMessage = { type: 'state'; state: AuthState; accessToken: string; events: AuthState[] } | { type: 'failed'; code: string; message: string };
export type ParentMessage = { type: 'refresh' } | { type: 'quit' };

const send = (message: ChildMessage) => new Promise<void>((resolve, reject) => process.send!(message, (error: Error | null) => (error ? reject(error) : resolve())));

const session = await createAuthSession({
  config: loadConfig({ env: process.env }),
  opener: async () => {
    throw new Error('this process never signs in');
  },
  logger: createLogger(),
});
const events: AuthState[] = [];
session.onStateChange((state) => events.push(state));
let accessToken = await session.getAccessToken();
await send({ type: 'state', state: session.getState(), accessToken, events: events.splice(0) });

process.on('message', (message: ParentMessage) => {
  void (async () => {
    if (message.type === 'quit') {
      await session.close();
      process.disconnect();
      return;
    }
    try {
      accessToken = await session.refreshAccessToken(accessToken);
      await send({ type: 'state', state: session.getState(), accessToken, events: events.splice(0) });
    } catch (error) {
      const { code = 'unknown', message: text } = error as { code?: string; message: string };
      await send({ type: 'failed', code, message: text });
    }
  })();
});
