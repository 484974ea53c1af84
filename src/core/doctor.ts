// The core's face for `latchkey doctor` (src/cli/doctor/ only; everything else enters through index.ts):
// facts about the provider, the network in between and this computer, one function for each part of
// the doctor's report. The doctor judges them — pass, warn or fail — and puts them in words; nothing
// here decides an outcome. Like index.ts, this is a door: nothing inside the core imports it.
import { createServer, type AddressInfo } from 'node:net';
import type { AuthConfig } from './config/auth-config.ts';
import { isAuth0Host } from './config/values.ts';
import { chooseTokenBinding, type TokenBinding } from './dpop/binding.ts';
import { assertPrivateFolder, defaultLockDir } from './entry/lock-folder.ts';
import { openProfileCache } from './entry/profile-cache.ts';
import { openKeychain } from './keychain/keychain.ts';
import { redirectUriFor } from './loopback/listener.ts';
import { probeRedirectUri, redirectRefusedMessage, SUGGESTED_REDIRECT_PORT } from './loopback/redirect-probe.ts';
import { clockSkewFromDate, describeSkew, REPORTED_SKEW_MS } from './net/clock-skew.ts';
import { createHttpClient, type HttpClient } from './net/http.ts';
import { displayProxy, type RoutePlan } from './net/proxy.ts';
import { certificateUntrusted } from './net/tls.ts';
import type { ProviderPreset } from './presets/preset.ts';
import { PRESETS } from './presets/presets.ts';
import { toErrorInfo } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';

export type { ProviderClient } from './protocol/provider-client.ts';

/** What the configured provider is, by its preset. */
export interface ProviderFacts {
  preset: Pick<ProviderPreset, 'name' | 'title' | 'register' | 'secret'>;
  /** Auth0, by its preset or by an issuer at auth0.com. */
  isAuth0: boolean;
  /** Configured by its endpoints, without discovery (GitHub, a plain OAuth 2.0 provider). */
  ownEndpoints: boolean;
}

export function providerFacts(config: Pick<AuthConfig, 'provider' | 'issuer' | 'endpoints'>): ProviderFacts {
  const preset = PRESETS[config.provider];
  return {
    preset,
    isAuth0: preset.name === 'auth0' || isAuth0Host(new URL(config.issuer).hostname),
    ownEndpoints: !preset.discovery || (config.endpoints?.authorization_endpoint !== undefined && config.endpoints.token_endpoint !== undefined),
  };
}

/** The redirect URI a sign-in uses (RFC 8252 §7.3) and what the provider makes of it. */
export interface RedirectFacts {
  host: AuthConfig['redirectHost'];
  /** The fixed port (AUTH_REDIRECT_PORT), or 0: a free one per sign-in. */
  port: number;
  /** The redirect URI; with no fixed port, `PORT` stands for the one each sign-in picks. */
  uri: string;
  /** The provider matches redirect URIs exactly, port included (Auth0, or its preset says so): a fixed port is needed. */
  exactMatch: boolean;
  /** The fixed port to suggest, and the redirect URI with it. */
  suggested: { port: number; uri: string };
  /** With a fixed port: whether it is free on 127.0.0.1 now. */
  portFree?: boolean;
}

export async function redirectFacts(config: Pick<AuthConfig, 'provider' | 'issuer' | 'endpoints' | 'redirectPort' | 'redirectHost'>): Promise<RedirectFacts> {
  const { redirectPort: port, redirectHost: host } = config;
  const facts: RedirectFacts = {
    host,
    port,
    uri: port === 0 ? redirectUriFor(0, host).replace(':0/', ':PORT/') : redirectUriFor(port, host),
    exactMatch: providerFacts(config).isAuth0 || PRESETS[config.provider].redirect.exactPort === true,
    suggested: { port: SUGGESTED_REDIRECT_PORT, uri: redirectUriFor(SUGGESTED_REDIRECT_PORT, host) },
  };
  if (port !== 0) facts.portFree = await portIsFree(port);
  return facts;
}

/** The authorization endpoint's answer to the redirect URI a sign-in would send (RFC 6749 §3.1.2.4). */
export type RedirectAnswer =
  | { redirectUri: string; verdict: 'accepted' }
  | { redirectUri: string; verdict: 'refused'; message: string }
  | { redirectUri: string; verdict: 'inconclusive'; reason: string };

/**
 * Asks the authorization endpoint whether it takes the redirect URI a sign-in would use — with no
 * fixed port, a random free one — the way a sign-in would, without following redirects.
 */
export async function askRedirectAccepted(config: AuthConfig, authorizationEndpoint: string, env: NodeJS.ProcessEnv): Promise<RedirectAnswer> {
  const port = config.redirectPort || (await someFreePort());
  const redirectUri = redirectUriFor(port, config.redirectHost);
  const http = createHttpClient({ env });
  try {
    const probe = await probeRedirectUri(config, authorizationEndpoint, redirectUri, http);
    switch (probe.verdict) {
      case 'accepted':
        return { redirectUri, verdict: 'accepted' };
      case 'refused':
        return { redirectUri, verdict: 'refused', message: redirectRefusedMessage(config.redirectPort, redirectUri, probe, config.clientId) };
      case 'inconclusive':
        return { redirectUri, verdict: 'inconclusive', reason: probe.reason };
    }
  } finally {
    await http.close();
  }
}

/** The way requests to a URL take and where it came from; rejects when the system's proxy cannot be found. */
export interface RouteFacts extends Omit<RoutePlan, 'routes'> {
  /** Each way tried in order: `direct`, or a proxy as it may be shown (no credentials). */
  ways: string[];
}

export async function routeFacts(http: HttpClient, url: URL): Promise<RouteFacts> {
  const { routes, ...plan } = await http.planRoute(url);
  return { ...plan, ways: routes.map((route) => (route.kind === 'direct' ? 'direct' : displayProxy(route.uri))) };
}

/** The certificate a host presents over the way requests take; rejects when there is no handshake. */
export type TlsFacts = { trusted: true; issuer: string; subject: string } | { trusted: false; problem: string };

export async function tlsFacts(http: HttpClient, url: URL, clock: () => number): Promise<TlsFacts> {
  const report = await http.inspectTls(url);
  if (report.trusted) return { trusted: true, issuer: report.issuer, subject: report.subject };
  return { trusted: false, problem: certificateUntrusted(url, report.reason ?? 'CERT_UNTRUSTED', report, clock).message };
}

/** How far this computer's clock is from the provider's `Date` header. */
export interface ClockFacts {
  skewMs: number;
  /** Far enough off to be reported: ID token checks (OpenID Connect Core §3.1.3.7) may fail. */
  off: boolean;
  /** "4 min 59 s ahead of", "90 s behind". */
  described: string;
}

/** Undefined when the provider sent no `Date` header; rejects when it did not answer. */
export async function clockFacts(http: HttpClient, url: URL, clock: () => number): Promise<ClockFacts | undefined> {
  const sentAt = clock();
  const response = await http.fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual' });
  const skewMs = clockSkewFromDate(response.headers.get('date'), sentAt, clock());
  await response.body?.cancel();
  return skewMs === undefined ? undefined : { skewMs, off: Math.abs(skewMs) > REPORTED_SKEW_MS, described: describeSkew(skewMs) };
}

/** Whether sign-ins will bind tokens (RFC 9449): AUTH_DPOP against what the provider offers; throws when `required` cannot be met. */
export function tokenBindingFor(config: Pick<AuthConfig, 'dpop' | 'issuer'>, metadata: Record<string, unknown>, presetOffersDpop = false): TokenBinding {
  return chooseTokenBinding(config.dpop ?? 'auto', metadata, config.issuer, presetOffersDpop);
}

/** What this computer offers a session: the keychain, the data folder, the lock folder. */
export interface LocalFacts {
  keychain: { answers: true } | { answers: false; reason: string };
  dataFolder: { path: string; problem?: string };
  lockFolder: { path: string; problem?: string };
}

export async function localFacts(config: Pick<AuthConfig, 'keychainService' | 'dataDir'>, logger: Logger): Promise<LocalFacts> {
  const keychain = await openKeychain(config.keychainService, { logger });
  return {
    keychain: keychain.kind === 'os' ? { answers: true } : { answers: false, reason: keychain.reason ?? 'no OS keychain' },
    dataFolder: dataFolderFacts(config.dataDir),
    lockFolder: lockFolderFacts(defaultLockDir()),
  };
}

function dataFolderFacts(path: string): LocalFacts['dataFolder'] {
  try {
    openProfileCache(path);
    return { path };
  } catch (error) {
    const cause = (error as Error).cause;
    return { path, problem: cause instanceof Error ? cause.message : String(error) };
  }
}

function lockFolderFacts(path: string): LocalFacts['lockFolder'] {
  try {
    assertPrivateFolder(path);
    return { path };
  } catch (error) {
    return { path, problem: toErrorInfo(error).message };
  }
}

function someFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
