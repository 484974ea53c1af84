// A session that is stopped (SIGSTOP, as Ctrl-Z does) while it holds the session's lock, after reading the
// keychain and before redeeming — driven by lock-ownership.test.ts. Its keychain is the real one;
// the only change is that reading the session entry inside the refresh stops this process right
// after the read. It prints one JSON line: what its refresh came to. Never a token: only fingerprints.
import { createAuthSession, createLogger, keychainAccount, loadConfig, openKeychain, type Keychain } from '../../../src/core/index.ts';
import { fingerprint } from '../../../src/core/log.ts';
import { defaultLockDir } from '../../../src/core/entry/lock-folder.ts';
import { announceEntryChange, entryLockPath } from '../../../src/core/entry/lock.ts';

const config = loadConfig({ env: process.env });
const keychain = await openKeychain(config.keychainService);

let armed = false;
const secretStore: Keychain = {
  ...keychain,
  kind: keychain.kind,
  get: async (account, options) => {
    const value = await keychain.get(account, options);
    if (armed && account === keychainAccount(config)) {
      armed = false;
      process.stdout.write('stopping\n');
      process.kill(process.pid, 'SIGSTOP');
    }
    return value;
  },
};
const session = await createAuthSession({ config, opener: async () => {}, keychain: secretStore, logger: createLogger({ level: 'silent' }) });
const current = await session.getAccessToken();
// A refresh reads the entry only when another process announced a change since this one last read or wrote it:
// announce one, so that this refresh reads the entry under the lock, and stops right after that read.
announceEntryChange(entryLockPath(defaultLockDir(), config.keychainService, keychainAccount(config)));
armed = true;
try {
  const token = await session.refreshAccessToken(current);
  process.stdout.write(`${JSON.stringify({ outcome: 'redeemed', access: fingerprint(token) })}\n`);
} catch (error) {
  process.stdout.write(`${JSON.stringify({ outcome: 'refused', code: (error as { code?: string }).code, message: (error as Error).message })}\n`);
}
await session.close();
