// The auth core: plain Node, shared by the Electron shell, the CLI, the bench
// and the tests. Everything outside src/core imports it from here only.
//
// Where things are:
//   sign-in flow      provider-client.ts (PKCE, state, nonce, code exchange, refresh, revoke; persist-first hook)
//                     loopback-server.ts (the 127.0.0.1 redirect listener), callback-pages.ts, redirect-probe.ts,
//                     userinfo.ts · provider-errors.ts / provider-answers.ts (what a failure means) · revocation.ts
//   providers/        presets: each provider's documented habits as data plus hooks (preset.ts, one file each),
//                     provider-settings.ts (AUTH_PROVIDER & co.), configuration.ts (discovery or endpoints, secret),
//                     entra-tenant.ts, provider-logout.ts, user-endpoint.ts, error-words.ts, token-response.ts
//   the session       auth-session.ts (its API) · session.ts (state machine, login/logout) → access-tokens.ts
//                     (fresh, shared via access-cache.ts, or refresh) → refresh-flight.ts (single-flight, lock,
//                     redeem, store) · renewal.ts (margins, backoff) · sign-in-attempts.ts
//   keychain access   session-entry.ts (the one entry: read/write/remove, locked vs. gone) → secret-store.ts (keytar)
//                     → secret-service.ts (asks the Secret Service over D-Bus whether an entry is locked)
//                     refresh-lock.ts (cross-process lock) · profile-store.ts (non-secret profile cache)
//   configuration     config.ts → config-values.ts (each setting checked), settings-file.ts · demo-proof.ts
//                     http.ts (undici, timeouts) → proxy.ts (env / OS proxy routes), tls.ts (trust store,
//                     certificate errors) · clock-skew.ts · log.ts (redacting logger)
// The IPC contract the app exposes is src/shared/ipc.ts; error codes are src/shared/errors.ts.
export { loadConfig, defaultDataDir, isLoopbackHost, type AuthConfig, type LoadConfigOptions } from './config.ts';
export { readBuildSettings, BUILD_SETTINGS_FILE } from './settings-file.ts';
export { AuthError, toErrorInfo, type AuthErrorCode } from './errors.ts';
export type { ErrorCode, ErrorInfo } from '../shared/errors.ts';
export { createHttpClient, type HttpClient, type HttpClientOptions } from './http.ts';
export { displayProxy, type ProxyResolver, type ProxyRoute, type RoutePlan } from './proxy.ts';
export { certificateUntrusted, type TlsReport } from './tls.ts';
export { clockSkewFromDate, describeSkew, REPORTED_SKEW_MS } from './clock-skew.ts';
export { connectProvider, type Opener, type ProviderClient, type ProviderDeps, type RefreshOptions, type RotatedToken, type SignInOptions, type TokenResult } from './provider-client.ts';
export { startLoopbackServer, redirectUriFor, DEFAULT_SIGN_IN_TIMEOUT_MS, type LoopbackServer, type LoopbackServerOptions, type ValidatedCallback } from './loopback-server.ts';
export { createLogger, fingerprint, parseLevel, redactSecrets, type Logger, type LogLevel } from './log.ts';
export { createMemoryStore, openKeychain, type SecretStore } from './secret-store.ts';
export { createSecretServiceProbe, openDbusConnection, type DbusCall, type DbusConnection, type EntryLock, type SecretServiceProbe } from './secret-service.ts';
export { createMemoryProfileStore, openProfileStore, type CachedProfile, type ProfileStore } from './profile-store.ts';
export { acquireRefreshLock, announceEntryChange, assertPrivateFolder, defaultLockDir, refreshLockPath, withRefreshLock, type RefreshLock, type RefreshLockOptions } from './refresh-lock.ts';
export { keychainAccount, parseStoredSession, type StoredSession } from './session-entry.ts';
export { renewalTimes, retryDelayMs } from './renewal.ts';
export { realTimers, type Timers } from './timers.ts';
export { probeRedirectUri, redirectRefusedMessage, SUGGESTED_REDIRECT_PORT, type RedirectProbe } from './redirect-probe.ts';
export { createAuthSession, type AuthSession, type AuthSessionDeps } from './session.ts';
export type { LogoutResult, RevocationOutcome } from './revocation.ts';
export { assertDemoIsOurs, probeDemoProvider, type DemoProbe } from './demo-proof.ts';
export { PRESETS, type ProviderPreset } from './providers/index.ts';
