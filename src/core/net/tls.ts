import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { Client } from 'undici';
import { AuthError } from '../errors.ts';
import { displayProxy, type ProxyRoute } from './proxy.ts';

/** Where the roots to trust come from, beyond Node's own and the OS's. */
export interface TrustSettings {
  /** A PEM bundle of extra roots, read on first use (development and the CLI: `AUTH_CA_FILE`). */
  caFile?: string | undefined;
  /** PEM text of extra roots, as the build embedded it (`caFile` of latchkey.config.json, read at build time). */
  caCertificates?: string | undefined;
  /**
   * A packaged app: the trust list is Node's bundled roots, the OS store read
   * from its fixed place, and `caCertificates` — never anything the
   * environment names (`NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`, `SSL_CERT_DIR`).
   */
  packaged?: boolean | undefined;
}

/**
 * The roots TLS to the provider trusts: Node's bundled Mozilla roots, the OS's
 * trust store — where a company installs the root certificate of its
 * TLS-inspecting proxy — and the configured extra roots. In development and
 * the CLI, whose whole configuration comes from the environment, Node's
 * "default" set (with `NODE_EXTRA_CA_CERTS`) and OpenSSL's view of the OS
 * store (which follows `SSL_CERT_FILE`/`SSL_CERT_DIR`) are used; a packaged
 * app ignores all of those (`TrustSettings.packaged`). One context, built on
 * first use: reading the OS store takes ~100 ms, which a loopback-only session
 * never needs.
 */
export function createTrustStore(settings: TrustSettings = {}): () => tls.SecureContext {
  let context: tls.SecureContext | undefined;
  return () => (context ??= tls.createSecureContext({ ca: [...new Set([...trustedRoots(settings), ...pemCertificates(settings.caCertificates ?? '')])] }));
}

function trustedRoots(settings: TrustSettings): string[] {
  if (settings.packaged) return [...caCertificates('bundled'), ...osStoreIgnoringEnvironment()];
  return [...caCertificates('default'), ...caCertificates('system'), ...readCaFile(settings.caFile)];
}

function caCertificates(type: 'default' | 'system' | 'bundled'): string[] {
  // tls.getCACertificates is Node ≥ 22.15; before it only the bundled roots are known.
  if (typeof tls.getCACertificates !== 'function') return type === 'system' ? [] : [...tls.rootCertificates];
  try {
    return tls.getCACertificates(type);
  } catch {
    return [];
  }
}

// Where Linux distributions keep the OS trust store as one PEM bundle (the list Go's crypto/x509 reads).
const LINUX_TRUST_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

/**
 * The OS trust store, not as the environment would redirect it: on Linux
 * OpenSSL's default paths follow `SSL_CERT_FILE`/`SSL_CERT_DIR`, so the
 * distribution's bundle is read from its fixed place; macOS and Windows are
 * asked through their own APIs (the keychain, the certificate store).
 */
function osStoreIgnoringEnvironment(): string[] {
  if (process.platform !== 'linux') return caCertificates('system');
  for (const bundle of LINUX_TRUST_BUNDLES) {
    try {
      return pemCertificates(readFileSync(bundle, 'utf8'));
    } catch {
      // Not this distribution's place.
    }
  }
  return [];
}

function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function readCaFile(caFile: string | undefined): string[] {
  if (!caFile) return [];
  try {
    return pemCertificates(readFileSync(caFile, 'utf8'));
  } catch (error) {
    throw new AuthError('config_invalid', `AUTH_CA_FILE: ${caFile} cannot be read (${(error as Error).message}). Point it at a PEM file of root certificates, or unset it.`, { cause: error });
  }
}

/** What a TLS handshake with a host showed. */
export interface TlsReport {
  /** Whether the certificate chains to a trusted root and names the host. */
  trusted: boolean;
  /** OpenSSL's reason when it is not trusted (`UNABLE_TO_GET_ISSUER_CERT_LOCALLY`, `CERT_HAS_EXPIRED`, …). */
  reason?: string;
  /** The certificate's issuer, e.g. `"Corp Inspection CA" (Example Corp)`. */
  issuer: string;
  subject: string;
  validFrom: string;
  validTo: string;
}

/**
 * Opens a TLS connection to `url` the way requests go (`route`) and reports
 * the certificate it was shown. Verification is done here, not by OpenSSL
 * refusing the handshake, so that an untrusted certificate can still be
 * described; nothing is ever sent over the connection, which is closed at once.
 */
export async function inspectCertificate(url: URL, route: ProxyRoute, secureContext: tls.SecureContext, timeoutMs: number): Promise<TlsReport> {
  const port = Number(url.port || 443);
  const tunnel = route.kind === 'proxy' ? await openTunnel(route.uri, url.hostname, port, secureContext, timeoutMs) : undefined;
  return new Promise<TlsReport>((resolve, reject) => {
    const socket = tls.connect({
      host: url.hostname,
      port,
      servername: url.hostname,
      secureContext,
      rejectUnauthorized: false,
      ...(tunnel ? { socket: tunnel } : {}),
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake with ${url.host} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const certificate = socket.getPeerCertificate();
      const report: TlsReport = {
        trusted: socket.authorized,
        issuer: describeName(certificate.issuer),
        subject: describeName(certificate.subject),
        validFrom: certificate.valid_from,
        validTo: certificate.valid_to,
      };
      if (!socket.authorized && socket.authorizationError) report.reason = String(socket.authorizationError);
      socket.destroy();
      resolve(report);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A CONNECT tunnel through an http(s) proxy, with the credentials of its URI. */
async function openTunnel(proxyUri: string, host: string, port: number, secureContext: tls.SecureContext, timeoutMs: number): Promise<Duplex> {
  const proxy = new URL(proxyUri);
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') throw new Error(`cannot inspect TLS through ${displayProxy(proxyUri)}`);
  const client = new Client(proxy.origin, { connect: { secureContext, rejectUnauthorized: true, timeout: timeoutMs } });
  const headers: Record<string, string> = { host: `${host}:${port}` };
  if (proxy.username || proxy.password) {
    headers['proxy-authorization'] = `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`;
  }
  const { socket, statusCode } = await client.connect({ path: `${host}:${port}`, headers, signal: AbortSignal.timeout(timeoutMs) });
  if (statusCode !== 200) {
    socket.destroy();
    void client.destroy();
    throw Object.assign(new Error(`Proxy response (${statusCode}) !== 200 when HTTP Tunneling`), { statusCode });
  }
  socket.once('close', () => void client.destroy());
  return socket;
}

function describeName(name: tls.Certificate | undefined): string {
  if (!name) return 'unknown';
  const common = typeof name.CN === 'string' ? name.CN : undefined;
  const organization = typeof name.O === 'string' ? name.O : undefined;
  if (common && organization && organization !== common) return `"${common}" (${organization})`;
  return common || organization ? `"${common ?? organization}"` : 'unknown';
}

/** OpenSSL's and Node's codes for a certificate the client refused. */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The certificate error code somewhere in `error`'s cause chain, if the failure was a refused certificate. */
export function certificateErrorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current instanceof Object && depth < 6; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && CERTIFICATE_CODES.has(code)) return code;
  }
  return undefined;
}

/**
 * The sentence for a refused certificate: whose it is, who issued it, why it
 * was refused and what to do. An untrusted issuer at work is most often a
 * TLS-inspecting proxy whose root the company installed in the OS store.
 */
export function certificateUntrusted(url: URL, code: string, report: TlsReport | undefined, clock: () => number, options: { cause?: unknown; packaged?: boolean | undefined } = {}): AuthError {
  const host = url.host;
  const issued = report ? `issued by ${report.issuer} to ${report.subject}` : 'whose issuer could not be read';
  let message: string;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    message =
      `The certificate ${host} presented (${issued}) is not valid at this computer's time (${code}${report ? `: valid ${report.validFrom} – ${report.validTo}` : ''}; ` +
      `this computer's clock reads ${new Date(clock()).toISOString()}). If the clock is wrong, set the date and time automatically; otherwise the provider, or a proxy inspecting TLS, serves an expired certificate.`;
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    message =
      `The certificate ${host} presented (${issued}) is not for that name. A company proxy may be inspecting TLS with a certificate of its own; ` +
      'if so, ask your IT department how it is meant to be trusted. Otherwise check AUTH_ISSUER.';
  } else {
    message =
      `The certificate ${host} presented is ${issued}, which this computer does not trust (${code}). ` +
      'A company proxy or security software may be inspecting TLS with its own root certificate: get that root certificate (PEM) from your IT department ' +
      (options.packaged
        ? 'and add it to the OS trust store (this installed app trusts no certificate file or variable). '
        : 'and set AUTH_CA_FILE to its path (or NODE_EXTRA_CA_CERTS, or add it to the OS trust store). ') +
      'If nobody should be inspecting your traffic, do not trust it: the connection may be intercepted.';
  }
  return new AuthError('certificate_untrusted', message, options.cause === undefined ? {} : { cause: options.cause });
}
