// The auth core's door. Plain Node, shared by the Electron shell (src/main), the CLI (src/cli), the bench,
// support/, scripts/ and the build configs: everything outside src/core imports the core from here only
// (with `import` or `import()`; lint checks both), and this exports only what those users take. The core's
// own tests (test/core, test/helpers) import its files directly.
//
// Inside, one folder per concept (config/, net/, keychain/, entry/, protocol/…); each folder's README.md says
// what it holds, which folders it may import and which must never import it — lint reads those lines. The
// words the code uses (session, entry, keychain, lock, sign-in, refresh…) are in the glossary, docs/architecture.md.
export { loadConfig, trustSettingsOf, type AuthConfig } from './config/auth-config.ts';
export { isLoopbackHost } from './config/values.ts';
export { embedCertificates, readBuildConfig, BUILD_CONFIG_FILE } from './config/files.ts';
export { AuthError } from './errors.ts';
export { toErrorInfo, type ErrorCode } from '../shared/errors.ts';
export { createHttpClient, type HttpClient } from './net/http.ts';
export { displayProxy, type ProxyResolver, type RoutePlan } from './net/proxy.ts';
export { certificateUntrusted } from './net/tls.ts';
export { clockSkewFromDate, describeSkew, REPORTED_SKEW_MS } from './net/clock-skew.ts';
export { connectProvider, type ProviderClient } from './protocol/provider-client.ts';
export type { Opener } from './protocol/flow-context.ts';
export { redirectUriFor } from './loopback/listener.ts';
export { createLogger, parseLevel, redactSecrets } from './log.ts';
export type { Logger } from '../shared/logger.ts';
export { openKeychain, type Keychain } from './keychain/keychain.ts';
export { openProfileCache } from './entry/profile-cache.ts';
export { assertPrivateFolder, defaultLockDir } from './entry/lock-folder.ts';
export { keychainAccount } from './entry/entry.ts';
export { probeRedirectUri, redirectRefusedMessage, RedirectRefusedError, SUGGESTED_REDIRECT_PORT } from './loopback/redirect-probe.ts';
export { createAuthSession, startAuthSession } from './session/start.ts';
export type { AuthSession, AuthSessionDeps } from './session/auth-session.ts';
export type { SignOutResult } from './session/sign-out.ts';
export { probeDemoProvider } from './config/demo-proof.ts';
export { chooseTokenBinding, createDpopKey, createDpopProof, type DpopKey } from './dpop/key.ts';
export { PRESETS } from './presets/presets.ts';
export type { ProviderPreset } from './presets/preset.ts';
