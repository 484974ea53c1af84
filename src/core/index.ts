// The auth core's door. Plain Node, shared by the Electron shell (src/main), the CLI (src/cli), the bench,
// support/, the build configs and the tests of those: everything outside src/core imports the core from here only
// (with `import` or `import()`; lint checks both), and this exports only what those users take. The CLI's
// doctor has a face of its own, doctor.ts. The core's own tests (test/core, test/helpers) import its files directly.
//
// Inside, one folder per concept (config/, net/, keychain/, entry/, protocol/…); each folder's README.md says
// what it holds, which folders it may import and which must never import it — lint reads those lines. The
// words the code uses (session, entry, keychain, lock, sign-in, refresh…) are in the glossary, docs/architecture.md.
export { loadConfig, trustSettingsOf, type AuthConfig } from './config/auth-config.ts';
export { isLoopbackHost } from './config/values.ts';
export { embedCertificates, readBuildConfig, BUILD_CONFIG_FILE } from './config/files.ts';
export { probeDemoProvider } from './config/demo-proof.ts';
export { AuthError } from './errors.ts';
export { toErrorInfo } from '../shared/errors.ts';
export { createLogger, parseLevel, redactSecrets } from './log.ts';
export type { Logger } from '../shared/logger.ts';
export { createHttpClient, type HttpClient } from './net/http.ts';
export { createProfilePictures } from './net/profile-picture.ts';
export type { ProxyResolver } from './net/proxy.ts';
export { openKeychain, createMemoryKeychain, type Keychain } from './keychain/keychain.ts';
export { createSecretServiceProbe } from './keychain/secret-service.ts';
export { readFreshSharedToken, type FreshSharedToken } from './session/fresh-token.ts';
export { apiForUrl, createRequestHeaders } from './tokens/request-headers.ts';
export { keychainAccount } from './entry/format.ts';
export { openProfileCache } from './entry/profile-cache.ts';
export { createDpopKey, type DpopKey } from './dpop/key.ts';
export { createDpopProof } from './dpop/proof.ts';
export { RedirectRefusedError } from './loopback/redirect-probe.ts';
export { connectProvider } from './protocol/provider-client.ts';
export type { Opener } from './protocol/flow-context.ts';
export { createAuthSession, startAuthSession } from './session/start.ts';
export { startAccountSessions, type AccountSessions } from './session/account-sessions.ts';
export { openAccountIndex, type AccountIndex } from './accounts/account-index.ts';
export { defaultAccount, findAccount } from './accounts/account-names.ts';
export { defaultLockDir } from './entry/lock-folder.ts';
export type { AuthSession, AuthSessionDeps } from './session/auth-session.ts';
export type { SignOutResult } from './session/sign-out.ts';
export { openSealedKeychain, openPlaintextKeychain } from './keychain/file-keychain.ts';
export { startAgent } from './agent/server.ts';
export { askAgentAbout, connectAgent, stopAgent } from './agent/client.ts';
export { AGENT_SOCK_VARIABLE, defaultAgentSocket, prepareSocketFolder } from './agent/folder.ts';
