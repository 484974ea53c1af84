// The auth core's public API. The Electron shell, the CLI and the tests import from here.
export { loadConfig, defaultDataDir, isLoopbackHost, type AuthConfig } from './config.ts';
export { AuthError, toErrorInfo, type AuthErrorCode } from './errors.ts';
export { createHttpClient, type HttpClient, type HttpClientOptions } from './http.ts';
export { connectProvider, classifyProviderError, type Opener, type ProviderClient, type ProviderDeps, type SignInOptions, type TokenResult } from './provider-client.ts';
export { startLoopbackServer, redirectUriFor, DEFAULT_SIGN_IN_TIMEOUT_MS, type LoopbackServer, type LoopbackServerOptions, type ValidatedCallback } from './loopback-server.ts';
export { browserCommand, createSystemOpener, type BrowserCommand, type SystemOpenerOptions } from './opener.ts';
export { createLogger, fingerprint, type Logger, type LogLevel } from './log.ts';
export { createMemoryStore, openKeychain, type SecretStore } from './secret-store.ts';
export { createMemoryProfileStore, openProfileStore, type CachedProfile, type ProfileStore } from './profile-store.ts';
export { acquireRefreshLock, announceEntryChange, refreshLockPath, withRefreshLock, type RefreshLock, type RefreshLockOptions } from './refresh-lock.ts';
export {
  createAuthSession,
  keychainAccount,
  parseStoredSession,
  renewalTimes,
  retryDelayMs,
  type AuthSession,
  type AuthSessionDeps,
  type StoredSession,
  type Timers,
} from './session.ts';
