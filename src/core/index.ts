// The auth core: plain Node, shared by the Electron shell, the CLI, the bench
// and the tests. Everything outside src/core imports it from here only — with
// `import` or `import()` (lint checks both) — and this exports only what those
// outside users take: the shell (src/main), the CLI (src/cli), the bench,
// support/ and the build configs. The core's own tests (test/core, test/helpers)
// import its files directly.
//
// Where things are:
//   sign-in flow      provider-client.ts (PKCE, state, nonce, code exchange, refresh, revoke; persist-first hook)
//                     provider-flow.ts (what the flows share: FlowContext, TokenResult; profile after sign-in, cancellation)
//                     loopback-server.ts (the 127.0.0.1 redirect listener), callback-pages.ts, redirect-probe.ts,
//                     device-sign-in.ts (the device authorization grant, RFC 8628: codes, polling, GitHub's 200 errors)
//                     userinfo.ts · provider-answers.ts (what a provider's answer, or its silence, means) · revocation.ts
//   DPoP (RFC 9449)   dpop.ts (the session's key, proofs, nonces, whether a provider gets it) · dpop-provider.ts (token
//                     endpoint and revocation proofs) · dpop-session.ts (the session's hooks) · request-headers.ts (one API call's headers)
//   providers/        presets: each provider's documented habits as data plus hooks (preset.ts, one file each),
//                     provider-settings.ts (AUTH_PROVIDER & co.), configuration.ts (discovery or endpoints, secret),
//                     entra-tenant.ts, provider-logout.ts, user-endpoint.ts, error-words.ts, token-response.ts
//   the session       auth-session.ts (its API) · session.ts (`starting` at once, then restored; wires the parts)
//                     session-store.ts (the one owner of its state: named transitions, transactions under the lock,
//                     state events via state-events.ts; keychain I/O in session-keychain.ts; what it holds and
//                     pure functions over it in held-session.ts) · sign-in.ts
//                     (sign-in-attempts.ts) · sign-out.ts → access-tokens.ts (fresh, shared via access-cache.ts, or
//                     refresh) → refresh-flight.ts (single-flight, backoff) → refresh-turn.ts (one refresh under the
//                     lock: re-read, persist first, one write) · rotated-token.ts (the fetch hook) · renewal.ts
//   keychain access   session-entry.ts (the one entry: read/write/remove, locked vs. gone; keychain-place.ts)
//                     → secret-store.ts (keytar) → secret-service.ts (asks the Secret Service over D-Bus whether an
//                     entry is locked; dbus-wire.ts; dbus-stream.ts caps what the peer may send) · refresh-lock.ts
//                     (cross-process lock; lock-folder.ts: the per-user folder; entry-generation.ts: the entry's generation)
//                     · profile-store.ts (non-secret profile cache, plain JSON)
//   configuration     config.ts → config-values.ts (each setting checked), config-client.ts (client id, audience,
//                     resource), config-file.ts (the JSON config files)
//                     · demo-proof.ts · http.ts (undici, timeouts) → proxy.ts (env / OS proxy routes), tls.ts
//                     (trust store, certificate errors) · clock-skew.ts · log.ts (redacting logger)
// The domain types are src/shared/auth-state.ts, the IPC contract src/shared/ipc.ts, error codes src/shared/errors.ts.
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
export { keychainAccount } from './entry/format.ts';
export { probeRedirectUri, redirectRefusedMessage, RedirectRefusedError, SUGGESTED_REDIRECT_PORT } from './loopback/redirect-probe.ts';
export { createAuthSession, startAuthSession } from './session/start.ts';
export type { AuthSession, AuthSessionDeps } from './session/auth-session.ts';
export type { SignOutResult } from './session/sign-out.ts';
export { probeDemoProvider } from './config/demo-proof.ts';
export { createDpopKey, type DpopKey } from './dpop/key.ts';
export { chooseTokenBinding } from './dpop/binding.ts';
export { createDpopProof } from './dpop/proof.ts';
export { PRESETS } from './presets/presets.ts';
export type { ProviderPreset } from './presets/preset.ts';
